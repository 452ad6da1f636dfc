//! A `Request` built from a context alone, without an app or a server.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::body::Body;
use crate::routing::paths::Paths;

/// A request for `uri` with `headers` and `body`, matched to `pattern` (whose parameter
/// values are at `params` in the path), in an app whose context `configure` sets.
fn request(
    uri: &str,
    headers: &[(&str, &str)],
    body: &'static str,
    (pattern, params): (&str, &[(usize, usize)]),
    configure: impl FnOnce(&mut AppContext),
) -> Request {
    let mut builder = http::Request::post(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let (head, ()) = builder
        .body(())
        .unwrap_or_else(|e| panic!("a test request: {e}"))
        .into_parts();
    let mut paths = Paths::default();
    paths.push(pattern, None, Some(8));
    let mut context = AppContext {
        paths,
        ..AppContext::default()
    };
    configure(&mut context);
    let params = params.iter().copied().collect();
    let peer = SocketAddr::from(([10, 0, 0, 7], 40_000));
    let connection = ConnectionContext {
        peer,
        draining: CancellationToken::new(),
        #[cfg(feature = "websocket")]
        tasks: tokio_util::task::TaskTracker::new(),
        #[cfg(feature = "tls")]
        tls: None,
    };
    Request::new(
        head,
        Body::from(body).into(),
        Arc::new(context),
        0,
        params,
        Some(Arc::new(connection)),
    )
}

fn plain(uri: &str, route: (&str, &[(usize, usize)])) -> Request {
    request(uri, &[], "", route, |_| {})
}

#[test]
fn parameters_are_decoded_parsed_and_named_in_errors() {
    let req = plain(
        "/users/4%32/a%20b",
        ("/users/{id}/{name}", &[(7, 11), (12, 17)]),
    );
    assert_eq!(req.param::<u32>("id").ok(), Some(42));
    assert_eq!(req.param::<String>("name").ok().as_deref(), Some("a b"));
    let bad = req.param::<u8>("name").expect_err("not a number");
    assert_eq!(bad.status(), 400);
    assert!(bad.to_string().contains("`name`"), "{bad}");
    let unknown = req.param::<u8>("nope").expect_err("not in the route");
    assert_eq!(unknown.status(), 500);
    assert!(
        unknown
            .cause_chain()
            .is_some_and(|c| c.contains("/users/{id}/{name}")),
        "{unknown:?}"
    );
}

#[test]
fn the_query_and_cookies() {
    let req = request(
        "/search?q=rust+web&tag=a&tag=b",
        &[("cookie", "theme=dark; lang=en%20GB")],
        "",
        ("/search", &[]),
        |_| {},
    );
    assert_eq!(req.query("q").as_deref(), Some("rust web"));
    assert_eq!(req.query_all("tag"), ["a", "b"]);
    assert_eq!(req.cookie("lang").as_deref(), Some("en GB"));
    assert_eq!(req.cookie("nope"), None);
    #[derive(serde::Deserialize)]
    struct Search {
        q: String,
    }
    assert_eq!(
        req.query_as::<Search>().map(|s| s.q).ok().as_deref(),
        Some("rust web")
    );
}

#[test]
fn the_client_is_the_peer_unless_a_declared_proxy_says_otherwise() {
    let forwarded = [
        ("x-forwarded-for", "1.2.3.4, 5.6.7.8"),
        ("x-forwarded-proto", "https"),
    ];
    let direct = request("/", &forwarded, "", ("/", &[]), |_| {});
    assert_eq!(direct.client_ip(), Some([10, 0, 0, 7].into()));
    assert_eq!(direct.scheme(), "http");
    let proxied = request("/", &forwarded, "", ("/", &[]), |cx| cx.behind_proxy = true);
    assert_eq!(proxied.client_ip(), Some([5, 6, 7, 8].into()));
    assert_eq!(proxied.scheme(), "https");
}

#[test]
fn state_is_the_context_s() {
    struct Greeting(&'static str);
    let req = request("/", &[], "", ("/", &[]), |cx| {
        cx.state.insert(Greeting("hi"));
    });
    assert_eq!(req.state::<Greeting>().map(|g| g.0).ok(), Some("hi"));
    assert_eq!(
        req.state::<u64>().map_err(|e| e.status().as_u16()),
        Err(500)
    );
}

#[tokio::test]
async fn the_route_s_body_limit_and_the_readers() {
    // The route's own limit (8 bytes) applies, not the app's.
    let json = [("content-type", "application/json")];
    let too_big = request("/", &json, "[1,2,3,4,5]", ("/", &[]), |_| {});
    assert_eq!(
        too_big.bytes().await.map_err(|e| e.status().as_u16()),
        Err(413)
    );
    let fits = request("/", &json, "[1,2,3]", ("/", &[]), |_| {});
    assert_eq!(fits.json::<Vec<u8>>().await.ok(), Some(vec![1, 2, 3]));
    assert_eq!(
        fits.text().await.ok(),
        Some("[1,2,3]"),
        "kept for a second read"
    );
    let malformed = request("/", &json, "[1,", ("/", &[]), |_| {});
    assert_eq!(
        malformed
            .json::<Vec<u8>>()
            .await
            .map_err(|e| e.status().as_u16()),
        Err(400)
    );
    let text = request(
        "/",
        &[("content-type", "text/plain")],
        "[1]",
        ("/", &[]),
        |_| {},
    );
    assert_eq!(
        text.json::<Vec<u8>>()
            .await
            .map_err(|e| e.status().as_u16()),
        Err(415)
    );
}

#[tokio::test]
async fn a_body_is_streamed_once() {
    use futures_util::StreamExt;
    let req = request("/", &[], "abc", ("/", &[]), |_| {});
    let mut stream = req.stream().expect("the body, once");
    let chunk: Option<Bytes> = stream.next().await.and_then(|c| c.ok());
    assert_eq!(chunk.as_deref(), Some(&b"abc"[..]));
    assert_eq!(
        req.stream().map(|_| ()).map_err(|e| e.status().as_u16()),
        Err(500)
    );
}
