struct Page;

#[bocata::view]
impl Page {
    fn helper(&self) {}
}

fn main() {}
