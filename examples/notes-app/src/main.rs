//! Run with `cargo run -p notes-app`, then try it with curl:
//!
//! ```text
//! curl -i -X POST localhost:8000/notes -H 'content-type: application/json' -d '{"text":"buy milk"}'
//! curl localhost:8000/notes
//! curl -X PUT localhost:8000/notes/1 -H 'content-type: application/json' -d '{"text":"buy oat milk"}'
//! curl -X DELETE localhost:8000/notes/1
//! ```
//!
//! The binary only serves the app that the library (`src/lib.rs`) builds.

// ANCHOR: main
#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // `ADDR=127.0.0.1:0` picks a free port (the log says which).
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    notes_app::app().run(addr).await
}
// ANCHOR_END: main
