//! Heap allocations per request: bocata against a hand-written hyper service doing the
//! same work. The target is hyper's own count plus two: the view's future, and the
//! block that holds the request and the response the view fills in; plus one for a
//! struct view whose method never waits, for which no future is made.
//!
//! The server runs on a current-thread runtime on the test's thread, and only that
//! thread's allocations are counted (`allocation_counter` counts per thread), so the
//! client, on a thread of its own with a plain blocking socket, does not blur the
//! count. One keep-alive connection is warmed up first, then measured over many
//! requests, so what is counted is the steady state of a request, not a connection.

use std::convert::Infallible;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use bocata::{App, Request, Res, Result, Server};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, HeaderValue};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const WARM_UP: usize = 200;
const REQUESTS: usize = 2000;
// ANCHOR: allowance
/// What bocata may allocate per request beyond hyper: the view's future, and the
/// request with its response, each behind a pointer.
const ALLOWANCE: u64 = 2;
/// The same for a struct view whose method has no `.await`: `#[bocata::view]` makes it
/// a plain call, with no future to put on the heap.
const ALLOWANCE_NEVER_WAITING: u64 = 1;
// ANCHOR_END: allowance

async fn plaintext(_req: &Request, res: &mut Res) -> Result {
    res.text("Hello, World!");
    Ok(())
}

#[derive(serde::Serialize)]
struct Id {
    id: u64,
}

async fn params(req: &Request, res: &mut Res) -> Result {
    let id: u64 = req.param("id")?;
    res.json(&Id { id });
    Ok(())
}

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

async fn json(_req: &Request, res: &mut Res) -> Result {
    res.json(&Message {
        message: "Hello, World!",
    });
    Ok(())
}

/// Plain text again, from a struct view as the guide writes them.
struct Greeting;

#[bocata::view]
impl Greeting {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("Hello, World!");
        Ok(())
    }
}

async fn bocata(listener: TcpListener) {
    let app = App::new()
        .route("/plaintext", bocata::get(plaintext))
        .route("/params/{id}", bocata::get(params))
        .route("/json", bocata::get(json))
        .route("/view", Greeting);
    Server::new(app)
        .shutdown_signal(std::future::pending())
        .serve(listener)
        .await
        .expect("bocata serves");
}

/// The same two endpoints written against hyper alone: the floor.
async fn hyper_floor(listener: TcpListener) {
    async fn handle(
        request: http::Request<Incoming>,
    ) -> Result<http::Response<Full<Bytes>>, Infallible> {
        let path = request.uri().path();
        let (body, content_type) = match (path, path.strip_prefix("/params/")) {
            (_, Some(id)) => {
                let id = id.parse().unwrap_or(0);
                let json = serde_json::to_vec(&Id { id }).unwrap_or_default();
                (Bytes::from(json), "application/json")
            }
            ("/json", None) => {
                let message = Message {
                    message: "Hello, World!",
                };
                let json = serde_json::to_vec(&message).unwrap_or_default();
                (Bytes::from(json), "application/json")
            }
            _ => (
                Bytes::from_static(b"Hello, World!"),
                "text/plain; charset=utf-8",
            ),
        };
        let mut response = http::Response::new(Full::new(body));
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        Ok(response)
    }
    loop {
        let (stream, _) = listener.accept().await.expect("accept");
        tokio::spawn(async move {
            let service = hyper::service::service_fn(handle);
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
                .ok();
        });
    }
}

/// Sends `GET path` over one keep-alive connection: `WARM_UP` times, then a signal,
/// then `REQUESTS` times and another signal. Every response must be a 200.
fn client(addr: SocketAddr, path: &str, warm: oneshot::Sender<()>, done: oneshot::Sender<()>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let mut buf = vec![0; 16 * 1024];
    let mut exchange = || {
        stream.write_all(request.as_bytes()).expect("write");
        let mut have = 0;
        loop {
            let n = stream.read(&mut buf[have..]).expect("read");
            assert!(n > 0, "the server closed the connection");
            have += n;
            let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            assert!(head.starts_with("http/1.1 200"), "{head}");
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .expect("a content-length")
                .trim()
                .parse()
                .expect("a number");
            if have >= end + 4 + length {
                assert_eq!(have, end + 4 + length, "one response per request");
                return;
            }
        }
    };
    for _ in 0..WARM_UP {
        exchange();
    }
    warm.send(()).expect("the test waits");
    for _ in 0..REQUESTS {
        exchange();
    }
    done.send(()).expect("the test waits");
}

/// The allocations, summed over `REQUESTS` requests for `path`, made on the thread that
/// runs `serve`.
fn allocations<F>(serve: fn(TcpListener) -> F, path: &'static str) -> u64
where
    F: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("bind to an OS-chosen port");
    let addr = listener.local_addr().expect("the bound address");
    runtime.spawn(serve(listener));
    let (warm, warmed) = oneshot::channel();
    let (done, finished) = oneshot::channel();
    let client = std::thread::spawn(move || client(addr, path, warm, done));
    runtime.block_on(warmed).expect("the warm-up to finish");
    let info = allocation_counter::measure(|| {
        runtime.block_on(finished).expect("the requests to finish");
    });
    client.join().expect("the client not to panic");
    info.count_total
}

fn compare(path: &'static str, allowance: u64) {
    let hyper = allocations(hyper_floor, path);
    let bocata = allocations(bocata, path);
    let per_request = |total: u64| total as f64 / REQUESTS as f64;
    eprintln!(
        "{path}: hyper {:.2}, bocata {:.2} allocations a request",
        per_request(hyper),
        per_request(bocata)
    );
    // ANCHOR: budget
    // A hundredth of an allocation a request of slack, for the runtime's own rare ones.
    let budget = hyper + allowance * REQUESTS as u64 + REQUESTS as u64 / 100;
    assert!(
        bocata <= budget,
        "{path}: bocata made {:.2} allocations a request, hyper {:.2}; at most {allowance} more",
        per_request(bocata),
        per_request(hyper),
    );
    // ANCHOR_END: budget
}

#[test]
fn plaintext_allocates_at_most_two_more_than_hyper() {
    compare("/plaintext", ALLOWANCE);
}

#[test]
fn path_parameters_allocate_at_most_two_more_than_hyper() {
    compare("/params/12345", ALLOWANCE);
}

#[test]
fn json_allocates_at_most_two_more_than_hyper() {
    compare("/json", ALLOWANCE);
}

#[test]
fn a_struct_view_that_never_waits_allocates_at_most_one_more_than_hyper() {
    compare("/view", ALLOWANCE_NEVER_WAITING);
}
