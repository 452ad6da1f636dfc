//! WebSockets over real sockets with a real client, and in-process.

use std::time::Duration;

// ANCHOR: imports
use std::sync::Arc;

use bocata::websocket::{Message, WebSocket};
use bocata::{Request, Res, Result, abort};
use tokio::sync::Notify;
// ANCHOR_END: imports

use bocata::App;
use bocata::testing::TestClient;
use bocata::websocket::WebSocketSettings;
use bocata_tests::{Running, within};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WireMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Deserialize, Serialize)]
struct Move {
    x: i32,
    y: i32,
}

// ANCHOR: echo
/// Echoes text and binary, answers JSON moves, and closes on "bye".
struct Echo {
    gone: Arc<Notify>,
}

#[bocata::view]
impl Echo {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("the page of the echo socket");
        Ok(())
    }

    async fn on_websocket(&self, req: &Request, mut ws: WebSocket) -> Result {
        let greeting = req.query("name").unwrap_or_else(|| "stranger".into());
        ws.send_text(format!("hello {greeting}")).await?;
        while let Some(message) = ws.recv().await {
            match message {
                Ok(Message::Text(text)) if text.as_str() == "bye" => {
                    ws.close(4000, "see you").await?;
                    break;
                }
                Ok(Message::Text(text)) if text.starts_with('{') => {
                    match serde_json::from_str::<Move>(text.as_str()) {
                        Ok(m) => ws.send_json(&Move { x: m.y, y: m.x }).await?,
                        Err(e) => ws.send_text(format!("bad move: {e}")).await?,
                    }
                }
                Ok(message) => ws.send(message).await?,
                Err(e) => {
                    tracing::info!("socket error: {e}");
                    break;
                }
            }
        }
        self.gone.notify_one();
        Ok(())
    }

    fn websocket_protocols(&self) -> &[&'static str] {
        &["echo.v2", "echo.v1"]
    }
}
// ANCHOR_END: echo

/// Speaks WebSocket only.
struct Only;

#[bocata::view]
impl Only {
    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        ws.send_text("only sockets here").await?;
        Ok(())
    }
}

// ANCHOR: guard
async fn require_token(req: &mut Request, _res: &mut Res) -> Result {
    if req.query("token").as_deref() == Some("secret") {
        Ok(())
    } else {
        abort(401)
    }
}
// ANCHOR_END: guard

fn app(gone: &Arc<Notify>) -> App {
    App::new()
        .route(
            "/echo",
            Echo {
                gone: Arc::clone(gone),
            },
        )
        .route("/only", Only)
        .mount(
            "/private",
            bocata::Router::new().before(require_token).route(
                "/echo",
                Echo {
                    gone: Arc::clone(gone),
                },
            ),
        )
        .websocket(
            WebSocketSettings::new()
                .max_message_size(1024)
                .idle_timeout(Some(Duration::from_millis(300)))
                .heartbeat(Some(Duration::from_millis(100))),
        )
}

async fn connect(server: &Running, path: &str) -> Client {
    let url = format!("ws://{}{path}", server.addr);
    let (client, response) = within("the handshake", connect_async(url))
        .await
        .expect("the handshake succeeds");
    assert_eq!(response.status(), 101);
    client
}

async fn next_text(client: &mut Client) -> String {
    loop {
        match within("a message", client.next()).await {
            Some(Ok(WireMessage::Text(text))) => return text.to_string(),
            Some(Ok(WireMessage::Ping(_) | WireMessage::Pong(_))) => {}
            other => panic!("expected text, got {other:?}"),
        }
    }
}

