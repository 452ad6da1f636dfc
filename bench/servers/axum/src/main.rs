//! axum with the same endpoints as the other contenders (see the bocata server).
//!
//! With `BENCH_TLS=1` it serves HTTPS with axum-server's rustls acceptor (the *ring*
//! provider; ALPN offers h2 and http/1.1) and the certificate and key in the PEM files
//! `BENCH_CERT` and `BENCH_KEY`.

use std::io::Write;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use futures_util::StreamExt;

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

#[derive(serde::Serialize)]
struct Id {
    id: u64,
}

async fn plaintext() -> &'static str {
    "Hello, World!"
}

async fn json() -> Json<Message> {
    Json(Message { message: "Hello, World!" })
}

async fn params(Path(id): Path<u64>) -> Json<Id> {
    Json(Id { id })
}

async fn echo(Json(value): Json<serde_json::Value>) -> Json<serde_json::Value> {
    Json(value)
}

async fn file(State(path): State<&'static str>) -> Response {
    match tokio::fs::File::open(path).await {
        Ok(f) => (
            [(CONTENT_TYPE, "application/octet-stream")],
            Body::from_stream(tokio_util::io::ReaderStream::with_capacity(f, 64 * 1024)),
        )
            .into_response(),
        Err(_) => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

async fn stream() -> Response {
    let chunks = futures_util::stream::iter(0..16u8).map(|i| Ok::<_, std::io::Error>(Bytes::from(vec![i; 64 * 1024])));
    Body::from_stream(chunks).into_response()
}

fn main() -> std::io::Result<()> {
    let workers = std::env::var("BENCH_WORKERS").ok().and_then(|w| w.parse().ok()).unwrap_or(1);
    let path: &'static str = Box::leak(std::env::var("BENCH_FILE").unwrap_or_default().into_boxed_str());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build()?;
    runtime.block_on(async move {
        let addr = std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let tls = if std::env::var("BENCH_TLS").is_ok_and(|v| v == "1") {
            let cert = std::env::var("BENCH_CERT").unwrap_or_default();
            let key = std::env::var("BENCH_KEY").unwrap_or_default();
            Some(axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await?)
        } else {
            None
        };
        writeln!(std::io::stdout(), "{}", listener.local_addr()?)?;
        let app = Router::new()
            .route("/plaintext", get(plaintext))
            .route("/json", get(json))
            .route("/params/{id}", get(params))
            .route("/echo", post(echo))
            .route("/file", get(file))
            .route("/stream", get(stream))
            .with_state(path);
        if let Some(config) = tls {
            // Small responses go out at once, as with the other contenders.
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
                .acceptor(axum_server::accept::NoDelayAcceptor::new());
            axum_server::from_tcp(listener.into_std()?)?.acceptor(acceptor).serve(app.into_make_service()).await
        } else {
            // Small responses go out at once, as with the other contenders (Nagle's
            // algorithm would batch the responses of concurrent HTTP/2 streams).
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                tcp.set_nodelay(true).ok();
            });
            axum::serve(listener, app).await
        }
    })
}
