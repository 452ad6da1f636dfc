//! Chapter "Streaming and server-sent events": streamed bodies, generators, flushing,
//! errors, vanished clients, writers, blocking iterators, time limits and server-sent
//! events, checked on real sockets where the wire matters.

// ANCHOR: imports
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bocata::{App, Error, Event, Request, Res, Result};
use futures_util::Stream;
use tokio::io::{AsyncBufRead, BufReader};
use tokio::net::TcpStream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};
// ANCHOR_END: imports

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bocata::testing::TestClient;
use bocata_tests::{LogCapture, Running, get, read, within};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

// ANCHOR: count
/// `GET /count`: ten lines, then a last one, each sent as soon as it is yielded.
async fn count(_req: &Request, res: &mut Res) -> Result {
    res.content_type("text/plain; charset=utf-8")
        .streaming(bocata::stream! {
            for i in 0..10 {
                yield format!("count: {i}\n");
            }
            yield "Completed!\n".to_owned();
        });
    Ok(())
}
// ANCHOR_END: count

// ANCHOR: pieces
/// `GET /pieces`: any `Stream` of bytes-like items will do, not only generators.
async fn pieces(_req: &Request, res: &mut Res) -> Result {
    res.streaming(futures_util::stream::iter(["one ", "two ", "three"]));
    Ok(())
}
// ANCHOR_END: pieces

// ANCHOR: viewers
/// How many clients are watching; other parts of the app can wait on the count.
#[derive(Clone, Default)]
struct Viewers(Arc<watch::Sender<usize>>);

/// One client, counted for as long as this guard lives.
struct Viewer(Viewers);

impl Viewers {
    /// Counts one more viewer, until the guard is dropped.
    fn join(&self) -> Viewer {
        self.0.send_modify(|n| *n += 1);
        Viewer(self.clone())
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        (self.0).0.send_modify(|n| *n -= 1);
    }
}
// ANCHOR_END: viewers

// ANCHOR: feed
/// `GET /feed`: every line published on `lines`, sent the moment it is published.
struct Feed {
    lines: broadcast::Sender<String>,
    viewers: Viewers,
}

#[bocata::view]
impl Feed {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let mut lines = self.lines.subscribe();
        let viewer = self.viewers.join();
        res.content_type("text/plain; charset=utf-8")
            .streaming(bocata::stream! {
                // Dropped with the stream, however it ends: finished, failed, or
                // abandoned by a client that went away.
                let _viewer = viewer;
                loop {
                    match lines.recv().await {
                        Ok(line) => yield line,
                        Err(RecvError::Lagged(n)) => yield format!("({n} lines skipped)\n"),
                        Err(RecvError::Closed) => break,
                    }
                }
            });
        Ok(())
    }
}
// ANCHOR_END: feed

// ANCHOR: numbered
/// The lines `reader` produces, numbered. The return type names the error type
/// (`io::Error`), which `?` inside `try_stream!` needs to know.
fn numbered<R>(reader: R) -> impl Stream<Item = io::Result<String>>
where
    R: AsyncBufRead + Unpin + Send + 'static,
{
    bocata::try_stream! {
        let mut lines = reader.lines();
        let mut n = 0;
        while let Some(line) = lines.next_line().await? {
            n += 1;
            yield format!("{n}: {line}\n");
        }
    }
}

/// `GET /relay`: the lines of a line-based upstream service, numbered as they arrive.
struct Relay {
    upstream: SocketAddr,
}

#[bocata::view]
impl Relay {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        // Before the response has started, a failure is an ordinary error response.
        let upstream = TcpStream::connect(self.upstream)
            .await
            .map_err(|e| Error::new(502, format!("the upstream is unreachable: {e}")))?;
        // After, an `Err` from the stream ends the response abnormally.
        res.content_type("text/plain; charset=utf-8")
            .streaming(numbered(BufReader::new(upstream)));
        Ok(())
    }
}
// ANCHOR_END: numbered

// ANCHOR: writer
/// `GET /alerts`: alerts pushed by a task through a `StreamWriter`.
struct Alerts {
    alerts: broadcast::Sender<String>,
    viewers: Viewers,
}

