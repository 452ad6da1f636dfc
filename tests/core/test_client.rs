//! The TestClient itself: query building, cookies kept across requests, the headers
//! and cookies of the client.

use bocata::testing::TestClient;
use bocata::websocket::WebSocket;
use bocata::{App, Request, Res, Result, abort};

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
