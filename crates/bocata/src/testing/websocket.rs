//! The client end of an in-process WebSocket.

use futures_util::{SinkExt, StreamExt};
use http::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::DuplexStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::websocket::{CloseFrame, Message};

/// A WebSocket client connected in-process to a view's `on_websocket`; see
/// [`TestRequest::websocket`](super::TestRequest::websocket).
///
/// Its methods panic when the connection breaks: in a test, that is a failure to
/// report.
#[derive(Debug)]
pub struct TestWebSocket {
    stream: WebSocketStream<DuplexStream>,
    headers: HeaderMap,
}

impl TestWebSocket {
    pub(super) async fn new(io: DuplexStream, headers: HeaderMap) -> Self {
        Self {
            stream: WebSocketStream::from_raw_socket(io, Role::Client, None).await,
            headers,
        }
    }

    /// The headers of the `101 Switching Protocols` answer: the handshake's, and the
    /// ones the before hooks set. (Its cookies are in the client's jar.)
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name` on the 101, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Sends a message.
    ///
    /// # Panics
    ///
    /// If the connection is broken.
    pub async fn send(&mut self, message: Message) {
        self.stream
            .send(message.into_wire())
            .await
            .expect("the WebSocket to accept a message");
    }

    /// Sends a text message.
    ///
    /// # Panics
    ///
    /// If the connection is broken.
    pub async fn send_text(&mut self, text: &str) {
        self.send(Message::text(text)).await;
    }

    /// Sends `value` as JSON text.
    ///
    /// # Panics
    ///
    /// If `value` fails to serialize or the connection is broken.
    pub async fn send_json<T: Serialize + ?Sized>(&mut self, value: &T) {
        let json = serde_json::to_string(value).expect("a serializable value");
        self.send(Message::text(json)).await;
    }

    /// The next message, control frames included; `None` once the server closed.
    pub async fn recv(&mut self) -> Option<Message> {
        loop {
            if let Some(message) = Message::from_wire(self.stream.next().await?.ok()?) {
                return Some(message);
            }
        }
    }

    /// The next text message, skipping control frames; `None` once closed.
    pub async fn recv_text(&mut self) -> Option<String> {
        loop {
            match self.recv().await? {
                Message::Text(text) => return Some(text),
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// The next text message parsed as JSON.
    ///
    /// # Panics
    ///
    /// If it is not JSON of type `T`.
    pub async fn recv_json<T: DeserializeOwned>(&mut self) -> Option<T> {
        let text = self.recv_text().await?;
        Some(serde_json::from_str(&text).expect("a JSON message of the expected type"))
    }

    /// Reads until the server's close frame and returns its code and reason.
    pub async fn closed(&mut self) -> Option<(u16, String)> {
        loop {
            if let Message::Close(frame) = self.recv().await? {
                return frame.map(|f| (f.code, f.reason));
            }
        }
    }

    /// Closes the socket with `code` and `reason`.
    ///
    /// # Panics
    ///
    /// If the connection is already broken.
    pub async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code,
            reason: reason.to_owned(),
        };
        self.stream
            .send(Message::Close(Some(frame)).into_wire())
            .await
            .expect("a clean close");
    }
}
