//! Chapter "Error pages": `App::catch`, what `Caught` tells a page, which errors reach
//! it, and what happens when a page fails.

// ANCHOR: imports
use bocata::error::Caught;
use bocata::{App, Error, Request, Res, Result, abort};
// ANCHOR_END: imports

use bocata::testing::TestClient;
use bocata_tests::{LogCapture, Running, get, read, within};

// ANCHOR: not_found
/// The page for `404 Not Found`, wherever the 404 came from.
async fn not_found(caught: &Caught<'_>, res: &mut Res) -> Result {
    let path = escape(caught.uri().path());
    res.html(format!(
        "<h1>Nothing here</h1><p>There is no page at {path}.</p><p><a href=\"/\">Home</a></p>"
    ));
    Ok(())
}

/// Makes text from the request safe to put in HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
// ANCHOR_END: not_found

// ANCHOR: error_page
/// One page for several statuses: JSON for API clients, HTML for everyone else.
async fn error_page(caught: &Caught<'_>, res: &mut Res) -> Result {
    let status = caught.status();
    let title = status.canonical_reason().unwrap_or("Error");
    let detail = caught.detail(); // the message; in debug mode, a 5xx's cause too
    let wants_json = caught
        .headers()
        .get("accept")
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("json"));
    if wants_json {
        res.json(&serde_json::json!({ "error": title, "detail": detail }));
    } else {
        let detail = detail.map(|d| format!("<p>{}</p>", escape(&d)));
        res.html(format!(
            "<h1>{} {title}</h1>{}",
            status.as_u16(),
            detail.unwrap_or_default()
        ));
    }
    Ok(())
}
// ANCHOR_END: error_page

/// `GET /admin`: never for you.
async fn admin(_req: &Request, _res: &mut Res) -> Result {
    abort(403)
}

/// `GET /orders/{id}`: a client error with a message.
async fn order(req: &Request, res: &mut Res) -> Result {
    let id: u32 = req.param("id")?;
    if id > 100 {
        return Err(Error::new(404, format!("there is no order {id}")));
    }
    res.text(format!("order {id}"));
    Ok(())
}

/// `GET /report`: a server error, from `?`.
async fn report(_req: &Request, res: &mut Res) -> Result {
    let rows: u32 = "many".parse()?;
    res.text(rows.to_string());
    Ok(())
}

/// `POST /upload`: more than the body limit is a 413 from the body reader.
async fn upload(req: &Request, res: &mut Res) -> Result {
    res.text(format!("{} bytes", req.bytes().await?.len()));
    Ok(())
}

// ANCHOR: not_an_error
/// `GET /search?q=…`: a 404 the view builds itself is a response, not an error.
async fn search(req: &Request, res: &mut Res) -> Result {
    let q = req.query("q").unwrap_or_default();
    res.status(404)
        .json(&serde_json::json!({ "query": q, "results": [] }));
    Ok(())
}
// ANCHOR_END: not_an_error

// ANCHOR: app
/// The app and its error pages.
fn app(debug: bool) -> App {
    App::new()
        .route("/admin", bocata::get(admin))
        .route("/orders/{id}", bocata::get(order))
        .route("/report", bocata::get(report))
        .route("/upload", bocata::post(upload))
        .route("/search", bocata::get(search))
        .body_limit(16)
        .catch(404, not_found)
        .catch(403, error_page)
        .catch(405, error_page)
        .catch(413, error_page)
        .catch(500, error_page)
        .debug(debug)
}
// ANCHOR_END: app

#[tokio::test]
async fn a_404_from_the_router_or_a_view_gets_the_page() {
    let client = TestClient::new(app(false));
    let res = client.get("/no/%3Cscript%3E").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        res.text(),
        "<h1>Nothing here</h1><p>There is no page at /no/%3Cscript%3E.</p><p><a href=\"/\">Home</a></p>"
    );
    let res = client.get("/orders/500").send().await;
    assert_eq!(res.status(), 404);
    assert!(res.text().contains("There is no page at /orders/500."));
    assert_eq!(client.get("/orders/5").send().await.text(), "order 5");
}

