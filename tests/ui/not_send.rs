use std::rc::Rc;

use bocata::{Request, Res, Result};

struct Page;

#[bocata::view]
impl Page {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let local = Rc::new(1);
        let body = req.text().await?.to_owned();
        res.text(format!("{body}{local}"));
        Ok(())
    }
}

fn main() {}
