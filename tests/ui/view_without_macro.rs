use bocata::{App, Request, Res, Result};

struct Page;

impl Page {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("page");
        Ok(())
    }
}

fn main() {
    let _app = App::new().route("/", Page);
}
