use bocata::{Request, Res, Result};

struct Page;

#[bocata::view]
impl Page {
    fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("page");
        Ok(())
    }
}

fn main() {
    // No second error: the struct is still a view.
    let _app = bocata::App::new().route("/", Page);
}
