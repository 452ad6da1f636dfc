// A build prints these as warnings; the case denies them to pin their text.
#![deny(unused_must_use)]

use bocata::{Request, Res, Result, abort};

async fn admin(req: &Request, res: &mut Res) -> Result {
    if req.header("x-admin").is_none() {
        abort(403);
    }
    res.text("welcome");
    Ok(())
}

fn main() {
    let _ = bocata::get(admin);
}
