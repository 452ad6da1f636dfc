//! WebSocket messages, as bocata's own types: the protocol underneath (tungstenite)
//! stays an implementation detail, so its releases are not bocata's.

use bytes::Bytes;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// A WebSocket message.
///
/// A view's [`recv`](super::WebSocket::recv) yields text and binary messages only:
/// pings, pongs and closes are bocata's to answer. The
/// [`TestWebSocket`](crate::testing::TestWebSocket) of a test sees them all.
///
/// ```
/// use bocata::websocket::Message;
///
/// let hello = Message::text("hello");
/// assert_eq!(hello, Message::Text("hello".to_owned()));
/// assert_eq!(hello.as_text(), Some("hello"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message: valid UTF-8.
    Text(String),
    /// A binary message.
    Binary(Bytes),
    /// A ping, which the other side answers with a pong carrying the same bytes.
    Ping(Bytes),
    /// The answer to a ping.
    Pong(Bytes),
    /// A close, with its code and reason if it has them.
    Close(Option<CloseFrame>),
}

/// The code and reason of a close (RFC 6455 §7.4): 1000 is a normal close, 1001 going
/// away, 1007 data that does not fit, 1009 a message too big, 4000 to 4999 an
/// application's own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The close code.
    pub code: u16,
    /// Why, in a few words (at most 123 bytes).
    pub reason: String,
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }

    /// A binary message.
    pub fn binary(bytes: impl Into<Bytes>) -> Self {
        Self::Binary(bytes.into())
    }

    /// The text of a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The message as the protocol sends it.
    pub(crate) fn into_wire(self) -> tungstenite::Message {
        match self {
            Self::Text(text) => tungstenite::Message::text(text),
            Self::Binary(bytes) => tungstenite::Message::Binary(bytes),
            Self::Ping(bytes) => tungstenite::Message::Ping(bytes),
            Self::Pong(bytes) => tungstenite::Message::Pong(bytes),
            Self::Close(frame) => {
                tungstenite::Message::Close(frame.map(|frame| tungstenite::protocol::CloseFrame {
                    code: CloseCode::from(frame.code),
                    reason: frame.reason.into(),
                }))
            }
        }
    }

    /// The message the protocol read; `None` for a raw frame, which a read never
    /// yields.
    pub(crate) fn from_wire(message: tungstenite::Message) -> Option<Self> {
        Some(match message {
            tungstenite::Message::Text(text) => Self::Text(text.as_str().to_owned()),
            tungstenite::Message::Binary(bytes) => Self::Binary(bytes),
            tungstenite::Message::Ping(bytes) => Self::Ping(bytes),
            tungstenite::Message::Pong(bytes) => Self::Pong(bytes),
            tungstenite::Message::Close(frame) => Self::Close(frame.map(|frame| CloseFrame {
                code: u16::from(frame.code),
                reason: frame.reason.as_str().to_owned(),
            })),
            tungstenite::Message::Frame(_) => return None,
        })
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Self::Binary(bytes)
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(bytes.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_goes_to_the_wire_and_back() {
        let messages = [
            Message::text("héllo"),
            Message::binary(vec![0, 159, 146, 150]),
            Message::Ping(Bytes::from_static(b"p")),
            Message::Pong(Bytes::from_static(b"p")),
            Message::Close(None),
            Message::Close(Some(CloseFrame {
                code: 4001,
                reason: "bye".to_owned(),
            })),
        ];
        for message in messages {
            let back = Message::from_wire(message.clone().into_wire());
            assert_eq!(back.as_ref(), Some(&message));
        }
    }
}
