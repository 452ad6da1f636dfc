use bocata::{App, Request, Res, Result};

async fn index(_req: &Request, res: &mut Res) -> Result {
    res.text("page");
    Ok(())
}

fn main() {
    let _app = App::new().route("/", index);
}
