use bocata::{App, Request, Res};

fn main() {
    let greeting = String::from("hello");
    let _app = App::new().route(
        "/",
        bocata::get(async move |_req: &Request, res: &mut Res| {
            res.text(greeting.clone());
            Ok(())
        }),
    );
}
