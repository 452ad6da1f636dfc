//! Run with `cargo run -p sessions`, then open <http://127.0.0.1:8000>.
//!
//! A login form whose result lives in a signed session cookie: the page greets you by
//! name and counts your visits until you log out.

use bocata::{App, Request, Res, Result};
use serde::Deserialize;

/// The page: the login form, or a greeting and the visit count.
async fn home(req: &Request, res: &mut Res) -> Result {
    let session = req.session()?;
    let page = match session.get::<String>("user") {
        Some(user) => {
            let visits: u32 = session.get("visits").unwrap_or(0) + 1;
            session.insert("visits", &visits)?;
            let user = escape(&user);
            format!(
                "<h1 id=\"greeting\">Hello, {user}!</h1><p id=\"visits\">Visit number {visits}.</p>\
                 <form method=\"post\" action=\"/logout\"><button id=\"logout\">Log out</button></form>"
            )
        }
        None => "<h1>Log in</h1><form method=\"post\" action=\"/login\">\
                 <input id=\"name\" name=\"name\" placeholder=\"your name\">\
                 <button id=\"login\">Log in</button></form>"
            .to_owned(),
    };
    res.html(format!(
        "<!doctype html><title>bocata sessions</title>{page}"
    ));
    Ok(())
}

#[derive(Deserialize)]
struct Login {
    name: String,
}

/// The form's target: remember the name, then back to the page.
async fn login(req: &Request, res: &mut Res) -> Result {
    let Login { name } = req.form().await?;
    let session = req.session()?;
    session.insert("user", name.trim())?;
    session.insert("visits", &0)?;
    res.redirect("/").status(303);
    Ok(())
}

async fn logout(req: &Request, res: &mut Res) -> Result {
    req.session()?.clear();
    res.redirect("/").status(303);
    Ok(())
}

/// HTML-escapes what the user typed.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn app(secret_key: &[u8]) -> App {
    App::new()
        .secret_key(secret_key)
        .route("/", bocata::get(home))
        .route("/login", bocata::post(login))
        .route("/logout", bocata::post(logout))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // `ADDR=127.0.0.1:0` picks a free port (the log says which).
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let key = match std::env::var("SECRET_KEY") {
        Ok(key) => key.into_bytes(),
        Err(_) => bocata::cookie::Key::generate().master().to_vec(),
    };
    app(&key).run(addr).await
}
