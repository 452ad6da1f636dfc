//! Chapter "Working with tower and axum": tower-http layers around an app, layers of
//! your own, request ids and traces, timeouts and uploads, an axum Router mounted in
//! bocata, and a bocata App nested in axum.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bocata_tests::LogCapture;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use tokio::time::Instant;

// ANCHOR: imports
use bocata::app::Next;
use bocata::body::Body;
use bocata::http;
use bocata::http::{HeaderValue, Method, StatusCode, header};
use bocata::testing::TestClient;
use bocata::{App, Event, Request, Res, Result};
use tower::{Layer, ServiceBuilder, ServiceExt};
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
// ANCHOR_END: imports

/// `GET /report`: a body worth compressing.
async fn report(_req: &Request, res: &mut Res) -> Result {
    res.text("month,visits\n".to_owned() + &"2025-01,1234\n".repeat(100));
    Ok(())
}

/// `GET /stuck`: waits on something that never answers.
async fn stuck(_req: &Request, res: &mut Res) -> Result {
    std::future::pending::<()>().await;
    res.text("never sent");
    Ok(())
}

// ANCHOR: layers
/// The app behind three tower-http layers. `timeout` is how long a request may take.
fn app(timeout: Duration) -> App {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::exact(HeaderValue::from_static(
            "https://shop.example",
        )))
        .allow_methods([Method::GET, Method::POST]);
    App::new()
        .route("/report", bocata::get(report))
        .route("/stuck", bocata::get(stuck))
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
}
// ANCHOR_END: layers

// ANCHOR: own_layer
/// Adds security headers to every response, whatever its body type.
fn security_headers<B>(mut response: http::Response<B>) -> http::Response<B> {
    let headers = response.headers_mut();
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

/// Any function from response to response is a layer with `MapResponseLayer`.
fn secured(app: App) -> App {
    app.layer(tower::util::MapResponseLayer::new(security_headers))
}
// ANCHOR_END: own_layer

/// Adds `layer` to the `x-trail` header of every response on its way out.
fn trail(
    layer: &'static str,
) -> impl Fn(http::Response<bocata::body::Body>) -> http::Response<bocata::body::Body> + Clone {
    move |mut response| {
        response
            .headers_mut()
            .append("x-trail", HeaderValue::from_static(layer));
        response
    }
}

#[tokio::test]
async fn tower_http_layers_wrap_the_app() {
    let client = TestClient::new(app(Duration::from_secs(10)));
    let res = client
        .get("/report")
        .header("accept-encoding", "gzip")
        .header("origin", "https://shop.example")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-encoding"), Some("gzip"));
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&res.bytes()[..]),
        &mut text,
    )
    .expect("gzip");
    assert!(text.starts_with("month,visits\n2025-01,1234\n"), "{text}");
    assert!(res.bytes().len() < text.len() / 5, "well compressed");

    let res = client.get("/report").send().await;
    assert_eq!(res.header("content-encoding"), None, "not asked for");
}

#[tokio::test]
async fn the_cors_layer_answers_preflight_requests() {
    let client = TestClient::new(app(Duration::from_secs(10)));
    let res = client
        .options("/report")
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("https://shop.example")
    );
    assert_eq!(res.header("access-control-allow-methods"), Some("GET,POST"));
    assert_eq!(res.header("allow"), None, "the app never saw it");

    let res = client
        .get("/report")
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.header("access-control-allow-origin"),
        Some("https://shop.example"),
        "never the other origin: the browser keeps the response from its page"
    );
}

#[tokio::test]
async fn the_timeout_layer_answers_for_a_stuck_view() {
    let client = TestClient::new(app(Duration::from_millis(50)));
    let res = client.get("/stuck").send().await;
    assert_eq!(res.status(), 503);
    assert_eq!(client.get("/report").send().await.status(), 200);
}

/// `GET /hello`: too short to be worth compressing.
async fn hello(_req: &Request, res: &mut Res) -> Result {
    res.text("hello");
    Ok(())
}

/// `GET /events`: one server-sent event.
async fn events(_req: &Request, res: &mut Res) -> Result {
    res.sse(futures_util::stream::iter([
        Event::new().data("x".repeat(200))
    ]));
    Ok(())
}

