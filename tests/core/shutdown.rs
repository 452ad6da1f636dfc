//! Graceful shutdown of a real process on a real SIGTERM: the request in flight
//! finishes, streams end, sockets close with 1001, new connections are refused, and the
//! process exits 0.

use std::process::Stdio;

use bocata_tests::{connect_http1, get, read, within};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_and_exits_zero() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_serve"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server binary starts");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let addr: std::net::SocketAddr = within("the address", lines.next_line())
        .await
        .expect("a line")
        .expect("an address line")
        .parse()
        .expect("an address");

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

    // The stream is told to end: it finishes cleanly.
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
