//! Run with `cargo run -p openapi`, then open <http://127.0.0.1:8000/docs> to read the
//! API and try it, or fetch the document itself:
//!
//! ```text
//! curl localhost:8000/openapi.json
//! curl -X POST localhost:8000/books -H 'content-type: application/json' -d '{"title":"Dune","author":"Frank Herbert","year":1965}'
//! curl 'localhost:8000/books?q=dune'
//! ```

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    openapi::app().run(addr).await
}
