//! The floor: a hand-written hyper 1 service with the same endpoints as the others
//! (see the bocata server), HTTP/1.1 with keep-alive, `BENCH_WORKERS` threads. With
//! `BENCH_AUTO=1` it is served by hyper-util's auto builder instead, which speaks
//! HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on the same port: the floor for the
//! HTTP/2 rows.

use std::convert::Infallible;
use std::io::Write;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};

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

fn main() -> std::io::Result<()> {
    let workers = std::env::var("BENCH_WORKERS").ok().and_then(|w| w.parse().ok()).unwrap_or(1);
    let file: &'static str = Box::leak(std::env::var("BENCH_FILE").unwrap_or_default().into_boxed_str());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build()?;
    runtime.block_on(async move {
        let addr = std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        writeln!(std::io::stdout(), "{}", listener.local_addr()?)?;
        let auto = std::env::var("BENCH_AUTO").is_ok_and(|v| v == "1");
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true).ok();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| handle(request, file));
                let io = TokioIo::new(stream);
                if auto {
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await
                        .ok();
                } else {
                    hyper::server::conn::http1::Builder::new().serve_connection(io, service).await.ok();
                }
            });
        }
    })
}
