//! The TestClient itself: query building, cookies kept across requests, the headers
//! and cookies of the client, and what its WebSockets report of a close.

use std::sync::{Arc, Mutex};

use bocata::testing::TestClient;
use bocata::websocket::{
    CloseFrame, Message, WebSocket, WebSocketReceiver, WebSocketSender, WebSocketSettings,
};
use bocata::{App, Request, Res, Result, abort};
use bocata_tests::within;
use tokio::sync::Notify;

async fn login(req: &Request, res: &mut Res) -> Result {
    let user = req.query("user").unwrap_or_default();
    res.cookie(("user", user)).text("logged in");
    Ok(())
}

async fn whoami(req: &Request, res: &mut Res) -> Result {
    let user = req.cookie("user").unwrap_or_else(|| "anonymous".into());
    let theme = req.cookie("theme").unwrap_or_else(|| "light".into());
    res.text(format!("{user} ({theme})"));
    Ok(())
}

async fn logout(_req: &Request, res: &mut Res) -> Result {
    res.remove_cookie("user").text("bye");
    Ok(())
}

#[tokio::test]
async fn cookies_persist_across_requests_of_one_client() {
    let client = TestClient::new(
        App::new()
            .route("/login", bocata::post(login))
            .route("/whoami", bocata::get(whoami))
            .route("/logout", bocata::post(logout)),
    );
    assert_eq!(
        client.get("/whoami").send().await.text(),
        "anonymous (light)"
    );
    client
        .post("/login")
        .query(&[("user", "ana maría")])
        .send()
        .await;
    assert_eq!(client.cookie("user").as_deref(), Some("ana maría"));
    assert_eq!(
        client.get("/whoami").send().await.text(),
        "ana maría (light)"
    );
    let res = client.get("/whoami").cookie("theme", "dark").send().await;
    assert_eq!(
        res.text(),
        "ana maría (dark)",
        "a per-request cookie joins the jar's"
    );
    assert_eq!(
        client.get("/whoami").send().await.text(),
        "ana maría (light)"
    );
    client.post("/logout").send().await;
    assert_eq!(client.cookie("user"), None);
    assert_eq!(
        client.get("/whoami").send().await.text(),
        "anonymous (light)"
    );

    let other = TestClient::new(App::new().route("/whoami", bocata::get(whoami)));
    assert_eq!(
        other.get("/whoami").send().await.text(),
        "anonymous (light)"
    );
}

async fn uri(req: &Request, res: &mut Res) -> Result {
    res.text(req.uri().to_string());
    Ok(())
}

#[tokio::test]
async fn query_builder_encodes_and_appends() {
    let client = TestClient::new(App::new().route("/uri", bocata::get(uri)));
    let res = client
        .get("/uri?x=1")
        .query(&[("y", "a b&c")])
        .query(&[("z", "3")])
        .send()
        .await;
    assert_eq!(res.text(), "/uri?x=1&y=a+b%26c&z=3");
    let res = client.get("/uri").query(&[("only", "1")]).send().await;
    assert_eq!(res.text(), "/uri?only=1");
}

/// `/headers`: the values the request carries for a few headers, each as the app
/// sees them (several values joined with `|`).
async fn headers(req: &Request, res: &mut Res) -> Result {
    let mut lines = Vec::new();
    for name in ["x-token", "accept", "content-type", "cookie"] {
        let values: Vec<&str> = req
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or("(not text)"))
            .collect();
        lines.push(format!("{name}: {}", values.join("|")));
    }
    res.text(lines.join("\n"));
    Ok(())
}

/// The value of `name` in the text of [`headers`].
fn seen<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} line in {text:?}"))
}

/// Answers WebSocket upgrades that carry `x-token: t2` (checked in a before hook).
struct Guarded;

#[bocata::view]
impl Guarded {
    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        ws.send_text("in").await?;
        Ok(())
    }
}

async fn require_token(req: &mut Request, _res: &mut Res) -> Result {
    if req.header("x-token") != Some("t2") {
        return abort(401);
    }
    Ok(())
}

#[tokio::test]
async fn the_clients_headers_go_with_every_request_that_does_not_set_its_own() {
    let app = App::new()
        .route("/headers", bocata::get(headers).post(headers))
        .mount(
            "/ws",
            bocata::Router::new()
                .before(require_token)
                .route("/", Guarded),
        );
    let client = TestClient::new(app)
        .with_header("x-token", "t1")
        .with_header("accept", "text/plain")
        .with_header("content-type", "text/plain")
        .with_header("x-token", "t2");

    let text = client.get("/headers").send().await.text().to_owned();
    assert_eq!(
        seen(&text, "x-token"),
        "t2",
        "a second call replaces the first"
    );
    assert_eq!(seen(&text, "accept"), "text/plain");

    let res = client
        .get("/headers")
        .header("x-token", "mine")
        .send()
        .await;
    assert_eq!(
        seen(res.text(), "x-token"),
        "mine",
        "the request's own, alone"
    );
    assert_eq!(seen(res.text(), "accept"), "text/plain", "the others stay");

    let res = client.post("/headers").json(&[1, 2]).send().await;
    assert_eq!(
        seen(res.text(), "content-type"),
        "application/json",
        "a body setter's type wins"
    );
    let res = client.post("/headers").body("plain").send().await;
    assert_eq!(seen(res.text(), "content-type"), "text/plain");

    let res = client.get("/headers").send().await;
    assert_eq!(seen(res.text(), "x-token"), "t2", "for that request only");

    let mut ws = client
        .get("/ws/")
        .websocket()
        .await
        .expect("the hook lets it in");
    assert_eq!(ws.recv_text().await.as_deref(), Some("in"));
    let refused = client
        .get("/ws/")
        .header("x-token", "t1")
        .websocket()
        .await
        .expect_err("the request's own token is refused");
    assert_eq!(refused.status(), 401);

    let plain = TestClient::new(App::new().route("/headers", bocata::get(headers)));
    let text = plain.get("/headers").send().await.text().to_owned();
    assert_eq!(seen(&text, "x-token"), "", "a new client has none");
}

