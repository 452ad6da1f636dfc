struct Page;

#[bocata::view]
impl Page {
    fn helper(&self) {}
}

fn main() {
    // No second error: the struct is still a view.
    let _app = bocata::App::new().route("/", Page);
}
