//! Run with `cargo run -p tower-interop`, then try:
//!
//! ```text
//! curl -i --compressed http://127.0.0.1:8000/
//! curl -i http://127.0.0.1:8000/legacy/hello
//! ```
//!
//! bocata among tower services: tower-http's compression and CORS layers around the
//! app, and an existing axum router mounted inside it under `/legacy`.

use bocata::{App, Request, Res, Result};

async fn home(_req: &Request, res: &mut Res) -> Result {
    res.html(format!(
        "<h1>bocata with tower</h1><p>{}</p><p><a href=\"/legacy/hello\">the axum part</a></p>",
        "This page is served by bocata and compressed by tower-http. ".repeat(20)
    ));
    Ok(())
}

async fn legacy_hello() -> &'static str {
    "hello from the axum router mounted in bocata"
}

fn app() -> App {
    let legacy = axum::Router::new().route("/hello", axum::routing::get(legacy_hello));
    App::new()
        .route("/", bocata::get(home))
        .mount_service("/legacy", legacy)
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::cors::CorsLayer::permissive())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // `ADDR=127.0.0.1:0` picks a free port (the log says which).
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    app().run(addr).await
}