#[tokio::test]
async fn compression_skips_small_bodies_and_event_streams() {
    let client = TestClient::new(
        app(Duration::from_secs(10))
            .route("/hello", bocata::get(hello))
            .route("/events", bocata::get(events)),
    );
    for path in ["/hello", "/events"] {
        let res = client
            .get(path)
            .header("accept-encoding", "gzip")
            .send()
            .await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.header("content-encoding"), None, "{path}");
    }
}

#[tokio::test]
async fn a_function_is_a_layer() {
    let client = TestClient::new(secured(app(Duration::from_secs(10))));
    let res = client.get("/report").send().await;
    assert_eq!(res.header("x-frame-options"), Some("DENY"));
    assert_eq!(res.header("referrer-policy"), Some("no-referrer"));
    for (method, path, status) in [
        (Method::GET, "/missing", 404),
        (Method::DELETE, "/report", 405),
        (Method::GET, "/report/", 308),
    ] {
        let res = client.request(method, path).send().await;
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(
            res.header("x-frame-options"),
            Some("DENY"),
            "layers wrap every response: {path}"
        );
    }
}

#[tokio::test]
async fn later_layers_wrap_earlier_ones() {
    let client = TestClient::new(
        App::new()
            .route("/hello", bocata::get(hello))
            .layer(tower::util::MapResponseLayer::new(trail("first")))
            .layer(tower::util::MapResponseLayer::new(trail("second"))),
    );
    let res = client.get("/hello").send().await;
    let order: Vec<&str> = res
        .headers()
        .get_all("x-trail")
        .iter()
        .map(|v| v.to_str().expect("ASCII"))
        .collect();
    assert_eq!(
        order,
        ["first", "second"],
        "the first layer is innermost: it sees the response first"
    );

    let builder = tower::ServiceBuilder::new()
        .map_response(trail("outer"))
        .map_response(trail("inner"));
    let client = TestClient::new(
        App::new()
            .route("/hello", bocata::get(hello))
            .layer(builder),
    );
    let res = client.get("/hello").send().await;
    let order: Vec<&str> = res
        .headers()
        .get_all("x-trail")
        .iter()
        .map(|v| v.to_str().expect("ASCII"))
        .collect();
    assert_eq!(order, ["inner", "outer"], "a ServiceBuilder reads top down");
}

#[tokio::test]
async fn a_failing_layer_is_a_logged_500() {
    let log = LogCapture::start();
    let failing = tower::util::MapResultLayer::new(
        |_result: std::result::Result<
            http::Response<bocata::body::Body>,
            std::convert::Infallible,
        >| {
            Err::<http::Response<bocata::body::Body>, Box<dyn std::error::Error + Send + Sync>>(
                "quota service down".into(),
            )
        },
    );
    let client = TestClient::new(
        App::new()
            .route("/hello", bocata::get(hello))
            .layer(failing),
    );
    let res = client.get("/hello").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "500 Internal Server Error\n");
    assert!(
        log.text()
            .contains("a tower service failed: quota service down"),
        "{}",
        log.text()
    );
}

// ANCHOR: axum_in_bocata
/// `GET /users/{id}` in an older part of the site, written with axum.
async fn legacy_user(axum::extract::Path(id): axum::extract::Path<u32>) -> String {
    format!("legacy user {id}")
}

/// The axum part, as it was.
fn legacy() -> axum::Router {
    axum::Router::new().route("/users/{id}", axum::routing::get(legacy_user))
}

/// The bocata app, with the axum router served under `/legacy`.
fn combined() -> App {
    App::new()
        .route("/report", bocata::get(report))
        .mount_service("/legacy", legacy())
}
// ANCHOR_END: axum_in_bocata

#[tokio::test]
async fn an_axum_router_mounted_in_bocata() {
    let client = TestClient::new(combined());
    let res = client.get("/legacy/users/7").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "legacy user 7", "axum saw /users/7");
    assert_eq!(
        client.post("/legacy/users/7").send().await.status(),
        405,
        "axum's 405"
    );
    assert_eq!(client.get("/legacy/nope").send().await.status(), 404);
    assert_eq!(client.get("/report").send().await.status(), 200);

    let client = TestClient::new(secured(combined()));
    let res = client.get("/legacy/users/7").send().await;
    assert_eq!(
        res.header("x-frame-options"),
        Some("DENY"),
        "the app's layers wrap it"
    );
}

