//! Clients that stop taking a response, over real sockets: every kind of body is under
//! the chunk timeout on HTTP/1, an HTTP/2 stream whose window stays shut is reset alone,
//! and what a stalled response held (its file, its connection) is let go, while other
//! clients are served throughout.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bocata::error::Caught;
use bocata::{App, Request, Res, Result, StaticFiles};
use bocata_tests::{Fixture, LogCapture, Running, connect_http1, get, read, within};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

/// The size of every large body here: far more than a client's and the server's
/// socket buffers hold together.
const BIG: usize = 8 * 1024 * 1024;

const CUT: &str = "closing the connection: the client took longer than the chunk timeout";

async fn hello(_req: &Request, res: &mut Res) -> Result {
    res.text("hello");
    Ok(())
}

struct SendFile(PathBuf);

#[bocata::view]
impl SendFile {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.file(&self.0);
        Ok(())
    }
}

async fn big_content(_req: &Request, res: &mut Res) -> Result {
    res.content(vec![b'c'; BIG]);
    Ok(())
}

async fn big_page(_req: &Request, res: &mut Res) -> Result {
    res.template("page.html", &serde_json::json!({ "text": "t".repeat(BIG) }));
    Ok(())
}

async fn big_not_found(_caught: &Caught<'_>, res: &mut Res) -> Result {
    res.html("<p>nothing here</p>\n".repeat(BIG / 20));
    Ok(())
}

/// A folder with a large file, a large text file and its gzip sibling, and a template
/// that renders large.
fn fixture() -> Fixture {
    let fixture = Fixture::new("stalled");
    let big = vec![b'f'; BIG];
    fixture.file("public/big.bin", &big);
    fixture.file("public/big.txt", &big);
    fixture.file("public/big.txt.gz", &big);
    fixture.file("templates/page.html", "<pre>{{ text }}</pre>");
    fixture
}

fn app(fixture: &Fixture, chunk_timeout: Duration) -> App {
    App::new()
        .route("/", bocata::get(hello))
        .route("/file", SendFile(fixture.path("public/big.bin")))
        .route("/content", bocata::get(big_content))
        .route("/page", bocata::get(big_page))
        .templates(fixture.path("templates"))
        .static_files(
            "/static",
            StaticFiles::new(fixture.path("public")).precompressed(true),
        )
        .catch(404, big_not_found)
        .chunk_timeout(chunk_timeout)
}

/// The process's descriptors open on `path`.
fn open_on(path: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    entries
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target == path)
        .count()
}

