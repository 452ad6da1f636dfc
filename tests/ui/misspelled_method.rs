use bocata::{Request, Res, Result};

struct Page;

#[bocata::view]
impl Page {
    async fn on_gte(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("typo");
        Ok(())
    }
}

fn main() {
    // No second error: the struct is still a view.
    let _app = bocata::App::new().route("/", Page);
}