/// `GET /peer`: the client's address, if bocata knows it.
async fn peer(req: &Request, res: &mut Res) -> Result {
    res.text(format!("{:?}", req.client_addr()));
    Ok(())
}

// ANCHOR: bocata_in_axum
/// `GET /health` in the axum app.
async fn health() -> &'static str {
    "ok"
}

/// An axum app that serves a bocata app under `/shop`.
fn axum_app(shop: App) -> axum::Router {
    axum::Router::new()
        .route("/health", axum::routing::get(health))
        .nest_service("/shop", shop)
}
// ANCHOR_END: bocata_in_axum

#[tokio::test]
async fn a_bocata_app_nested_in_axum() {
    let shop = app(Duration::from_secs(10)).route("/peer", bocata::get(peer));
    let router = axum_app(shop);
    let request = http::Request::get("/shop/report")
        .header(header::ACCEPT_ENCODING, "gzip")
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get(header::CONTENT_ENCODING)
            .map(|v| v.as_bytes()),
        Some(&b"gzip"[..]),
        "the app keeps its own layers"
    );

    let request = http::Request::get("/shop/peer")
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = router.clone().oneshot(request).await.expect("infallible");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    assert_eq!(body, "None", "no address from another server");

    let request = http::Request::get("/health")
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = router.oneshot(request).await.expect("infallible");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    assert_eq!(body, "ok");
}

/// `/` in axum: the URI as axum sees it.
async fn axum_uri(uri: axum::http::Uri) -> String {
    uri.to_string()
}

#[tokio::test]
async fn a_mounted_service_sees_its_own_paths_with_the_query() {
    let client = TestClient::new(App::new().mount_service(
        "/legacy",
        axum::Router::new().route("/", axum::routing::get(axum_uri)),
    ));
    for path in ["/legacy", "/legacy/"] {
        let res = client.get(path).query(&[("x", "1")]).send().await;
        assert_eq!(res.text(), "/?x=1", "{path}");
    }
}

#[test]
#[should_panic(expected = "conflicts with")]
fn a_prefix_that_clashes_with_a_route_panics() {
    let _app = App::new()
        .route("/legacy/{*rest}", bocata::get(report))
        .mount_service("/legacy", legacy());
}

/// The client's address, as a server in front of axum would record it (axum's own
/// `ConnectInfo` needs its `tokio` feature).
#[derive(Clone, Debug)]
struct Peer(std::net::SocketAddr);

/// `GET /who`: the peer address the server in front recorded, if any.
async fn who(req: &Request, res: &mut Res) -> Result {
    let peer = req.extensions().get::<Peer>();
    res.text(format!("{:?}", peer.map(|p| p.0)));
    Ok(())
}

#[tokio::test]
async fn axum_extensions_reach_bocata() {
    let router = axum_app(App::new().route("/who", bocata::get(who)));
    let mut request = http::Request::get("/shop/who")
        .body(axum::body::Body::empty())
        .expect("a request");
    let addr: std::net::SocketAddr = "192.0.2.7:4000".parse().expect("an address");
    request.extensions_mut().insert(Peer(addr));
    let response = router.oneshot(request).await.expect("infallible");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    assert_eq!(body, "Some(192.0.2.7:4000)");
}

// ANCHOR: request_id
/// Numbers requests 1, 2, 3, … (tower-http's `MakeRequestUuid` makes random ids).
#[derive(Clone, Default)]
struct Counter(Arc<AtomicU64>);

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _request: &http::Request<B>) -> Option<RequestId> {
        let id = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        Some(RequestId::new(HeaderValue::from(id)))
    }
}

/// The span a request is answered in, named by its id: every event logged meanwhile,
/// bocata's access-log line included, is printed under it.
fn request_span(request: &http::Request<Body>) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!("request", %id)
}

