use std::rc::Rc;

use bocata::{App, Request, Res, Result};

async fn index(req: &Request, res: &mut Res) -> Result {
    let local = Rc::new(1);
    let body = req.text().await?.to_owned();
    res.text(format!("{body}{local}"));
    Ok(())
}

fn main() {
    // The compiler's own note, pointing at the `.await`, is kept.
    let _app = App::new().route("/", bocata::get(index));
}
