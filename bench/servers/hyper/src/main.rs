//! The floor: a hand-written hyper 1 service with the same endpoints as the others
//! (see the bocata server), HTTP/1.1 with keep-alive, `BENCH_WORKERS` threads. With
//! `BENCH_AUTO=1` it is served by hyper-util's auto builder instead, which speaks
//! HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on the same port: the floor for the
//! HTTP/2 rows. With `BENCH_TLS=1` it serves HTTPS with tokio-rustls (the *ring*
//! provider) and the certificate and key in the PEM files `BENCH_CERT` and `BENCH_KEY`;
//! ALPN offers h2 and http/1.1, and a connection that agreed on http/1.1 is served by
//! hyper's HTTP/1 directly, any other by the auto builder: the floor for the TLS rows.

use std::convert::Infallible;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};

type Body = BoxBody<Bytes, std::io::Error>;

fn full(bytes: impl Into<Bytes>, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(bytes.into()).map_err(|e| match e {}).boxed());
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

#[derive(serde::Serialize)]
struct Id {
    id: u64,
}

async fn handle(request: Request<Incoming>, file: &'static str) -> Result<Response<Body>, Infallible> {
    // `/echo` takes the request's body, so it is picked out before the path is borrowed.
    if request.method() == Method::POST && request.uri().path() == "/echo" {
        return Ok(echo(request).await);
    }
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/plaintext") => full("Hello, World!", "text/plain; charset=utf-8"),
        (&Method::GET, "/json") => full(
            serde_json::to_vec(&Message { message: "Hello, World!" }).unwrap_or_default(),
            "application/json",
        ),
        (&Method::GET, p) if p.starts_with("/params/") => match p["/params/".len()..].parse() {
            Ok(id) => full(serde_json::to_vec(&Id { id }).unwrap_or_default(), "application/json"),
            Err(_) => bad_request(),
        },
        // The floor for a small file: read whole per request, in one trip to the
        // blocking pool.
        (&Method::GET, "/file") => match tokio::fs::read(file).await {
            Ok(bytes) => full(bytes, "application/octet-stream"),
            Err(_) => not_found(),
        },
        (&Method::GET, "/stream") => {
            let chunks = futures_util::stream::iter(0..16u8)
                .map(|i| Ok::<_, std::io::Error>(Frame::data(Bytes::from(vec![i; 64 * 1024]))));
            Response::new(BodyExt::boxed(StreamBody::new(chunks)))
        }
        _ => not_found(),
    };
    Ok(response)
}

async fn echo(request: Request<Incoming>) -> Response<Body> {
    let bytes = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return bad_request(),
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(value) => full(serde_json::to_vec(&value).unwrap_or_default(), "application/json"),
        Err(_) => bad_request(),
    }
}

fn bad_request() -> Response<Body> {
    let mut response = full("bad request", "text/plain");
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response
}

fn not_found() -> Response<Body> {
    let mut response = full("not found", "text/plain");
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
}

/// The server's TLS configuration, from the PEM files `BENCH_CERT` and `BENCH_KEY`, with
/// the *ring* provider and ALPN offering h2 and http/1.1.
fn tls_config() -> std::io::Result<Arc<rustls::ServerConfig>> {
    let invalid = |e: &dyn std::fmt::Display| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string());
    let cert = std::env::var("BENCH_CERT").unwrap_or_default();
    let key = std::env::var("BENCH_KEY").unwrap_or_default();
    let chain = CertificateDer::pem_file_iter(&cert)
        .map_err(|e| invalid(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&e))?;
    let key = PrivateKeyDer::from_pem_file(&key).map_err(|e| invalid(&e))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(&e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid(&e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves one connection: HTTP/1.1 alone, or with `auto` HTTP/2 as well, told apart by
/// the connection's preface.
async fn serve<IO>(io: IO, auto: bool, file: &'static str)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    if auto {
        // HTTP/2 moves each request's future into a task of its own: boxed, it moves as a
        // pointer (3 % fewer instructions an h2c request than moving `handle`'s future).
        let service = hyper::service::service_fn(move |request| Box::pin(handle(request, file)));
        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).serve_connection(io, service).await.ok();
    } else {
        let service = hyper::service::service_fn(move |request| handle(request, file));
        hyper::server::conn::http1::Builder::new().serve_connection(io, service).await.ok();
    }
}

fn main() -> std::io::Result<()> {
    let workers = std::env::var("BENCH_WORKERS").ok().and_then(|w| w.parse().ok()).unwrap_or(1);
    let file: &'static str = Box::leak(std::env::var("BENCH_FILE").unwrap_or_default().into_boxed_str());
    let tls = if std::env::var("BENCH_TLS").is_ok_and(|v| v == "1") {
        Some(tokio_rustls::TlsAcceptor::from(tls_config()?))
    } else {
        None
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build()?;
    runtime.block_on(async move {
        let addr = std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        writeln!(std::io::stdout(), "{}", listener.local_addr()?)?;
        let auto = std::env::var("BENCH_AUTO").is_ok_and(|v| v == "1");
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true).ok();
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    None => serve(stream, auto, file).await,
                    // Over TLS, ALPN has settled the protocol: HTTP/1 directly when it
                    // says http/1.1, otherwise (h2, or nothing agreed) the auto builder.
                    Some(tls) => {
                        let Ok(stream) = tls.accept(stream).await else { return };
                        let http1 = stream.get_ref().1.alpn_protocol() == Some(b"http/1.1");
                        serve(stream, !http1, file).await;
                    }
                }
            });
        }
    })
}
