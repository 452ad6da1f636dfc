use bocata::{Request, Res, Result};

struct Page;

#[bocata::view(cached)]
impl Page {
    fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("page");
        Ok(())
    }

    async fn on_pots(&self, _req: &Request, _res: &mut Res) -> Result {
        Ok(())
    }

    async fn on_delete(&self, req: &Request, res: &mut Res) -> Result {
        // Still an ordinary method of the struct: calls to it resolve.
        self.on_get(req, res)
    }
}

fn main() {
    // Every mistake is reported at once, and the struct is still a view.
    let _app = bocata::App::new().route("/", Page);
}
