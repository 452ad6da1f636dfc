//! The open WebSocket a view's `on_websocket` receives.

use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use super::WebSocketSettings;

/// Any connection a WebSocket can run over: an upgraded HTTP connection, or the
/// in-process pipe of the [`TestClient`](crate::testing::TestClient).
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

type Stream = WebSocketStream<Box<dyn Io>>;

/// A WebSocket problem: a protocol violation, a message over the size limit, a
/// connection that broke, or JSON that does not fit. Its `Display` says which.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct WebSocketError(#[from] Problem);

#[derive(Debug, thiserror::Error)]
enum Problem {
    #[error("WebSocket error: {0}")]
    Protocol(#[from] tungstenite::Error),
    #[error("the message is not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
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
/// answers pings, pings the peer on the heartbeat, closes the socket (1001) when the
/// peer stays silent past the idle timeout or the server shuts down, and closes it with
/// 1009 when a message is too big. It returns `None` once the socket is closed, by
/// either side, or the peer has vanished.
///
/// For full-duplex work (a task pushing broadcasts while another reads),
/// [`split`](Self::split) it into a [`WebSocketSender`] and a [`WebSocketReceiver`].
#[derive(Debug)]
pub struct WebSocket {
    sender: WebSocketSender,
    receiver: WebSocketReceiver,
}

/// The sending half of a [`WebSocket`].
#[derive(Debug)]
pub struct WebSocketSender {
    sink: SplitSink<Stream, Message>,
}

/// The receiving half of a [`WebSocket`]. Alone, it cannot ping or close: heartbeats
/// stop, and on an idle timeout or a shutdown its `recv` just ends.
#[derive(Debug)]
pub struct WebSocketReceiver {
    stream: SplitStream<Stream>,
    settings: WebSocketSettings,
    shutdown: CancellationToken,
    last_heard: Instant,
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
        Self {
            sender: WebSocketSender { sink },
            receiver: WebSocketReceiver {
                stream,
                settings,
                shutdown,
                last_heard: Instant::now(),
            },
        }
    }

    /// The next text or binary message; `None` once the socket is closed.
    ///
    /// # Errors
    ///
    /// A protocol violation, or a message over the size limit (after which the socket
    /// is closed with 1009).
    pub async fn recv(&mut self) -> Option<Result<Message, WebSocketError>> {
        self.receiver.next_message(Some(&mut self.sender)).await
    }

    /// The next message parsed as JSON of type `T`; `None` once the socket is closed.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv), and an error (not a panic, and the socket stays open)
    /// for a message that is not JSON of type `T`: check
    /// [`WebSocketError::is_json`].
    pub async fn recv_json<T: DeserializeOwned>(&mut self) -> Option<Result<T, WebSocketError>> {
        Some(self.recv().await?.and_then(|m| parse_json(&m)))
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

    /// Closes the socket with `code` (1000 for a normal close) and `reason`.
    ///
    /// # Errors
    ///
    /// When the connection is already broken.
    pub async fn close(mut self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        self.sender.close(code, reason).await
    }

    /// Splits the socket into halves that can live in different tasks.
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
        self.sink.send(message).await.map_err(problem)
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

    /// Closes the socket with `code` and `reason`.
    ///
    /// # Errors
    ///
    /// When the connection is already broken.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<(), WebSocketError> {
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        };
        self.sink
            .send(Message::Close(Some(frame)))
            .await
            .map_err(problem)?;
        self.sink.close().await.map_err(problem)
    }
}

impl WebSocketReceiver {
    /// The next text or binary message; `None` once the socket is closed, the peer is
    /// silent past the idle timeout, or the server shuts down.
    ///
    /// # Errors
    ///
    /// A protocol violation, or a message over the size limit.
    pub async fn recv(&mut self) -> Option<Result<Message, WebSocketError>> {
        self.next_message(None).await
    }

    /// The next message parsed as JSON of type `T`.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv), and an error for a message that is not JSON of type `T`.
    pub async fn recv_json<T: DeserializeOwned>(&mut self) -> Option<Result<T, WebSocketError>> {
        Some(self.recv().await?.and_then(|m| parse_json(&m)))
    }

    /// Reads until a data message, handling control frames, the heartbeat (with a
    /// sender), the idle timeout and shutdown.
    async fn next_message(
        &mut self,
        mut sender: Option<&mut WebSocketSender>,
    ) -> Option<Result<Message, WebSocketError>> {
        let heartbeat = self.settings.heartbeat.filter(|_| sender.is_some());
        let mut next_ping = heartbeat.map(|every| Instant::now() + every);
        loop {
            let idle_deadline = self.settings.idle_timeout.map(|t| self.last_heard + t);
            tokio::select! {
                frame = self.stream.next() => {
                    let message = match frame? {
                        Ok(message) => message,
                        Err(error) => return self.failed(error, sender).await,
                    };
                    self.last_heard = Instant::now();
                    match message {
                        Message::Text(_) | Message::Binary(_) => return Some(Ok(message)),
                        // Pings and a close are answered by the protocol, which queues
                        // the answer and sends it on the next read; after a close that
                        // read ends the stream, and with it the socket.
                        Message::Ping(_) | Message::Pong(_) | Message::Close(_) | Message::Frame(_) => {}
                    }
                }
                () = until(idle_deadline) => {
                    close(sender, CloseCode::Away, "idle timeout").await;
                    return None;
                }
                () = until(next_ping) => {
                    next_ping = heartbeat.map(|every| Instant::now() + every);
                    if let Some(sender) = sender.as_deref_mut() {
                        if sender.send(Message::Ping(Bytes::new())).await.is_err() {
                            return None;
                        }
                    }
                }
                () = self.shutdown.cancelled() => {
                    close(sender, CloseCode::Away, "server shutting down").await;
                    return None;
                }
            }
        }
    }

    /// What `recv` makes of a read error: a vanished peer ends the socket; a message
    /// too big closes it with 1009; other violations close it with 1002.
    async fn failed(
        &mut self,
        error: tungstenite::Error,
        sender: Option<&mut WebSocketSender>,
    ) -> Option<Result<Message, WebSocketError>> {
        match &error {
            tungstenite::Error::ConnectionClosed
            | tungstenite::Error::AlreadyClosed
            | tungstenite::Error::Io(_) => None,
            tungstenite::Error::Capacity(_) => {
                close(sender, CloseCode::Size, "message too big").await;
                Some(Err(problem(error)))
            }
            _ => {
                close(sender, CloseCode::Protocol, "protocol error").await;
                Some(Err(problem(error)))
            }
        }
    }
}

/// Sends a close frame if there is a sender; a broken connection needs none.
async fn close(sender: Option<&mut WebSocketSender>, code: CloseCode, reason: &str) {
    if let Some(sender) = sender {
        sender.close(code.into(), reason).await.ok();
    }
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
        Message::Text(text) => serde_json::from_str(text.as_str()),
        Message::Binary(bytes) => serde_json::from_slice(bytes),
        _ => serde_json::from_str(""),
    };
    parsed.map_err(problem)
}