#[test]
#[should_panic(expected = "\"x token\" is not a valid header name")]
fn a_client_header_with_an_invalid_name_panics_naming_it() {
    let _client = TestClient::new(App::new()).with_header("x token", "1");
}

#[test]
#[should_panic(expected = "is not a valid value for x-token")]
fn a_client_header_with_an_invalid_value_panics_naming_it() {
    let _client = TestClient::new(App::new()).with_header("x-token", "a\nb");
}

#[tokio::test]
async fn a_cookie_put_in_the_jar_is_sent_until_the_app_changes_it() {
    let client = TestClient::new(
        App::new()
            .route("/login", bocata::post(login))
            .route("/whoami", bocata::get(whoami))
            .route("/logout", bocata::post(logout)),
    )
    .with_cookie("user", "ana maría")
    .with_cookie("theme", "sepia")
    .with_cookie("theme", "dark");
    assert_eq!(client.cookie("user").as_deref(), Some("ana maría"));
    for _ in 0..2 {
        assert_eq!(
            client.get("/whoami").send().await.text(),
            "ana maría (dark)"
        );
    }
    let res = client.get("/whoami").cookie("user", "luis").send().await;
    assert_eq!(res.text(), "luis (dark)", "the request's own wins");
    assert_eq!(
        client.get("/whoami").send().await.text(),
        "ana maría (dark)",
        "for that request only"
    );

    client.post("/login").query(&[("user", "bea")]).send().await;
    assert_eq!(client.get("/whoami").send().await.text(), "bea (dark)");
    client.post("/logout").send().await;
    assert_eq!(client.cookie("user"), None);
    assert_eq!(
        client.get("/whoami").send().await.text(),
        "anonymous (dark)"
    );
}

#[tokio::test]
async fn a_cookie_header_set_by_hand_is_sent_as_written_before_the_jars() {
    let client = TestClient::new(App::new().route("/headers", bocata::get(headers)));
    let res = client
        .get("/headers")
        .header("cookie", "raw=%zz; theme=light")
        .send()
        .await;
    assert_eq!(
        seen(res.text(), "cookie"),
        "raw=%zz; theme=light",
        "an empty jar adds nothing"
    );

    let client = TestClient::new(App::new().route("/headers", bocata::get(headers)))
        .with_cookie("user", "ana")
        .with_cookie("theme", "dark");
    let res = client
        .get("/headers")
        .header("cookie", "raw=%zz; theme=light")
        .cookie("lang", "es")
        .send()
        .await;
    assert_eq!(
        seen(res.text(), "cookie"),
        "raw=%zz; theme=light; user=ana; lang=es",
        "the jar's theme is hidden by the header's"
    );

    let client = TestClient::new(App::new().route("/headers", bocata::get(headers)))
        .with_header("cookie", "consent=yes")
        .with_cookie("user", "ana");
    let res = client.get("/headers").send().await;
    assert_eq!(seen(res.text(), "cookie"), "consent=yes; user=ana");
}

/// Echoes every message until the socket ends.
struct Echo;

#[bocata::view]
impl Echo {
    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        while let Some(Ok(message)) = ws.recv().await {
            ws.send(message).await?;
        }
        Ok(())
    }
}

fn echo(settings: WebSocketSettings) -> TestClient {
    TestClient::new(App::new().route("/echo", Echo).websocket(settings))
}

