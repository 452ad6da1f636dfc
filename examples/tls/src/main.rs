//! Run with `cargo run -p tls`, then open <https://localhost:8443/>.
//!
//! HTTPS with HTTP/2 for browsers, a certificate reloaded without a restart, HSTS, and
//! plain HTTP redirected to HTTPS.
//!
//! - `ADDR`: where HTTPS is served (default `127.0.0.1:8443`).
//! - `TLS_CERT`, `TLS_KEY`: the certificate chain and key, PEM. Without them a
//!   self-signed certificate for `localhost` is made, and the log says where it is
//!   (tell your client to trust it: `curl --cacert <it> https://localhost:8443/`).
//! - `HTTP_ADDR`: if set, plain HTTP there is redirected to HTTPS.
//!
//! ```text
//! curl --cacert /tmp/bocata-tls-example/cert.pem https://localhost:8443/
//! curl --cacert /tmp/bocata-tls-example/cert.pem --http1.1 https://localhost:8443/
//! ```

// ANCHOR: all
use std::path::PathBuf;

use bocata::tls::Tls;
use bocata::{App, Request, Res, Result, Server};

// ANCHOR: view
/// Says how the page came: over which protocol, agreed by ALPN.
async fn index(req: &Request, res: &mut Res) -> Result {
    let alpn = req
        .tls()
        .and_then(|tls| tls.alpn_protocol())
        .map_or("none".into(), String::from_utf8_lossy);
    res.html(format!(
        "<h1>bocata over {}</h1><p>ALPN: <code id=\"alpn\">{alpn}</code></p>",
        req.scheme()
    ));
    Ok(())
}

/// The same, for scripts and tests.
async fn about(req: &Request, res: &mut Res) -> Result {
    let tls = req.tls();
    res.json(&serde_json::json!({
        "scheme": req.scheme(),
        "alpn": tls.and_then(|t| t.alpn_protocol()).map(String::from_utf8_lossy),
        "server_name": tls.and_then(|t| t.server_name()),
    }));
    Ok(())
}
// ANCHOR_END: view

// ANCHOR: hsts
/// Tells browsers to come back over HTTPS only, for a year.
async fn hsts(_req: &Request, res: &mut Res) -> Result {
    res.header("strict-transport-security", "max-age=31536000");
    Ok(())
}
// ANCHOR_END: hsts

/// The certificate and key from `TLS_CERT` and `TLS_KEY`, or a self-signed pair for
/// `localhost` written to a temporary directory.
fn certificate() -> std::io::Result<(PathBuf, PathBuf)> {
    if let (Some(cert), Some(key)) = (std::env::var_os("TLS_CERT"), std::env::var_os("TLS_KEY")) {
        return Ok((cert.into(), key.into()));
    }
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let generated = rcgen::generate_simple_self_signed(names).map_err(std::io::Error::other)?;
    let dir = std::env::temp_dir().join("bocata-tls-example");
    std::fs::create_dir_all(&dir)?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, generated.cert.pem())?;
    std::fs::write(&key, generated.signing_key.serialize_pem())?;
    eprintln!(
        "no TLS_CERT and TLS_KEY: serving a self-signed certificate for localhost, written to {}",
        cert.display()
    );
    Ok((cert, key))
}

// ANCHOR: main
#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8443".to_owned());
    let (cert, key) = certificate()?;

    let app = App::new()
        .route("/", bocata::get(index))
        .route("/about", bocata::get(about))
        .after(hsts);
    // Reloaded when the files change and on SIGHUP.
    let mut server = Server::new(app).tls(Tls::from_pem_files(cert, key));
    if let Ok(http) = std::env::var("HTTP_ADDR") {
        server = server.redirect_http(tokio::net::TcpListener::bind(http).await?);
    }
    server.run(addr).await
}
// ANCHOR_END: main
// ANCHOR_END: all
