//! Startup and shutdown hooks: startup before the first request and able to stop the
//! start, shutdown after the last request in flight, in the server and the TestClient.

use std::sync::{Arc, Mutex};

use bocata::testing::TestClient;
use bocata::{App, Error, Request, Res, Result, Server};
use bocata_tests::{LogCapture, Running, get, within};
use tokio::sync::{Notify, mpsc};

/// What happened, in order.
type Events = Arc<Mutex<Vec<&'static str>>>;

fn note(events: &Events, event: &'static str) {
    events.lock().expect("not poisoned").push(event);
}

fn seen(events: &Events) -> Vec<&'static str> {
    events.lock().expect("not poisoned").clone()
}

/// A hook that notes `event`.
fn noting(
    events: &Events,
    event: &'static str,
) -> impl Fn() -> std::future::Ready<Result> + Send + Sync + 'static {
    let events = Arc::clone(events);
    move || {
        note(&events, event);
        std::future::ready(Ok(()))
    }
}

/// An app whose hooks and view note what they do; its view waits for `release`.
fn app(events: &Events, reached: mpsc::UnboundedSender<()>, release: Arc<Notify>) -> App {
    let on_start = Arc::clone(events);
    App::new()
        .on_startup(move || {
            let events = Arc::clone(&on_start);
            async move {
                // A real wait, as opening a pool has.
                tokio::task::yield_now().await;
                note(&events, "startup");
                Ok(())
            }
        })
        .on_shutdown(noting(events, "shutdown"))
        .route(
            "/slow",
            Slow {
                events: Arc::clone(events),
                reached,
                release,
            },
        )
}

/// A view that notes when it starts and ends, and ends when released.
struct Slow {
    events: Events,
    reached: mpsc::UnboundedSender<()>,
    release: Arc<Notify>,
}

#[bocata::view]
impl Slow {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        note(&self.events, "request");
        self.reached.send(()).ok();
        self.release.notified().await;
        note(&self.events, "response");
        res.text("done");
        Ok(())
    }
}

#[tokio::test]
async fn startup_runs_before_the_first_request_and_shutdown_after_the_last() {
    let events = Events::default();
    let (reached, mut reaching) = mpsc::unbounded_channel();
    let release = Arc::new(Notify::new());
    let mut server = Running::start(app(&events, reached, Arc::clone(&release))).await;
    let mut client = server.http1().await;
    let response = tokio::spawn(async move { client.send_request(get("/slow")).await });
    within("the request to reach the view", reaching.recv()).await;
    // A shutdown begins with the request in flight (the server has stopped listening):
    // the shutdown hooks wait for it.
    server.stop();
    within("the listener to close", async {
        while tokio::net::TcpStream::connect(server.addr).await.is_ok() {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(seen(&events), ["startup", "request"]);
    release.notify_one();
    let response = within("the response", response)
        .await
        .expect("the client task")
        .expect("a response");
    assert_eq!(response.status(), 200);
    server.shutdown().await.expect("a clean end");
    assert_eq!(
        seen(&events),
        ["startup", "request", "response", "shutdown"]
    );
}

#[tokio::test]
async fn a_failing_startup_stops_the_start_with_its_message_and_accepts_nothing() {
    let stopped = Events::default();
    let app = App::new()
        .on_startup(|| async { Ok(()) })
        .on_startup(|| async { Err(Error::new(503, "the database cannot be reached")) })
        .on_shutdown(noting(&stopped, "shutdown"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    let error = within(
        "the start to fail",
        Server::new(app)
            .shutdown_signal(std::future::pending())
            .serve(listener),
    )
    .await
    .expect_err("the start fails");
    assert_eq!(
        error.to_string(),
        "bocata could not start the app: startup hook 2 of 2 failed: the database cannot be reached"
    );
    // Nothing was started, so nothing is shut down; and nobody is listening.
    assert!(seen(&stopped).is_empty());
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn an_app_whose_startup_fails_exits_with_a_non_zero_code_and_says_why() {
    let output = within(
        "the server process to exit",
        tokio::process::Command::new(env!("CARGO_BIN_EXE_serve"))
            .env("FAIL_STARTUP", "1")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the server process runs");
    assert!(!output.status.success(), "{:?}", output.status);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("startup hook 1 of 1 failed: the database cannot be reached"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_failing_shutdown_hook_is_logged_and_the_others_still_run() {
    let logs = LogCapture::start();
    let stopped = Events::default();
    let app = App::new()
        .on_shutdown(|| async {
            Err(Error::internal(std::io::Error::other(
                "the pool would not close",
            )))
        })
        .on_shutdown(noting(&stopped, "second"));
    Running::start(app)
        .await
        .shutdown()
        .await
        .expect("a clean end");
    assert_eq!(seen(&stopped), ["second"]);
    let text = logs.text();
    assert!(
        text.contains("shutdown hook 1 of 2 failed: the pool would not close"),
        "{text}"
    );
}

#[tokio::test]
async fn the_test_client_starts_the_app_once_and_shuts_it_down_when_told() {
    let events = Events::default();
    let app = App::new()
        .on_startup(noting(&events, "startup"))
        .on_shutdown(noting(&events, "shutdown"));
    let client = TestClient::new(app);
    assert!(
        seen(&events).is_empty(),
        "nothing runs before the first request"
    );
    for _ in 0..2 {
        assert_eq!(client.get("/").send().await.status(), 404);
    }
    assert_eq!(seen(&events), ["startup"]);
    client.shutdown().await;
    assert_eq!(seen(&events), ["startup", "shutdown"]);
}

#[tokio::test]
#[should_panic(expected = "the app did not start: startup hook 1 of 1 failed: no database")]
async fn the_test_client_says_why_the_app_did_not_start() {
    let app = App::new().on_startup(|| async { Err(Error::new(503, "no database")) });
    TestClient::new(app).get("/").send().await;
}
