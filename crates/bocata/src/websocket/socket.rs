//! The open WebSocket a view's `on_websocket` receives.
//!
//! The socket's two directions live apart, so that one task can send while another
//! waits in `recv`: the receiver owns the reading half, and the sender and the
//! receiver share the writing half behind a lock. That is how `recv` pings the peer and
//! closes the socket itself (1001, 1002, 1007, 1009) whether or not the socket was
//! split.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Mutex;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::Message as Wire;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_util::sync::CancellationToken;

use super::WebSocketSettings;
use super::message::Message;

/// Any connection a WebSocket can run over: an upgraded HTTP connection, or the
/// in-process pipe of the [`TestClient`](crate::testing::TestClient).
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

type Stream = WebSocketStream<Box<dyn Io>>;

/// The writing half, shared by the sender and the receiver.
type Sink = Arc<Mutex<SplitSink<Stream, Wire>>>;

/// How long `recv` tries to write a ping or a close frame of its own. The sender may
/// be in the middle of a send, or the peer may have stopped reading; past this, the
/// frame is given up (and after a close, `recv` ends all the same), so a peer that
/// does not read cannot keep a socket open.
const OWN_FRAME_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest close reason: a control frame's payload is at most 125 bytes, two of
/// which are the code (RFC 6455 §5.5).
const MAX_CLOSE_REASON: usize = 123;

/// A WebSocket problem: a protocol violation, a message over the size limit, invalid
/// UTF-8 in a text message, a connection that broke, JSON that does not fit, or a
/// close frame that may not be sent. Its `Display` says which.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct WebSocketError(#[from] Problem);

#[derive(Debug, thiserror::Error)]
enum Problem {
    #[error("WebSocket error: {0}")]
    Protocol(#[from] tungstenite::Error),
    #[error("the message is not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("close code {0} may not be sent in a close frame (RFC 6455 §7.4)")]
    CloseCode(u16),
    #[error("a close reason is at most {MAX_CLOSE_REASON} bytes; this one is {0}")]
    CloseReason(usize),
}

impl WebSocketError {
    /// Whether the peer sent a message over the size limit (the socket was closed with
    /// 1009).
    pub fn is_too_big(&self) -> bool {
        matches!(
            &self.0,
            Problem::Protocol(tungstenite::Error::Capacity(
                CapacityError::MessageTooLong { .. }
            ))
        )
    }

    /// Whether the peer sent a text message (or a close reason) that is not valid
    /// UTF-8 (the socket was closed with 1007).
    pub fn is_invalid_utf8(&self) -> bool {
        matches!(&self.0, Problem::Protocol(tungstenite::Error::Utf8(_)))
    }

    /// Whether a message was not valid JSON of the expected shape.
    pub fn is_json(&self) -> bool {
        matches!(self.0, Problem::Json(_))
    }
}

fn problem(error: impl Into<Problem>) -> WebSocketError {
    WebSocketError(error.into())
}

/// An open WebSocket, given to a view's `on_websocket`.
///
/// [`recv`](Self::recv) yields text and binary messages and handles the rest: it
/// answers pings, pings the peer on the heartbeat, closes the socket with 1001 when the
/// peer stays silent past the idle timeout or the server shuts down, with 1009 when a
/// message is too big, with 1007 when a text message is not UTF-8 and with 1002 on
/// other protocol violations. It returns `None` once the socket is closed, by either
/// side, or the peer has vanished.
///
/// For full-duplex work (a task pushing broadcasts while another reads),
/// [`split`](Self::split) it into a [`WebSocketSender`] and a [`WebSocketReceiver`]:
/// the receiver's `recv` does all of the above just the same.
#[derive(Debug)]
pub struct WebSocket {
    sender: WebSocketSender,
    receiver: WebSocketReceiver,
}

/// The sending half of a [`WebSocket`]. It shares the connection's writing side with
/// the [`WebSocketReceiver`], which writes its pings and closes through it too.
#[derive(Debug)]
pub struct WebSocketSender {
    sink: Sink,
}

/// The receiving half of a [`WebSocket`]. Its [`recv`](Self::recv) pings, answers and
/// closes as the unsplit socket's does.
///
/// `recv` is cancel-safe, as [`WebSocket::recv`] is: used in `tokio::select!` and
/// dropped before it completes, it loses no message, and a close it had begun to send
/// is sent by the next call.
#[derive(Debug)]
pub struct WebSocketReceiver {
    stream: SplitStream<Stream>,
    sink: Sink,
    settings: WebSocketSettings,
    shutdown: CancellationToken,
    last_heard: Instant,
    next_ping: Option<Instant>,
    phase: Phase,
}

/// Where the receiver is in the socket's life.
#[derive(Debug)]
enum Phase {
    Open,
    /// `recv` decided to close the socket; the close frame goes out (again, if a
    /// cancelled call began it) before `recv` reports the outcome.
    Closing(Closing),
    Ended,
}

/// A close `recv` owes the peer, and what to report once it is sent.
#[derive(Debug)]
struct Closing {
    code: CloseCode,
    reason: &'static str,
    /// The error that caused the close, for the view; `None` ends the socket quietly.
    error: Option<tungstenite::Error>,
}

impl std::fmt::Debug for dyn Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Io")
    }
}

