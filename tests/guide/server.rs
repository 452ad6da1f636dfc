//! Chapter "Running a server": `Server` and its settings, HTTP/1.1 and HTTP/2 on one
//! port, graceful shutdown, and the access log.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bocata::{App, Request, Res, Result, Server};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

// ANCHOR: start
/// Serves `app` on a port the OS picks until `stop` fires. Returns the address and
/// the server's task, which ends with the server's result.
pub(crate) async fn start(
    app: App,
    stop: oneshot::Receiver<()>,
) -> io::Result<(SocketAddr, JoinHandle<io::Result<()>>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = Server::new(app)
        .grace_period(Duration::from_secs(5))
        .shutdown_signal(async {
            stop.await.ok();
        });
    Ok((addr, tokio::spawn(server.serve(listener))))
}
// ANCHOR_END: start

// ANCHOR: run
/// Serves on `addr` until Ctrl-C or SIGTERM, then gives the requests in flight
/// 10 seconds to finish.
async fn serve_forever(app: App, addr: &str) -> io::Result<()> {
    Server::new(app)
        .grace_period(Duration::from_secs(10))
        .run(addr)
        .await
}
// ANCHOR_END: run

// ANCHOR: peer
/// Says who is asking, and over which protocol.
async fn peer(req: &Request, res: &mut Res) -> Result {
    let addr = req
        .client_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    res.text(format!("{addr} over {:?}", req.version()));
    Ok(())
}
// ANCHOR_END: peer

/// A view that reports when it has started and finishes only when released, so a
/// test knows a request is in flight without sleeping.
struct Gate {
    started: mpsc::UnboundedSender<()>,
    release: Arc<Notify>,
}

#[bocata::view]
impl Gate {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        self.started.send(()).ok();
        self.release.notified().await;
        res.text("finished");
        Ok(())
    }
}

/// How long a test waits for any one step before calling it hung.
const PATIENCE: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test if it hangs.
async fn within<F: std::future::Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A GET request for `uri` with an empty body.
fn get(uri: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(uri)
        .body(Empty::new())
        .expect("a valid request")
}

/// Status and body of a response.
async fn read(response: http::Response<hyper::body::Incoming>) -> (http::StatusCode, Bytes) {
    let status = response.status();
    let body = within("the body", response.into_body().collect())
        .await
        .expect("a complete body")
        .to_bytes();
    (status, body)
}

/// Opens an HTTP/1.1 connection to `addr`.
async fn connect_http1(addr: SocketAddr) -> http1::SendRequest<Empty<Bytes>> {
    let stream = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 handshake");
    tokio::spawn(connection);
    sender
}

#[tokio::test]
async fn http1_keep_alive_and_http2_on_one_port() {
    let (stop, stopped) = oneshot::channel();
    let app = App::new().route("/peer", bocata::get(peer));
    let (addr, server) = start(app, stopped).await.expect("a server");

    let mut conn = connect_http1(addr).await;
    let mut answers = Vec::new();
    for _ in 0..2 {
        within("ready", conn.ready()).await.expect("reusable");
        let response = within("a response", conn.send_request(get("/peer")))
            .await
            .expect("a response");
        let (status, body) = read(response).await;
        assert_eq!(status, 200);
        answers.push(body);
    }
    assert_eq!(
        answers[0], answers[1],
        "the same client port: one connection"
    );
    let first = String::from_utf8_lossy(&answers[0]).into_owned();
    assert!(first.starts_with("127.0.0.1:"), "{first}");
    assert!(first.ends_with(" over HTTP/1.1"), "{first}");

    let stream = TcpStream::connect(addr).await.expect("connect");
    let (mut h2, connection) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .expect("an HTTP/2 handshake with prior knowledge");
    tokio::spawn(connection);
    let response = within(
        "an HTTP/2 response",
        h2.send_request(get(&format!("http://{addr}/peer"))),
    )
    .await
    .expect("a response");
    let (status, body) = read(response).await;
    assert_eq!(status, 200);
    assert!(body.ends_with(b" over HTTP/2.0"), "{body:?}");

    drop((conn, h2));
    stop.send(()).ok();
    within("shutdown", server)
        .await
        .expect("the server task")
        .expect("a clean shutdown");
}

#[tokio::test]
async fn graceful_shutdown_lets_requests_in_flight_finish() {
    let (started_tx, mut started) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let gate = Gate {
        started: started_tx,
        release: Arc::clone(&release),
    };
    let (stop, stopped) = oneshot::channel();
    let (addr, server) = start(App::new().route("/slow", gate), stopped)
        .await
        .expect("a server");

    let mut conn = connect_http1(addr).await;
    let in_flight = conn.send_request(get("/slow"));
    let steps = async {
        within("the view to start", started.recv()).await;
        stop.send(()).ok();
        release.notify_one();
    };
    let (response, ()) = tokio::join!(in_flight, steps);
    let (status, body) = read(response.expect("a response")).await;
    assert_eq!(status, 200);
    assert_eq!(body, "finished");

    within("shutdown", server)
        .await
        .expect("the server task")
        .expect("a clean shutdown");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn run_reports_an_address_it_cannot_bind() {
    let taken = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let err = serve_forever(App::new(), &addr)
        .await
        .expect_err("the port is taken");
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    assert!(
        err.to_string()
            .contains(&format!("bocata could not bind {addr}")),
        "{err}"
    );
}

/// Collects what a `tracing` subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// On the default current-thread test runtime the server's tasks run on this thread,
/// so a thread-local subscriber sees their events.
#[tokio::test]
async fn every_request_gets_an_access_line() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_env_filter("bocata=info")
        .finish();
    // tracing caches, per call site, whether anyone listens. With a single registered
    // subscriber it asks the *current thread's* one, so a test on another thread (with
    // none) could switch bocata's call sites off for everyone. A second registered
    // subscriber makes tracing ask each thread's own subscriber per event instead.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let (stop, stopped) = oneshot::channel();
    let app = App::new().route("/peer", bocata::get(peer));
    let (addr, server) = start(app, stopped).await.expect("a server");
    let mut conn = connect_http1(addr).await;
    let response = within("a response", conn.send_request(get("/peer?x=1")))
        .await
        .expect("a response");
    read(response).await;
    within("ready", conn.ready()).await.expect("reusable");
    let response = within("a response", conn.send_request(get("/missing")))
        .await
        .expect("a response");
    read(response).await;
    drop(conn);
    stop.send(()).ok();
    within("shutdown", server)
        .await
        .expect("the server task")
        .expect("a clean shutdown");

    let log = String::from_utf8_lossy(&captured.0.lock().expect("not poisoned")).into_owned();
    assert!(
        log.contains(&format!("bocata::server: listening on http://{addr}")),
        "{log}"
    );
    let access: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" INFO bocata::access: "))
        .collect();
    assert_eq!(access.len(), 2, "{log}");
    assert!(
        access[0].contains(r#"method=GET path="/peer" status=200 micros="#),
        "{log}"
    );
    assert!(
        access[1].contains(r#"method=GET path="/missing" status=404 micros="#),
        "{log}"
    );
}