#[tokio::test]
async fn a_message_over_a_limit_is_answered_with_1009_whatever_its_size() {
    // The pipe between the client and the app holds 64 KiB: the small messages are
    // written whole before the server reads them, the large ones are refused while
    // they are being written (a frame over the limit as soon as its header is read).
    let cases = [
        (
            "message limit, small",
            WebSocketSettings::new().max_message_size(1024),
            4096,
        ),
        (
            "message limit, large",
            WebSocketSettings::new().max_message_size(1024),
            256 * 1024,
        ),
        (
            "frame limit, small",
            WebSocketSettings::new().max_frame_size(1024),
            4096,
        ),
        (
            "frame limit, large",
            WebSocketSettings::new().max_frame_size(1024),
            256 * 1024,
        ),
        (
            "the default limits",
            WebSocketSettings::new(),
            2 * 1024 * 1024,
        ),
    ];
    for (case, settings, size) in cases {
        let client = echo(settings);
        let mut ws = client.get("/echo").websocket().await.expect("accepted");
        ws.send_text("small").await;
        assert_eq!(ws.recv_text().await.as_deref(), Some("small"), "{case}");
        ws.send(Message::text("x".repeat(size))).await;
        assert_eq!(
            within("the close", ws.closed()).await,
            Some((1009, "message too big".to_owned())),
            "{case}"
        );
        assert_eq!(ws.recv().await, None, "{case}: nothing after the close");
        ws.send_text("after the close").await;
        assert_eq!(
            ws.recv().await,
            None,
            "{case}: dropped, as a browser drops it"
        );
    }
}

#[tokio::test]
async fn try_send_returns_the_close_of_a_message_refused_while_it_was_written() {
    let client = echo(WebSocketSettings::new().max_frame_size(1024));
    let mut ws = client.get("/echo").websocket().await.expect("accepted");
    assert_eq!(ws.try_send(Message::text("fits")).await, Ok(()));
    assert_eq!(ws.recv_text().await.as_deref(), Some("fits"));
    let too_big = CloseFrame {
        code: 1009,
        reason: "message too big".to_owned(),
    };
    let big = Message::binary(vec![0; 256 * 1024]);
    assert_eq!(ws.try_send(big).await, Err(too_big.clone()));
    assert_eq!(
        ws.try_send(Message::text("again")).await,
        Err(too_big.clone()),
        "closed stays closed"
    );
    assert_eq!(
        ws.recv().await,
        Some(Message::Close(Some(too_big))),
        "the close is left for recv too"
    );
    assert_eq!(ws.recv().await, None);
}

/// What the [`Closer`] view left behind for the test: its socket, still open, and a
/// signal that it has sent everything.
#[derive(Clone, Default)]
struct Left {
    socket: Arc<Mutex<Option<(WebSocketSender, WebSocketReceiver)>>>,
    done: Arc<Notify>,
}

impl Left {
    /// Drops the view's socket, which ends the pipe.
    fn drop_socket(&self) {
        drop(self.socket.lock().expect("not poisoned").take());
    }
}

/// Sends two messages and, if `close` is set, a close with 4000; then hands its socket
/// to the test rather than dropping it.
struct Closer {
    close: bool,
    left: Left,
}

#[bocata::view]
impl Closer {
    async fn on_websocket(&self, _req: &Request, ws: WebSocket) -> Result {
        let (mut sender, receiver) = ws.split();
        sender.send_text("one").await?;
        sender.send_text("two").await?;
        if self.close {
            sender.close(4000, "done").await?;
        }
        *self.left.socket.lock().expect("not poisoned") = Some((sender, receiver));
        self.left.done.notify_one();
        Ok(())
    }
}

fn closer(close: bool, left: &Left) -> TestClient {
    TestClient::new(App::new().route(
        "/closer",
        Closer {
            close,
            left: left.clone(),
        },
    ))
}

#[tokio::test]
async fn try_send_finds_a_close_already_in_the_pipe_and_keeps_the_messages_before_it() {
    let left = Left::default();
    let client = closer(true, &left);
    let mut ws = client.get("/closer").websocket().await.expect("accepted");
    within("the view", left.done.notified()).await;
    // The server still holds the pipe, so the message could be written: only the
    // close already read tells that the socket is closed.
    let done = CloseFrame {
        code: 4000,
        reason: "done".to_owned(),
    };
    assert_eq!(ws.try_send(Message::text("late")).await, Err(done.clone()));
    assert_eq!(ws.recv_text().await.as_deref(), Some("one"));
    assert_eq!(ws.recv_text().await.as_deref(), Some("two"));
    assert_eq!(ws.recv().await, Some(Message::Close(Some(done))));
    assert_eq!(ws.recv().await, None);
}

#[tokio::test]
async fn a_connection_that_ends_without_a_close_frame_is_1006_for_try_send() {
    let left = Left::default();
    let client = closer(false, &left);
    let mut ws = client.get("/closer").websocket().await.expect("accepted");
    within("the view", left.done.notified()).await;
    left.drop_socket();
    let abnormal = CloseFrame {
        code: 1006,
        reason: String::new(),
    };
    assert_eq!(ws.try_send(Message::text("late")).await, Err(abnormal));
    assert_eq!(ws.recv_text().await.as_deref(), Some("one"), "kept");
    assert_eq!(ws.recv_text().await.as_deref(), Some("two"), "kept");
    assert_eq!(ws.recv().await, None);
}

#[tokio::test]
#[should_panic(expected = "the WebSocket connection broke without a close frame")]
async fn send_panics_on_a_connection_that_ended_without_a_close_frame() {
    let left = Left::default();
    let client = closer(false, &left);
    let mut ws = client.get("/closer").websocket().await.expect("accepted");
    within("the view", left.done.notified()).await;
    left.drop_socket();
    ws.send_text("late").await;
}
