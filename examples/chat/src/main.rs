//! Run with `cargo run -p chat`, then open <http://127.0.0.1:8000> in two browser tabs.
//!
//! One view serves the page (`on_get`) and its live channel (`on_websocket`) on the same
//! path; every message a browser sends is broadcast to every open socket.

use bocata::websocket::WebSocket;
use bocata::{App, Request, Res, Result};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

// ANCHOR: chat
/// A chat message, as the page sends and shows it.
#[derive(Clone, Deserialize, Serialize)]
struct Said {
    name: String,
    text: String,
}

/// The chat: the page, and a socket per browser, all joined by a broadcast channel.
struct Chat {
    room: broadcast::Sender<Said>,
}

#[bocata::view]
impl Chat {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.html(include_str!("page.html"));
        Ok(())
    }

    async fn on_websocket(&self, _req: &Request, ws: WebSocket) -> Result {
        let (mut sender, mut receiver) = ws.split();
        let mut heard = self.room.subscribe();
        // Everything said in the room goes out to this browser…
        let forward = tokio::spawn(async move {
            while let Ok(said) = heard.recv().await {
                if sender.send_json(&said).await.is_err() {
                    break;
                }
            }
        });
        // …and everything this browser says goes to the room.
        while let Some(message) = receiver.recv_json::<Said>().await {
            match message {
                Ok(said) => {
                    self.room.send(said).ok();
                }
                Err(e) if e.is_json() => continue,
                Err(_) => break,
            }
        }
        forward.abort();
        Ok(())
    }
}
// ANCHOR_END: chat

// ANCHOR: app
fn app() -> App {
    let (room, _) = broadcast::channel(64);
    App::new().route("/", Chat { room })
}
// ANCHOR_END: app

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // `ADDR=127.0.0.1:0` picks a free port (the log says which).
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    app().run(addr).await
}
