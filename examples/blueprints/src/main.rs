//! Run with `cargo run -p blueprints`, then try:
//!
//! ```text
//! curl -i http://127.0.0.1:8000/api/v1/users/7
//! curl -i http://127.0.0.1:8000/admin/stats               # 401
//! curl -i -H 'x-admin-token: letmein' http://127.0.0.1:8000/admin/stats
//! ```
//!
//! Blueprints: an API router with a version prefix and a parameter, an admin router
//! guarded by its own before hook, an after hook on the whole app, and links built
//! with reverse routing across the prefixes.

use bocata::{App, Request, Res, Result, Router, abort};

async fn user(req: &Request, res: &mut Res) -> Result {
    let id: u32 = req.param("id")?;
    let me = req.url_for_name("user", &[("id", &id)])?;
    res.json(&serde_json::json!({ "id": id, "self": me }));
    Ok(())
}

async fn stats(_req: &Request, res: &mut Res) -> Result {
    res.json(&serde_json::json!({ "users": 2, "uptime": "a while" }));
    Ok(())
}

/// The admin router's guard.
async fn require_admin(req: &mut Request, _res: &mut Res) -> Result {
    if req.header("x-admin-token") == Some("letmein") {
        Ok(())
    } else {
        abort(401)
    }
}

/// Runs after every view of the app.
async fn api_version(_req: &Request, res: &mut Res) -> Result {
    res.header("x-api-version", "1");
    Ok(())
}

async fn index(req: &Request, res: &mut Res) -> Result {
    let user = req.url_for_name("user", &[("id", &7)])?;
    res.html(format!(
        "<h1>Blueprints</h1><ul><li><a href=\"{user}\">{user}</a></li>\
         <li><a href=\"/admin/stats\">/admin/stats</a> (needs a token)</li></ul>"
    ));
    Ok(())
}

fn app() -> App {
    let api = Router::new().route("/users/{id}", bocata::get(user).name("user"));
    let admin = Router::new()
        .before(require_admin)
        .route("/stats", bocata::get(stats));
    App::new()
        .route("/", bocata::get(index))
        .mount("/api/v1", api)
        .mount("/admin", admin)
        .after(api_version)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // `ADDR=127.0.0.1:0` picks a free port (the log says which).
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    app().run(addr).await
}