impl WebSocket {
    pub(crate) async fn new(
        io: Box<dyn Io>,
        role: Role,
        settings: WebSocketSettings,
        shutdown: CancellationToken,
    ) -> Self {
        let stream =
            WebSocketStream::from_raw_socket(io, role, Some(settings.protocol_config())).await;
        let (sink, stream) = stream.split();
        let sink = Arc::new(Mutex::new(sink));
        let now = Instant::now();
        Self {
            sender: WebSocketSender {
                sink: Arc::clone(&sink),
            },
            receiver: WebSocketReceiver {
                stream,
                sink,
                next_ping: settings.heartbeat.map(|every| now + every),
                settings,
                shutdown,
                last_heard: now,
                phase: Phase::Open,
            },
        }
    }

    /// The next text or binary message; `None` once the socket is closed, the peer is
    /// silent past the idle timeout, or the server shuts down (the last two close the
    /// socket with 1001).
    ///
    /// # Cancel safety
    ///
    /// `recv` is cancel-safe: dropped before it completes, as the losing branch of a
    /// `tokio::select!`, it loses nothing. A frame or a fragmented message it had
    /// begun to read is kept, and the next call carries on from there; a ping the peer
    /// sent is still answered; the heartbeat keeps its schedule; a close it had begun
    /// to send is finished by the next call, which then reports why. So one task can
    /// wait on the client and on something else without [splitting](Self::split) the
    /// socket:
    ///
    /// ```
    /// use bocata::websocket::WebSocket;
    /// use bocata::{Request, Result};
    /// use tokio::sync::broadcast;
    ///
    /// struct Headlines(broadcast::Sender<String>);
    ///
    /// #[bocata::view]
    /// impl Headlines {
    ///     async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
    ///         let mut headlines = self.0.subscribe();
    ///         loop {
    ///             tokio::select! {
    ///                 // What the client says is echoed…
    ///                 message = ws.recv() => match message {
    ///                     Some(Ok(message)) => ws.send(message).await?,
    ///                     Some(Err(_)) | None => break,
    ///                 },
    ///                 // …and the headlines are pushed as they come.
    ///                 Ok(headline) = headlines.recv() => ws.send_text(headline).await?,
    ///             }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// A protocol violation, a message over the size limit or a text message that is
    /// not UTF-8 (after which the socket is closed with 1002, 1009 or 1007).
    pub async fn recv(&mut self) -> Option<Result<Message, WebSocketError>> {
        self.receiver.recv().await
    }

