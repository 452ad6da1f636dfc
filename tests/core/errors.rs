//! Errors: abort, Error::new, `?`, panics, and negotiated error bodies.

use bocata::http::{HeaderValue, header};
use bocata::testing::TestClient;
use bocata::{App, Error, Request, Res, Result, abort};

async fn forbidden(_req: &Request, _res: &mut Res) -> Result {
    abort(403)
}

async fn conflict(_req: &Request, _res: &mut Res) -> Result {
    Err(Error::new(409, "the name <b>ana</b> is taken"))
}

async fn io_failure(_req: &Request, _res: &mut Res) -> Result {
    std::fs::read("/definitely/not/here/secret.toml")?;
    Ok(())
}

async fn panics(_req: &Request, _res: &mut Res) -> Result {
    let items: Vec<u32> = Vec::new();
    let first = items.first().copied();
    panic!("the list was empty: {first:?}")
}

async fn ok(_req: &Request, res: &mut Res) -> Result {
    res.text("fine");
    Ok(())
}

async fn needs_login(_req: &Request, _res: &mut Res) -> Result {
    Err(Error::new(401, "log in first").with_header(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"bocata\""),
    ))
}

async fn number(req: &Request, res: &mut Res) -> Result {
    let n: u8 = req.param("n")?;
    res.text(n.to_string());
    Ok(())
}

fn app() -> App {
    App::new()
        .route("/forbidden", bocata::get(forbidden))
        .route("/conflict", bocata::get(conflict))
        .route("/io", bocata::get(io_failure))
        .route("/panic", bocata::get(panics))
        .route("/ok", bocata::get(ok))
        .route("/login", bocata::get(needs_login))
        .route("/n/{n}", bocata::get(number))
}

#[tokio::test]
async fn abort_gives_the_status_with_a_short_text_body() {
    let res = TestClient::new(app()).get("/forbidden").send().await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(res.text(), "403 Forbidden\n");
}

#[tokio::test]
async fn clients_that_accept_json_get_problem_details() {
    let client = TestClient::new(app());
    let res = client
        .get("/conflict")
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.header("content-type"), Some("application/problem+json"));
    assert_eq!(
        res.json::<serde_json::Value>(),
        serde_json::json!({
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": "the name <b>ana</b> is taken",
        })
    );
    let text = client.get("/conflict").send().await;
    assert_eq!(text.text(), "409 Conflict: the name <b>ana</b> is taken\n");
    assert_eq!(
        text.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
}

#[tokio::test]
async fn question_mark_on_any_error_is_a_500_that_hides_the_cause() {
    let res = TestClient::new(app()).get("/io").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "500 Internal Server Error\n");
    assert!(!res.text().contains("secret"));
}

#[tokio::test]
async fn debug_mode_shows_the_cause() {
    let client = TestClient::new(app().debug(true));
    let res = client.get("/io").send().await;
    assert_eq!(res.status(), 500);
    assert!(
        res.text().starts_with("500 Internal Server Error: "),
        "{}",
        res.text()
    );
    assert!(res.text().contains("No such file"), "{}", res.text());
    let res = client.get("/panic").send().await;
    assert!(
        res.text()
            .contains("view panicked: the list was empty: None"),
        "{}",
        res.text()
    );
}

#[tokio::test]
async fn a_panic_is_a_500_and_the_app_keeps_serving() {
    let client = TestClient::new(app());
    let res = client.get("/panic").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "500 Internal Server Error\n");
    assert_eq!(client.get("/ok").send().await.text(), "fine");
    assert_eq!(client.get("/panic").send().await.status(), 500);
    assert_eq!(client.get("/ok").send().await.text(), "fine");
}

#[tokio::test]
async fn errors_carry_their_extra_headers() {
    let res = TestClient::new(app()).get("/login").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.header("www-authenticate"),
        Some("Basic realm=\"bocata\"")
    );
    assert_eq!(res.text(), "401 Unauthorized: log in first\n");
}

#[tokio::test]
async fn request_data_is_never_echoed_into_error_bodies() {
    let client = TestClient::new(app());
    for accept in ["text/html", "application/json"] {
        let res = client
            .get("/n/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            .header("accept", accept)
            .send()
            .await;
        assert_eq!(res.status(), 400);
        assert!(!res.text().contains("<script>"), "{}", res.text());
        assert!(!res.text().contains("alert"), "{}", res.text());
    }
}

#[tokio::test]
async fn head_of_an_error_has_headers_and_no_body() {
    let res = TestClient::new(app()).head("/forbidden").send().await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.header("content-length"), Some("14"));
    assert!(res.bytes().is_empty());
}

#[tokio::test]
async fn json_errors_makes_every_default_error_page_problem_json() {
    async fn upload(req: &Request, res: &mut Res) -> Result {
        res.text(format!("{} bytes", req.bytes().await?.len()));
        Ok(())
    }

    async fn brew(_req: &Request, _res: &mut Res) -> Result {
        abort(418)
    }

    async fn teapot(_caught: &bocata::error::Caught<'_>, res: &mut Res) -> Result {
        res.text("short and stout");
        Ok(())
    }

    let client = TestClient::new(
        app()
            .route("/upload", bocata::post(upload))
            .body_limit(8)
            .catch(418, teapot)
            .route("/teapot", bocata::get(brew))
            .json_errors(true),
    );
    let problem = |status: u16, title: &str| serde_json::json!({ "type": "about:blank", "title": title, "status": status });
    let cases = [
        (client.get("/nowhere"), problem(404, "Not Found")),
        (client.get("/forbidden"), problem(403, "Forbidden")),
        (client.get("/panic"), problem(500, "Internal Server Error")),
        (client.get("/io"), problem(500, "Internal Server Error")),
        (client.post("/ok"), problem(405, "Method Not Allowed")),
        (
            client.post("/upload").body("more than eight bytes"),
            problem(413, "Payload Too Large"),
        ),
    ];
    for (request, expected) in cases {
        let res = request.header("accept", "text/html").send().await;
        assert_eq!(
            res.header("content-type"),
            Some("application/problem+json"),
            "{expected}"
        );
        let mut body = res.json::<serde_json::Value>();
        if let Some(fields) = body.as_object_mut() {
            fields.remove("detail");
        }
        assert_eq!(body, expected, "whatever the client accepts");
        assert_eq!(
            Some(u64::from(res.status().as_u16())),
            expected["status"].as_u64()
        );
    }

    let res = client.post("/ok").send().await;
    assert_eq!(
        res.header("allow"),
        Some("GET, HEAD, OPTIONS"),
        "headers kept"
    );
    let res = client.get("/n/300").send().await;
    assert_eq!(res.status(), 400);
    let detail = res.json::<serde_json::Value>()["detail"].clone();
    assert!(
        detail.as_str().is_some_and(|d| d.contains("`n`")),
        "{detail}"
    );

    let res = client.get("/teapot").send().await;
    assert_eq!(
        res.text(),
        "short and stout",
        "a catch handler's page is its own"
    );
}