async fn close_frame(client: &mut Client) -> Option<CloseFrame> {
    loop {
        match within("the close", client.next()).await {
            Some(Ok(WireMessage::Close(frame))) => return frame,
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn echo_of_text_binary_and_json() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(app(&gone)).await;
    let mut client = connect(&server, "/echo?name=ana").await;
    assert_eq!(next_text(&mut client).await, "hello ana");

    client.send(WireMessage::text("plain")).await.expect("send");
    assert_eq!(next_text(&mut client).await, "plain");

    client
        .send(WireMessage::Binary(vec![0, 1, 2, 255].into()))
        .await
        .expect("send");
    loop {
        match within("binary", client.next()).await {
            Some(Ok(WireMessage::Binary(bytes))) => {
                assert_eq!(bytes.as_ref(), [0, 1, 2, 255]);
                break;
            }
            Some(Ok(WireMessage::Ping(_))) => {}
            other => panic!("expected binary, got {other:?}"),
        }
    }

    client
        .send(WireMessage::text(r#"{"x":1,"y":2}"#))
        .await
        .expect("send");
    let swapped: Move = serde_json::from_str(&next_text(&mut client).await).expect("JSON");
    assert_eq!((swapped.x, swapped.y), (2, 1));
    client
        .send(WireMessage::text("{not json"))
        .await
        .expect("send");
    assert!(
        next_text(&mut client).await.starts_with("bad move:"),
        "an error value, not a panic"
    );

    client.send(WireMessage::text("bye")).await.expect("send");
    let frame = close_frame(&mut client).await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 4000);
    assert_eq!(frame.reason.as_str(), "see you");
    within("the view to end", gone.notified()).await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn pings_are_answered_and_heartbeats_sent() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(app(&gone)).await;
    let mut client = connect(&server, "/echo").await;
    next_text(&mut client).await;
    client
        .send(WireMessage::Ping(b"are you there".to_vec().into()))
        .await
        .expect("send");
    let (mut pong, mut heartbeat) = (false, false);
    within("a pong and a heartbeat ping", async {
        while !(pong && heartbeat) {
            match client.next().await {
                Some(Ok(WireMessage::Pong(payload))) => {
                    assert_eq!(payload.as_ref(), b"are you there");
                    pong = true;
                }
                Some(Ok(WireMessage::Ping(_))) => heartbeat = true,
                other => panic!("unexpected {other:?}"),
            }
        }
    })
    .await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(app(&gone)).await;
    let mut client = connect(&server, "/echo").await;
    next_text(&mut client).await;
    client
        .send(WireMessage::text("x".repeat(4096)))
        .await
        .expect("send");
    let frame = close_frame(&mut client).await.expect("a close frame");
    assert_eq!(frame.code, CloseCode::Size);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_silent_peer_is_closed_after_the_idle_timeout() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(
        app(&gone).websocket(
            WebSocketSettings::new()
                .idle_timeout(Some(Duration::from_millis(200)))
                .heartbeat(None),
        ),
    )
    .await;
    let mut client = connect(&server, "/echo").await;
    next_text(&mut client).await;
    // Reading nothing, sending nothing: the server gives up on us.
    let frame = close_frame(&mut client).await.expect("a close frame");
    assert_eq!(frame.code, CloseCode::Away);
    assert_eq!(frame.reason.as_str(), "idle timeout");
    within("the view to end", gone.notified()).await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_close_from_the_client_is_answered_and_ends_the_view() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(app(&gone)).await;
    let mut client = connect(&server, "/echo").await;
    next_text(&mut client).await;
    let goodbye = CloseFrame {
        code: CloseCode::Normal,
        reason: "done".into(),
    };
    within("the close to go out", client.close(Some(goodbye)))
        .await
        .expect("close sent");
    let answer = close_frame(&mut client).await.expect("a close frame back");
    assert_eq!(
        answer.code,
        CloseCode::Normal,
        "the close handshake completes"
    );
    within("the view to end", gone.notified()).await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_open_socket_counts_against_max_connections() {
    let gone = Arc::new(Notify::new());
    // The default idle timeout: this client reads nothing, so it answers no ping, and
    // `app`'s 300 ms idle timeout would close the socket during the 300 ms wait below.
    let app = app(&gone).websocket(WebSocketSettings::new());
    let server = Running::start_with(bocata::Server::new(app).max_connections(1)).await;
    let mut client = connect(&server, "/echo").await;
    next_text(&mut client).await;

    // While the socket is open the limit is reached: a second connection waits…
    let addr = server.addr;
    let mut second = tokio::spawn(async move {
        bocata_tests::raw_exchange(addr, b"GET /echo HTTP/1.1\r\nhost: x\r\n\r\n").await
    });
    let waited = tokio::time::timeout(Duration::from_millis(300), &mut second).await;
    assert!(waited.is_err(), "served past the limit: {waited:?}");
    // …and is served once the socket closes.
    within("the close to go out", client.close(None))
        .await
        .expect("close sent");
    let answer = within("the second connection", second)
        .await
        .expect("no panic");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_vanished_client_ends_the_view() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(app(&gone)).await;
    let mut client = connect(&server, "/echo").await;
    next_text(&mut client).await;
    drop(client);
    within("the view to notice", gone.notified()).await;
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn subprotocols_are_chosen_from_the_client_s_offer() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(app(&gone)).await;
    let mut request = format!("ws://{}/echo", server.addr)
        .into_client_request()
        .expect("a request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        http::HeaderValue::from_static("chat, echo.v1, echo.v2"),
    );
    let (_client, response) = within("the handshake", connect_async(request))
        .await
        .expect("accepted");
    assert_eq!(response.headers()["sec-websocket-protocol"], "echo.v1");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn hooks_can_refuse_the_upgrade_and_plain_gets_still_work() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(app(&gone)).await;
    let refused = connect_async(format!("ws://{}/private/echo", server.addr)).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
        }
        other => panic!("expected a 401, got {other:?}"),
    }
    let mut client = connect(&server, "/private/echo?token=secret").await;
    assert_eq!(next_text(&mut client).await, "hello stranger");
    server.shutdown().await.expect("clean shutdown");

    let client = TestClient::new(app(&gone));
    assert_eq!(
        client.get("/echo").send().await.text(),
        "the page of the echo socket"
    );
    let res = client.get("/only").send().await;
    assert_eq!(res.status(), 426);
    assert_eq!(res.header("upgrade"), Some("websocket"));
    assert!(
        res.text().contains("speaks WebSocket only"),
        "{}",
        res.text()
    );
    let res = client
        .get("/echo")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "8")
        .send()
        .await;
    assert_eq!(res.status(), 426);
    assert_eq!(res.header("sec-websocket-version"), Some("13"));
}

// ANCHOR: hook_headers
/// Remembers who opened a socket: a cookie, a header and the session, all of which
/// reach the client on the 101.
async fn remember_opening(req: &mut Request, res: &mut Res) -> Result {
    res.cookie(("theme", "dark"))
        .header("x-socket-trace", "t-1");
    req.session()?.insert("socket", &"opened")?;
    Ok(())
}
// ANCHOR_END: hook_headers

/// Tries to break the handshake: its own values for the handshake's headers, and a
/// status and a body without completing the response.
async fn meddle(_req: &mut Request, res: &mut Res) -> Result {
    res.header("connection", "close")
        .header("sec-websocket-accept", "forged")
        .header("sec-websocket-extensions", "permessage-deflate")
        .status(418)
        .text("not a teapot");
    Ok(())
}

/// Sets a header value no response may carry.
async fn bad_header(_req: &mut Request, res: &mut Res) -> Result {
    res.header("x-bad", "one\ntwo");
    Ok(())
}

async fn session_socket(req: &Request, res: &mut Res) -> Result {
    let socket: Option<String> = req.session()?.get("socket");
    res.text(socket.unwrap_or_default());
    Ok(())
}

fn hooked_app(gone: &Arc<Notify>) -> App {
    let echo = || Echo {
        gone: Arc::clone(gone),
    };
    App::new()
        .secret_key([7; 64])
        .route("/session", bocata::get(session_socket))
        .mount(
            "/hooked",
            bocata::Router::new()
                .before(remember_opening)
                .before(meddle)
                .route("/echo", echo()),
        )
        .mount(
            "/broken",
            bocata::Router::new()
                .before(bad_header)
                .route("/echo", echo()),
        )
}

#[tokio::test]
async fn the_101_carries_the_hooks_headers_and_cookies_over_a_real_socket() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(hooked_app(&gone)).await;
    let (mut client, response) = within(
        "the handshake",
        connect_async(format!("ws://{}/hooked/echo", server.addr)),
    )
    .await
    .expect("the handshake succeeds, whatever the hooks set");
    assert_eq!(response.status(), 101);
    let headers = response.headers();
    assert_eq!(headers["x-socket-trace"], "t-1");
    let cookies: Vec<_> = headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("theme=dark;")),
        "{cookies:?}"
    );
    let session = cookies
        .iter()
        .find(|c| c.starts_with("bocata_session="))
        .unwrap_or_else(|| panic!("the session's cookie on the 101: {cookies:?}"));
    assert_eq!(headers["connection"], "upgrade");
    assert!(!headers.contains_key("sec-websocket-extensions"));
    assert!(!headers.contains_key("content-type"));
    // The socket works: the hooks' meddling broke nothing.
    assert_eq!(next_text(&mut client).await, "hello stranger");
    client
        .send(WireMessage::text("still here"))
        .await
        .expect("send");
    assert_eq!(next_text(&mut client).await, "still here");

    // The session cookie is a real one: the next request reads what the hook stored.
    let cookie = session.split(';').next().unwrap_or_default().to_owned();
    let mut http = server.http1().await;
    let mut request = bocata_tests::get("/session");
    request.headers_mut().insert(
        "cookie",
        http::HeaderValue::try_from(cookie).expect("a cookie value"),
    );
    let answer = within("the session page", http.send_request(request))
        .await
        .expect("a response");
    let (_, body) = bocata_tests::read(answer).await;
    assert_eq!(&body[..], b"opened");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_101_carries_the_hooks_headers_and_cookies_in_the_test_client() {
    let gone = Arc::new(Notify::new());
    let client = TestClient::new(hooked_app(&gone));
    let mut ws = client
        .get("/hooked/echo")
        .websocket()
        .await
        .expect("accepted");
    assert_eq!(ws.header("x-socket-trace"), Some("t-1"));
    assert_eq!(ws.header("connection"), Some("upgrade"));
    assert_eq!(ws.header("sec-websocket-extensions"), None);
    assert_eq!(client.cookie("theme").as_deref(), Some("dark"));
    assert_eq!(ws.recv_text().await.as_deref(), Some("hello stranger"));
    assert_eq!(client.get("/session").send().await.text(), "opened");

    // A header no response may carry is the same 500 as anywhere else, never a 101.
    let refused = client
        .get("/broken/echo")
        .websocket()
        .await
        .expect_err("refused");
    assert_eq!(refused.status(), 500);
}

