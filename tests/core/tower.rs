//! bocata as a tower citizen: tower-http layers around an app, a bocata app nested in
//! an axum Router, and an axum Router mounted inside a bocata app.

use std::io::Read;
use std::time::Duration;

use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result};
use bocata_tests::{Running, get, read, within};
use http::header;

async fn text(_req: &Request, res: &mut Res) -> Result {
    res.text("hello ".repeat(200));
    Ok(())
}

async fn slow(_req: &Request, res: &mut Res) -> Result {
    std::future::pending::<()>().await;
    res.text("never");
    Ok(())
}

async fn peer(req: &Request, res: &mut Res) -> Result {
    res.text(
        req.client_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_default(),
    );
    Ok(())
}

fn layered() -> App {
    App::new()
        .route("/text", bocata::get(text))
        .route("/slow", bocata::get(slow))
        .route("/peer", bocata::get(peer))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(tower_http::cors::CorsLayer::permissive())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_millis(100),
        ))
}

#[tokio::test]
async fn tower_http_layers_wrap_the_app() {
    let client = TestClient::new(layered());
    let res = client
        .get("/text")
        .header("accept-encoding", "gzip")
        .header("origin", "https://example.com")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert_eq!(res.header("access-control-allow-origin"), Some("*"));
    let mut plain = String::new();
    flate2_decode(res.bytes(), &mut plain);
    assert_eq!(plain, "hello ".repeat(200));

    let res = client.get("/slow").send().await;
    assert_eq!(res.status(), 503, "the timeout layer answered");
    assert_eq!(
        client.get("/missing").send().await.status(),
        404,
        "routing is intact"
    );
}

fn flate2_decode(bytes: &[u8], out: &mut String) {
    let mut decoder = GzipReader::new(bytes);
    decoder.read_to_string(out).expect("valid gzip");
}

/// tower-http's gzip comes from flate2; reading it back needs the same.
type GzipReader<'a> = flate2::read::GzDecoder<&'a [u8]>;

#[tokio::test]
async fn layers_see_requests_served_over_a_socket_and_views_keep_the_peer() {
    let server = Running::start(layered()).await;
    let mut conn = server.http1().await;
    let response = within("a response", conn.send_request(get("/peer")))
        .await
        .expect("a response");
    let (head, body) = read(response).await;
    let vary: Vec<_> = head.headers.get_all(header::VARY).iter().collect();
    assert!(
        vary.iter()
            .any(|v| v.to_str().is_ok_and(|v| v.contains("origin"))),
        "the CORS layer ran: {vary:?}"
    );
    assert_eq!(
        body, "127.0.0.1",
        "the client's address survives the layers"
    );
    server.shutdown().await.expect("clean shutdown");
}

async fn axum_hello() -> &'static str {
    "hello from axum"
}

#[tokio::test]
async fn an_axum_router_mounted_in_bocata() {
    let legacy = axum::Router::new().route("/hello", axum::routing::get(axum_hello));
    let client = TestClient::new(
        App::new()
            .route("/text", bocata::get(text))
            .mount_service("/legacy", legacy),
    );
    let res = client.get("/legacy/hello").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "hello from axum");
    assert_eq!(
        client.get("/legacy/nope").send().await.status(),
        404,
        "axum's 404"
    );
    assert_eq!(client.get("/text").send().await.status(), 200);
}

#[tokio::test]
async fn a_bocata_app_nested_in_axum() {
    use tower::ServiceExt;

    let app = App::new().route("/text", bocata::get(text));
    let router = axum::Router::new()
        .route("/hello", axum::routing::get(axum_hello))
        .nest_service("/bocata", app);
    let request = http::Request::get("/bocata/text")
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), 200);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("a body")
        .to_bytes();
    assert_eq!(body, "hello ".repeat(200));
    let request = http::Request::get("/hello")
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = router.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), 200);
}

#[test]
fn a_mounted_service_s_prefix_cannot_have_a_parameter() {
    for prefix in ["/users/{id}/legacy", "/files/{*rest}"] {
        let legacy = axum::Router::new().route("/hello", axum::routing::get(axum_hello));
        let mount = std::panic::AssertUnwindSafe(|| App::new().mount_service(prefix, legacy));
        let panic = std::panic::catch_unwind(mount).expect_err("refused when the app is built");
        let message = panic.downcast_ref::<String>().expect("a message");
        assert!(message.contains(prefix), "{message}");
        assert!(message.contains("cannot have a parameter"), "{message}");
    }
}
