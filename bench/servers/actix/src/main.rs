//! actix-web with the same endpoints as the other contenders (see the bocata server).
//!
//! With `BENCH_TLS=1` it serves HTTPS with its rustls 0.23 acceptor, a configuration
//! with the *ring* provider, and the certificate and key in the PEM files `BENCH_CERT`
//! and `BENCH_KEY`; actix-web offers h2 and http/1.1 by ALPN itself.

use std::io::Write;
use std::sync::Arc;

use actix_web::{App, HttpResponse, HttpServer, web};
use bytes::Bytes;
use futures_util::StreamExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

#[derive(serde::Serialize)]
struct Id {
    id: u64,
}

async fn plaintext() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("Hello, World!")
}

async fn json() -> HttpResponse {
    HttpResponse::Ok().json(Message { message: "Hello, World!" })
}

async fn params(id: web::Path<u64>) -> HttpResponse {
    HttpResponse::Ok().json(Id { id: id.into_inner() })
}

async fn echo(value: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok().json(value.into_inner())
}

async fn file(path: web::Data<String>) -> actix_web::Result<actix_files::NamedFile> {
    Ok(actix_files::NamedFile::open_async(path.as_str()).await?)
}

async fn stream() -> HttpResponse {
    let chunks = futures_util::stream::iter(0..16u8).map(|i| Ok::<_, actix_web::Error>(Bytes::from(vec![i; 64 * 1024])));
    HttpResponse::Ok().streaming(chunks)
}

/// The server's TLS configuration, from the PEM files `BENCH_CERT` and `BENCH_KEY`, with
/// the *ring* provider.
fn tls_config() -> std::io::Result<rustls::ServerConfig> {
    let invalid = |e: &dyn std::fmt::Display| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string());
    let cert = std::env::var("BENCH_CERT").unwrap_or_default();
    let key = std::env::var("BENCH_KEY").unwrap_or_default();
    let chain = CertificateDer::pem_file_iter(&cert)
        .map_err(|e| invalid(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&e))?;
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| invalid(&e))?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid(&e))
}

fn main() -> std::io::Result<()> {
    let workers = std::env::var("BENCH_WORKERS").ok().and_then(|w| w.parse().ok()).unwrap_or(1);
    let path = std::env::var("BENCH_FILE").unwrap_or_default();
    let tls = if std::env::var("BENCH_TLS").is_ok_and(|v| v == "1") { Some(tls_config()?) } else { None };
    actix_web::rt::System::new().block_on(async move {
        let addr = std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
        let listener = std::net::TcpListener::bind(addr)?;
        writeln!(std::io::stdout(), "{}", listener.local_addr()?)?;
        std::io::stdout().flush()?;
        let auto = std::env::var("BENCH_AUTO").is_ok_and(|v| v == "1");
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(path.clone()))
                .route("/plaintext", web::get().to(plaintext))
                .route("/json", web::get().to(json))
                .route("/params/{id}", web::get().to(params))
                .route("/echo", web::post().to(echo))
                .route("/file", web::get().to(file))
                .route("/stream", web::get().to(stream))
        })
        .workers(workers);
        // With `BENCH_TLS=1`, HTTPS with HTTP/2 and HTTP/1.1 by ALPN, for the TLS rows;
        // with `BENCH_AUTO=1`, HTTP/2 with prior knowledge (h2c) too, for the HTTP/2 rows.
        let server = if let Some(tls) = tls {
            server.listen_rustls_0_23(listener, tls)?
        } else if auto {
            server.listen_auto_h2c(listener)?
        } else {
            server.listen(listener)?
        };
        server.run().await
    })
}
