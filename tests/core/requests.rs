//! Requests: head accessors, query, cookies, extensions, and every body reader with its
//! bad input.

use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result};
use serde::{Deserialize, Serialize};

async fn head(req: &Request, res: &mut Res) -> Result {
    res.json(&serde_json::json!({
        "method": req.method().as_str(),
        "path": req.path(),
        "uri": req.uri().to_string(),
        "agent": req.header("User-Agent"),
        "tags": req.query_all("tag"),
        "q": req.query("q"),
        "missing": req.query("missing"),
        "session": req.cookie("session"),
        "client_addr": req.client_addr().map(|a| a.to_string()),
    }));
    Ok(())
}

#[derive(Deserialize, Serialize, Debug, PartialEq)]
struct Page {
    page: u32,
    per_page: Option<u32>,
}

async fn paged(req: &Request, res: &mut Res) -> Result {
    let page: Page = req.query_as()?;
    res.json(&page);
    Ok(())
}

#[derive(Deserialize, Serialize)]
struct Todo {
    title: String,
    done: bool,
}

async fn json_body(req: &Request, res: &mut Res) -> Result {
    let todo: Todo = req.json().await?;
    res.status(201).json(&todo);
    Ok(())
}

async fn form_body(req: &Request, res: &mut Res) -> Result {
    let todo: Todo = req.form().await?;
    res.json(&todo);
    Ok(())
}

async fn text_body(req: &Request, res: &mut Res) -> Result {
    let text = req.text().await?.to_owned();
    res.text(text);
    Ok(())
}

/// Reads the body three ways; it comes from the wire once and is kept.
async fn read_thrice(req: &Request, res: &mut Res) -> Result {
    let bytes = req.bytes().await?;
    let text = req.text().await?;
    let json: serde_json::Value = req.json().await?;
    res.json(&serde_json::json!({ "len": bytes.len(), "text": text, "json": json }));
    Ok(())
}

