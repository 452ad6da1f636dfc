use bocata::{Methods, Request, Res, Result, View};
use futures_util::future::BoxFuture;

struct Sneaky;

impl View for Sneaky {
    fn methods(&self) -> Methods {
        Methods::GET
    }

    fn call_boxed<'a>(
        &'a self,
        _method: Methods,
        _req: &'a Request,
        _res: &'a mut Res,
    ) -> BoxFuture<'a, Result> {
        Box::pin(async { Ok(()) })
    }
}

fn main() {}
