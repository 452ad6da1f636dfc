//! How a WebSocket ends: the close codes of RFC 6455 §7.4.1 for what a peer sends
//! wrong, checked with frames built byte by byte, and the same closes for a socket
//! that was split into a sender and a receiver.

use std::time::Duration;

use bocata::websocket::{Message, WebSocket, WebSocketError, WebSocketSettings};
use bocata::{App, Request, Result};
use bocata_tests::{Running, within};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as WireMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What a view saw end its socket.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    TooBig,
    InvalidUtf8,
    OtherError,
    End,
}

fn seen(error: &WebSocketError) -> Seen {
    if error.is_too_big() {
        Seen::TooBig
    } else if error.is_invalid_utf8() {
        Seen::InvalidUtf8
    } else {
        Seen::OtherError
    }
}

/// Echoes what it gets on the whole socket, and reports how the socket ended.
struct Whole {
    seen: mpsc::UnboundedSender<Seen>,
}

#[bocata::view]
impl Whole {
    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        ws.send_text("ready").await?;
        while let Some(message) = ws.recv().await {
            match message {
                Ok(message) => ws.send(message).await?,
                Err(e) => {
                    self.seen.send(seen(&e)).ok();
                }
            }
        }
        self.seen.send(Seen::End).ok();
        Ok(())
    }
}

/// What the reading loop asks the writing task to do.
enum Command {
    Echo(Message),
    Close(u16, &'static str),
}

/// A split socket, as a chat uses one: a task of its own writes, the view reads. It
/// echoes text, and has the writer close with 1003 on binary.
struct Split {
    seen: mpsc::UnboundedSender<Seen>,
}

#[bocata::view]
impl Split {
    async fn on_websocket(&self, _req: &Request, ws: WebSocket) -> Result {
        let (mut sender, mut receiver) = ws.split();
        let (commands, mut todo) = mpsc::channel(8);
        let writer = tokio::spawn(async move {
            sender.send_text("ready").await?;
            while let Some(command) = todo.recv().await {
                match command {
                    Command::Echo(message) => sender.send(message).await?,
                    Command::Close(code, reason) => sender.close(code, reason).await?,
                }
            }
            Ok::<_, WebSocketError>(())
        });
        while let Some(message) = receiver.recv().await {
            let command = match message {
                Ok(Message::Binary(_)) => Command::Close(1003, "text only"),
                Ok(message) => Command::Echo(message),
                Err(e) => {
                    self.seen.send(seen(&e)).ok();
                    continue;
                }
            };
            if commands.send(command).await.is_err() {
                break;
            }
        }
        self.seen.send(Seen::End).ok();
        drop(commands);
        writer.await.ok();
        Ok(())
    }
}

fn app(seen: &mpsc::UnboundedSender<Seen>, settings: WebSocketSettings) -> App {
    App::new()
        .route("/whole", Whole { seen: seen.clone() })
        .route("/split", Split { seen: seen.clone() })
        .websocket(settings)
}

/// Small messages, no heartbeat and no idle timeout unless a test wants them.
fn quiet() -> WebSocketSettings {
    WebSocketSettings::new()
        .max_message_size(1024)
        .heartbeat(None)
        .idle_timeout(None)
}

async fn start(settings: WebSocketSettings) -> (Running, mpsc::UnboundedReceiver<Seen>) {
    let (seen, views) = mpsc::unbounded_channel();
    (Running::start(app(&seen, settings)).await, views)
}

async fn view_saw(views: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    within("the view to report", views.recv())
        .await
        .expect("a report")
}

// A client written byte by byte, so that it can send what no client library would.

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONTINUATION: u8 = 0x0;
const CLOSE: u8 = 0x8;

/// A raw WebSocket connection after its handshake.
struct Raw(TcpStream);

impl Raw {
    async fn open(server: &Running, path: &str) -> Self {
        let mut stream = within("the connection", TcpStream::connect(server.addr))
            .await
            .expect("connected");
        let request = format!(
            "GET {path} HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\
             sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.expect("sent");
        // The head, a byte at a time so that no frame is read with it.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let byte = within("the 101", stream.read_u8()).await.expect("a byte");
            head.push(byte);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        Self(stream)
    }

    /// Sends one masked client frame.
    async fn send(&mut self, fin: bool, opcode: u8, payload: &[u8]) {
        let mask = [0x37, 0xfa, 0x21, 0x3d];
        let mut frame = vec![u8::from(fin) << 7 | opcode];
        let len = u8::try_from(payload.len())
            .ok()
            .filter(|l| *l < 126)
            .expect("a short test payload");
        frame.push(0x80 | len);
        frame.extend(mask);
        frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        self.0.write_all(&frame).await.expect("sent");
    }

    /// The next frame from the server (unmasked): its opcode and payload; `None` once
    /// the server has closed the connection.
    async fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let mut head = [0; 2];
        within("a frame", self.0.read_exact(&mut head)).await.ok()?;
        let len = match head[1] & 0x7f {
            126 => usize::from(within("a length", self.0.read_u16()).await.ok()?),
            127 => usize::try_from(within("a length", self.0.read_u64()).await.ok()?).ok()?,
            short => usize::from(short),
        };
        let mut payload = vec![0; len];
        within("a payload", self.0.read_exact(&mut payload))
            .await
            .ok()?;
        Some((head[0] & 0x0f, payload))
    }

