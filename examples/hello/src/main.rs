//! Run with `cargo run -p hello`, then open <http://127.0.0.1:8000/hello/World>.
//!
//! The smallest complete bocata app: a view struct whose field is its state, a path
//! parameter, JSON in and out, a chained response, and a function view.
//!
//! ```text
//! curl http://127.0.0.1:8000/hello/Ana
//! curl -X POST http://127.0.0.1:8000/hello/Ana -H 'content-type: application/json' -d '{"mood":"sunny"}'
//! ```

// ANCHOR: all
use bocata::{App, Request, Res, Result};
use serde::Deserialize;

// ANCHOR: view
/// Greets whoever is named in the path. Its field is its state, shared by all requests.
struct Greeter {
    greeting: String,
}

#[derive(Deserialize)]
struct Mood {
    mood: String,
}

#[bocata::view]
impl Greeter {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let name: String = req.param("name")?;
        res.status(200)
            .header("x-served-by", "bocata")
            .text(format!("{}, {name}!", self.greeting));
        Ok(())
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let name: String = req.param("name")?;
        let Mood { mood } = req.json().await?;
        res.status(201).json(&serde_json::json!({
            "greeting": format!("{}, {name}!", self.greeting),
            "mood": mood,
        }));
        Ok(())
    }
}
// ANCHOR_END: view

// ANCHOR: function
/// A function view: the same shape, without a struct.
async fn index(_req: &Request, res: &mut Res) -> Result {
    res.html(r#"<h1>bocata</h1><p>Try <a href="/hello/World">/hello/World</a>.</p>"#);
    Ok(())
}
// ANCHOR_END: function

// ANCHOR: main
#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // `ADDR=127.0.0.1:0` picks a free port (the log says which).
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());

    App::new()
        .route("/", bocata::get(index))
        .route(
            "/hello/{name}",
            Greeter {
                greeting: "Hello".into(),
            },
        )
        .run(addr)
        .await
}
// ANCHOR_END: main
// ANCHOR_END: all
