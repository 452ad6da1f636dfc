use bocata::{App, Request, Res};

fn main() {
    let _app = App::new().route(
        "/",
        bocata::get(|_req: &Request, res: &mut Res| async move {
            res.text("hi");
            Ok(())
        }),
    );
}
