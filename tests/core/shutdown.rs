//! Graceful shutdown: on a real process and a real SIGTERM, the request in flight
//! finishes, event streams end, sockets close with 1001, new connections are refused,
//! and the process exits 0; finite streams get the grace period, and a body still
//! unfinished when it ends is cut so the client can tell.

use std::process::Stdio;
use std::time::Duration;

use bocata::{App, Request, Res, Result, Server};
use bocata_tests::{PATIENCE, Running, connect_http1, get, read, serve_process, within};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_exits_zero() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_serve"));
    command.stderr(Stdio::null());
    let (mut server, addr, mut lines) = serve_process(command).await;

    // An open event stream…
    let mut events_conn = connect_http1(addr).await;
    let events = within("the stream", events_conn.send_request(get("/events")))
        .await
        .expect("a response");
    let mut events = events.into_body();
    within("an event", events.frame())
        .await
        .expect("a frame")
        .expect("data");
    // …an open WebSocket…
    let (mut socket, _) = within(
        "the socket",
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws")),
    )
    .await
    .expect("connected");
    assert!(matches!(
        within("ready", socket.next()).await,
        Some(Ok(Message::Text(_)))
    ));
    // …a finite stream under way…
    let mut finite_conn = connect_http1(addr).await;
    let finite = within("the lines", finite_conn.send_request(get("/lines")))
        .await
        .expect("a response");
    let mut finite = finite.into_body();
    within("a line", finite.frame())
        .await
        .expect("a frame")
        .expect("data");
    // …and a two-second request in flight.
    let mut slow_conn = connect_http1(addr).await;
    let slow = tokio::spawn(slow_conn.send_request(get("/slow")));
    let started = within("the slow view", lines.next_line())
        .await
        .expect("a line");
    assert_eq!(started.as_deref(), Some("slow started"));

    let pid = server.id().expect("a pid").to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill runs");
    assert!(killed.success());

    // The finite stream goes on to its end, and ends cleanly.
    let rest = within("the rest of the lines", finite.collect())
        .await
        .expect("a clean end")
        .to_bytes();
    assert!(rest.ends_with(b"line 10\n"), "all the lines: {rest:?}");

    // The event stream is told to end: it finishes cleanly.
    let rest = within("the stream to end", async {
        while let Some(frame) = events.frame().await {
            frame?;
        }
        Ok::<_, hyper::Error>(())
    })
    .await;
    assert!(rest.is_ok(), "a clean end, not a cut: {rest:?}");

    // New connections are refused once the listener is closed.
    within("new connections to be refused", async {
        while let Ok(stream) = TcpStream::connect(addr).await {
            drop(stream);
            tokio::task::yield_now().await;
        }
    })
    .await;

    // The request in flight finishes.
    let response = within("the slow request", slow)
        .await
        .expect("no panic")
        .expect("a response");
    let (head, body) = read(response).await;
    assert_eq!(head.status, 200);
    assert_eq!(body, "finished");

    // The socket is closed with 1001.
    let close = within("the socket to close", async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => {}
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await;
    assert_eq!(close.map(|f| f.code), Some(CloseCode::Away));

    let status = within("the process to exit", server.wait())
        .await
        .expect("an exit status");
    assert!(status.success(), "exit status {status}");
}

/// Ten lines, one every `every`: a finite stream that takes its time.
struct Lines {
    every: Duration,
}

#[bocata::view]
impl Lines {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let every = self.every;
        res.streaming(bocata::stream! {
            for n in 1..=10 {
                yield format!("line {n}\n");
                tokio::time::sleep(every).await;
            }
        });
        Ok(())
    }
}

fn lines_app(every: Duration) -> App {
    App::new().route("/lines", Lines { every })
}

/// Starts reading `/lines` over `protocol`, returning once its first line is in.
async fn first_line(server: &Running, http2: bool) -> hyper::body::Incoming {
    let url = format!("http://{}/lines", server.addr);
    let response = if http2 {
        let mut conn = server.http2().await;
        within("the head", conn.send_request(get(&url))).await
    } else {
        let mut conn = server.http1().await;
        within("the head", conn.send_request(get("/lines"))).await
    };
    let mut body = response.expect("a response").into_body();
    let frame = within("the first line", body.frame())
        .await
        .expect("a frame")
        .expect("data");
    assert_eq!(frame.into_data().expect("data"), "line 1\n");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finite_stream_in_flight_gets_the_grace_period_to_finish() {
    for http2 in [false, true] {
        let mut server = Running::start_with(
            Server::new(lines_app(Duration::from_millis(50))).grace_period(PATIENCE),
        )
        .await;
        let body = first_line(&server, http2).await;
        server.stop();
        let rest = within("the rest of the stream", body.collect())
            .await
            .expect("a whole body, ended cleanly")
            .to_bytes();
        let expected: String = (2..=10).map(|n| format!("line {n}\n")).collect();
        assert_eq!(rest, expected, "http2: {http2}");
        server.shutdown().await.expect("clean shutdown");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_unfinished_when_the_grace_period_ends_is_cut_visibly() {
    for http2 in [false, true] {
        let mut server = Running::start_with(
            Server::new(lines_app(Duration::from_secs(3600)))
                .grace_period(Duration::from_millis(200)),
        )
        .await;
        let body = first_line(&server, http2).await;
        server.stop();
        let cut = within("the cut", body.collect())
            .await
            .expect_err("never a clean end on a body that is not done");
        if http2 {
            assert!(
                format!("{cut:?}").contains("CANCEL"),
                "the stream is reset: {cut:?}"
            );
        }
        server.shutdown().await.expect("the server ends anyway");
    }
}

/// Runs curl on `/lines` of `server` until it has the first line, stops the server,
/// and returns curl's exit code.
async fn curl_through_a_shutdown(mut server: Running, args: &[&str]) -> Option<i32> {
    let mut curl = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--no-buffer",
            "--max-time",
            "60",
        ])
        .args(args)
        .arg(format!("http://{}/lines", server.addr))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("curl runs");
    let mut lines = BufReader::new(curl.stdout.take().expect("stdout")).lines();
    let first = within("the first line", lines.next_line())
        .await
        .expect("a line");
    assert_eq!(first.as_deref(), Some("line 1"));
    server.stop();
    let status = within("curl to end", curl.wait()).await.expect("a status");
    server.shutdown().await.expect("the server ends");
    status.code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_sees_a_cut_body_as_an_error_and_a_finished_one_as_a_success() {
    if !bocata_tests::client("curl", bocata_tests::has_program("curl")) {
        return;
    }
    for (protocol, args) in [
        ("HTTP/1.1", &[][..]),
        ("HTTP/2", &["--http2-prior-knowledge"][..]),
    ] {
        let cut = Running::start_with(
            Server::new(lines_app(Duration::from_secs(3600)))
                .grace_period(Duration::from_millis(200)),
        )
        .await;
        let code = curl_through_a_shutdown(cut, args).await;
        // 18: curl's "partial file", for a connection closed short and for a reset
        // stream alike.
        assert_eq!(code, Some(18), "{protocol}: curl fails on a cut body");
        let finished = Running::start_with(
            Server::new(lines_app(Duration::from_millis(50))).grace_period(PATIENCE),
        )
        .await;
        let code = curl_through_a_shutdown(finished, args).await;
        assert_eq!(
            code,
            Some(0),
            "{protocol}: a body finished in the grace period"
        );
    }
}