/// An `x-request-id` for every request (one the client sent is kept), a span for each
/// request, and the id on every response.
fn traced(app: App) -> App {
    app.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(Counter::default()))
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .layer(PropagateRequestIdLayer::x_request_id()),
    )
}
// ANCHOR_END: request_id

/// The access-log line of a request, if there is one: under the span of request `id`,
/// for `path`.
fn access_line<'a>(log: &'a str, id: &str, path: &str) -> Option<&'a str> {
    log.lines().find(|line| {
        line.contains(&format!("request{{id={id}}}: bocata::access:"))
            && line.contains(&format!("path=\"{path}\""))
    })
}

#[tokio::test]
async fn every_request_has_its_id_on_its_log_lines_and_its_response() {
    let log = LogCapture::start_with("bocata=info,guide=info");
    let client = TestClient::new(traced(app(Duration::from_secs(10))));

    let res = client.get("/report").send().await;
    assert_eq!(res.header("x-request-id"), Some("1"));
    let res = client.get("/missing").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.header("x-request-id"), Some("2"), "errors too");
    let res = client
        .get("/report")
        .header("x-request-id", "from-the-proxy")
        .send()
        .await;
    assert_eq!(res.header("x-request-id"), Some("from-the-proxy"));

    let log = log.text();
    for (id, path) in [
        ("1", "/report"),
        ("2", "/missing"),
        ("from-the-proxy", "/report"),
    ] {
        assert!(access_line(&log, id, path).is_some(), "{id} {path}: {log}");
    }
}

/// `POST /uploads/{name}` and `POST /notes`: the size of the body, read whole.
async fn count(req: &Request, res: &mut Res) -> Result {
    let body = req.bytes().await?;
    res.text(format!("{} bytes", body.len()));
    Ok(())
}

/// A body of `bytes` bytes, one every `every`, as a slow client sends it.
fn trickle(
    bytes: usize,
    every: Duration,
) -> http::Request<impl hyper::body::Body<Data = Bytes, Error = Infallible>> {
    let chunks = futures_util::stream::iter(0..bytes).then(move |_| async move {
        tokio::time::sleep(every).await;
        Ok(Frame::data(Bytes::from_static(b"x")))
    });
    http::Request::post("/")
        .header(header::CONTENT_LENGTH, bytes)
        .body(StreamBody::new(chunks))
        .expect("a request")
}

/// Sends `request` to `path` of `app`, as bocata's server would, and returns the
/// status and how long the answer took.
async fn timed<B>(app: &App, path: &str, mut request: http::Request<B>) -> (StatusCode, Duration)
where
    B: hyper::body::Body<Data = Bytes, Error = Infallible> + Send + 'static,
{
    *request.uri_mut() = path.parse().expect("a path");
    let started = Instant::now();
    let response = app.clone().oneshot(request).await.expect("infallible");
    (response.status(), started.elapsed())
}

#[tokio::test(start_paused = true)]
async fn an_outermost_timeout_answers_503_before_the_body_timeout_answers_408() {
    let app = App::new()
        .route("/notes", bocata::post(count))
        .body_timeout(Duration::from_secs(10));
    let never = || trickle(1, Duration::MAX);
    assert_eq!(
        timed(&app, "/notes", never()).await,
        (StatusCode::REQUEST_TIMEOUT, Duration::from_secs(10))
    );
    let app = app.layer(TimeoutLayer::with_status_code(
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(1),
    ));
    assert_eq!(
        timed(&app, "/notes", never()).await,
        (StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(1))
    );
}

// ANCHOR: timeout_except_uploads
/// The app with a `timeout` on every request but uploads: their time is the client's
/// pace, which the app's `body_timeout` and `body_min_rate` bound instead.
fn timeout_except_uploads(app: App, timeout: Duration) -> App {
    app.layer(tower::layer::layer_fn(move |next: Next| {
        let timed = TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, timeout)
            .layer(next.clone());
        tower::service_fn(move |request: http::Request<Body>| {
            let upload = request.uri().path().starts_with("/uploads/");
            let (next, timed) = (next.clone(), timed.clone());
            async move {
                if upload {
                    next.oneshot(request).await
                } else {
                    timed.oneshot(request).await
                }
            }
        })
    }))
}
// ANCHOR_END: timeout_except_uploads

