//! Streamed responses over real sockets: flushing, chunked encoding, errors, vanished and
//! stalled clients, timeouts, blocking iterators, writers and server-sent events.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bocata::testing::TestClient;
use bocata::{App, Event, Request, Res, Result};
use bocata_tests::{LogCapture, Running, get, read, within};
use bytes::Bytes;
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};

/// Sends on a channel when dropped: proof that a stream was let go.
struct DropGuard(Option<oneshot::Sender<()>>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            tx.send(()).ok();
        }
    }
}

/// A shared place for a view to leave a one-shot sender for its next stream's guard.
#[derive(Clone, Default)]
struct Dropped(Arc<std::sync::Mutex<Option<oneshot::Sender<()>>>>);

impl Dropped {
    fn expect(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        *self.0.lock().expect("not poisoned") = Some(tx);
        rx
    }

    fn guard(&self) -> DropGuard {
        DropGuard(self.0.lock().expect("not poisoned").take())
    }
}

/// Streams chunk one, then waits for `next` before chunk two.
struct TwoChunks {
    next: Arc<Notify>,
}

#[bocata::view]
impl TwoChunks {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let next = Arc::clone(&self.next);
        res.content_type("text/plain").streaming(bocata::stream! {
            yield "first\n";
            next.notified().await;
            yield "second\n";
        });
        Ok(())
    }
}

/// A stream that yields once, then stays idle (or produces endlessly) until dropped.
struct Held {
    dropped: Dropped,
    endless: bool,
}

#[bocata::view]
impl Held {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let guard = self.dropped.guard();
        let endless = self.endless;
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        if let Some(ms) = req.query("chunk_timeout_ms").and_then(|v| v.parse().ok()) {
            res.chunk_timeout(Duration::from_millis(ms));
        }
        if let Some(ms) = req
            .query("complete_timeout_ms")
            .and_then(|v| v.parse().ok())
        {
            res.complete_timeout(Duration::from_millis(ms));
        }
        res.streaming(bocata::stream! {
            let _guard = guard;
            yield chunk.clone();
            loop {
                if endless {
                    yield chunk.clone();
                } else {
                    std::future::pending::<()>().await;
                }
            }
        });
        Ok(())
    }
}

/// A stream whose producer fails after its first chunk is out; its type names the
/// error, which `?` needs.
fn rows(next: Arc<Notify>) -> impl futures_util::Stream<Item = std::io::Result<&'static str>> {
    bocata::try_stream! {
        yield "partial data\n";
        next.notified().await;
        Err(std::io::Error::other("the database went away"))?;
        yield "never sent\n";
    }
}

/// Fails midway, once told to.
struct Failing {
    next: Arc<Notify>,
}

#[bocata::view]
impl Failing {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.streaming(rows(Arc::clone(&self.next)));
        Ok(())
    }
}

async fn csv(_req: &Request, res: &mut Res) -> Result {
    let rows = (1..=1000).map(|n| format!("{n},{}\n", n * n));
    res.content_type("text/csv").streaming_blocking(rows);
    Ok(())
}

fn csv_expected() -> String {
    (1..=1000).map(|n| format!("{n},{}\n", n * n)).collect()
}

fn app(next: &Arc<Notify>, dropped: &Dropped) -> App {
    App::new()
        .route(
            "/two",
            TwoChunks {
                next: Arc::clone(next),
            },
        )
        .route(
            "/idle",
            Held {
                dropped: dropped.clone(),
                endless: false,
            },
        )
        .route(
            "/endless",
            Held {
                dropped: dropped.clone(),
                endless: true,
            },
        )
        .route(
            "/failing",
            Failing {
                next: Arc::clone(next),
            },
        )
        .route("/csv", bocata::get(csv))
}

async fn server() -> (Running, Arc<Notify>, Dropped) {
    let next = Arc::new(Notify::new());
    let dropped = Dropped::default();
    let server = Running::start(app(&next, &dropped)).await;
    (server, next, dropped)
}

