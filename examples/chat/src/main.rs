//! Run with `cargo run -p chat`, then open <http://127.0.0.1:8000> in two browser tabs.
//!
//! One view serves the page (`on_get`) and its live channel (`on_websocket`) on the same
//! path; every message a browser sends is published on the room's topic of a
//! [`Hub`], which every open socket (and every `GET /events` stream) hears.
//!
//! With `REDIS_URL` set (`REDIS_URL=redis://127.0.0.1:6379/ cargo run -p chat`), the hub
//! goes through Redis: every process started with the same URL is one room, whichever
//! process a browser is connected to (`deploy/chat-scale-out` shows two behind nginx).

use bocata::hub::{Hub, Received};
use bocata::websocket::WebSocket;
use bocata::{App, Error, Event, Request, Res, Result, Server};
use serde::{Deserialize, Serialize};

/// The hub topic the room's messages go on.
const ROOM: &str = "room";

// ANCHOR: chat
/// A chat message, as the page sends and shows it.
#[derive(Clone, Deserialize, Serialize)]
struct Said {
    name: String,
    text: String,
}

impl Said {
    /// A notice from the room itself.
    fn notice(text: impl Into<String>) -> Self {
        Self {
            name: "room".to_owned(),
            text: text.into(),
        }
    }

    /// What a browser is shown for each item the room's subscription receives.
    fn from_received(received: Received) -> Option<Self> {
        match received {
            Received::Message(message) => message.json().ok(),
            // This browser fell behind and the room moved on: it hears how much it
            // missed, then carries on from the oldest message kept.
            Received::Lagged(missed) => Some(Self::notice(format!("you missed {missed} messages"))),
            Received::Interrupted => Some(Self::notice("reconnecting to the room…")),
            Received::Resumed => Some(Self::notice("back; what was said meanwhile is lost")),
            _ => None,
        }
    }
}

/// The chat: the page, and a socket per browser, all joined by the hub.
struct Chat {
    hub: Hub,
}

#[bocata::view]
impl Chat {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.html(include_str!("page.html"));
        Ok(())
    }

    async fn on_websocket(&self, _req: &Request, ws: WebSocket) -> Result {
        let (mut sender, mut receiver) = ws.split();
        let mut heard = self.hub.subscribe(ROOM).await;
        // Everything said in the room, in any process, goes out to this browser…
        let forward = tokio::spawn(async move {
            while let Some(received) = heard.recv().await {
                let Some(said) = Said::from_received(received) else {
                    continue;
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
                    if let Err(e) = self.hub.publish_json(ROOM, &said).await {
                        tracing::warn!("a message was not sent: {e}");
                    }
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

/// `GET /events`: the room as server-sent events, one JSON message each; and
/// `POST /events`: says a JSON message in the room (503 while the room is unreachable).
struct Events {
    hub: Hub,
}

#[bocata::view]
impl Events {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let mut heard = self.hub.subscribe(ROOM).await;
        res.sse(bocata::stream! {
            while let Some(received) = heard.recv().await {
                if let Some(said) = Said::from_received(received) {
                    yield Event::new().json_data(&said);
                }
            }
        });
        Ok(())
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let said: Said = req.json().await?;
        if let Err(e) = self.hub.publish_json(ROOM, &said).await {
            tracing::warn!("a message was not sent: {e}");
            return Err(Error::new(
                503,
                "the room is unreachable; try again shortly",
            ));
        }
        res.status(204);
        Ok(())
    }
}

// ANCHOR: app
fn app() -> std::result::Result<App, bocata::hub::HubError> {
    // In one process by default; through Redis when a URL is given, so that every
    // process of the deployment is one room.
    let hub = match std::env::var("REDIS_URL") {
        Ok(url) => Hub::redis(&url)?,
        Err(_) => Hub::in_process(),
    };
    Ok(chat(hub))
}

/// The chat on `hub`.
fn chat(hub: Hub) -> App {
    App::new()
        .route("/", Chat { hub: hub.clone() })
        .route("/events", Events { hub })
}
// ANCHOR_END: app

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // `ADDR=127.0.0.1:0` picks a free port (the log says which).
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let app = app().map_err(std::io::Error::other)?;
    // Which process answered, so a deployment check can tell the processes apart.
    let pid = std::process::id().to_string();
    let app = app.after(move |_req: &Request, res: &mut Res| {
        res.header("x-process", pid.as_str());
        std::future::ready(Ok(()))
    });
    Server::new(app)
        .reuse_port(std::env::var_os("REUSE_PORT").is_some())
        .run(addr)
        .await
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
        let client = TestClient::new(chat(Hub::builder().buffer(2).in_process()));
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