#[bocata::view]
impl Alerts {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let writer = res
            .content_type("text/plain; charset=utf-8")
            .stream_writer();
        let mut alerts = self.alerts.subscribe();
        let viewer = self.viewers.join();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    // Resolves as soon as the client is gone, even if no alert comes.
                    () = writer.closed() => break,
                    alert = alerts.recv() => match alert {
                        Ok(alert) => {
                            if writer.send(alert).await.is_err() {
                                break; // the client left: `Disconnected`
                            }
                        }
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => break,
                    },
                }
            }
            // The client is gone: clean up here.
            drop(viewer);
        });
        Ok(())
    }
}
// ANCHOR_END: writer

// ANCHOR: blocking
/// The prime numbers, found by plain synchronous (and CPU-hungry) code.
fn primes() -> impl Iterator<Item = u64> {
    (2u64..).filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
}

/// `GET /primes?count=…`: the first primes, computed on a blocking thread as the
/// client reads them.
async fn prime_list(req: &Request, res: &mut Res) -> Result {
    let count: usize = req
        .query("count")
        .and_then(|c| c.parse().ok())
        .unwrap_or(100);
    res.content_type("text/plain; charset=utf-8")
        .streaming_blocking(primes().take(count).map(|p| format!("{p}\n")));
    Ok(())
}
// ANCHOR_END: blocking

// ANCHOR: app_timeouts
/// Time limits for every streamed response of an app.
fn with_limits(app: App) -> App {
    app.chunk_timeout(Duration::from_secs(10)) // default: 30 seconds
        .complete_timeout(Duration::from_secs(600)) // default: none
}
// ANCHOR_END: app_timeouts

// ANCHOR: res_timeouts
/// `GET /ticker`: an event stream meant to last all day, in an app whose other
/// streams must finish within the app's `complete_timeout`.
async fn ticker(_req: &Request, res: &mut Res) -> Result {
    res.complete_timeout(None) // no limit for this response
        .chunk_timeout(Duration::from_secs(60))
        .sse(bocata::stream! {
            let mut clock = tokio::time::interval(Duration::from_secs(1));
            for n in 1u64.. {
                clock.tick().await;
                yield Event::new().data(n.to_string());
            }
        });
    Ok(())
}
// ANCHOR_END: res_timeouts

// ANCHOR: event
#[test]
fn an_event_on_the_wire() {
    let event = Event::new()
        .event("price")
        .id("42")
        .retry(Duration::from_secs(5))
        .data("EUR 1.08\nUSD 1.17");
    assert_eq!(
        event.to_string(),
        "event: price\nid: 42\nretry: 5000\ndata: EUR 1.08\ndata: USD 1.17\n\n"
    );
}
// ANCHOR_END: event

// ANCHOR: deploy
/// The steps of a deployment, in order.
const STEPS: [&str; 4] = ["build", "test", "upload", "switch over"];

/// `GET /deploy/events`: a `step` event per step, numbered by its id, then `done`.
/// A browser that reconnects sends the last id it saw, and gets the steps after it.
async fn deploy_events(req: &Request, res: &mut Res) -> Result {
    let seen: usize = req
        .last_event_id()
        .and_then(|id| id.parse().ok())
        .unwrap_or(0);
    res.sse(bocata::stream! {
        for (n, step) in STEPS.iter().enumerate().skip(seen) {
            yield Event::new().event("step").id((n + 1).to_string()).data(*step);
        }
        yield Event::new().event("done").data("deployed");
    });
    Ok(())
}
// ANCHOR_END: deploy

// ANCHOR: quotes
/// A price, as the page's script expects it.
#[derive(serde::Serialize)]
struct Quote {
    symbol: &'static str,
    price: f64,
}

/// `GET /quotes`: JSON events. `json_data` returns a `Result<Event, serde_json::Error>`,
/// which `sse` takes as it is: a value that fails to serialize ends the stream.
async fn quotes(_req: &Request, res: &mut Res) -> Result {
    let quotes = [
        Quote {
            symbol: "ACME",
            price: 12.5,
        },
        Quote {
            symbol: "INIT",
            price: 3.25,
        },
    ];
    let events =
        futures_util::stream::iter(quotes).map(|q| Event::new().event("quote").json_data(&q));
    res.sse(events).sse_keep_alive(Duration::from_secs(15));
    Ok(())
}
// ANCHOR_END: quotes

