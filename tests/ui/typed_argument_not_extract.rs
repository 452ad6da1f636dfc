use bocata::{Request, Res, Result};

struct Page;

#[bocata::view]
impl Page {
    async fn on_post(&self, _req: &Request, res: &mut Res, name: String) -> Result {
        res.text(name);
        Ok(())
    }
}

fn main() {
    let _app = bocata::App::new().route("/", Page);
}