#[tokio::test(start_paused = true)]
async fn an_outermost_timeout_bounds_uploads_too_unless_they_are_exempt() {
    let app = || {
        App::new()
            .route("/uploads/{name}", bocata::post(count))
            .route("/notes", bocata::post(count))
    };
    // Ten bytes over five seconds: slow, but within the body limits.
    let upload = || trickle(10, Duration::from_millis(500));
    let slow = app().body_min_rate(None);
    assert_eq!(
        timed(&slow, "/uploads/a", upload()).await,
        (StatusCode::OK, Duration::from_secs(5))
    );

    let bounded = app()
        .body_min_rate(None)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(2),
        ));
    assert_eq!(
        timed(&bounded, "/uploads/a", upload()).await,
        (StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(2)),
        "the timeout counts the upload's time"
    );

    let exempt = timeout_except_uploads(app().body_min_rate(None), Duration::from_secs(2));
    assert_eq!(
        timed(&exempt, "/uploads/a", upload()).await,
        (StatusCode::OK, Duration::from_secs(5))
    );
    assert_eq!(
        timed(&exempt, "/notes", upload()).await,
        (StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(2)),
        "other routes keep the timeout"
    );
    let stalled = || trickle(1, Duration::MAX);
    let exempt = timeout_except_uploads(
        app().body_timeout(Duration::from_secs(30)),
        Duration::from_secs(2),
    );
    assert_eq!(
        timed(&exempt, "/uploads/a", stalled()).await,
        (StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)),
        "an exempt upload is still bounded by body_timeout"
    );
}

#[tokio::test(start_paused = true)]
async fn the_503s_of_an_outermost_timeout_have_no_access_log_line_and_no_request_id() {
    let log = LogCapture::start_with("bocata=info,guide=info,tower_http=info");
    let timeout =
        TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_millis(50));
    let client =
        TestClient::new(traced(App::new().route("/stuck", bocata::get(stuck))).layer(timeout));
    let res = client.get("/stuck").send().await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.header("x-request-id"), None);
    let text = log.text();
    assert!(access_line(&text, "1", "/stuck").is_none(), "{text}");
    assert!(!text.contains("response failed"), "{text}");
    assert!(!text.contains("/stuck"), "nothing logged of it: {text}");

    // The timeout inside the request-id and trace layers: its 503s get an id, and the
    // trace layer logs them as failures. bocata's access log still has no line: the
    // app's answer was dropped before it was logged.
    let client = TestClient::new(traced(app(Duration::from_millis(50))));
    let res = client.get("/stuck").send().await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.header("x-request-id"), Some("1"));
    let text = log.text();
    let failed = text
        .lines()
        .find(|line| line.contains("request{id=1}") && line.contains("response failed"))
        .unwrap_or_else(|| panic!("no failure line: {text}"));
    assert!(failed.contains("503"), "{failed}");
    assert!(access_line(&text, "1", "/stuck").is_none(), "{text}");
}

// ANCHOR: axum_span
/// The axum app of [`axum_app`], each request answered in a span that records its
/// whole path: the lines a nested bocata app logs are printed under it.
fn axum_traced(shop: App) -> axum::Router {
    axum_app(shop).layer(TraceLayer::new_for_http().make_span_with(
        |request: &http::Request<axum::body::Body>| {
            tracing::info_span!("request", uri = %request.uri())
        },
    ))
}
// ANCHOR_END: axum_span

#[tokio::test]
async fn nested_in_axum_the_access_log_shows_the_path_the_app_routes_on() {
    let log = LogCapture::start_with("bocata=info,guide=info");
    let router = axum_traced(App::new().route("/report", bocata::get(report)));
    let request = http::Request::get("/shop/report?month=1")
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = router.oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), 200);
    let text = log.text();
    let line = text
        .lines()
        .find(|line| line.contains("bocata::access"))
        .unwrap_or_else(|| panic!("no access line: {text}"));
    assert!(
        line.contains(r#"path="/report""#),
        "axum took /shop off: {line}"
    );
    assert!(
        line.contains("request{uri=/shop/report?month=1}:"),
        "the span has the whole path: {line}"
    );
}
