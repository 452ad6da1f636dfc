//! Background tasks: run after the response, never delaying it, failures contained.

use std::sync::Arc;

use bocata::{App, Request, Res, Result};
use bocata_tests::{LogCapture, Running, get, read, within};
use tokio::sync::{Notify, mpsc};

/// Schedules a task that waits to be released, then reports.
struct Schedules {
    release: Arc<Notify>,
    done: mpsc::UnboundedSender<&'static str>,
}

#[bocata::view]
impl Schedules {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let (release, done) = (Arc::clone(&self.release), self.done.clone());
        match req.query("kind").as_deref() {
            Some("panic") => {
                res.background(async {
                    let empty: Vec<u8> = Vec::new();
                    assert!(!empty.is_empty(), "a background task blew up");
                });
            }
            Some("error") => {
                res.background(async { Err::<(), _>("the mail server said no") });
            }
            _ => {
                res.background(async move {
                    release.notified().await;
                    done.send("ran").ok();
                });
            }
        }
        res.text("accepted");
        Ok(())
    }
}

#[tokio::test]
async fn tasks_run_after_the_response_and_never_delay_it() {
    let log = LogCapture::start();
    let release = Arc::new(Notify::new());
    let (done, mut finished) = mpsc::unbounded_channel();
    let server = Running::start(App::new().route(
        "/",
        Schedules {
            release: Arc::clone(&release),
            done,
        },
    ))
    .await;
    let mut conn = server.http1().await;
    // The task waits for a release that only comes after the response has arrived.
    let response = within("the response", conn.send_request(get("/")))
        .await
        .expect("a response");
    assert_eq!(read(response).await.1, "accepted");
    release.notify_one();
    assert_eq!(within("the task", finished.recv()).await, Some("ran"));

    for kind in ["panic", "error"] {
        within("ready", conn.ready()).await.expect("usable");
        let response = within(
            "the response",
            conn.send_request(get(&format!("/?kind={kind}"))),
        )
        .await
        .expect("a response");
        assert_eq!(read(response).await.1, "accepted", "{kind}");
    }
    within("the failures to be logged", async {
        while !(log
            .text()
            .contains("a background task panicked: a background task blew up")
            && log
                .text()
                .contains("a background task failed: the mail server said no"))
        {
            tokio::task::yield_now().await;
        }
    })
    .await;
    server.shutdown().await.expect("clean shutdown");
}