    /// The next message parsed as JSON of type `T`; `None` once the socket is closed.
    /// Cancel-safe, as [`recv`](Self::recv).
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv), and an error (not a panic, and the socket stays open)
    /// for a message that is not JSON of type `T`: check
    /// [`WebSocketError::is_json`].
    pub async fn recv_json<T: DeserializeOwned>(&mut self) -> Option<Result<T, WebSocketError>> {
        self.receiver.recv_json().await
    }

    /// Sends a message.
    ///
    /// # Errors
    ///
    /// When the connection is broken or closed.
    pub async fn send(&mut self, message: Message) -> Result<(), WebSocketError> {
        self.sender.send(message).await
    }

    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// When the connection is broken or closed.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), WebSocketError> {
        self.sender.send_text(text).await
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// When the connection is broken or closed.
    pub async fn send_binary(&mut self, bytes: impl Into<Bytes>) -> Result<(), WebSocketError> {
        self.sender.send_binary(bytes).await
    }

    /// Sends `value` as a JSON text message.
    ///
    /// # Errors
    ///
    /// When `value` fails to serialize, or the connection is broken or closed.
    pub async fn send_json<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), WebSocketError> {
        self.sender.send_json(value).await
    }

    /// Closes the socket with `code` (1000 for a normal close) and `reason`; see
    /// [`WebSocketSender::close`].
    ///
    /// # Errors
    ///
    /// A code that may not be sent or a reason over 123 bytes (nothing is sent), or a
    /// connection that is already broken.
    pub async fn close(mut self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        self.sender.close(code, reason).await
    }

    /// Splits the socket into halves that can live in different tasks. The receiver
    /// keeps pinging and closing as the whole socket did; the sender can close the
    /// socket with a code of its own.
    pub fn split(self) -> (WebSocketSender, WebSocketReceiver) {
        (self.sender, self.receiver)
    }
}

impl WebSocketSender {
    /// Sends a message.
    ///
    /// # Errors
    ///
    /// When the connection is broken or closed.
    pub async fn send(&mut self, message: Message) -> Result<(), WebSocketError> {
        self.sink
            .lock()
            .await
            .send(message.into_wire())
            .await
            .map_err(problem)
    }

    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// When the connection is broken or closed.
    pub async fn send_text(&mut self, text: impl Into<String>) -> Result<(), WebSocketError> {
        self.send(Message::text(text.into())).await
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// When the connection is broken or closed.
    pub async fn send_binary(&mut self, bytes: impl Into<Bytes>) -> Result<(), WebSocketError> {
        self.send(Message::Binary(bytes.into())).await
    }

    /// Sends `value` as a JSON text message.
    ///
    /// # Errors
    ///
    /// When `value` fails to serialize, or the connection is broken or closed.
    pub async fn send_json<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), WebSocketError> {
        let json = serde_json::to_string(value).map_err(problem)?;
        self.send(Message::text(json)).await
    }

    /// Closes the socket with `code` and `reason`: 1000 for a normal close, 1003 for a
    /// message of a kind the view does not take, 1007 for data that does not fit, 1008
    /// for a policy violation, or an application's own code from 3000 to 4999. After
    /// it, sends fail, and the receiver's `recv` ends once the peer answers.
    ///
    /// # Errors
    ///
    /// A code that may not be sent (under 1000, 1004–1006, 1014–2999, 5000 and up;
    /// RFC 6455 §7.4) or a reason over 123 bytes: nothing is sent. Otherwise, a
    /// connection that is already broken.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        let frame = close_frame(code, reason)?;
        let mut sink = self.sink.lock().await;
        sink.send(Wire::Close(Some(frame))).await.map_err(problem)?;
        sink.close().await.map_err(problem)
    }
}

/// The close frame for `code` and `reason`, if the protocol lets one send it.
fn close_frame(code: u16, reason: &str) -> Result<CloseFrame, WebSocketError> {
    let close_code = CloseCode::from(code);
    if !close_code.is_allowed() {
        return Err(problem(Problem::CloseCode(code)));
    }
    if reason.len() > MAX_CLOSE_REASON {
        return Err(problem(Problem::CloseReason(reason.len())));
    }
    Ok(CloseFrame {
        code: close_code,
        reason: reason.into(),
    })
}

