//! The client end of an in-process WebSocket.

use std::collections::VecDeque;

use futures_util::{FutureExt, SinkExt, StreamExt};
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
/// As over a real socket, a message the server refuses (one over
/// [`max_message_size`](crate::websocket::WebSocketSettings::max_message_size), say)
/// is answered with a close frame, which [`recv`](Self::recv) and
/// [`closed`](Self::closed) return whether the server refused the message before or
/// after it was written whole; [`try_send`](Self::try_send) also reports the close
/// when the message could not be written.
///
/// Its methods panic when the connection breaks without a close frame: in a test,
/// that is a failure to report.
#[derive(Debug)]
pub struct TestWebSocket {
    stream: WebSocketStream<DuplexStream>,
    headers: HeaderMap,
    /// Messages a send read while looking for the server's close; `recv` returns them
    /// first, in order.
    read_ahead: VecDeque<Message>,
    close: Close,
}

/// Whether the server's close frame has been read, and whether `recv` has returned it.
#[derive(Debug)]
enum Close {
    NotSeen,
    /// Read by a send, after the messages in `read_ahead`.
    Pending(Option<CloseFrame>),
    /// Returned by `recv`, which returns nothing more.
    Delivered(Option<CloseFrame>),
}

/// How a send found the socket.
enum Outcome {
    Sent,
    /// Closed by the server, with the close frame's code and reason, if it had them.
    Closed(Option<CloseFrame>),
    /// Ended without a close frame.
    Broken,
}

impl TestWebSocket {
    pub(super) async fn new(io: DuplexStream, headers: HeaderMap) -> Self {
        Self {
            stream: WebSocketStream::from_raw_socket(io, Role::Client, None).await,
            headers,
            read_ahead: VecDeque::new(),
            close: Close::NotSeen,
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

    /// Sends a message. Once the server has closed the socket, as it does on a message
    /// over its size limit, the message is dropped, as a browser drops it, and the
    /// close is left for [`recv`](Self::recv) and [`closed`](Self::closed):
    ///
    /// ```
    /// # use bocata::websocket::{Message, WebSocket, WebSocketSettings};
    /// # use bocata::{App, Request, Result, testing::TestClient};
    /// # struct Echo;
    /// # #[bocata::view]
    /// # impl Echo {
    /// #     async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
    /// #         while let Some(Ok(message)) = ws.recv().await {
    /// #             ws.send(message).await?;
    /// #         }
    /// #         Ok(())
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app = App::new()
    ///     .route("/echo", Echo)
    ///     .websocket(WebSocketSettings::new().max_message_size(1024));
    /// let client = TestClient::new(app);
    /// let mut ws = client.get("/echo").websocket().await.expect("accepted");
    /// ws.send(Message::text("x".repeat(2048))).await;
    /// assert_eq!(ws.closed().await, Some((1009, "message too big".to_owned())));
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// If the connection broke without a close frame.
    pub async fn send(&mut self, message: Message) {
        if let Outcome::Broken = self.send_or_read_close(message).await {
            panic!("the WebSocket connection broke without a close frame");
        }
    }

    /// Sends a message, or returns the server's close when the socket was closed
    /// before the message could be written whole: the code and reason of its close
    /// frame; 1005 for a close frame without a code, 1006 for a connection that ended
    /// without a close frame (RFC 6455 §7.1.5). [`recv`](Self::recv) still returns
    /// the messages the server sent before its close, then the close.
    ///
    /// `Ok` means that the message was written, not that the server accepted it: a
    /// message over the server's size limit that fits in the pipe is refused once
    /// read, and [`closed`](Self::closed) then returns the 1009. A test of a limit
    /// uses [`send`](Self::send) and `closed`, which see the close either way.
    ///
    /// # Errors
    ///
    /// The close, as above.
    pub async fn try_send(&mut self, message: Message) -> Result<(), CloseFrame> {
        let code = match self.send_or_read_close(message).await {
            Outcome::Sent => return Ok(()),
            Outcome::Closed(Some(frame)) => return Err(frame),
            Outcome::Closed(None) => 1005,
            Outcome::Broken => 1006,
        };
        Err(CloseFrame {
            code,
            reason: String::new(),
        })
    }

    /// Sends a text message, as [`send`](Self::send).
    ///
    /// # Panics
    ///
    /// If the connection broke without a close frame.
    pub async fn send_text(&mut self, text: &str) {
        self.send(Message::text(text)).await;
    }

    /// Sends `value` as JSON text, as [`send`](Self::send).
    ///
    /// # Panics
    ///
    /// If `value` fails to serialize or the connection broke without a close frame.
    pub async fn send_json<T: Serialize + ?Sized>(&mut self, value: &T) {
        let json = serde_json::to_string(value).expect("a serializable value");
        self.send(Message::text(json)).await;
    }

    /// The next message, control frames included; the server's close is the last one,
    /// and `None` follows it.
    pub async fn recv(&mut self) -> Option<Message> {
        if let Some(message) = self.read_ahead.pop_front() {
            return Some(message);
        }
        let frame = match &self.close {
            Close::NotSeen => match self.read().await? {
                Message::Close(frame) => frame,
                message => return Some(message),
            },
            Close::Pending(frame) => frame.clone(),
            Close::Delivered(_) => return None,
        };
        self.close = Close::Delivered(frame.clone());
        Some(Message::Close(frame))
    }

    /// The next message off the pipe.
    async fn read(&mut self) -> Option<Message> {
        loop {
            if let Some(message) = Message::from_wire(self.stream.next().await?.ok()?) {
                return Some(message);
            }
        }
    }

    /// Writes `message`, unless the server's close has arrived. A close that is in the
    /// pipe already is found before writing, whether or not the server still holds the
    /// pipe; when the write fails, the close that explains it is read. The messages
    /// read on the way are kept for `recv`.
    async fn send_or_read_close(&mut self, message: Message) -> Outcome {
        if let Close::Pending(frame) | Close::Delivered(frame) = &self.close {
            return Outcome::Closed(frame.clone());
        }
        while let Some(Some(read)) = self.read().now_or_never() {
            if let Message::Close(frame) = read {
                return self.closed_by_server(frame);
            }
            self.read_ahead.push_back(read);
        }
        if self.stream.send(message.into_wire()).await.is_ok() {
            return Outcome::Sent;
        }
        // The server closed its end while the message was being written, as it does
        // as soon as it reads the header of a frame over its limit.
        while let Some(read) = self.read().await {
            if let Message::Close(frame) = read {
                return self.closed_by_server(frame);
            }
            self.read_ahead.push_back(read);
        }
        Outcome::Broken
    }

    /// Keeps the server's close for `recv`.
    fn closed_by_server(&mut self, frame: Option<CloseFrame>) -> Outcome {
        self.close = Close::Pending(frame.clone());
        Outcome::Closed(frame)
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
