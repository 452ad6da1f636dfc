use bocata::{App, Request, Res, Result};

fn authenticate(_req: &mut Request, _res: &mut Res) -> Result {
    Ok(())
}

fn main() {
    let _app = App::new().before(authenticate);
}