    /// The next data frame's opcode and payload, past control frames.
    async fn message(&mut self) -> (u8, Vec<u8>) {
        loop {
            match self.frame().await {
                Some((opcode, payload)) if opcode & 0x8 == 0 => return (opcode, payload),
                Some((CLOSE, payload)) => panic!("closed: {payload:?}"),
                Some(_) => {}
                None => panic!("the connection ended"),
            }
        }
    }

    /// The code of the server's close frame, past any other frame; `None` if the
    /// connection ended without one.
    async fn close_code(&mut self) -> Option<u16> {
        loop {
            let (opcode, payload) = self.frame().await?;
            if opcode == CLOSE {
                return Some(u16::from_be_bytes([*payload.first()?, *payload.get(1)?]));
            }
        }
    }
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_with_1007_in_one_frame_or_across_fragments() {
    type Frames = &'static [(bool, u8, &'static [u8])];
    let cases: [(&str, Frames); 8] = [
        ("a lone continuation byte", &[(true, TEXT, b"caf\xa9")]),
        ("a byte no UTF-8 has", &[(true, TEXT, b"\xff")]),
        ("an overlong slash", &[(true, TEXT, b"\xc0\xaf")]),
        ("an encoded surrogate", &[(true, TEXT, b"\xed\xa0\x80")]),
        ("a sequence cut at the end", &[(true, TEXT, b"caf\xc3")]),
        (
            "a sequence that spans fragments and goes wrong",
            &[(false, TEXT, b"ab\xe2"), (true, CONTINUATION, b"\x28cd")],
        ),
        (
            "a sequence left unfinished by the last fragment",
            &[(false, TEXT, b"ok"), (true, CONTINUATION, b"\xe2\x82")],
        ),
        (
            "a close reason that is not UTF-8",
            &[(true, CLOSE, b"\x03\xe8\xff\xfe")],
        ),
    ];
    let (server, mut views) = start(quiet()).await;
    for (case, frames) in cases {
        for path in ["/whole", "/split"] {
            let mut raw = Raw::open(&server, path).await;
            assert_eq!(raw.message().await, (TEXT, b"ready".to_vec()));
            for (fin, opcode, payload) in frames {
                raw.send(*fin, *opcode, payload).await;
            }
            assert_eq!(raw.close_code().await, Some(1007), "{case} on {path}");
            assert_eq!(view_saw(&mut views).await, Seen::InvalidUtf8, "{case}");
            assert_eq!(view_saw(&mut views).await, Seen::End, "{case}");
        }
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_first_invalid_fragment_closes_without_waiting_for_the_last() {
    let (server, mut views) = start(quiet()).await;
    let mut raw = Raw::open(&server, "/whole").await;
    raw.message().await;
    raw.send(false, TEXT, b"a\xe2").await;
    raw.send(false, CONTINUATION, b"\x28").await;
    // No final fragment: the message can never be text.
    assert_eq!(raw.close_code().await, Some(1007));
    assert_eq!(view_saw(&mut views).await, Seen::InvalidUtf8);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn valid_utf8_split_across_fragments_and_any_binary_are_kept_whole() {
    let (server, _views) = start(quiet()).await;
    let mut raw = Raw::open(&server, "/whole").await;
    raw.message().await;
    // "€" is E2 82 AC: cut after its second byte.
    raw.send(false, TEXT, b"price: \xe2\x82").await;
    raw.send(true, CONTINUATION, b"\xac 5").await;
    assert_eq!(
        raw.message().await,
        (TEXT, "price: € 5".as_bytes().to_vec())
    );
    raw.send(true, BINARY, b"\xff\xfe").await;
    assert_eq!(raw.message().await, (BINARY, b"\xff\xfe".to_vec()));
    // A protocol violation that is not about UTF-8 keeps its 1002: a continuation
    // with no message to continue.
    raw.send(true, CONTINUATION, b"stray").await;
    assert_eq!(raw.close_code().await, Some(1002));
    server.shutdown().await.expect("clean shutdown");
}

async fn connect(server: &Running, path: &str) -> Client {
    let url = format!("ws://{}{path}", server.addr);
    let (mut client, _) = within("the handshake", connect_async(url))
        .await
        .expect("the handshake succeeds");
    match within("the greeting", client.next()).await {
        Some(Ok(WireMessage::Text(text))) => assert_eq!(text.as_str(), "ready"),
        other => panic!("expected the greeting, got {other:?}"),
    }
    client
}

/// The server's close frame, past other messages; `None` if the connection ended
/// without one.
async fn close_frame(client: &mut Client) -> Option<CloseFrame> {
    loop {
        match within("the close", client.next()).await {
            Some(Ok(WireMessage::Close(frame))) => return frame,
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

fn code_and_reason(frame: Option<CloseFrame>) -> Option<(u16, String)> {
    frame.map(|f| (u16::from(f.code), f.reason.to_string()))
}

#[tokio::test]
async fn a_split_socket_is_closed_with_1001_on_shutdown() {
    let (mut server, mut views) = start(quiet()).await;
    let mut client = connect(&server, "/split").await;
    server.stop();
    assert_eq!(
        code_and_reason(close_frame(&mut client).await),
        Some((1001, "server shutting down".to_owned()))
    );
    assert_eq!(view_saw(&mut views).await, Seen::End);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_split_socket_is_closed_with_1009_for_a_message_too_big() {
    let (server, mut views) = start(quiet()).await;
    let mut client = connect(&server, "/split").await;
    client
        .send(WireMessage::text("x".repeat(1025)))
        .await
        .expect("sent");
    assert_eq!(
        code_and_reason(close_frame(&mut client).await),
        Some((1009, "message too big".to_owned()))
    );
    assert_eq!(view_saw(&mut views).await, Seen::TooBig);
    assert_eq!(view_saw(&mut views).await, Seen::End);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_split_socket_is_closed_with_1001_after_the_idle_timeout() {
    let settings = quiet().idle_timeout(Some(Duration::from_millis(200)));
    let (server, mut views) = start(settings).await;
    let mut client = connect(&server, "/split").await;
    assert_eq!(
        code_and_reason(close_frame(&mut client).await),
        Some((1001, "idle timeout".to_owned()))
    );
    assert_eq!(view_saw(&mut views).await, Seen::End);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_split_socket_keeps_its_heartbeat() {
    let settings = quiet().heartbeat(Some(Duration::from_millis(50)));
    let (server, _views) = start(settings).await;
    let mut client = connect(&server, "/split").await;
    let ping = within("a heartbeat ping", async {
        loop {
            match client.next().await {
                Some(Ok(WireMessage::Ping(_))) => return true,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return false,
            }
        }
    })
    .await;
    assert!(ping, "the socket ended before any ping");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_sender_half_closes_with_its_own_code_and_reason() {
    let (server, mut views) = start(quiet()).await;
    let mut client = connect(&server, "/split").await;
    client.send(WireMessage::text("first")).await.expect("sent");
    client
        .send(WireMessage::Binary(vec![1, 2, 3].into()))
        .await
        .expect("sent");
    let mut echoed = None;
    let frame = loop {
        match within("the close", client.next()).await {
            Some(Ok(WireMessage::Text(text))) => echoed = Some(text.to_string()),
            Some(Ok(WireMessage::Close(frame))) => break frame,
            other => panic!("expected the echo and a close, got {other:?}"),
        }
    };
    assert_eq!(echoed.as_deref(), Some("first"), "what came before is kept");
    assert_eq!(code_and_reason(frame), Some((1003, "text only".to_owned())));
    // Reading on sends the client's answer to the close; the receiver's `recv` then
    // ends.
    within("the connection to end", async {
        while client.next().await.is_some() {}
    })
    .await;
    assert_eq!(view_saw(&mut views).await, Seen::End);
    server.shutdown().await.expect("clean shutdown");
}
