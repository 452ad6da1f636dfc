//! WebSockets on the view shape: a view's `on_websocket` method gets the request and an
//! open [`WebSocket`], next to its `on_get`, so one struct serves a page and its live
//! channel.
//!
//! ```
//! use bocata::websocket::{Message, WebSocket};
//! use bocata::{Request, Res, Result};
//!
//! struct Echo;
//!
//! #[bocata::view]
//! impl Echo {
//!     async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
//!         res.html("<script>/* opens new WebSocket(…) on this same path */</script>");
//!         Ok(())
//!     }
//!
//!     async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
//!         while let Some(message) = ws.recv().await {
//!             match message? {
//!                 Message::Text(text) => ws.send_text(format!("echo: {text}")).await?,
//!                 Message::Binary(bytes) => ws.send(Message::Binary(bytes)).await?,
//!                 _ => {}
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//! ```
//!
//! bocata validates the handshake (the before hooks' headers and cookies go out on the
//! 101), answers pings, closes oversized messages with 1009 and text that is not UTF-8
//! with 1007, pings idle peers and closes the ones that stay silent, and closes open
//! sockets with 1001 when the server shuts down, whether or not they were
//! [split](WebSocket::split). Settings: [`App::websocket`](crate::App::websocket); the
//! close codes and when each is sent: the book's "WebSockets" chapter.

mod accept;
pub(crate) mod handshake;
mod message;
mod settings;
pub(crate) mod socket;

pub use message::{CloseFrame, Message};
pub use settings::WebSocketSettings;
pub use socket::{WebSocket, WebSocketError, WebSocketReceiver, WebSocketSender};