// ANCHOR: frames
#[tokio::test]
async fn read_a_live_stream_chunk_by_chunk() {
    let (lines, _) = broadcast::channel(16);
    let client = TestClient::new(App::new().route(
        "/feed",
        Feed {
            lines: lines.clone(),
            viewers: Viewers::default(),
        },
    ));
    let mut res = client.get("/feed").send_streamed().await;
    assert_eq!(res.status(), 200);

    lines.send("first\n".into()).expect("a subscriber");
    let chunk = tokio::time::timeout(Duration::from_secs(10), res.chunk())
        .await
        .expect("a chunk within 10 seconds")
        .expect("the stream goes on")
        .expect("no error");
    assert_eq!(chunk, "first\n");
}
// ANCHOR_END: frames

/// The chapter's views on a real server, with the controls their tests need.
struct Site {
    /// The server.
    server: Running,
    /// Publishes to `/feed`.
    lines: broadcast::Sender<String>,
    /// Publishes to `/alerts`.
    alerts: broadcast::Sender<String>,
    /// Counts the clients of `/feed` and `/alerts`.
    viewers: Viewers,
}

impl Site {
    /// Serves the chapter's views; `/relay` relays `upstream`.
    async fn start(upstream: SocketAddr) -> Self {
        let (lines, _) = broadcast::channel(16);
        let (alerts, _) = broadcast::channel(16);
        let viewers = Viewers::default();
        let app = App::new()
            .route("/count", bocata::get(count))
            .route("/pieces", bocata::get(pieces))
            .route(
                "/feed",
                Feed {
                    lines: lines.clone(),
                    viewers: viewers.clone(),
                },
            )
            .route(
                "/alerts",
                Alerts {
                    alerts: alerts.clone(),
                    viewers: viewers.clone(),
                },
            )
            .route("/relay", Relay { upstream })
            .route("/primes", bocata::get(prime_list))
            .route("/deploy/events", bocata::get(deploy_events))
            .route("/quotes", bocata::get(quotes));
        Self {
            server: Running::start(app).await,
            lines,
            alerts,
            viewers,
        }
    }

    /// Waits until exactly `n` clients are counted.
    async fn viewers_become(&self, n: usize) {
        let mut count = self.viewers.0.subscribe();
        within("the viewer count", count.wait_for(|v| *v == n))
            .await
            .expect("the count is kept");
    }
}

/// An address where nothing listens.
async fn nowhere() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("an address")
}

/// Opens a raw HTTP/1.1 connection, asks for `path`, and returns it with the response
/// head (and whatever part of the body came with it).
async fn raw_get(addr: SocketAddr, path: &str, extra: &str) -> (TcpStream, String) {
    let mut stream = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    let mut buffer = vec![0; 4096];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = within("the head", stream.read(&mut buffer))
            .await
            .expect("read");
        assert!(n > 0, "the connection closed before the head");
        raw.extend_from_slice(&buffer[..n]);
    }
    (stream, String::from_utf8_lossy(&raw).into_owned())
}

/// Reads until the server closes the connection.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut raw = Vec::new();
    within("the connection to close", stream.read_to_end(&mut raw))
        .await
        .ok();
    String::from_utf8_lossy(&raw).into_owned()
}

#[tokio::test]
async fn a_generator_is_sent_chunk_by_chunk_without_a_length() {
    let client = TestClient::new(
        App::new()
            .route("/count", bocata::get(count))
            .route("/pieces", bocata::get(pieces)),
    );
    let res = client.get("/count").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(res.header("content-length"), None);
    let expected: String = (0..10)
        .map(|i| format!("count: {i}\n"))
        .chain(["Completed!\n".to_owned()])
        .collect();
    assert_eq!(res.text(), expected);

    let res = client.get("/pieces").send().await;
    assert_eq!(res.header("content-type"), Some("application/octet-stream"));
    assert_eq!(res.text(), "one two three");
}