// ANCHOR: test_client
#[tokio::test]
async fn the_test_client_speaks_websocket_in_process() {
    let gone = Arc::new(Notify::new());
    let client = TestClient::new(app(&gone));
    let mut ws = client
        .get("/echo?name=luis")
        .websocket()
        .await
        .expect("accepted");
    assert_eq!(ws.recv_text().await.as_deref(), Some("hello luis"));
    ws.send_json(&Move { x: 3, y: 4 }).await;
    let swapped: Move = ws.recv_json().await.expect("a reply");
    assert_eq!((swapped.x, swapped.y), (4, 3));
    ws.send_text("bye").await;
    assert_eq!(ws.closed().await, Some((4000, "see you".to_owned())));

    let refused = client
        .get("/private/echo")
        .websocket()
        .await
        .expect_err("refused");
    assert_eq!(refused.status(), 401);
}
// ANCHOR_END: test_client

#[tokio::test]
async fn shutdown_closes_open_sockets_with_1001() {
    let gone = Arc::new(Notify::new());
    let server =
        Running::start(app(&gone).websocket(WebSocketSettings::new().heartbeat(None))).await;
    let mut client = connect(&server, "/echo").await;
    next_text(&mut client).await;
    let shutdown = tokio::spawn(server.shutdown());
    let frame = close_frame(&mut client).await.expect("a close frame");
    assert_eq!(frame.code, CloseCode::Away);
    assert_eq!(frame.reason.as_str(), "server shutting down");
    within("the server to stop", shutdown)
        .await
        .expect("no panic")
        .expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_sockets_each_echo_a_hundred_messages() {
    let gone = Arc::new(Notify::new());
    let server = Running::start(app(&gone).websocket(WebSocketSettings::new())).await;
    let url = format!("ws://{}/echo", server.addr);
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..1000 {
        let url = url.clone();
        clients.spawn(async move {
            let (mut client, _) = connect_async(url).await.expect("connected");
            let mut received = 0;
            while received == 0 {
                if let Some(Ok(WireMessage::Text(_))) = client.next().await {
                    received = 1; // the greeting
                }
            }
            for m in 0..100 {
                client
                    .send(WireMessage::text(format!("{c}:{m}")))
                    .await
                    .expect("send");
            }
            let mut echoed = 0;
            while echoed < 100 {
                match client.next().await {
                    Some(Ok(WireMessage::Text(text))) => {
                        assert_eq!(
                            text.as_str(),
                            format!("{c}:{echoed}"),
                            "in order, none lost"
                        );
                        echoed += 1;
                    }
                    Some(Ok(_)) => {}
                    other => panic!("socket {c} ended early: {other:?}"),
                }
            }
            client.close(None).await.ok();
            echoed
        });
    }
    let total = within("every socket to finish", async {
        let mut total = 0;
        while let Some(echoed) = clients.join_next().await {
            total += echoed.expect("no client panicked");
        }
        total
    })
    .await;
    assert_eq!(total, 100_000);
    server.shutdown().await.expect("clean shutdown");
}

/// Python's `websockets` client, a second independent implementation, talks to the
/// echo view: text, binary and the close code.
#[tokio::test(flavor = "multi_thread")]
async fn python_websockets_client() {
    if !bocata_tests::client(
        "Python's websockets",
        bocata_tests::has_python_module("websockets"),
    ) {
        return;
    }
    let gone = Arc::new(Notify::new());
    let server = Running::start(app(&gone)).await;
    let url = format!("ws://{}/echo?name=py", server.addr);
    let script = r#"
import sys
from websockets.sync.client import connect
with connect(sys.argv[1]) as ws:
    print(ws.recv())
    ws.send("from python")
    print(ws.recv())
    ws.send(b"\x00\x01")
    print(ws.recv().hex())
    ws.send("bye")
    try:
        ws.recv()
    except Exception:
        pass
    print(ws.close_code, ws.close_reason)
"#;
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args(["-c", script, &url])
            .output()
            .expect("python3 is installed")
    })
    .await
    .expect("python ran");
    assert!(
        output.status.success(),
        "python's websockets failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "hello py\nfrom python\n0001\n4000 see you\n"
    );
    server.shutdown().await.expect("clean shutdown");
}

