use bocata::error::Caught;
use bocata::{App, Res, Result};

fn not_found(_caught: &Caught<'_>, res: &mut Res) -> Result {
    res.text("nothing here");
    Ok(())
}

fn main() {
    let _app = App::new().catch(404, not_found);
}