/// Watches the descriptors open on `path` until, having been opened, all are closed;
/// the most that were open at once.
async fn held_then_let_go(path: &Path, what: &str) -> usize {
    let mut most = 0;
    within(what, async {
        loop {
            let open = open_on(path);
            most = most.max(open);
            if most > 0 && open == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    most
}

/// Sends `head` on a connection whose receive buffer is small, and reads nothing.
async fn stalled(addr: SocketAddr, head: &str) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let mut stream = within("connect", socket.connect(addr))
        .await
        .expect("connected");
    stream.write_all(head.as_bytes()).await.expect("written");
    stream
}

/// Reads until the connection ends; how many bytes came.
async fn drain(stream: &mut TcpStream) -> usize {
    let mut buffer = vec![0; 1 << 20];
    let mut total = 0;
    within("the connection to end", async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    })
    .await;
    total
}

/// Waits until `log` says `what` more than `seen` times.
async fn logged(log: &LogCapture, what: &str, seen: usize) {
    within(what, async {
        while log.text().matches(what).count() <= seen {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn on_http1_every_kind_of_body_is_under_the_chunk_timeout() {
    let log = LogCapture::start();
    let fixture = fixture();
    let server = Running::start(app(&fixture, Duration::from_millis(300))).await;
    let cases = [
        ("a file", "/file", ""),
        ("a range of a file", "/file", "range: bytes=0-6000000\r\n"),
        (
            "several ranges of a file",
            "/file",
            "range: bytes=0-1000,2000-3000000,4000000-\r\n",
        ),
        ("a static file", "/static/big.txt", ""),
        (
            "a precompressed sibling",
            "/static/big.txt",
            "accept-encoding: gzip\r\n",
        ),
        ("a fixed body", "/content", ""),
        ("a template", "/page", ""),
        ("an error page", "/nowhere", ""),
    ];
    for (kind, path, headers) in cases {
        let seen = log.text().matches(CUT).count();
        let head = format!("GET {path} HTTP/1.1\r\nhost: x\r\n{headers}\r\n");
        let mut stream = stalled(server.addr, &head).await;
        logged(&log, CUT, seen).await;
        let received = drain(&mut stream).await;
        assert!(
            received < BIG,
            "{kind}: cut short ({received} bytes), not sent whole"
        );
        let files = [
            fixture.path("public/big.bin"),
            fixture.path("public/big.txt"),
            fixture.path("public/big.txt.gz"),
        ];
        within("no file to be left open", async {
            while files.iter().any(|file| open_on(file) > 0) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn on_http1_a_client_reading_a_byte_at_a_time_is_cut_too() {
    let log = LogCapture::start();
    let fixture = fixture();
    let server = Running::start(app(&fixture, Duration::from_millis(300))).await;
    let mut stream = stalled(server.addr, "GET /file HTTP/1.1\r\nhost: x\r\n\r\n").await;
    let mut byte = [0; 1];
    let mut received = 0;
    within("the slow reader to be cut off", async {
        while !log.text().contains(CUT) {
            match stream.read(&mut byte).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received += n,
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    received += drain(&mut stream).await;
    assert!(received < BIG, "cut short: {received} bytes");
    server.shutdown().await.expect("clean shutdown");
}

/// Keeps asking for `/` on fresh connections, each answered within a second, until
/// told to stop; how many were answered.
fn keep_asking(addr: SocketAddr, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<u32> {
    tokio::spawn(async move {
        let mut answered = 0;
        while !*stop.borrow_and_update() {
            let asked = async {
                let mut conn = connect_http1(addr).await;
                let response = conn.send_request(get("/")).await.expect("a response");
                read(response).await
            };
            let (head, body) = tokio::time::timeout(Duration::from_secs(1), asked)
                .await
                .expect("a normal client is served within a second");
            assert_eq!((head.status.as_u16(), body.as_ref()), (200, &b"hello"[..]));
            answered += 1;
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(Duration::from_millis(20)) => {}
            }
        }
        answered
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_http2_streams_whose_window_stays_shut_are_reset_and_their_files_closed() {
    let fixture = fixture();
    let file = fixture.path("public/big.bin");
    let server = Running::start(app(&fixture, Duration::from_secs(5))).await;
    let (stop, stopped) = watch::channel(false);
    let others = keep_asking(server.addr, stopped);

    // A client that lets the server send nothing: every stream's window is zero.
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (mut conn, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .initial_stream_window_size(0)
        .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
        .await
        .expect("an HTTP/2 handshake");
    tokio::spawn(connection);
    let url = format!("http://{}/file", server.addr);
    let mut responses = Vec::new();
    for _ in 0..256 {
        conn.ready()
            .await
            .expect("the connection takes another stream");
        responses.push(tokio::spawn(conn.send_request(get(&url))));
    }
    let most = held_then_let_go(&file, "the stalled streams to let their files go").await;
    assert_eq!(most, 256, "every stream held its file until its deadline");
    for response in responses {
        let response = within("a head", response)
            .await
            .expect("no panic")
            .expect("a head: headers need no window");
        let body = within("the reset", response.into_body().collect()).await;
        assert!(
            body.is_err(),
            "a reset stream is an error, not a short body"
        );
    }
    // The connection itself was not closed: it answers another request (its head;
    // its body would need a window).
    let response = within(
        "a request on the same connection",
        conn.send_request(get(&format!("http://{}/", server.addr))),
    )
    .await
    .expect("the connection survived its streams' resets");
    assert_eq!(response.status(), 200);

    stop.send(true).expect("the other clients listen");
    let answered = within("the other clients", others).await.expect("no panic");
    assert!(answered > 0, "other clients were served meanwhile");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_http1_a_stalled_download_lets_go_of_its_file_and_connection() {
    let fixture = fixture();
    let file = fixture.path("public/big.bin");
    let server = Running::start(app(&fixture, Duration::from_secs(1))).await;
    let (stop, stopped) = watch::channel(false);
    let others = keep_asking(server.addr, stopped);

    let mut stalled_clients = Vec::new();
    for _ in 0..16 {
        stalled_clients.push(stalled(server.addr, "GET /file HTTP/1.1\r\nhost: x\r\n\r\n").await);
    }
    let most = held_then_let_go(&file, "the stalled downloads to let their files go").await;
    assert!(most > 0, "the downloads held their file while they lasted");
    for mut client in stalled_clients {
        assert!(
            drain(&mut client).await < BIG,
            "each download was cut short"
        );
    }
    stop.send(true).expect("the other clients listen");
    let answered = within("the other clients", others).await.expect("no panic");
    assert!(answered > 0, "other clients were served meanwhile");
    server.shutdown().await.expect("clean shutdown");
}