#[tokio::test]
async fn one_page_for_several_statuses() {
    let client = TestClient::new(app(false));
    let res = client.get("/admin").send().await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.text(), "<h1>403 Forbidden</h1>");

    let res = client
        .get("/admin")
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.text(), r#"{"detail":null,"error":"Forbidden"}"#);

    let res = client.delete("/admin").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(
        res.header("allow"),
        Some("GET, HEAD, OPTIONS"),
        "the error's headers stay"
    );
    assert_eq!(res.text(), "<h1>405 Method Not Allowed</h1>");

    let res = client
        .post("/upload")
        .body("far more than sixteen bytes")
        .send()
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.text(),
        "<h1>413 Payload Too Large</h1><p>the request body is larger than the limit of 16 bytes</p>"
    );
}

#[tokio::test]
async fn server_errors_show_their_cause_only_in_debug_mode() {
    let res = TestClient::new(app(false)).get("/report").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "<h1>500 Internal Server Error</h1>");

    let res = TestClient::new(app(true)).get("/report").send().await;
    assert_eq!(
        res.text(),
        "<h1>500 Internal Server Error</h1><p>invalid digit found in string</p>"
    );
}

#[tokio::test]
async fn a_response_with_an_error_status_is_not_caught() {
    let res = TestClient::new(app(false))
        .get("/search")
        .query(&[("q", "rust")])
        .send()
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.text(), r#"{"query":"rust","results":[]}"#);
}

/// Fails in front of every view of the app.
async fn closed(_req: &mut Request, _res: &mut Res) -> Result {
    abort(403)
}

/// Would mark every response.
async fn stamp(_req: &Request, res: &mut Res) -> Result {
    res.header("x-stamp", "yes");
    Ok(())
}

/// Panics.
async fn bug(_req: &Request, _res: &mut Res) -> Result {
    let orders: Vec<u32> = Vec::new();
    assert!(!orders.is_empty(), "no orders");
    Ok(())
}

#[tokio::test]
async fn hooks_and_panics_reach_the_pages_but_after_hooks_do_not_run() {
    let client = TestClient::new(app(false).before(closed).after(stamp));
    let res = client.get("/orders/5").send().await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.text(), "<h1>403 Forbidden</h1>");
    assert_eq!(res.header("x-stamp"), None);

    let client = TestClient::new(app(false).route("/bug", bocata::get(bug)));
    let res = client.get("/bug").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "<h1>500 Internal Server Error</h1>");
}

/// An error page that fails itself.
async fn broken_page(_caught: &Caught<'_>, _res: &mut Res) -> Result {
    Err(Error::internal(std::io::Error::other(
        "the template is missing",
    )))
}

/// An error page that panics.
async fn panicking_page(_caught: &Caught<'_>, _res: &mut Res) -> Result {
    panic!("the page panicked")
}

#[tokio::test]
async fn a_failing_page_falls_back_to_the_default_body() {
    let client = TestClient::new(
        app(false)
            .catch(404, broken_page)
            .catch(403, panicking_page),
    );
    let res = client.get("/nowhere").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.text(), "404 Not Found\n");
    let res = client.get("/admin").send().await;
    assert_eq!(res.status(), 403);
    assert_eq!(res.text(), "403 Forbidden\n");
    assert_eq!(client.get("/orders/5").send().await.text(), "order 5");
}

/// `GET /hello` in a small axum app.
async fn axum_hello() -> &'static str {
    "hello from axum"
}

#[tokio::test]
async fn a_mounted_service_answers_for_itself() {
    let legacy = axum::Router::new().route("/hello", axum::routing::get(axum_hello));
    let client = TestClient::new(app(false).mount_service("/legacy", legacy));
    let res = client.get("/legacy/missing").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.text(), "", "axum's own 404, not the app's page");
}