impl WebSocketReceiver {
    /// The next text or binary message; `None` once the socket is closed, the peer is
    /// silent past the idle timeout, or the server shuts down (the last two close the
    /// socket with 1001).
    ///
    /// Cancel-safe, as [`WebSocket::recv`]: in a `tokio::select!` branch that loses,
    /// no message is lost, a frame half read is kept for the next call, and a close
    /// that `recv` had begun to send is finished by the next call.
    ///
    /// # Errors
    ///
    /// A protocol violation, a message over the size limit or a text message that is
    /// not UTF-8 (after which the socket is closed with 1002, 1009 or 1007, and the
    /// next call returns `None`).
    pub async fn recv(&mut self) -> Option<Result<Message, WebSocketError>> {
        if let Phase::Open = self.phase {
            self.phase = match self.next_event().await {
                Event::Message(message) => return Some(Ok(message)),
                Event::Close(closing) => Phase::Closing(closing),
                Event::Ended => Phase::Ended,
            };
        }
        if let Phase::Closing(closing) = &self.phase {
            let frame = CloseFrame {
                code: closing.code,
                reason: closing.reason.into(),
            };
            // A cancelled call leaves the phase as it is, and the next call sends the
            // close again: the protocol sends it only once, and flushes it.
            self.write_own(Wire::Close(Some(frame))).await;
            if let Phase::Closing(closing) = std::mem::replace(&mut self.phase, Phase::Ended) {
                return closing.error.map(|error| Err(problem(error)));
            }
        }
        None
    }

    /// The next message parsed as JSON of type `T`. Cancel-safe, as
    /// [`recv`](Self::recv).
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv), and an error for a message that is not JSON of type `T`.
    pub async fn recv_json<T: DeserializeOwned>(&mut self) -> Option<Result<T, WebSocketError>> {
        Some(self.recv().await?.and_then(|m| parse_json(&m)))
    }

    /// Reads until a data message, handling control frames, the heartbeat, the idle
    /// timeout and shutdown. Each of its waits can be dropped without losing anything:
    /// a frame is taken from the stream only when it completes.
    async fn next_event(&mut self) -> Event {
        loop {
            let idle_deadline = self.settings.idle_timeout.map(|t| self.last_heard + t);
            tokio::select! {
                // In this order: a shutdown first, then what the peer sent, then the
                // clocks. A frame that arrived while the view was busy elsewhere is
                // read even if the idle deadline has passed since: the peer was not
                // silent.
                biased;
                () = self.shutdown.cancelled() => return Event::Close(Closing {
                    code: CloseCode::Away,
                    reason: "server shutting down",
                    error: None,
                }),
                frame = self.stream.next() => {
                    let message = match frame {
                        Some(Ok(message)) => message,
                        Some(Err(error)) => return failed(error),
                        None => return Event::Ended,
                    };
                    self.last_heard = Instant::now();
                    match message {
                        Wire::Text(_) | Wire::Binary(_) => {
                            if let Some(message) = Message::from_wire(message) {
                                return Event::Message(message);
                            }
                        }
                        // Pings and a close are answered by the protocol, which queues
                        // the answer and sends it on the next read; after a close that
                        // read ends the stream, and with it the socket.
                        Wire::Ping(_) | Wire::Pong(_) | Wire::Close(_) | Wire::Frame(_) => {}
                    }
                }
                () = until(idle_deadline) => return Event::Close(Closing {
                    code: CloseCode::Away,
                    reason: "idle timeout",
                    error: None,
                }),
                () = until(self.next_ping) => {
                    self.next_ping = self.settings.heartbeat.map(|every| Instant::now() + every);
                    // A broken connection shows on the read side; a peer that does not
                    // read is caught by the idle timeout.
                    self.write_own(Wire::Ping(Bytes::new())).await;
                }
            }
        }
    }

    /// Writes a ping or a close of `recv`'s own, giving up after [`OWN_FRAME_TIMEOUT`].
    async fn write_own(&self, message: Wire) {
        let closing = matches!(message, Wire::Close(_));
        let write = async {
            let mut sink = self.sink.lock().await;
            sink.send(message).await?;
            if closing {
                sink.close().await?;
            }
            Ok::<_, tungstenite::Error>(())
        };
        match tokio::time::timeout(OWN_FRAME_TIMEOUT, write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::debug!(target: "bocata::websocket", "a ping or close was not sent: {e}");
            }
            Err(_) => tracing::debug!(
                target: "bocata::websocket",
                "a ping or close was not sent within {OWN_FRAME_TIMEOUT:?}; the peer is not reading"
            ),
        }
    }
}

