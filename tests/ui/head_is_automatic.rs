use bocata::{Request, Res, Result};

struct Page;

#[bocata::view]
impl Page {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("page");
        Ok(())
    }

    async fn on_head(&self, _req: &Request, _res: &mut Res) -> Result {
        Ok(())
    }
}

fn main() {
    // No second error: the struct is still a view.
    let _app = bocata::App::new().route("/", Page);
}