/// `GET /download`: a file that is not there.
async fn download(_req: &Request, res: &mut Res) -> Result {
    res.file("/nonexistent/bocata/report.pdf");
    Ok(())
}

/// `GET /echo?v=…`: copies the query into a header; a newline makes it invalid.
async fn echo(req: &Request, res: &mut Res) -> Result {
    res.header("x-echo", req.query("v").unwrap_or_default())
        .text("echoed");
    Ok(())
}

/// After every view: fails.
async fn failing_after(_req: &Request, _res: &mut Res) -> Result {
    abort(403)
}

#[tokio::test]
async fn errors_found_while_finishing_the_response_reach_the_pages() {
    let client = TestClient::new(
        app(false)
            .route("/download", bocata::get(download))
            .route("/echo", bocata::get(echo)),
    );
    let res = client.get("/download").send().await;
    assert_eq!(res.status(), 404);
    assert!(
        res.text().starts_with("<h1>Nothing here</h1>"),
        "{}",
        res.text()
    );
    let res = client.get("/echo").query(&[("v", "a\nb")]).send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "<h1>500 Internal Server Error</h1>");

    let client = TestClient::new(app(false).after(failing_after));
    let res = client.get("/orders/5").send().await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.text(),
        "<h1>403 Forbidden</h1>",
        "an after hook's error"
    );
}

#[tokio::test]
async fn head_requests_get_the_page_without_its_body() {
    let res = TestClient::new(app(false)).head("/nowhere").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(res.text(), "");
}

/// `GET /stuck`: never answers.
async fn stuck(_req: &Request, res: &mut Res) -> Result {
    std::future::pending::<()>().await;
    res.text("never");
    Ok(())
}

#[tokio::test]
async fn what_layers_answer_is_not_caught() {
    let client = TestClient::new(
        app(false)
            .route("/stuck", bocata::get(stuck))
            .catch(503, error_page)
            .layer(tower_http::timeout::TimeoutLayer::with_status_code(
                bocata::http::StatusCode::SERVICE_UNAVAILABLE,
                std::time::Duration::from_millis(50),
            )),
    );
    let res = client.get("/stuck").send().await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.text(), "", "the timeout layer's own empty body");

    let failing = tower::util::MapResultLayer::new(
        |_result: std::result::Result<
            http::Response<bocata::body::Body>,
            std::convert::Infallible,
        >| {
            Err::<http::Response<bocata::body::Body>, Box<dyn std::error::Error + Send + Sync>>(
                "down".into(),
            )
        },
    );
    let res = TestClient::new(app(false).layer(failing))
        .get("/orders/5")
        .send()
        .await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "500 Internal Server Error\n");
}

#[tokio::test]
async fn a_failing_page_is_logged() {
    let log = LogCapture::start();
    let client = TestClient::new(app(false).catch(404, broken_page));
    assert_eq!(
        client.get("/nowhere").send().await.text(),
        "404 Not Found\n"
    );
    assert!(
        log.text().contains(
            "ERROR bocata::error: the error page handler failed, sending the default page: \
             500 Internal Server Error: the template is missing status=404"
        ),
        "{}",
        log.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_404_page_on_the_wire() {
    let server = Running::start(app(false)).await;
    let mut conn = server.http1().await;
    let response = within("a response", conn.send_request(get("/no/such/page")))
        .await
        .expect("a response");
    let (head, body) = read(response).await;
    assert_eq!(head.status, 404);
    let names: Vec<&str> = head.headers.keys().map(|k| k.as_str()).collect();
    assert_eq!(names, ["content-type", "content-length", "date"]);
    assert_eq!(head.headers["content-length"], "89");
    assert_eq!(
        body,
        "<h1>Nothing here</h1><p>There is no page at /no/such/page.</p><p><a href=\"/\">Home</a></p>"
    );
    server.shutdown().await.expect("clean shutdown");
}