/// Sends 64 KiB messages until a send fails, then says so.
struct Flood {
    failed: Arc<Notify>,
}

#[bocata::view]
impl Flood {
    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        let message = Message::binary(vec![b'f'; 64 * 1024]);
        while ws.send(message.clone()).await.is_ok() {}
        self.failed.notify_one();
        Ok(())
    }
}

#[tokio::test]
async fn a_send_to_a_peer_that_stops_reading_fails_after_the_chunk_timeout() {
    let failed = Arc::new(Notify::new());
    let app = App::new()
        .route(
            "/flood",
            Flood {
                failed: Arc::clone(&failed),
            },
        )
        .chunk_timeout(Duration::from_millis(300))
        // An app-wide complete timeout does not end a WebSocket.
        .complete_timeout(Duration::from_millis(1));
    let server = Running::start(app).await;
    // Connected, and then never read from.
    let (_client, _) = within(
        "the handshake",
        connect_async(format!("ws://{}/flood", server.addr)),
    )
    .await
    .expect("accepted");
    within("the send to fail", failed.notified()).await;
    server.shutdown().await.expect("clean shutdown");
}

/// Answers each message with `got <text>` and each tick of a channel with `tick`, from
/// one `select!`: a tick that arrives while a message is half read drops that `recv`.
struct Ticked {
    ticks: std::sync::Mutex<Option<mpsc::UnboundedReceiver<()>>>,
}