/// What the receiver makes of the stream.
enum Event {
    Message(Message),
    Close(Closing),
    Ended,
}

/// What `recv` makes of a read error: a vanished peer ends the socket; the others close
/// it with the code RFC 6455 §7.4.1 gives them.
fn failed(error: tungstenite::Error) -> Event {
    let (code, reason) = match &error {
        tungstenite::Error::ConnectionClosed
        | tungstenite::Error::AlreadyClosed
        | tungstenite::Error::Io(_) => return Event::Ended,
        tungstenite::Error::Capacity(_) => (CloseCode::Size, "message too big"),
        // §8.1: a text message (or a close reason) that is not UTF-8 fails the
        // connection; 1007 is "data inconsistent with the type of the message".
        tungstenite::Error::Utf8(_) => (CloseCode::Invalid, "invalid UTF-8"),
        _ => (CloseCode::Protocol, "protocol error"),
    };
    Event::Close(Closing {
        code,
        reason,
        error: Some(error),
    })
}

/// Completes at `deadline`, or never.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn parse_json<T: DeserializeOwned>(message: &Message) -> Result<T, WebSocketError> {
    let parsed = match message {
        Message::Text(text) => serde_json::from_str(text),
        Message::Binary(bytes) => serde_json::from_slice(bytes),
        _ => serde_json::from_str(""),
    };
    parsed.map_err(problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_frames_the_protocol_forbids_are_refused_before_anything_is_sent() {
        for code in [
            0,
            999,
            1004,
            1005,
            1006,
            1014,
            1015,
            1016,
            2999,
            5000,
            u16::MAX,
        ] {
            let err = close_frame(code, "").expect_err("a reserved code");
            assert!(err.to_string().contains(&code.to_string()), "{err}");
        }
        for code in [1000, 1001, 1003, 1007, 1008, 1011, 1013, 3000, 4999] {
            let frame = close_frame(code, "bye").expect("an allowed code");
            assert_eq!(u16::from(frame.code), code);
        }
        let longest = "é".repeat(61) + "x";
        assert_eq!(longest.len(), MAX_CLOSE_REASON);
        assert!(close_frame(1000, &longest).is_ok());
        let err = close_frame(1000, &(longest + "x")).expect_err("too long");
        assert!(err.to_string().contains("124"), "{err}");
    }

    /// A server socket over a pipe of `capacity` bytes each way, its client, and the
    /// token that tells it the server is shutting down.
    async fn pair(
        capacity: usize,
    ) -> (
        WebSocket,
        WebSocketStream<tokio::io::DuplexStream>,
        CancellationToken,
    ) {
        let (ours, theirs) = tokio::io::duplex(capacity);
        let settings = WebSocketSettings::new()
            .max_message_size(16)
            .heartbeat(None)
            .idle_timeout(None);
        let shutdown = CancellationToken::new();
        let server = WebSocket::new(Box::new(ours), Role::Server, settings, shutdown.clone()).await;
        let client = WebSocketStream::from_raw_socket(theirs, Role::Client, None).await;
        (server, client, shutdown)
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_does_not_read_cannot_hold_recv_past_its_own_frame_timeout() {
        let (server, _client, shutdown) = pair(64).await;
        let (mut sender, mut receiver) = server.split();
        // The sender is stuck mid-send: the client reads nothing and the pipe is full.
        let stuck = tokio::spawn(async move { sender.send_binary(vec![0; 1024]).await });
        while receiver.sink.try_lock().is_ok() {
            tokio::task::yield_now().await;
        }
        shutdown.cancel();
        let started = Instant::now();
        let ended = tokio::time::timeout(Duration::from_secs(60), receiver.recv()).await;
        assert!(matches!(ended, Ok(None)), "recv ends: {ended:?}");
        assert_eq!(
            started.elapsed(),
            OWN_FRAME_TIMEOUT,
            "after trying to close"
        );
        assert!(!stuck.is_finished(), "the send is still stuck");
    }

    #[tokio::test(start_paused = true)]
    async fn a_close_cut_short_by_a_cancelled_recv_is_sent_by_the_next() {
        let (mut server, mut client, _shutdown) = pair(64).await;
        // 62 bytes on the wire: the pipe to the client has no room for a close frame.
        server.send_binary(vec![0; 60]).await.expect("sent");
        client.send(Wire::text("x".repeat(32))).await.expect("sent");
        let cancelled = tokio::time::timeout(Duration::from_millis(10), server.recv()).await;
        assert!(cancelled.is_err(), "the close could not be written yet");

        // The client reads, making room; the next `recv` finishes the close and
        // reports why, as the first would have.
        let first = client.next().await.expect("a message").expect("no error");
        assert_eq!(first, Wire::Binary(vec![0; 60].into()));
        let error = server
            .recv()
            .await
            .expect("the error")
            .expect_err("too big");
        assert!(error.is_too_big(), "{error}");
        let close = client.next().await.expect("a close").expect("no error");
        let Wire::Close(Some(frame)) = close else {
            panic!("expected a close frame, got {close:?}");
        };
        assert_eq!(frame.code, CloseCode::Size);
        assert!(server.recv().await.is_none(), "then the socket has ended");
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_waiting_past_the_idle_deadline_is_read_not_closed_as_idle() {
        // The view was busy elsewhere (a long `send`, the other branch of a `select!`)
        // while the peer spoke: the next `recv` finds the message and the idle deadline
        // both due, and the peer was not silent. Each try would pick one of them at
        // random without an order; 32 tries make a wrong pick all but certain.
        for _ in 0..32 {
            let (ours, theirs) = tokio::io::duplex(1024);
            let settings = WebSocketSettings::new()
                .heartbeat(None)
                .idle_timeout(Some(Duration::from_millis(100)));
            let mut server = WebSocket::new(
                Box::new(ours),
                Role::Server,
                settings,
                CancellationToken::new(),
            )
            .await;
            let mut client = WebSocketStream::from_raw_socket(theirs, Role::Client, None).await;
            client.send(Wire::text("still here")).await.expect("sent");
            tokio::time::sleep(Duration::from_millis(200)).await;
            let message = server.recv().await.expect("open").expect("no error");
            assert_eq!(message, Message::text("still here"));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_recv_dropped_mid_frame_loses_nothing() {
        use tokio::io::AsyncWriteExt;

        let (ours, mut theirs) = tokio::io::duplex(1024);
        let settings = WebSocketSettings::new().heartbeat(None).idle_timeout(None);
        let server = WebSocket::new(
            Box::new(ours),
            Role::Server,
            settings,
            CancellationToken::new(),
        )
        .await;
        let (_sender, mut receiver) = server.split();
        // A masked text frame "hello", then a second one, sent in three pieces.
        let mask = [1, 2, 3, 4];
        let masked = |text: &[u8]| -> Vec<u8> {
            let mut frame = vec![0x81, 0x80 | u8::try_from(text.len()).unwrap()];
            frame.extend(mask);
            frame.extend(text.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
            frame
        };
        let bytes = [masked(b"hello"), masked(b"world")].concat();
        // Each piece ends inside a frame, where a `recv` is dropped; the next call
        // carries on from what the dropped one had read.
        for (piece, expected) in [(&bytes[..4], None), (&bytes[4..15], Some("hello"))] {
            theirs.write_all(piece).await.unwrap();
            if let Some(expected) = expected {
                let message = receiver.recv().await.expect("open").expect("no error");
                assert_eq!(message, Message::text(expected));
            }
            let dropped = tokio::time::timeout(Duration::from_millis(10), receiver.recv()).await;
            assert!(dropped.is_err(), "no whole message yet");
        }
        theirs.write_all(&bytes[15..]).await.unwrap();
        let message = receiver.recv().await.expect("open").expect("no error");
        assert_eq!(message, Message::text("world"));
    }
}
