//! Helpers for the black-box tests: a bocata server on an OS-chosen port, and hyper
//! clients that talk to it over HTTP/1.1 or HTTP/2.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bocata::{App, Server};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

pub mod pki;
pub mod postgres;
pub mod redis;

/// How long any single step of a test may take before it counts as hung. Generous, so
/// a loaded machine never fails a test that is merely slow.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test if it takes longer than [`PATIENCE`].
pub async fn within<F: std::future::Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A bocata server running in the background on 127.0.0.1 and a port the OS chose.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<io::Result<()>>,
}

impl Running {
    /// Serves `app` with the default server settings.
    pub async fn start(app: App) -> Self {
        Self::start_with(Server::new(app)).await
    }

    /// Serves with a configured server; its shutdown signal is replaced by
    /// [`Running::stop`].
    pub async fn start_with(server: Server) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind to an OS-chosen port");
        let addr = listener.local_addr().expect("the bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = server.shutdown_signal(async {
            stopped.await.ok();
        });
        let task = tokio::spawn(server.serve(listener));
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// Starts a graceful shutdown without waiting for it.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }

    /// Starts a graceful shutdown and waits until the server has returned.
    pub async fn shutdown(mut self) -> io::Result<()> {
        self.stop();
        within("the server to shut down", &mut self.task)
            .await
            .expect("the server task not to panic")
    }

    /// Opens an HTTP/1.1 connection.
    pub async fn http1(&self) -> http1::SendRequest<Full<Bytes>> {
        connect_http1(self.addr).await
    }

    /// Opens an HTTP/2 connection with prior knowledge (no upgrade, no TLS).
    pub async fn http2(&self) -> http2::SendRequest<Full<Bytes>> {
        connect_http2(self.addr).await
    }
}

/// Opens an HTTP/1.1 connection to `addr`, driven by a background task.
pub async fn connect_http1(addr: SocketAddr) -> http1::SendRequest<Full<Bytes>> {
    let stream = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect to the server");
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 handshake");
    tokio::spawn(connection);
    sender
}

/// Opens an HTTP/2 connection to `addr` with prior knowledge (no upgrade, no TLS).
pub async fn connect_http2(addr: SocketAddr) -> http2::SendRequest<Full<Bytes>> {
    let stream = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect to the server");
    let (sender, connection) = http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
        .await
        .expect("an HTTP/2 handshake");
    tokio::spawn(connection);
    sender
}

/// A view that reports when a request has reached it and answers `finished` only when
/// released, so a test knows a request is in flight without sleeping.
#[derive(Debug)]
pub struct Gate {
    started: mpsc::UnboundedSender<()>,
    release: Arc<Notify>,
}

/// Notices of requests reaching a [`Gate`], and the handle that releases them.
#[derive(Debug)]
pub struct GateControl {
    /// Receives one `()` per request that has reached the view.
    pub started: mpsc::UnboundedReceiver<()>,
    /// `notify_one()` lets one waiting request finish.
    pub release: Arc<Notify>,
}

impl Gate {
    /// A gate and its controls.
    pub fn new() -> (Self, GateControl) {
        let (started, started_rx) = mpsc::unbounded_channel();
        let release = Arc::new(Notify::new());
        let gate = Self {
            started,
            release: Arc::clone(&release),
        };
        let control = GateControl {
            started: started_rx,
            release,
        };
        (gate, control)
    }
}

#[bocata::view]
impl Gate {
    async fn on_get(&self, _req: &bocata::Request, res: &mut bocata::Res) -> bocata::Result {
        self.started.send(()).ok();
        self.release.notified().await;
        res.text("finished");
        Ok(())
    }
}

impl GateControl {
    /// Waits until a request has reached the gate.
    pub async fn reached(&mut self) {
        within("a request to reach the gate", self.started.recv()).await;
    }
}

/// Captures what bocata logs through `tracing` on the current thread, for as long as it
/// lives. Use it in a current-thread test, so the app's tasks run on this thread.
pub struct LogCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
    _second: tracing::Dispatch,
}

impl std::fmt::Debug for LogCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogCapture").finish_non_exhaustive()
    }
}

impl LogCapture {
    /// Starts capturing `bocata`'s events at INFO and above.
    pub fn start() -> Self {
        Self::start_with("bocata=info")
    }

    /// Starts capturing what `filter` (`EnvFilter` directives, such as
    /// `"bocata=info,tower_http=debug"`) lets through: events, and the spans they are
    /// logged in.
    pub fn start_with(filter: &str) -> Self {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || Writer(Arc::clone(&writer)))
            .with_ansi(false)
            .with_env_filter(filter)
            .finish();
        // tracing caches, per call site, whether anyone listens; with one registered
        // subscriber, a test on another thread (with none) could switch bocata's call
        // sites off for this one. A second registered dispatcher makes tracing ask per
        // event.
        let second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
        let guard = tracing::subscriber::set_default(subscriber);
        tracing::callsite::rebuild_interest_cache();
        Self {
            buffer,
            _guard: guard,
            _second: second,
        }
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().expect("not poisoned")).into_owned()
    }
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A request with an empty body.
pub fn get(uri: &str) -> Request<Full<Bytes>> {
    request("GET", uri, Bytes::new())
}

/// A request with `method`, `uri` and `body`.
pub fn request(method: &str, uri: &str, body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(body.into()))
        .expect("a valid test request")
}

