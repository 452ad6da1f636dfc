//! Hostile and broken clients over real sockets: slowloris, silent and idle
//! connections, oversized and malformed heads, slow bodies, and a connection limit.

use std::time::Duration;

use bocata::{App, Request, Res, Result, Server};
use bocata_tests::{Running, get, raw_exchange, read, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn hello(_req: &Request, res: &mut Res) -> Result {
    res.text("hello");
    Ok(())
}

async fn echo(req: &Request, res: &mut Res) -> Result {
    let body = req.bytes().await?;
    res.content(body);
    Ok(())
}

/// A view whose uploads may be larger than the app's limit.
struct BigUploads;

#[bocata::view]
impl BigUploads {
    fn body_limit(&self) -> Option<usize> {
        Some(64 * 1024)
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let body = req.bytes().await?;
        res.text(body.len().to_string());
        Ok(())
    }
}

fn app() -> App {
    App::new()
        .route("/", bocata::get(hello))
        .route("/echo", bocata::post(echo))
        .route("/big", BigUploads)
        .body_limit(1024)
        .body_timeout(Duration::from_millis(300))
}

fn strict() -> Server {
    Server::new(app())
        .header_read_timeout(Duration::from_millis(500))
        .keep_alive_timeout(Duration::from_millis(500))
}

/// Reads until the server closes the connection; whatever it sent on the way.
async fn until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buffer = [0; 4096];
    within("the server to close the connection", async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_is_cut_off_while_others_are_served() {
    let server = Running::start_with(strict()).await;
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    let addr = server.addr;
    // One byte of head at a time: the head is never complete in time.
    let dribble = tokio::spawn(async move {
        let head =
            b"GET / HTTP/1.1\r\nhost: x\r\nx-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
        for byte in head {
            if slow.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        slow
    });
    let mut good = tokio::task::JoinSet::new();
    for _ in 0..50 {
        good.spawn(async move {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .expect("handshake");
            tokio::spawn(connection);
            let response = sender.send_request(get("/")).await.expect("a response");
            read(response).await.1
        });
    }
    while let Some(body) = within("the good clients", good.join_next()).await {
        assert_eq!(body.expect("no panic"), "hello");
    }
    let mut slow = within("the dribble to end", dribble)
        .await
        .expect("no panic");
    let seen = until_closed(&mut slow).await;
    assert!(
        !seen.contains("hello"),
        "the slow client got no response: {seen}"
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_silent_connection_is_closed() {
    let server = Running::start_with(strict()).await;
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let seen = until_closed(&mut silent).await;
    assert!(seen.is_empty() || seen.contains("408"), "{seen}");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = Running::start_with(strict()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .expect("write");
    let seen = until_closed(&mut stream).await;
    assert!(seen.starts_with("HTTP/1.1 200 OK"), "served first: {seen}");
    assert!(seen.ends_with("hello"), "then closed while idle: {seen}");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn oversized_too_many_and_malformed_heads() {
    let server = Running::start_with(strict().max_headers(20).max_header_size(8192)).await;
    let big = format!(
        "GET / HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n",
        "a".repeat(10_000)
    );
    let many: String = (0..30).map(|i| format!("x-h{i}: v\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\nhost: x\r\n{many}\r\n");
    let cases = [
        (big.as_bytes(), "HTTP/1.1 431"),
        (many.as_bytes(), "HTTP/1.1 431"),
        (&b"NOT A REQUEST\r\n\r\n"[..], "HTTP/1.1 400"),
        (
            &b"GET / HTTP/1.1\r\nbad header line\r\n\r\n"[..],
            "HTTP/1.1 400",
        ),
        (&b"GET / HTTP/9.9\r\nhost: x\r\n\r\n"[..], "HTTP/1.1 400"),
    ];
    for (request, expected) in cases {
        let answer = raw_exchange(server.addr, request).await;
        assert!(answer.starts_with(expected), "{expected}: {answer}");
    }
    let answer = raw_exchange(server.addr, b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "still serving: {answer}"
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_body_that_trickles_is_a_408_and_views_set_their_own_limits() {
    let server = Running::start(app()).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\nonly ten..")
        .await
        .expect("write");
    let seen = until_closed(&mut stream).await;
    assert!(seen.starts_with("HTTP/1.1 408 Request Timeout"), "{seen}");

    let two_kib = "x".repeat(2048);
    let request = format!(
        "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 2048\r\nconnection: close\r\n\r\n{two_kib}"
    );
    let answer = raw_exchange(server.addr, request.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "the app's limit: {answer}"
    );
    let request = format!(
        "POST /big HTTP/1.1\r\nhost: x\r\ncontent-length: 2048\r\nconnection: close\r\n\r\n{two_kib}"
    );
    let answer = raw_exchange(server.addr, request.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "the view's own limit: {answer}"
    );
    assert!(answer.ends_with("2048"), "{answer}");
    server.shutdown().await.expect("clean shutdown");
}

/// Streams a chunk, then panics.
async fn panicking_stream(_req: &Request, res: &mut Res) -> Result {
    res.streaming(bocata::stream! {
        yield "partial\n";
        let empty: Vec<&str> = Vec::new();
        yield empty[0];
    });
    Ok(())
}

#[tokio::test]
async fn a_panicking_stream_aborts_only_its_own_response() {
    let log = bocata_tests::LogCapture::start();
    let server = Running::start(app().route("/panicking", bocata::get(panicking_stream))).await;
    let mut conn = server.http1().await;
    // The panic comes before the first chunk is flushed, so the head itself may be cut
    // off; either way the client can tell the response is incomplete.
    let complete = match within("the head", conn.send_request(get("/panicking"))).await {
        Ok(response) => within(
            "the body",
            http_body_util::BodyExt::collect(response.into_body()),
        )
        .await
        .is_ok(),
        Err(_) => false,
    };
    assert!(!complete, "an incomplete response");
    let mut other = server.http1().await;
    let response = within("another", other.send_request(get("/")))
        .await
        .expect("a response");
    assert_eq!(read(response).await.1, "hello");
    within("the panic to be logged", async {
        while !log.text().contains("the stream panicked") {
            tokio::task::yield_now().await;
        }
    })
    .await;
    server.shutdown().await.expect("clean shutdown");
}

/// The process's open file descriptors.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

/// Streams endlessly.
async fn endless(_req: &Request, res: &mut Res) -> Result {
    res.streaming(bocata::stream! {
        loop {
            yield vec![b'z'; 64 * 1024];
        }
    });
    Ok(())
}

/// Sends a large file.
struct BigFile(std::path::PathBuf);

#[bocata::view]
impl BigFile {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.file(&self.0);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_abort_leave_no_task_or_file_behind() {
    let fixture = bocata_tests::Fixture::new("aborts");
    let big = fixture.path("big.bin");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len(64 * 1024 * 1024))
        .expect("a sparse file");
    let server = Running::start(
        app()
            .route("/endless", bocata::get(endless))
            .route("/file", BigFile(big)),
    )
    .await;
    let runtime = tokio::runtime::Handle::current();
    let mut warm = server.http1().await;
    let response = within("warm up", warm.send_request(get("/")))
        .await
        .expect("a response");
    read(response).await;
    drop(warm);
    let settle = |what: &'static str, fds: usize, tasks: usize| {
        let runtime = runtime.clone();
        async move {
            within(what, async {
                while open_fds() > fds || runtime.metrics().num_alive_tasks() > tasks {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await;
        }
    };
    settle("the warm-up to settle", usize::MAX, usize::MAX).await;
    let (fds, tasks) = (open_fds(), runtime.metrics().num_alive_tasks());

    for round in 0..20 {
        // Mid-upload: a head announcing a megabyte, a few bytes, gone.
        let mut upload = TcpStream::connect(server.addr).await.expect("connect");
        upload
            .write_all(b"POST /big HTTP/1.1\r\nhost: x\r\ncontent-length: 60000\r\n\r\nsome")
            .await
            .expect("write");
        // Mid-download and mid-stream: the head and a little body, gone.
        for path in ["/file", "/endless"] {
            let mut stream = TcpStream::connect(server.addr).await.expect("connect");
            stream
                .write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
                .await
                .expect("write");
            let mut buffer = vec![0; 4096];
            let n = within("the head", stream.read(&mut buffer))
                .await
                .expect("read");
            assert!(n > 0, "round {round}: {path} answered");
        }
        drop(upload);
    }
    settle("everything to be let go", fds, tasks).await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_requests_over_64_connections_among_garbage() {
    let server = Running::start(app()).await;
    let addr = server.addr;
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..64 {
        clients.spawn(async move {
            let mut conn = bocata_tests::connect_http1(addr).await;
            let mut ok = 0;
            for _ in 0..1563 {
                // Each request has the usual patience, so a slow machine only makes
                // the test take longer, while a hang still fails it.
                let (head, body) = within("a request", async {
                    conn.ready().await.expect("the connection stays usable");
                    let response = conn.send_request(get("/")).await.expect("a response");
                    read(response).await
                })
                .await;
                assert_eq!((head.status.as_u16(), body.as_ref()), (200, &b"hello"[..]));
                ok += 1;
            }
            ok
        });
    }
    // Meanwhile, clients sending garbage.
    let garbage = tokio::spawn(async move {
        for i in 0..200_u32 {
            let junk: Vec<u8> = (0..64).map(|j| ((i * 31 + j * 7) % 256) as u8).collect();
            raw_exchange(addr, &junk).await;
        }
    });
    let mut total = 0;
    while let Some(ok) = clients.join_next().await {
        total += ok.expect("no client failed");
    }
    within("the garbage", garbage).await.expect("no panic");
    assert_eq!(total, 64 * 1563);
    assert!(total >= 100_000);
    server.shutdown().await.expect("clean shutdown");
}

/// A request head of exactly `size` bytes, padded with one header.
fn head_of(size: usize) -> String {
    let bare = "GET / HTTP/1.1\r\nhost: x\r\nx-pad: \r\n\r\n".len();
    format!(
        "GET / HTTP/1.1\r\nhost: x\r\nx-pad: {}\r\n\r\n",
        "p".repeat(size - bare)
    )
}

#[tokio::test]
async fn max_header_size_is_the_size_of_the_head_as_sent() {
    const LIMIT: usize = 32 * 1024;
    let server = Running::start_with(strict().max_header_size(LIMIT)).await;
    let cases = [
        (LIMIT - 1, "HTTP/1.1 200"),
        (LIMIT, "HTTP/1.1 200"),
        (LIMIT + 1, "HTTP/1.1 431"),
        (49_062, "HTTP/1.1 431"),
    ];
    for (size, expected) in cases {
        let head = head_of(size);
        assert_eq!(head.len(), size);
        let answer = raw_exchange(server.addr, head.as_bytes()).await;
        assert!(answer.starts_with(expected), "{size} bytes: {answer}");
    }
    server.shutdown().await.expect("clean shutdown");
}