#[tokio::test]
async fn each_chunk_goes_out_as_soon_as_it_is_produced() {
    let (server, next, _) = server().await;
    for http2 in [false, true] {
        let response = if http2 {
            let mut conn = server.http2().await;
            let request = get(&format!("http://{}/two", server.addr));
            within("the head", conn.send_request(request)).await
        } else {
            let mut conn = server.http1().await;
            within("the head", conn.send_request(get("/two"))).await
        }
        .expect("a response");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/plain");
        assert!(response.headers().get("content-length").is_none());
        let mut body = response.into_body();
        // The second chunk is not produced until the first has arrived.
        let first = within("the first chunk", body.frame())
            .await
            .expect("a frame")
            .expect("no error");
        assert_eq!(first.data_ref().map(|d| d.as_ref()), Some(&b"first\n"[..]));
        next.notify_one();
        let rest = within("the rest", body.collect())
            .await
            .expect("a complete body");
        assert_eq!(rest.to_bytes(), "second\n", "http2: {http2}");
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn http1_uses_chunked_transfer_encoding() {
    let (server, _, _) = server().await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(b"GET /csv HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut raw = Vec::new();
    within("the whole response", stream.read_to_end(&mut raw))
        .await
        .expect("read");
    let raw = String::from_utf8(raw).expect("ASCII");
    let (head, mut body) = raw.split_once("\r\n\r\n").expect("a head");
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    assert!(
        !head.to_ascii_lowercase().contains("content-length"),
        "{head}"
    );
    let mut decoded = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size, 16).expect("a hex size");
        if size == 0 {
            assert_eq!(rest, "\r\n", "the terminating chunk ends the body");
            break;
        }
        decoded.push_str(&rest[..size]);
        body = rest[size..]
            .strip_prefix("\r\n")
            .expect("CRLF after a chunk");
    }
    assert_eq!(decoded, csv_expected());
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_failing_stream_gives_an_incomplete_response() {
    let (server, next, _) = server().await;
    let mut conn = server.http1().await;
    let response = within("the head", conn.send_request(get("/failing")))
        .await
        .expect("a response head");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body();
    let first = within("the first chunk", body.frame())
        .await
        .expect("a frame")
        .expect("no error yet");
    assert_eq!(
        first.data_ref().map(|d| d.as_ref()),
        Some(&b"partial data\n"[..])
    );
    next.notify_one();
    let outcome = within("the rest", body.collect()).await;
    assert!(
        outcome.is_err(),
        "the client can tell the body is incomplete"
    );

    // HTTP/2: the stream is reset, and the connection serves on.
    let mut h2 = server.http2().await;
    let uri = format!("http://{}/failing", server.addr);
    let response = within("the head", h2.send_request(get(&uri)))
        .await
        .expect("a response head");
    let mut body = response.into_body();
    within("the first chunk", body.frame())
        .await
        .expect("a frame")
        .expect("no error yet");
    next.notify_one();
    let outcome = within("the rest", body.collect()).await;
    let error = outcome.expect_err("a reset stream");
    assert!(
        format!("{error:?}").contains("Reset") || format!("{error:?}").contains("INTERNAL_ERROR"),
        "{error:?}"
    );
    let response = within(
        "another request",
        h2.send_request(get(&format!("http://{}/csv", server.addr))),
    )
    .await
    .expect("the connection still serves");
    assert_eq!(read(response).await.1, csv_expected());

    // On the wire: the data so far, then the connection closes without the final chunk.
    let mut stream = start_reading(&server, "/failing").await;
    next.notify_one();
    let mut rest = Vec::new();
    within("the connection to close", stream.read_to_end(&mut rest))
        .await
        .ok();
    let rest = String::from_utf8_lossy(&rest);
    assert!(!rest.contains("never sent"), "{rest}");
    assert!(
        !rest.ends_with("0\r\n\r\n"),
        "no terminating chunk: {rest:?}"
    );
    server.shutdown().await.expect("clean shutdown");
}

/// Opens a raw connection, asks for `path`, and reads the head and a little body.
async fn start_reading(server: &Running, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buffer = vec![0; 1024];
    let n = within("the head", stream.read(&mut buffer))
        .await
        .expect("read");
    assert!(
        buffer[..n].starts_with(b"HTTP/1.1 200"),
        "{:?}",
        &buffer[..n]
    );
    stream
}

#[tokio::test]
async fn a_vanished_client_makes_the_stream_drop_promptly() {
    let (server, _, dropped) = server().await;
    for path in ["/idle", "/endless"] {
        let was_dropped = dropped.expect();
        let stream = start_reading(&server, path).await;
        let closed_at = std::time::Instant::now();
        drop(stream);
        within("the stream to be dropped", was_dropped)
            .await
            .expect("the guard fired");
        let elapsed = closed_at.elapsed();
        assert!(
            elapsed < Duration::from_secs(5),
            "{path}: dropped {elapsed:?} after the client left"
        );
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn chunk_timeout_cuts_off_a_client_that_stops_reading() {
    let log = LogCapture::start();
    let (server, _, dropped) = server().await;
    let was_dropped = dropped.expect();
    // Reads the head and then nothing more: the socket's buffers fill up.
    let mut stream = start_reading(&server, "/endless?chunk_timeout_ms=200").await;
    within("the stalled stream to be dropped", was_dropped)
        .await
        .expect("the guard fired");
    // The connection was closed: draining it ends, short of an endless body.
    let mut sink = vec![0; 1 << 20];
    within("the connection to end", async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        log.text().contains(
            "closing the connection: the client took longer than the chunk timeout (200ms) to accept a chunk"
        ),
        "{}",
        log.text()
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn complete_timeout_ends_a_stream_that_never_ends() {
    let (server, _, dropped) = server().await;
    let was_dropped = dropped.expect();
    let mut conn = server.http1().await;
    let response = within(
        "the head",
        conn.send_request(get("/idle?complete_timeout_ms=300")),
    )
    .await
    .expect("a response");
    let outcome = within("the body to be cut off", response.into_body().collect()).await;
    assert!(outcome.is_err(), "an incomplete body");
    within("the stream to be dropped", was_dropped)
        .await
        .expect("the guard fired");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn on_http2_a_complete_timeout_ends_only_its_own_stream() {
    let (server, next, dropped) = server().await;
    let was_dropped = dropped.expect();
    let mut conn = server.http2().await;
    let url = |path: &str| format!("http://{}{path}", server.addr);
    let other = within("the other head", conn.send_request(get(&url("/two"))))
        .await
        .expect("a response");
    let mut other = other.into_body();
    let first = within("the other's first chunk", other.frame())
        .await
        .expect("a frame")
        .expect("data");
    assert_eq!(first.into_data().expect("data"), "first\n");
    let limited = within(
        "the head",
        conn.send_request(get(&url("/idle?complete_timeout_ms=300"))),
    )
    .await
    .expect("a response");
    let outcome = within("the body to be cut off", limited.into_body().collect()).await;
    assert!(outcome.is_err(), "an incomplete body");
    within("the stream to be dropped", was_dropped)
        .await
        .expect("the guard fired");
    // The other stream on the connection is untouched, and finishes whole.
    next.notify_one();
    let rest = within("the other's rest", other.collect())
        .await
        .expect("a whole body")
        .to_bytes();
    assert_eq!(rest, "second\n");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn app_wide_timeouts_apply_unless_a_response_sets_its_own() {
    let next = Arc::new(Notify::new());
    let dropped = Dropped::default();
    let server =
        Running::start(app(&next, &dropped).complete_timeout(Duration::from_millis(200))).await;
    let was_dropped = dropped.expect();
    let mut conn = server.http1().await;
    let response = within("the head", conn.send_request(get("/idle")))
        .await
        .expect("a response");
    let outcome = within("the app's limit", response.into_body().collect()).await;
    assert!(outcome.is_err());
    within("the stream to be dropped", was_dropped)
        .await
        .expect("the guard fired");

    let mut conn = server.http1().await;
    let response = within("the head", conn.send_request(get("/two")))
        .await
        .expect("a response");
    next.notify_one();
    let (_, body) = read(response).await;
    assert_eq!(
        body, "first\nsecond\n",
        "a stream that ends in time is untouched"
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_blocking_iterator_streams_in_order() {
    let (server, _, _) = server().await;
    let mut conn = server.http1().await;
    let response = within("the head", conn.send_request(get("/csv")))
        .await
        .expect("a response");
    assert_eq!(response.headers()["content-type"], "text/csv");
    let (_, body) = read(response).await;
    assert_eq!(body, csv_expected());
    server.shutdown().await.expect("clean shutdown");
}

/// Counts the bytes a stream has produced, for the backpressure test.
struct Counted {
    produced: Arc<AtomicU64>,
}

#[bocata::view]
impl Counted {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let produced = Arc::clone(&self.produced);
        let chunk = Bytes::from(vec![b'y'; 64 * 1024]);
        res.streaming(bocata::stream! {
            loop {
                produced.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                yield chunk.clone();
            }
        });
        Ok(())
    }
}

#[tokio::test]
async fn a_slow_reader_slows_the_producer() {
    let produced = Arc::new(AtomicU64::new(0));
    let server = Running::start(App::new().route(
        "/counted",
        Counted {
            produced: Arc::clone(&produced),
        },
    ))
    .await;
    let mut conn = server.http1().await;
    let response = within("the head", conn.send_request(get("/counted")))
        .await
        .expect("a response");
    let mut body = response.into_body();
    let mut consumed = 0u64;
    // However long the reader dawdles, the producer stays within the buffers' reach.
    const BOUND: u64 = 16 * 1024 * 1024;
    for _ in 0..5 {
        let frame = within("a frame", body.frame())
            .await
            .expect("a frame")
            .expect("no error");
        consumed += frame.data_ref().map_or(0, |d| d.len() as u64);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let ahead = produced.load(Ordering::SeqCst) - consumed;
        assert!(ahead <= BOUND, "the producer ran {ahead} bytes ahead");
    }
    drop(body);
    server.shutdown().await.expect("clean shutdown");
}

/// Pushes through a writer until the client goes away, then reports it.
struct Pusher {
    gone: Arc<Notify>,
}

#[bocata::view]
impl Pusher {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let writer = res.stream_writer();
        let gone = Arc::clone(&self.gone);
        tokio::spawn(async move {
            let mut n = 0u64;
            while writer.send(format!("line {n}\n")).await.is_ok() {
                n += 1;
            }
            assert!(writer.is_closed());
            gone.notify_one();
        });
        Ok(())
    }
}

#[tokio::test]
async fn a_writer_learns_that_the_client_left() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(App::new().route(
        "/push",
        Pusher {
            gone: Arc::clone(&gone),
        },
    ))
    .await;
    let stream = start_reading(&server, "/push").await;
    drop(stream);
    within("the writer to notice", gone.notified()).await;
    server.shutdown().await.expect("clean shutdown");
}

/// Records whether its stream was ever polled.
struct Watched {
    polled: Arc<AtomicBool>,
}

#[bocata::view]
impl Watched {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let polled = Arc::clone(&self.polled);
        res.streaming(bocata::stream! {
            polled.store(true, Ordering::SeqCst);
            yield "body";
        });
        Ok(())
    }
}

#[tokio::test]
async fn head_sends_headers_and_never_polls_the_stream() {
    let polled = Arc::new(AtomicBool::new(false));
    let client = TestClient::new(App::new().route(
        "/watched",
        Watched {
            polled: Arc::clone(&polled),
        },
    ));
    let res = client.head("/watched").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-type"), Some("application/octet-stream"));
    assert!(res.bytes().is_empty());
    assert!(!polled.load(Ordering::SeqCst));
    assert_eq!(client.get("/watched").send().await.text(), "body");
    assert!(polled.load(Ordering::SeqCst));
}

#[tokio::test]
async fn a_layer_that_only_touches_headers_keeps_the_stream_flowing() {
    use tower::ServiceExt;

    let next = Arc::new(Notify::new());
    let app = app(&next, &Dropped::default());
    let layered = tower::util::MapResponseLayer::new(|mut response: http::Response<_>| {
        response
            .headers_mut()
            .insert("x-layer", http::HeaderValue::from_static("yes"));
        response
    });
    let service = tower::Layer::layer(&layered, app);
    let request = http::Request::get("/two")
        .body(http_body_util::Empty::<Bytes>::new())
        .expect("a request");
    let response = service.oneshot(request).await.expect("infallible");
    assert_eq!(response.headers()["x-layer"], "yes");
    let mut body = response.into_body();
    let first = within("the first chunk", body.frame())
        .await
        .expect("a frame")
        .expect("no error");
    assert_eq!(first.data_ref().map(|d| d.as_ref()), Some(&b"first\n"[..]));
    next.notify_one();
    let rest = within("the rest", body.collect()).await.expect("the rest");
    assert_eq!(rest.to_bytes(), "second\n");
}

/// Sends a few events, resuming after `Last-Event-ID`, with keep-alive comments.
async fn events(req: &Request, res: &mut Res) -> Result {
    let after: u32 = req
        .last_event_id()
        .and_then(|id| id.parse().ok())
        .unwrap_or(0);
    res.sse(bocata::stream! {
        yield Event::new().comment("welcome");
        for id in after + 1..=after + 2 {
            yield Event::new()
                .event("tick")
                .id(id.to_string())
                .data(format!("line one of {id}\nline two of {id}"));
        }
        yield Event::new().event("evil\ndata: injected").id("9\r\nretry: 1").data("x");
        std::future::pending::<()>().await;
    })
    .sse_keep_alive(Duration::from_millis(50));
    Ok(())
}

#[tokio::test]
async fn server_sent_events_on_the_wire() {
    let server = Running::start(App::new().route("/events", bocata::get(events))).await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    stream
        .write_all(b"GET /events HTTP/1.1\r\nhost: x\r\nlast-event-id: 41\r\n\r\n")
        .await
        .expect("write");
    let expected = concat!(
        ": welcome\n\n",
        "event: tick\nid: 42\ndata: line one of 42\ndata: line two of 42\n\n",
        "event: tick\nid: 43\ndata: line one of 43\ndata: line two of 43\n\n",
        "event: evildata: injected\nid: 9retry: 1\ndata: x\n\n",
        ":\n\n",
    );
    let mut raw = Vec::new();
    let mut buffer = vec![0; 4096];
    let text = within("the events and a keep-alive comment", async {
        loop {
            let n = stream.read(&mut buffer).await.expect("read");
            assert!(n > 0, "the stream ended early");
            raw.extend_from_slice(&buffer[..n]);
            let text = String::from_utf8_lossy(&raw).into_owned();
            if dechunk(&text).contains(expected) {
                break text;
            }
        }
    })
    .await;
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    assert!(head.contains("cache-control: no-cache"), "{head}");
    assert!(head.contains("x-accel-buffering: no"), "{head}");
    assert!(dechunk(&text).starts_with(expected), "{text}");
    drop(stream);
    server.shutdown().await.expect("clean shutdown");
}

/// The data of a chunked HTTP/1.1 response, as far as it has arrived.
fn dechunk(raw: &str) -> String {
    let Some((_, mut body)) = raw.split_once("\r\n\r\n") else {
        return String::new();
    };
    let mut data = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size, 16) else {
            break;
        };
        if size == 0 || rest.len() < size + 2 {
            break;
        }
        data.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    data
}

/// A blocking iterator that records whether it ever ran.
struct LazyRows {
    started: Arc<AtomicBool>,
}

#[bocata::view]
impl LazyRows {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let started = Arc::clone(&self.started);
        res.streaming_blocking((0..3).map(move |n| {
            started.store(true, Ordering::SeqCst);
            format!("row {n}\n")
        }));
        Ok(())
    }
}

#[tokio::test]
async fn a_blocking_iterator_starts_only_when_the_body_is_read() {
    let started = Arc::new(AtomicBool::new(false));
    let client = TestClient::new(App::new().route(
        "/rows",
        LazyRows {
            started: Arc::clone(&started),
        },
    ));
    let res = client.head("/rows").send().await;
    assert_eq!(res.status(), 200);
    assert!(
        !started.load(Ordering::SeqCst),
        "HEAD never runs the iterator"
    );
    let mut res = client.get("/rows").send_streamed().await;
    assert_eq!(
        res.chunk().await.expect("a chunk").expect("no error"),
        "row 0\n"
    );
    assert!(started.load(Ordering::SeqCst));
}

/// A stream of `len` bytes that declares `declared` in `Content-Length`.
fn declared_stream(
    len: usize,
    declared: usize,
) -> impl Fn(&Request, &mut Res) -> std::future::Ready<Result> + Clone {
    move |_req: &Request, res: &mut Res| {
        res.header("content-length", declared.to_string())
            .streaming(futures_util::stream::iter([Bytes::from(vec![b's'; len])]));
        std::future::ready(Ok(()))
    }
}

#[tokio::test]
async fn a_content_length_a_view_sets_on_a_stream_is_kept_and_held_to() {
    let app = App::new()
        .route("/kept", bocata::get(declared_stream(10, 10)))
        .route("/short", bocata::get(declared_stream(5, 10)));
    let server = Running::start(app).await;

    let kept = bocata_tests::raw_exchange(
        server.addr,
        b"GET /kept HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(kept.contains("content-length: 10\r\n"), "{kept}");
    assert!(!kept.contains("transfer-encoding"), "{kept}");
    assert!(kept.ends_with("\r\n\r\nssssssssss"), "{kept}");

    let head = bocata_tests::raw_exchange(
        server.addr,
        b"HEAD /kept HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(head.contains("content-length: 10\r\n"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "no body: {head}");

    // A stream that breaks its promise is cut: the client sees an error (hyper may close
    // the connection before the head is out), never a short body that ends cleanly.
    let mut conn = server.http1().await;
    let outcome = within("the answer", async {
        let response = conn.send_request(get("/short")).await?;
        response.into_body().collect().await.map(|_| ())
    })
    .await;
    assert!(
        outcome.is_err(),
        "a short body is an error, not a clean end"
    );
    server.shutdown().await.expect("clean shutdown");
}