#[bocata::view]
impl Ticked {
    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        let mut ticks = self
            .ticks
            .lock()
            .expect("not poisoned")
            .take()
            .expect("one socket per test");
        loop {
            tokio::select! {
                // `recv` first, so that it reads whatever has arrived before a tick
                // wins and drops it.
                biased;
                message = ws.recv() => match message {
                    Some(Ok(Message::Text(text))) => ws.send_text(format!("got {text}")).await?,
                    Some(other) => {
                        ws.send_text(format!("unexpected {other:?}")).await?;
                        break;
                    }
                    None => break,
                },
                Some(()) = ticks.recv() => ws.send_text("tick").await?,
            }
        }
        Ok(())
    }
}

/// A frame as a client sends it: masked (RFC 6455 §5.3), with a 7- or 16-bit length.
fn masked_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = vec![if fin { 0x80 | opcode } else { opcode }];
    match u8::try_from(payload.len()) {
        Ok(len) if len < 126 => frame.push(0x80 | len),
        _ => {
            frame.push(0x80 | 126);
            let len = u16::try_from(payload.len()).expect("a test message under 64 KiB");
            frame.extend(len.to_be_bytes());
        }
    }
    frame.extend(mask);
    frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    frame
}

/// The next text, counting the pongs before it.
async fn next_text_counting_pongs(client: &mut Client, pongs: &mut usize) -> String {
    loop {
        match within("a message", client.next()).await {
            Some(Ok(WireMessage::Text(text))) => return text.to_string(),
            Some(Ok(WireMessage::Pong(_))) => *pongs += 1,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn recv_dropped_by_select_loses_nothing_and_keeps_answering_pings() {
    use tokio::io::AsyncWriteExt;

    let (ticks, ticks_rx) = mpsc::unbounded_channel();
    let app = App::new()
        .route(
            "/ticked",
            Ticked {
                ticks: std::sync::Mutex::new(Some(ticks_rx)),
            },
        )
        // No server pings: this client writes raw bytes under its protocol library,
        // which would otherwise answer them in the middle of a frame.
        .websocket(WebSocketSettings::new().heartbeat(None));
    let server = Running::start(app).await;
    let mut client = connect(&server, "/ticked").await;
    let mut pongs = 0;
    for n in 0..40 {
        // Three fragments, cut wherever the byte count falls, even inside a character;
        // a ping between the first two (RFC 6455 §5.4 allows control frames there).
        let text = format!("{n}: {}", "жy".repeat(n * 7));
        let bytes = text.as_bytes();
        let (one, rest) = bytes.split_at(bytes.len() / 3);
        let (two, three) = rest.split_at(rest.len() / 2);
        let wire = [
            masked_frame(false, 0x1, one),
            masked_frame(true, 0x9, format!("ping {n}").as_bytes()),
            masked_frame(false, 0x0, two),
            masked_frame(true, 0x0, three),
        ]
        .concat();
        // Written a few bytes at a time, each piece followed by a tick: a `recv` that
        // has read part of a frame or part of the message is dropped, and the next one
        // must carry on from there.
        let pieces: Vec<&[u8]> = wire.chunks(3 + n % 11).collect();
        let (last, first) = pieces.split_last().expect("some bytes");
        for piece in first {
            within("a write", client.get_mut().write_all(piece))
                .await
                .expect("written");
            ticks.send(()).expect("the view is listening");
            assert_eq!(
                next_text_counting_pongs(&mut client, &mut pongs).await,
                "tick",
                "message {n} is not whole yet"
            );
        }
        within("a write", client.get_mut().write_all(last))
            .await
            .expect("written");
        ticks.send(()).expect("the view is listening");
        // The message and the last tick, in whichever order the view saw them.
        let mut answers = [
            next_text_counting_pongs(&mut client, &mut pongs).await,
            next_text_counting_pongs(&mut client, &mut pongs).await,
        ];
        answers.sort();
        assert_eq!(answers, [format!("got {text}"), "tick".to_owned()]);
        assert_eq!(pongs, n + 1, "every ping answered once, before the message");
    }
    server.shutdown().await.expect("clean shutdown");
}