#[tokio::test]
async fn http1_sends_each_item_as_a_chunk() {
    let site = Site::start(nowhere().await).await;
    let (mut stream, head) = raw_get(site.server.addr, "/pieces", "connection: close\r\n").await;
    let rest = read_to_close(&mut stream).await;
    let raw = head + &rest;
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head");
    let head = head.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200 ok"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
    assert!(!head.contains("content-length"), "{head}");
    assert_eq!(body, "4\r\none \r\n4\r\ntwo \r\n5\r\nthree\r\n0\r\n\r\n");
    site.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn each_line_reaches_the_client_as_it_is_published() {
    let site = Site::start(nowhere().await).await;
    for http2 in [false, true] {
        let response = if http2 {
            let mut conn = site.server.http2().await;
            let uri = format!("http://{}/feed", site.server.addr);
            within("the head", conn.send_request(get(&uri))).await
        } else {
            let mut conn = site.server.http1().await;
            within("the head", conn.send_request(get("/feed"))).await
        }
        .expect("a response");
        assert_eq!(response.status(), 200);
        let expected_version = if http2 {
            http::Version::HTTP_2
        } else {
            http::Version::HTTP_11
        };
        assert_eq!(response.version(), expected_version);
        assert!(response.headers().get("content-length").is_none());
        assert_eq!(
            response.headers().contains_key("transfer-encoding"),
            !http2,
            "chunked on HTTP/1.1 only"
        );
        let mut body = response.into_body();
        for line in ["breaking news\n", "more news\n"] {
            site.lines.send(line.to_owned()).expect("a subscriber");
            let frame = within("the line", body.frame())
                .await
                .expect("a frame")
                .expect("no error");
            assert_eq!(frame.into_data().expect("data"), line, "http2: {http2}");
        }
        drop(body);
        site.viewers_become(0).await;
    }
    site.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_client_that_leaves_drops_the_stream_and_its_guards() {
    let site = Site::start(nowhere().await).await;
    let (stream, head) = raw_get(site.server.addr, "/feed", "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    site.viewers_become(1).await;
    drop(stream);
    site.viewers_become(0).await;
    site.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_writer_notices_that_the_client_left_even_when_idle() {
    let site = Site::start(nowhere().await).await;
    let mut conn = site.server.http1().await;
    let response = within("the head", conn.send_request(get("/alerts")))
        .await
        .expect("a response");
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    site.viewers_become(1).await;
    let mut body = response.into_body();
    site.alerts
        .send("disk full\n".to_owned())
        .expect("a subscriber");
    let frame = within("the alert", body.frame())
        .await
        .expect("a frame")
        .expect("no error");
    assert_eq!(frame.into_data().expect("data"), "disk full\n");
    // No more alerts: only `closed()` can tell the task that the client left.
    drop(body);
    drop(conn);
    site.viewers_become(0).await;
    site.server.shutdown().await.expect("clean shutdown");
}

/// A line-based upstream that sends `first`, then, once released, `then` and closes.
async fn upstream(first: &'static [u8], then: &'static [u8]) -> (SocketAddr, Arc<Notify>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address");
    let release = Arc::new(Notify::new());
    let released = Arc::clone(&release);
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.expect("accept");
        conn.write_all(first).await.expect("write");
        released.notified().await;
        conn.write_all(then).await.expect("write");
    });
    (addr, release)
}

#[tokio::test]
async fn try_stream_relays_lines_until_the_upstream_ends() {
    let (addr, release) = upstream(b"alpha\nbeta\n", b"gamma\n").await;
    let site = Site::start(addr).await;
    let mut conn = site.server.http1().await;
    let response = within("the head", conn.send_request(get("/relay")))
        .await
        .expect("a response");
    release.notify_one();
    let (head, body) = read(response).await;
    assert_eq!(head.status, 200);
    assert_eq!(body, "1: alpha\n2: beta\n3: gamma\n");
    site.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_error_before_the_stream_is_an_ordinary_response() {
    let client = TestClient::new(App::new().route(
        "/relay",
        Relay {
            upstream: nowhere().await,
        },
    ));
    let res = client.get("/relay").send().await;
    assert_eq!(res.status(), 502);
    assert!(
        res.text().contains("upstream is unreachable"),
        "{}",
        res.text()
    );
}

#[tokio::test]
async fn an_err_item_ends_http1_without_the_last_chunk_and_is_logged() {
    let log = LogCapture::start();
    // Bytes that are not UTF-8 make `next_line` fail.
    let (addr, release) = upstream(b"alpha\n", b"\xff\xfe\n").await;
    let site = Site::start(addr).await;
    let (mut stream, head) = raw_get(site.server.addr, "/relay", "").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut seen = head;
    let mut buffer = vec![0; 4096];
    while !seen.contains("1: alpha\n") {
        let n = within("the first line", stream.read(&mut buffer))
            .await
            .expect("read");
        assert!(n > 0, "closed early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    release.notify_one();
    let rest = read_to_close(&mut stream).await;
    assert!(
        !(seen + &rest).ends_with("0\r\n\r\n"),
        "no terminating chunk"
    );
    let logged = log.text();
    assert!(logged.contains("WARN"), "{logged}");
    assert!(logged.contains("aborting a streamed response"), "{logged}");
    site.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_err_item_resets_the_http2_stream() {
    let (addr, release) = upstream(b"alpha\n", b"\xff\xfe\n").await;
    let site = Site::start(addr).await;
    let mut conn = site.server.http2().await;
    let uri = format!("http://{}/relay", site.server.addr);
    let response = within("the head", conn.send_request(get(&uri)))
        .await
        .expect("a response");
    let mut body = response.into_body();
    let frame = within("the first line", body.frame())
        .await
        .expect("a frame")
        .expect("no error yet");
    assert_eq!(frame.into_data().expect("data"), "1: alpha\n");
    release.notify_one();
    let error = within("the reset", body.collect())
        .await
        .expect_err("an incomplete body");
    let error = format!("{error:?}");
    assert!(error.contains("INTERNAL_ERROR"), "{error}");
    // The connection itself is fine: it serves the next request.
    let uri = format!("http://{}/pieces", site.server.addr);
    let response = within("another response", conn.send_request(get(&uri)))
        .await
        .expect("a response");
    assert_eq!(read(response).await.1, "one two three");
    site.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_blocking_iterator_streams_its_items() {
    let client = TestClient::new(App::new().route("/primes", bocata::get(prime_list)));
    let res = client.get("/primes?count=10").send().await;
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(res.text(), "2\n3\n5\n7\n11\n13\n17\n19\n23\n29\n");
}

/// An endless iterator that counts as a viewer while it lives.
struct Counted {
    /// Counted while the iterator lives.
    _viewer: Viewer,
}

impl Iterator for Counted {
    type Item = &'static str;

    fn next(&mut self) -> Option<&'static str> {
        Some("more\n")
    }
}

#[tokio::test]
async fn a_blocking_iterator_is_dropped_when_the_client_leaves() {
    let viewers = Viewers::default();
    let endless = {
        let viewers = viewers.clone();
        move |_req: &Request, res: &mut Res| {
            res.streaming_blocking(Counted {
                _viewer: viewers.join(),
            });
            std::future::ready(Ok(()))
        }
    };
    let server = Running::start(App::new().route("/endless", bocata::get(endless))).await;
    let (stream, _) = raw_get(server.addr, "/endless", "").await;
    let mut count = viewers.0.subscribe();
    within("the iterator to start", count.wait_for(|n| *n == 1))
        .await
        .expect("counted");
    drop(stream);
    within("the iterator to be dropped", count.wait_for(|n| *n == 0))
        .await
        .expect("counted");
    server.shutdown().await.expect("clean shutdown");
}

/// An endless producer of 64 KiB chunks that counts what it produced, with a short
/// chunk timeout, for the backpressure and timeout tests.
struct Firehose {
    /// Bytes produced so far.
    produced: Arc<AtomicU64>,
    /// Counts the streams alive.
    viewers: Viewers,
}

#[bocata::view]
impl Firehose {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let produced = Arc::clone(&self.produced);
        let viewer = self.viewers.join();
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        res.chunk_timeout(Duration::from_millis(200))
            .streaming(bocata::stream! {
                let _viewer = viewer;
                loop {
                    produced.fetch_add(chunk.len() as u64, Ordering::SeqCst);
                    yield chunk.clone();
                }
            });
        Ok(())
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_stops_the_producer_then_is_cut_off() {
    let log = LogCapture::start();
    let produced = Arc::new(AtomicU64::new(0));
    let viewers = Viewers::default();
    let server = Running::start(App::new().route(
        "/firehose",
        Firehose {
            produced: Arc::clone(&produced),
            viewers: viewers.clone(),
        },
    ))
    .await;
    // Reads the head, then nothing: the buffers fill, the producer waits, and the
    // chunk timeout closes the connection.
    let (mut stream, _) = raw_get(server.addr, "/firehose", "").await;
    let mut count = viewers.0.subscribe();
    within(
        "the stalled stream to be dropped",
        count.wait_for(|n| *n == 0),
    )
    .await
    .expect("counted");
    let produced = produced.load(Ordering::SeqCst);
    assert!(
        produced <= 16 * 1024 * 1024,
        "an endless producer stopped after {produced} bytes"
    );
    let mut sink = vec![0; 1 << 20];
    within("the connection to end", async {
        while let Ok(1..) = stream.read(&mut sink).await {}
    })
    .await;
    let logged = log.text();
    assert!(
        logged.contains("closing the connection: the client took longer than the chunk timeout"),
        "{logged}"
    );
    server.shutdown().await.expect("clean shutdown");
}

/// A stream that sends one line and then waits for `finish`, holding a viewer.
struct Slow {
    /// Lets the stream finish.
    finish: Arc<Notify>,
    /// Counts the streams alive.
    viewers: Viewers,
    /// Whether the response lifts the app's `complete_timeout`.
    unlimited: bool,
}

#[bocata::view]
impl Slow {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let finish = Arc::clone(&self.finish);
        let viewer = self.viewers.join();
        if self.unlimited {
            res.complete_timeout(None);
        }
        res.streaming(bocata::stream! {
            let _viewer = viewer;
            yield "started\n";
            finish.notified().await;
            yield "finished\n";
        });
        Ok(())
    }
}

#[tokio::test]
async fn complete_timeout_applies_app_wide_unless_a_response_says_otherwise() {
    let log = LogCapture::start();
    let finish = Arc::new(Notify::new());
    let limited_viewers = Viewers::default();
    let app = with_limits(App::new())
        .complete_timeout(Duration::from_millis(300))
        .route(
            "/limited",
            Slow {
                finish: Arc::new(Notify::new()),
                viewers: limited_viewers.clone(),
                unlimited: false,
            },
        )
        .route(
            "/unlimited",
            Slow {
                finish: Arc::clone(&finish),
                viewers: Viewers::default(),
                unlimited: true,
            },
        )
        .route("/ticker", bocata::get(ticker));
    let server = Running::start(app).await;

    // The unlimited one starts first...
    let mut conn = server.http1().await;
    let unlimited = within("the head", conn.send_request(get("/unlimited")))
        .await
        .expect("a response");
    // ...so when the limited one has been cut off, it has outlived the limit too.
    let mut other = server.http1().await;
    let limited = within("the head", other.send_request(get("/limited")))
        .await
        .expect("a response");
    let outcome = within("the limit", limited.into_body().collect()).await;
    assert!(outcome.is_err(), "an incomplete body");
    let mut count = limited_viewers.0.subscribe();
    within("the stream to be dropped", count.wait_for(|n| *n == 0))
        .await
        .expect("counted");
    let logged = log.text();
    assert!(logged.contains("complete timeout (300ms)"), "{logged}");

    finish.notify_one();
    let (_, body) = read(unlimited).await;
    assert_eq!(body, "started\nfinished\n");

    let ticker = within("the ticker", conn.send_request(get("/ticker")))
        .await
        .expect("a response");
    assert_eq!(ticker.headers()["content-type"], "text/event-stream");
    drop(ticker);
    drop(conn);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn server_sent_events_resume_after_the_last_event_id() {
    let client = TestClient::new(App::new().route("/deploy/events", bocata::get(deploy_events)));
    let res = client.get("/deploy/events").send().await;
    assert_eq!(res.header("content-type"), Some("text/event-stream"));
    assert_eq!(res.header("cache-control"), Some("no-cache"));
    assert_eq!(res.header("x-accel-buffering"), Some("no"));
    assert_eq!(
        res.text(),
        concat!(
            "event: step\nid: 1\ndata: build\n\n",
            "event: step\nid: 2\ndata: test\n\n",
            "event: step\nid: 3\ndata: upload\n\n",
            "event: step\nid: 4\ndata: switch over\n\n",
            "event: done\ndata: deployed\n\n",
        )
    );
    let res = client
        .get("/deploy/events")
        .header("last-event-id", "2")
        .send()
        .await;
    assert_eq!(
        res.text(),
        concat!(
            "event: step\nid: 3\ndata: upload\n\n",
            "event: step\nid: 4\ndata: switch over\n\n",
            "event: done\ndata: deployed\n\n",
        )
    );
}

#[tokio::test]
async fn json_events_and_headers_you_set_yourself() {
    /// An event stream with a `Cache-Control` of its own.
    async fn no_store(_req: &Request, res: &mut Res) -> Result {
        res.header("cache-control", "no-store")
            .sse(futures_util::stream::iter([Event::new().data("x")]));
        Ok(())
    }
    let client = TestClient::new(
        App::new()
            .route("/quotes", bocata::get(quotes))
            .route("/no-store", bocata::get(no_store)),
    );
    let res = client.get("/quotes").send().await;
    assert_eq!(
        res.text(),
        concat!(
            "event: quote\ndata: {\"symbol\":\"ACME\",\"price\":12.5}\n\n",
            "event: quote\ndata: {\"symbol\":\"INIT\",\"price\":3.25}\n\n",
        )
    );
    let res = client.get("/no-store").send().await;
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("x-accel-buffering"), Some("no"));
}

#[test]
fn event_fields_cannot_inject_other_fields() {
    let event = Event::new()
        .event("update\ndata: forged")
        .id("7\r\nretry: 0\0")
        .comment("two\nlines")
        .data("a\r\nb\rc");
    assert_eq!(
        event.to_string(),
        ": two\n: lines\nevent: updatedata: forged\nid: 7retry: 0\ndata: a\ndata: b\ndata: c\n\n"
    );
}

#[tokio::test]
async fn keep_alive_comments_fill_the_silences() {
    /// An event stream with no events, only keep-alive comments.
    async fn quiet(_req: &Request, res: &mut Res) -> Result {
        res.sse(futures_util::stream::pending::<Event>())
            .sse_keep_alive(Duration::from_millis(20));
        Ok(())
    }
    let server = Running::start(App::new().route("/quiet", bocata::get(quiet))).await;
    let mut conn = server.http1().await;
    let response = within("the head", conn.send_request(get("/quiet")))
        .await
        .expect("a response");
    let mut body = response.into_body();
    for _ in 0..2 {
        let frame = within("a keep-alive comment", body.frame())
            .await
            .expect("a frame")
            .expect("no error");
        assert_eq!(frame.into_data().expect("data"), ":\n\n");
    }
    drop(body);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn head_never_polls_a_stream() {
    let polled = Arc::new(AtomicBool::new(false));
    let watched = {
        let polled = Arc::clone(&polled);
        move |_req: &Request, res: &mut Res| {
            let polled = Arc::clone(&polled);
            res.sse(bocata::stream! {
                polled.store(true, Ordering::SeqCst);
                yield Event::new().data("hello");
            });
            std::future::ready(Ok(()))
        }
    };
    let client = TestClient::new(App::new().route("/events", bocata::get(watched)));
    let res = client.head("/events").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-type"), Some("text/event-stream"));
    assert!(res.bytes().is_empty());
    assert!(!polled.load(Ordering::SeqCst));
    let res = client.get("/events").send().await;
    assert_eq!(res.text(), "data: hello\n\n");
    assert!(polled.load(Ordering::SeqCst));
}

#[tokio::test]
async fn every_bytes_like_item_type_is_accepted() {
    /// Streams two items of the type named by `?kind=`.
    async fn kinds(req: &Request, res: &mut Res) -> Result {
        use futures_util::stream::iter;
        match req.query("kind").as_deref() {
            Some("bytes") => res.streaming(iter([Bytes::from_static(b"ab"), Bytes::from("c")])),
            Some("string") => res.streaming(iter(["ab".to_owned(), "c".to_owned()])),
            Some("vec") => res.streaming(iter([b"ab".to_vec(), b"c".to_vec()])),
            Some("str") => res.streaming(iter(["ab", "c"])),
            Some("slice") => res.streaming(iter([&b"ab"[..], &b"c"[..]])),
            _ => return bocata::abort(404),
        };
        Ok(())
    }
    let client = TestClient::new(App::new().route("/kinds", bocata::get(kinds)));
    for kind in ["bytes", "string", "vec", "str", "slice"] {
        let res = client.get("/kinds").query(&[("kind", kind)]).send().await;
        assert_eq!(res.text(), "abc", "{kind}");
        assert_eq!(res.header("content-type"), Some("application/octet-stream"));
    }
}

#[tokio::test]
async fn head_stops_a_blocking_iterator_at_once() {
    let viewers = Viewers::default();
    let endless = {
        let viewers = viewers.clone();
        move |_req: &Request, res: &mut Res| {
            res.content_type("text/plain").streaming_blocking(Counted {
                _viewer: viewers.join(),
            });
            std::future::ready(Ok(()))
        }
    };
    let client = TestClient::new(App::new().route("/endless", bocata::get(endless)));
    let res = client.head("/endless").send().await;
    assert_eq!(res.header("content-type"), Some("text/plain"));
    assert!(res.bytes().is_empty());
    let mut count = viewers.0.subscribe();
    within("the iterator to be dropped", count.wait_for(|n| *n == 0))
        .await
        .expect("counted");
}

#[tokio::test]
async fn on_http2_a_chunk_timeout_resets_only_that_stream() {
    let log = LogCapture::start();
    let firehose_viewers = Viewers::default();
    let finish = Arc::new(Notify::new());
    let app = App::new()
        .route(
            "/firehose",
            Firehose {
                produced: Arc::new(AtomicU64::new(0)),
                viewers: firehose_viewers.clone(),
            },
        )
        .route(
            "/slow",
            Slow {
                finish: Arc::clone(&finish),
                viewers: Viewers::default(),
                unlimited: true,
            },
        );
    let server = Running::start(app).await;
    let mut conn = server.http2().await;
    let slow = within(
        "the head",
        conn.send_request(get(&format!("http://{}/slow", server.addr))),
    )
    .await
    .expect("a response");
    let mut slow = slow.into_body();
    let frame = within("the first line", slow.frame())
        .await
        .expect("a frame")
        .expect("no error");
    assert_eq!(frame.into_data().expect("data"), "started\n");
    // A second request on the same connection, whose body is never read: its window
    // fills, and its chunk timeout runs out.
    let firehose = within(
        "the head",
        conn.send_request(get(&format!("http://{}/firehose", server.addr))),
    )
    .await
    .expect("a response");
    let mut count = firehose_viewers.0.subscribe();
    within(
        "the stalled stream to be dropped",
        count.wait_for(|n| *n == 0),
    )
    .await
    .expect("counted");
    let cut = within("the reset stream", firehose.into_body().collect()).await;
    assert!(cut.is_err(), "the stalled body ends in an error");
    // The other request on the connection goes on, and finishes whole.
    finish.notify_one();
    let rest = within("the other body", slow.collect())
        .await
        .expect("the other stream is untouched")
        .to_bytes();
    assert_eq!(rest, "finished\n");
    assert!(
        log.text().contains(
            "resetting an HTTP/2 stream: the client took longer than the chunk timeout (200ms) to accept a chunk"
        ),
        "{}",
        log.text()
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_bodiless_status_never_polls_the_stream_either() {
    let polled = Arc::new(AtomicBool::new(false));
    let watched = {
        let polled = Arc::clone(&polled);
        move |_req: &Request, res: &mut Res| {
            let polled = Arc::clone(&polled);
            res.status(204).streaming(bocata::stream! {
                polled.store(true, Ordering::SeqCst);
                yield "never sent";
            });
            std::future::ready(Ok(()))
        }
    };
    let client = TestClient::new(App::new().route("/nothing", bocata::get(watched)));
    let res = client.get("/nothing").send().await;
    assert_eq!(res.status(), 204);
    assert!(res.bytes().is_empty());
    assert!(!polled.load(Ordering::SeqCst));
}

#[tokio::test]
async fn head_closes_a_writer_at_once() {
    let (alerts, _) = broadcast::channel(16);
    let viewers = Viewers::default();
    let client = TestClient::new(App::new().route(
        "/alerts",
        Alerts {
            alerts,
            viewers: viewers.clone(),
        },
    ));
    let res = client.head("/alerts").send().await;
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let mut count = viewers.0.subscribe();
    within("the writer's task to end", count.wait_for(|n| *n == 0))
        .await
        .expect("counted");
}