/// Per-request data, as a hook or a layer would attach it.
#[derive(Clone)]
struct Tenant(&'static str);

async fn extensions(req: &Request, res: &mut Res) -> Result {
    let tenant = req.extensions().get::<Tenant>().map_or("none", |t| t.0);
    res.text(tenant);
    Ok(())
}

fn app() -> App {
    App::new()
        .route("/head/{*rest}", bocata::get(head))
        .route("/paged", bocata::get(paged))
        .route("/json", bocata::post(json_body))
        .route("/form", bocata::post(form_body))
        .route("/text", bocata::post(text_body))
        .route("/thrice", bocata::post(read_thrice))
        .route("/extensions", bocata::get(extensions))
        .body_limit(64)
}

#[tokio::test]
async fn head_accessors() {
    let client = TestClient::new(app());
    let res = client
        .get("/head/a%20b?tag=x&q=rust+web&tag=y%26z")
        .header("user-agent", "tests/1.0")
        .cookie("session", "a b;c")
        .send()
        .await;
    assert_eq!(
        res.json::<serde_json::Value>(),
        serde_json::json!({
            "method": "GET",
            "path": "/head/a%20b",
            "uri": "/head/a%20b?tag=x&q=rust+web&tag=y%26z",
            "agent": "tests/1.0",
            "tags": ["x", "y&z"],
            "q": "rust web",
            "missing": null,
            "session": "a b;c",
            "client_addr": null,
        })
    );
}

#[tokio::test]
async fn query_as_deserializes_or_says_why_not() {
    let client = TestClient::new(app());
    let res = client.get("/paged?page=2").send().await;
    assert_eq!(
        res.json::<Page>(),
        Page {
            page: 2,
            per_page: None
        }
    );
    for (query, reason) in [
        ("", "missing field `page`"),
        ("page=two", "invalid digit"),
        ("page=1&per_page=-5", "invalid digit"),
    ] {
        let res = client.get(&format!("/paged?{query}")).send().await;
        assert_eq!(res.status(), 400, "{query}");
        assert!(
            res.text().contains("invalid query string"),
            "{}",
            res.text()
        );
        assert!(res.text().contains(reason), "{query}: {}", res.text());
    }
}

#[tokio::test]
async fn json_bodies_and_their_failures() {
    let client = TestClient::new(app());
    let res = client
        .post("/json")
        .json(&serde_json::json!({"title": "milk", "done": false}))
        .send()
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.text(), r#"{"title":"milk","done":false}"#);

    let json = "application/json";
    let cases = [
        (
            Some(json),
            "{\"title\": \"milk\",\n \"done\": fals}",
            400,
            "malformed JSON: expected ident at line 2 column 14",
        ),
        (
            Some(json),
            "{\"title\": \"milk\"",
            400,
            "EOF while parsing an object at line 1 column 16",
        ),
        (
            Some(json),
            "",
            400,
            "EOF while parsing a value at line 1 column 0",
        ),
        (
            Some(json),
            r#"{"title": 1, "done": true}"#,
            422,
            "invalid type: integer `1`, expected a string at line 1 column 11",
        ),
        (
            Some(json),
            r#"{"title": "milk"}"#,
            422,
            "missing field `done`",
        ),
        (
            Some("application/vnd.todo+json"),
            r#"{"title":"a","done":true}"#,
            201,
            "{",
        ),
        (
            Some("text/plain"),
            r#"{"title":"a","done":true}"#,
            415,
            "expected a request with `Content-Type: application/json`",
        ),
        (
            None,
            r#"{"title":"a","done":true}"#,
            415,
            "application/json",
        ),
    ];
    for (content_type, body, status, message) in cases {
        let mut request = client.post("/json").body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let res = request.send().await;
        assert_eq!(res.status(), status, "{body}");
        assert!(res.text().contains(message), "{body}: {}", res.text());
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let client = TestClient::new(app());
    let big = format!(r#"{{"title":"{}","done":true}}"#, "x".repeat(100));
    let res = client
        .post("/json")
        .json(&serde_json::json!({"title": "x".repeat(100), "done": true}))
        .send()
        .await;
    assert_eq!(res.status(), 413, "Content-Length over the limit");
    assert!(
        res.text().contains("larger than the limit of 64 bytes"),
        "{}",
        res.text()
    );
    let res = client
        .post("/text")
        .header("content-length", "10")
        .body(big)
        .send()
        .await;
    assert_eq!(
        res.status(),
        413,
        "a Content-Length that understates the body: cut at the limit while reading"
    );
    let exactly = "y".repeat(64);
    let res = client.post("/text").body(exactly.clone()).send().await;
    assert_eq!(res.text(), exactly, "the limit itself is allowed");
}

#[tokio::test]
async fn text_must_be_utf8() {
    let client = TestClient::new(app());
    let res = client.post("/text").body(&b"caf\xe9"[..]).send().await;
    assert_eq!(res.status(), 400);
    assert!(res.text().contains("not valid UTF-8"), "{}", res.text());
    let res = client.post("/text").body("café").send().await;
    assert_eq!(res.text(), "café");
}

#[tokio::test]
async fn forms_and_their_failures() {
    let client = TestClient::new(app());
    let res = client
        .post("/form")
        .form(&[("title", "bread & butter"), ("done", "true")])
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), r#"{"title":"bread & butter","done":true}"#);

    let res = client.post("/form").form(&[("title", "x")]).send().await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text().contains("missing field `done`"),
        "{}",
        res.text()
    );
    let res = client
        .post("/form")
        .form(&[("title", "x"), ("done", "maybe")])
        .send()
        .await;
    assert_eq!(res.status(), 422);
    let res = client
        .post("/form")
        .json(&serde_json::json!({}))
        .send()
        .await;
    assert_eq!(res.status(), 415);
    assert!(
        res.text().contains("application/x-www-form-urlencoded"),
        "{}",
        res.text()
    );
}

#[tokio::test]
async fn the_body_is_read_once_and_kept() {
    let res = TestClient::new(app())
        .post("/thrice")
        .json(&serde_json::json!({"a": 1}))
        .send()
        .await;
    assert_eq!(
        res.json::<serde_json::Value>(),
        serde_json::json!({"len": 7, "text": "{\"a\":1}", "json": {"a": 1}})
    );
}

#[tokio::test]
async fn extensions_carry_typed_per_request_data() {
    use bocata::http::Request as HttpRequest;
    use tower::ServiceExt;

    let app = app();
    let mut request = HttpRequest::get("/extensions")
        .body(bocata_body())
        .expect("a request");
    request.extensions_mut().insert(Tenant("acme"));
    let response = app.oneshot(request).await.expect("infallible");
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("a body")
        .to_bytes();
    assert_eq!(body, "acme");
}

fn bocata_body() -> http_body_util::Empty<bytes::Bytes> {
    http_body_util::Empty::new()
}

async fn who(req: &Request, res: &mut Res) -> Result {
    let ip = req.client_ip().map(|ip| ip.to_string()).unwrap_or_default();
    res.text(format!("{ip} {}", req.scheme()));
    Ok(())
}

#[tokio::test]
async fn forwarded_headers_are_trusted_only_behind_a_declared_proxy() {
    fn forwarded(client: &TestClient) -> bocata::testing::TestRequest<'_> {
        client
            .get("/who")
            .header("x-forwarded-for", "203.0.113.9, 198.51.100.7")
            .header("x-forwarded-proto", "https")
    }
    let direct = TestClient::new(App::new().route("/who", bocata::get(who)));
    assert_eq!(
        forwarded(&direct).send().await.text(),
        " http",
        "ignored by default"
    );
    let proxied = TestClient::new(
        App::new()
            .behind_proxy(true)
            .route("/who", bocata::get(who)),
    );
    assert_eq!(
        forwarded(&proxied).send().await.text(),
        "198.51.100.7 https",
        "the address the proxy itself added"
    );
    assert_eq!(proxied.get("/who").send().await.text(), " http");
}

async fn count(req: &Request, res: &mut Res) -> Result {
    use futures_util::StreamExt;
    let mut body = req.stream()?;
    let mut total = 0;
    while let Some(chunk) = body.next().await {
        total += chunk?.len();
    }
    if req.query("then").as_deref() == Some("bytes") {
        req.bytes().await?;
    }
    res.text(total.to_string());
    Ok(())
}

#[tokio::test]
async fn a_body_can_be_streamed_once() {
    let client = TestClient::new(App::new().debug(true).route("/count", bocata::post(count)));
    let big = "x".repeat(3 * 1024 * 1024);
    let res = client.post("/count").body(big).send().await;
    assert_eq!(res.text(), "3145728", "not bound by the body limit");
    let res = client.post("/count?then=bytes").body("abc").send().await;
    assert_eq!(res.status(), 500);
    assert!(
        res.text().contains("already taken as a stream"),
        "{}",
        res.text()
    );
}
