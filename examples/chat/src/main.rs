//! Run with `cargo run -p chat`, then open <http://127.0.0.1:8000> in two browser tabs.
//!
//! One view serves the page (`on_get`) and its live channel (`on_websocket`) on the same
//! path; every message a browser sends is broadcast to every open socket.

use bocata::websocket::WebSocket;
use bocata::{App, Request, Res, Result};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

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
            loop {
                let said = match heard.recv().await {
                    Ok(said) => said,
                    // This browser fell behind and the room moved on: it hears how
                    // much it missed, then carries on from the oldest message kept.
                    Err(RecvError::Lagged(missed)) => Said {
                        name: "room".to_owned(),
                        text: format!("you missed {missed} messages"),
                    },
                    Err(RecvError::Closed) => break,
                };
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
    chat(64)
}

/// The chat, with a room that keeps the last `backlog` messages for browsers that
/// fall behind.
fn chat(backlog: usize) -> App {
    let (room, _) = broadcast::channel(backlog);
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bocata::testing::{TestClient, TestWebSocket};

    use super::*;

    async fn hear(browser: &mut TestWebSocket) -> Said {
        tokio::time::timeout(Duration::from_secs(30), browser.recv_json())
            .await
            .expect("a message in time")
            .expect("the socket still open")
    }

    async fn say(browser: &mut TestWebSocket, name: &str, text: &str) {
        let said = Said {
            name: name.to_owned(),
            text: text.to_owned(),
        };
        browser.send_json(&said).await;
    }

    /// The number a talk message starts with.
    fn number(said: &Said) -> usize {
        let digits = said.text.split(':').next().unwrap_or_default();
        digits.parse().expect("a numbered message")
    }

    #[tokio::test]
    async fn a_browser_that_falls_behind_hears_what_it_missed_and_what_follows() {
        let client = TestClient::new(chat(2));
        let mut luis = client.get("/").websocket().await.expect("accepted");
        say(&mut luis, "luis", "hello").await;
        assert_eq!(hear(&mut luis).await.text, "hello");
        let mut ana = client.get("/").websocket().await.expect("accepted");
        say(&mut ana, "ana", "hi").await;
        assert_eq!(hear(&mut ana).await.text, "hi");
        assert_eq!(hear(&mut luis).await.text, "hi");

        // Ana talks on, reading along, while nobody reads Luis's connection: once it
        // is full, the room (which keeps two messages) moves on without him.
        let padding = "x".repeat(8 * 1024);
        for n in 0..20 {
            say(&mut ana, "ana", &format!("{n}:{padding}")).await;
            assert_eq!(number(&hear(&mut ana).await), n);
        }

        // Luis hears the start of the talk, a notice of how much he missed, and the
        // end: nothing is dropped without his being told.
        let (mut heard, mut missed) = (Vec::new(), 0);
        while heard.last() != Some(&19) {
            let said = hear(&mut luis).await;
            match said.text.strip_prefix("you missed ") {
                Some(notice) if said.name == "room" => {
                    let count = notice.trim_end_matches(" messages");
                    missed += count.parse::<usize>().expect("a count");
                }
                _ => heard.push(number(&said)),
            }
        }
        assert!(missed > 0, "the room should have moved on without him");
        assert_eq!(heard.len() + missed, 20, "heard {heard:?}");
        assert!(heard.windows(2).all(|w| w[0] < w[1]), "in order: {heard:?}");
        // And he is not deaf: what is said next reaches him.
        say(&mut ana, "ana", "still there?").await;
        assert_eq!(hear(&mut luis).await.text, "still there?");
    }
}
