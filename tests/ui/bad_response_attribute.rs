use bocata::{Request, Res, Result};

struct Page;

#[bocata::view]
impl Page {
    #[response(1000, String)]
    #[response(200, content = "text/csv")]
    #[param(id)]
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("ok");
        Ok(())
    }
}

fn main() {
    // No second error: the struct is still a view.
    let _app = bocata::App::new().route("/", Page);
}
