//! Chapter "WebSockets": a socket read in `select!` without splitting it, a close with a
//! code of the view's own, and the heartbeat that keeps a listening client open.

use std::time::Duration;

// ANCHOR: imports
use bocata::websocket::{Message, WebSocket};
use bocata::{Request, Result};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
// ANCHOR_END: imports

use bocata::App;
use bocata::testing::TestClient;
use bocata::websocket::WebSocketSettings;
use bocata_tests::within;

// ANCHOR: news
/// Pushes headlines as they are published and answers what the client says, from one
/// task and one socket: `select!` waits on both, which `recv` allows, being
/// cancel-safe. Binary messages are refused with 1003.
struct News {
    headlines: broadcast::Sender<String>,
}

#[bocata::view]
impl News {
    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        let mut headlines = self.headlines.subscribe();
        loop {
            tokio::select! {
                message = ws.recv() => match message {
                    Some(Ok(Message::Text(text))) => {
                        ws.send_text(format!("noted: {text}")).await?;
                    }
                    Some(Ok(_)) => {
                        ws.close(1003, "text only").await?;
                        break;
                    }
                    // Closed, by the client or by `recv` (1001, 1007, 1009…), or gone.
                    Some(Err(_)) | None => break,
                },
                headline = headlines.recv() => match headline {
                    Ok(headline) => ws.send_text(headline).await?,
                    Err(RecvError::Lagged(missed)) => {
                        ws.send_text(format!("({missed} headlines missed)")).await?;
                    }
                    Err(RecvError::Closed) => break,
                },
            }
        }
        Ok(())
    }
}
// ANCHOR_END: news

fn app(headlines: &broadcast::Sender<String>) -> App {
    App::new()
        .route(
            "/news",
            News {
                headlines: headlines.clone(),
            },
        )
        .websocket(
            WebSocketSettings::new()
                .heartbeat(Some(Duration::from_millis(100)))
                .idle_timeout(Some(Duration::from_millis(300))),
        )
}

#[tokio::test]
async fn headlines_and_answers_share_one_task_and_binary_is_refused_with_1003() {
    let (headlines, _) = broadcast::channel(16);
    let client = TestClient::new(app(&headlines));
    let mut ws = client.get("/news").websocket().await.expect("accepted");
    ws.send_text("hi").await;
    assert_eq!(ws.recv_text().await.as_deref(), Some("noted: hi"));
    headlines
        .send("rain at noon".to_owned())
        .expect("a subscriber");
    assert_eq!(ws.recv_text().await.as_deref(), Some("rain at noon"));
    ws.send(Message::Binary(vec![1, 2].into())).await;
    assert_eq!(ws.closed().await, Some((1003, "text only".to_owned())));
}

#[tokio::test(start_paused = true)]
async fn a_client_that_only_listens_is_pinged_and_kept_open() {
    let (headlines, _) = broadcast::channel(16);
    let client = TestClient::new(app(&headlines));
    let mut ws = client.get("/news").websocket().await.expect("accepted");
    ws.send_text("hi").await;
    assert_eq!(ws.recv_text().await.as_deref(), Some("noted: hi"));
    // A headline every 50 ms wins the `select!` before the 100 ms heartbeat is due,
    // for more than three idle timeouts: the pings still go out, the client's pongs
    // count as signs of life, and the socket stays open.
    for n in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let headline = format!("headline {n}");
        headlines.send(headline.clone()).expect("a subscriber");
        let heard = within("the headline", ws.recv_text()).await;
        assert_eq!(
            heard,
            Some(headline),
            "still open after {} ms",
            50 * (n + 1)
        );
    }
}
