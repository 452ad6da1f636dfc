//! Chapter "Errors": `abort`, `Error::new`, `?`, debug mode, panics, and the negotiated
//! error bodies.

use bocata::http::{HeaderValue, header};
use bocata::testing::TestClient;
use bocata::{App, Error, Request, Res, Result, abort};

// ANCHOR: abort
/// `GET /admin`: only with the right token.
async fn admin(req: &Request, res: &mut Res) -> Result {
    if req.header("x-admin-token") != Some("letmein") {
        return abort(403);
    }
    res.text("welcome");
    Ok(())
}
// ANCHOR_END: abort

// ANCHOR: error_new
/// The users the app knows, by id.
const USERS: [(u64, &str); 2] = [(1, "ana"), (2, "luis")];

/// Finds a user, or says which one is missing.
fn find_user(id: u64) -> Result<&'static str> {
    USERS
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, name)| *name)
        .ok_or_else(|| Error::new(404, format!("there is no user {id}")))
}

/// `GET /users/{id}`
async fn show_user(req: &Request, res: &mut Res) -> Result {
    let id: u64 = req.param("id")?;
    let name = find_user(id)?;
    res.text(format!("user {id} is {name}"));
    Ok(())
}
// ANCHOR_END: error_new

// ANCHOR: question_mark
/// A view whose configuration is parsed when it answers.
struct Quota {
    configured: String,
}

#[bocata::view]
impl Quota {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        // A ParseIntError: the client gets a 500, the log gets the cause.
        let limit: u32 = self.configured.parse()?;
        res.text(format!("{limit} requests per hour"));
        Ok(())
    }
}
// ANCHOR_END: question_mark

// ANCHOR: panic
/// `GET /share/{parts}`: a bug waiting for `/share/0`.
async fn share(req: &Request, res: &mut Res) -> Result {
    let parts: u32 = req.param("parts")?;
    res.text(format!("{} each", 100 / parts));
    Ok(())
}
// ANCHOR_END: panic

// ANCHOR: with_header
/// `GET /private`: asks the client to authenticate.
async fn private(req: &Request, res: &mut Res) -> Result {
    if req.header("authorization").is_none() {
        return Err(Error::new(401, "log in first").with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="bocata""#),
        ));
    }
    res.text("the secret");
    Ok(())
}
// ANCHOR_END: with_header

/// Sets a header, then fails: the error response replaces everything.
async fn half_done(_req: &Request, res: &mut Res) -> Result {
    res.header("x-partial", "yes").text("never sent");
    abort(503)
}

// ANCHOR: debug
/// The app, with error details shown only when `debug` is set.
fn app(debug: bool) -> App {
    App::new()
        .route("/admin", bocata::get(admin))
        .route("/users/{id}", bocata::get(show_user))
        .route(
            "/quota",
            Quota {
                configured: "1O0".into(), // a letter O: a configuration bug
            },
        )
        .route("/share/{parts}", bocata::get(share))
        .route("/private", bocata::get(private))
        .route("/half-done", bocata::get(half_done))
        .debug(debug)
}
// ANCHOR_END: debug

// ANCHOR: json_errors
/// A JSON API: every error is problem details, whatever the client accepts.
fn api() -> App {
    App::new()
        .route("/users/{id}", bocata::get(show_user))
        .json_errors(true)
}
// ANCHOR_END: json_errors

#[tokio::test]
async fn a_json_api_sends_problem_details_to_everyone() {
    let client = TestClient::new(api());
    for accept in ["text/html,*/*;q=0.8", "*/*"] {
        let res = client.get("/users/9").header("accept", accept).send().await;
        assert_eq!(res.status(), 404);
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        assert_eq!(
            res.text(),
            r#"{"type":"about:blank","title":"Not Found","status":404,"detail":"there is no user 9"}"#
        );
    }
    let res = client.get("/nowhere").send().await;
    assert_eq!(
        res.text(),
        r#"{"type":"about:blank","title":"Not Found","status":404}"#
    );
}

#[tokio::test]
async fn abort_stops_with_a_status() {
    let client = TestClient::new(app(false));
    let res = client.get("/admin").send().await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.text(), "403 Forbidden\n");
    let res = client
        .get("/admin")
        .header("x-admin-token", "letmein")
        .send()
        .await;
    assert_eq!(res.text(), "welcome");
}

#[tokio::test]
async fn error_new_sends_its_message() {
    let client = TestClient::new(app(false));
    assert_eq!(client.get("/users/1").send().await.text(), "user 1 is ana");
    let res = client.get("/users/9").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.text(), "404 Not Found: there is no user 9\n");
}

#[tokio::test]
async fn question_mark_on_other_errors_is_a_hidden_500() {
    let res = TestClient::new(app(false)).get("/quota").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "500 Internal Server Error\n");

    let res = TestClient::new(app(true)).get("/quota").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.text(),
        "500 Internal Server Error: invalid digit found in string\n"
    );
}

#[tokio::test]
async fn a_panic_is_a_500_and_the_app_keeps_serving() {
    let client = TestClient::new(app(false));
    let res = client.get("/share/0").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "500 Internal Server Error\n");
    assert_eq!(client.get("/share/4").send().await.text(), "25 each");

    let res = TestClient::new(app(true)).get("/share/0").send().await;
    assert_eq!(
        res.text(),
        "500 Internal Server Error: view panicked: attempt to divide by zero\n"
    );
}

#[tokio::test]
async fn error_bodies_are_negotiated() {
    let client = TestClient::new(app(false));
    let res = client
        .get("/users/9")
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        res.text(),
        r#"{"type":"about:blank","title":"Not Found","status":404,"detail":"there is no user 9"}"#
    );

    let res = client
        .get("/nowhere")
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(
        res.text(),
        r#"{"type":"about:blank","title":"Not Found","status":404}"#
    );

    let browser = "text/html,application/xhtml+xml,*/*;q=0.8";
    let res = client
        .get("/users/9")
        .header("accept", browser)
        .send()
        .await;
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(res.text(), "404 Not Found: there is no user 9\n");
}

#[tokio::test]
async fn bocata_never_repeats_what_the_client_sent() {
    let client = TestClient::new(app(false));
    for accept in ["text/html", "application/json"] {
        let res = client
            .get("/users/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            .header("accept", accept)
            .send()
            .await;
        assert_eq!(res.status(), 400);
        assert!(!res.text().contains("script"), "{}", res.text());
        assert!(res.text().contains("path parameter `id`"), "{}", res.text());
    }
}

#[tokio::test]
async fn errors_carry_extra_headers() {
    let res = TestClient::new(app(false)).get("/private").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.header("www-authenticate"),
        Some(r#"Basic realm="bocata""#)
    );
    assert_eq!(res.text(), "401 Unauthorized: log in first\n");
}

#[tokio::test]
async fn an_error_discards_what_the_view_had_set() {
    let res = TestClient::new(app(false)).get("/half-done").send().await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.header("x-partial"), None);
    assert_eq!(res.text(), "503 Service Unavailable\n");
}