/// Reads a whole response.
pub async fn read(response: Response<hyper::body::Incoming>) -> (http::response::Parts, Bytes) {
    let (parts, body) = response.into_parts();
    let body = within("the response body", body.collect())
        .await
        .expect("a complete response body")
        .to_bytes();
    (parts, body)
}

/// The README's code, compiled as a doctest so it cannot drift from the API.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// The book's inline examples (those not included from a compiled file), gathered by
/// `build.rs` and compiled as doctests so they cannot drift from the API either.
#[cfg(doctest)]
pub mod book {
    include!(concat!(env!("OUT_DIR"), "/book_examples.rs"));
}

/// A folder of files for one test, removed when dropped.
#[derive(Debug)]
pub struct Fixture {
    /// The folder.
    pub dir: std::path::PathBuf,
}

impl Fixture {
    /// A new, empty folder under the system's temporary directory.
    pub fn new(name: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("bocata-test-{}-{name}-{n}", std::process::id()));
        std::fs::remove_dir_all(&dir).ok();
        std::fs::create_dir_all(&dir).expect("create the fixture folder");
        Self { dir }
    }

    /// Writes `contents` to `name` (creating folders) and returns its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> std::path::PathBuf {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the fixture's folders");
        }
        std::fs::write(&path, contents).expect("write a fixture file");
        path
    }

    /// The path of `name` in the folder.
    pub fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.dir).ok();
    }
}

/// `len` bytes in which every position has a distinct-looking value, so a wrong offset
/// shows up in a comparison.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

/// The parts of a `multipart/byteranges` body as `(Content-Range, bytes)`, checking
/// that every part has a `Content-Type` and the body ends with the close delimiter.
pub fn multipart_byteranges(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("not multipart/byteranges: {content_type}"));
    let delimiter = format!("\r\n--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    loop {
        let at = find(rest, delimiter.as_bytes()).expect("a delimiter");
        rest = &rest[at + delimiter.len()..];
        if rest.starts_with(b"--\r\n") {
            assert_eq!(rest.len(), 4, "nothing after the close delimiter");
            break;
        }
        let head_end = find(rest, b"\r\n\r\n").expect("the end of the part's head");
        let head = String::from_utf8_lossy(&rest[2..head_end]).into_owned();
        assert!(
            head.lines().any(|l| l.starts_with("content-type: ")),
            "{head}"
        );
        let content_range = head
            .lines()
            .find_map(|l| l.strip_prefix("content-range: "))
            .expect("a Content-Range in each part")
            .to_owned();
        rest = &rest[head_end + 4..];
        let next = find(rest, delimiter.as_bytes()).expect("the next delimiter");
        parts.push((content_range, rest[..next].to_vec()));
        rest = &rest[next..];
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Writes `request` as raw bytes on a new connection and returns the start of what the
/// server answers (up to 4 KiB), for requests a well-behaved client would not send.
pub async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    stream.write_all(request).await.expect("write the request");
    let mut buffer = vec![0; 4096];
    let n = within("the response", stream.read(&mut buffer))
        .await
        .expect("read the response");
    String::from_utf8_lossy(&buffer[..n]).into_owned()
}

/// The environment variable that turns a skipped outside-client test into a failure:
/// `.ci/run` sets it, having installed every client, so CI cannot pass by skipping.
pub const REQUIRE_CLIENTS: &str = "BOCATA_REQUIRE_CLIENTS";

/// Whether a test may drive the outside client `what`, found by `available`. On a
/// machine without it (a fresh one has only Rust) the test is skipped with a printed
/// reason, unless [`REQUIRE_CLIENTS`] is set, where a missing client fails the test.
///
/// ```no_run
/// if !bocata_tests::client("curl", bocata_tests::has_program("curl")) {
///     return;
/// }
/// ```
pub fn client(what: &str, available: bool) -> bool {
    if available {
        return true;
    }
    assert!(
        std::env::var_os(REQUIRE_CLIENTS).is_none(),
        "{what} is required here ({REQUIRE_CLIENTS} is set) but is not installed"
    );
    // Written to stderr itself rather than with `eprintln!`, which the test harness
    // would capture and only show for a failure.
    let mut stderr = std::io::stderr();
    io::Write::write_all(
        &mut stderr,
        format!("skipped: {what} is not installed (.ci/run installs it)\n").as_bytes(),
    )
    .ok();
    false
}

/// Whether `program` runs (`program --version` succeeds).
pub fn has_program(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether Python 3 can import `module`.
pub fn has_python_module(module: &str) -> bool {
    std::process::Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// The rest of a server process's standard output, line by line.
pub type ProcessLines = tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>;

/// Starts the server process `command` runs (the `serve` binary, directly or through a
/// shell), killed when dropped; returns it, the address it prints on its first line, and
/// the rest of its output.
pub async fn serve_process(
    mut command: tokio::process::Command,
) -> (tokio::process::Child, SocketAddr, ProcessLines) {
    use tokio::io::AsyncBufReadExt;
    let mut server = command
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the server process starts");
    let stdout = server.stdout.take().expect("its output is piped");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let addr = within("the server's address", lines.next_line())
        .await
        .expect("a line")
        .expect("an address line")
        .parse()
        .expect("an address");
    (server, addr, lines)
}
