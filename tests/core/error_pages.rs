//! Custom error pages with `App::catch`, for errors from every source.

use bocata::error::Caught;
use bocata::testing::TestClient;
use bocata::{App, Error, Request, Res, Result};

async fn not_found(caught: &Caught<'_>, res: &mut Res) -> Result {
    let path = caught.uri().path().replace('<', "&lt;");
    res.html(format!("<h1>No page at {path}</h1>"));
    Ok(())
}

async fn not_allowed(caught: &Caught<'_>, res: &mut Res) -> Result {
    res.text(format!("{} is not allowed here", caught.method()));
    Ok(())
}

async fn server_error(caught: &Caught<'_>, res: &mut Res) -> Result {
    let detail = caught.detail().unwrap_or_else(|| "no details".into());
    res.json(&serde_json::json!({ "oops": caught.status().as_u16(), "detail": detail }));
    Ok(())
}

async fn too_large(_caught: &Caught<'_>, res: &mut Res) -> Result {
    res.status(413).text("that file is too big for us");
    Ok(())
}

async fn failing_page(_caught: &Caught<'_>, _res: &mut Res) -> Result {
    Err(Error::new(500, "the error page itself failed"))
}

async fn panicking_page(_caught: &Caught<'_>, _res: &mut Res) -> Result {
    panic!("the teapot page panicked")
}

async fn fails(_req: &Request, _res: &mut Res) -> Result {
    Err(Error::internal(std::io::Error::other("disk on fire")))
}

async fn upload(req: &Request, res: &mut Res) -> Result {
    let body = req.bytes().await?;
    res.text(body.len().to_string());
    Ok(())
}

async fn teapot(_req: &Request, _res: &mut Res) -> Result {
    bocata::abort(418)
}

async fn conflict(_req: &Request, _res: &mut Res) -> Result {
    bocata::abort(409)
}

fn client(debug: bool) -> TestClient {
    TestClient::new(
        App::new()
            .debug(debug)
            .route("/fails", bocata::get(fails))
            .route("/upload", bocata::post(upload))
            .route("/teapot", bocata::get(teapot))
            .route("/conflict", bocata::get(conflict))
            .body_limit(8)
            .catch(404, not_found)
            .catch(405, not_allowed)
            .catch(500, server_error)
            .catch(413, too_large)
            .catch(409, failing_page)
            .catch(418, panicking_page),
    )
}

#[tokio::test]
async fn router_errors_get_the_custom_page() {
    let client = client(false);
    let res = client.get("/missing/%3Cb%3E").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(res.text(), "<h1>No page at /missing/%3Cb%3E</h1>");

    let res = client.delete("/fails").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.text(), "DELETE is not allowed here");
    assert_eq!(
        res.header("allow"),
        Some("GET, HEAD, OPTIONS"),
        "the error's headers stay"
    );
}

#[tokio::test]
async fn view_and_body_errors_get_the_custom_page() {
    let res = client(false).get("/fails").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.json::<serde_json::Value>(),
        serde_json::json!({"oops": 500, "detail": "no details"})
    );
    let res = client(true).get("/fails").send().await;
    assert_eq!(
        res.json::<serde_json::Value>()["detail"],
        "disk on fire",
        "debug mode shows the cause"
    );
    let res = client(false)
        .post("/upload")
        .body("far more than eight bytes")
        .send()
        .await;
    assert_eq!(res.status(), 413);
    assert_eq!(res.text(), "that file is too big for us");
}

#[tokio::test]
async fn a_failing_or_panicking_page_falls_back_to_the_default() {
    let client = client(false);
    let res = client.get("/conflict").send().await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.text(), "409 Conflict\n");
    let res = client.get("/teapot").send().await;
    assert_eq!(res.status(), 418);
    assert_eq!(res.text(), "418 I'm a teapot\n");
    assert_eq!(
        client.get("/missing").send().await.status(),
        404,
        "still serving"
    );
}

/// An error page that is an endless event stream.
async fn live_not_found(_caught: &Caught<'_>, res: &mut Res) -> Result {
    res.sse(bocata::stream! {
        let mut clock = tokio::time::interval(std::time::Duration::from_millis(20));
        loop {
            clock.tick().await;
            yield bocata::Event::new().data("still not found");
        }
    });
    Ok(())
}

#[tokio::test]
async fn an_error_page_is_finished_as_a_view_s_response_is() {
    // An endless event stream as the 404 page ends when a shutdown begins, as a view's
    // would: the page knows its connection.
    let mut server = bocata_tests::Running::start_with(
        bocata::Server::new(App::new().catch(404, live_not_found))
            .grace_period(bocata_tests::PATIENCE * 2),
    )
    .await;
    let mut conn = server.http1().await;
    let response =
        bocata_tests::within("the page", conn.send_request(bocata_tests::get("/nowhere")))
            .await
            .expect("a response");
    assert_eq!(response.status(), 404);
    let mut body = response.into_body();
    let first = bocata_tests::within("an event", http_body_util::BodyExt::frame(&mut body))
        .await
        .expect("a frame")
        .expect("data");
    assert!(first.is_data());
    server.stop();
    let rest =
        bocata_tests::within("the stream to end", http_body_util::BodyExt::collect(body)).await;
    assert!(rest.is_ok(), "a clean end at the start of the shutdown");
    server.shutdown().await.expect("clean shutdown");
}
