//! Chapter "Requests": the request head, query strings, cookies, per-request data, and
//! the body readers with the status each kind of bad input gets.

// ANCHOR: imports
use bocata::{App, Request, Res, Result, abort};
use bytes::Bytes;
use serde::{Deserialize, Serialize};
// ANCHOR_END: imports

// ANCHOR: service_imports
use http_body_util::{BodyExt, Empty};
use tower::ServiceExt;
// ANCHOR_END: service_imports

use bocata::testing::TestClient;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

// ANCHOR: head
/// Describes the request it received.
async fn inspect(req: &Request, res: &mut Res) -> Result {
    let agent = req.header("user-agent").unwrap_or("unknown");
    let query = req.uri().query().unwrap_or("");
    res.text(format!(
        "{} {} (query {query:?}) from {agent}",
        req.method(),
        req.path()
    ));
    Ok(())
}
// ANCHOR_END: head

// ANCHOR: query
/// `GET /search?q=rust+web&tag=async&tag=http`
async fn search(req: &Request, res: &mut Res) -> Result {
    let q = req.query("q").unwrap_or_default();
    let tags = req.query_all("tag");
    res.text(format!("{q} [{}]", tags.join(", ")));
    Ok(())
}
// ANCHOR_END: query

// ANCHOR: query_as
/// The paging parameters of a list: `?page=2&per_page=50`.
#[derive(Deserialize)]
struct Paging {
    page: u32,
    per_page: Option<u32>,
}

/// `GET /articles?page=…`
async fn articles(req: &Request, res: &mut Res) -> Result {
    let paging: Paging = req.query_as()?;
    let per_page = paging.per_page.unwrap_or(20);
    res.text(format!("page {} with {per_page} per page", paging.page));
    Ok(())
}
// ANCHOR_END: query_as

// ANCHOR: cookie
/// Reads the `theme` cookie, percent-decoded.
async fn theme(req: &Request, res: &mut Res) -> Result {
    let theme = req.cookie("theme").unwrap_or_else(|| "light".to_owned());
    res.text(format!("theme: {theme}"));
    Ok(())
}
// ANCHOR_END: cookie

// ANCHOR: extensions
/// The customer a request is for, attached in front of the app.
#[derive(Clone)]
struct Tenant(String);

/// Reads the tenant that a layer put in the request's extensions.
async fn dashboard(req: &Request, res: &mut Res) -> Result {
    let Some(Tenant(name)) = req.extensions().get::<Tenant>() else {
        return abort(401);
    };
    res.text(format!("dashboard of {name}"));
    Ok(())
}
// ANCHOR_END: extensions

// ANCHOR: extensions_layer
/// Sends `GET /dashboard` straight to the app's `tower::Service` with a tenant attached,
/// as a layer in front of the app would.
async fn dashboard_for(tenant: &str) -> Bytes {
    let mut request = bocata::http::Request::get("/dashboard")
        .body(Empty::<Bytes>::new())
        .expect("a valid request");
    request.extensions_mut().insert(Tenant(tenant.to_owned()));
    let response = app().oneshot(request).await.expect("an App never fails");
    let body = response.into_body().collect().await.expect("a whole body");
    body.to_bytes()
}
// ANCHOR_END: extensions_layer

// ANCHOR: json_body
/// A to-do item, as clients send it.
#[derive(Deserialize, Serialize)]
struct Todo {
    title: String,
    done: bool,
}

/// `POST /todos` with a JSON body.
async fn create_todo(req: &Request, res: &mut Res) -> Result {
    let todo: Todo = req.json().await?;
    res.status(201).json(&todo);
    Ok(())
}
// ANCHOR_END: json_body

// ANCHOR: form_body
/// `POST /todos/form` from an HTML form.
async fn create_todo_from_form(req: &Request, res: &mut Res) -> Result {
    let todo: Todo = req.form().await?;
    res.status(201).json(&todo);
    Ok(())
}
// ANCHOR_END: form_body

// ANCHOR: read_twice
/// Looks at the raw body, then parses it: the second read comes from memory.
async fn audited(req: &Request, res: &mut Res) -> Result {
    let raw: &str = req.text().await?;
    let parsed: serde_json::Value = req.json().await?;
    let bytes: Bytes = req.bytes().await?;
    res.json(&serde_json::json!({
        "chars": raw.chars().count(),
        "bytes": bytes.len(),
        "keys": parsed.as_object().map_or(0, |o| o.len()),
    }));
    Ok(())
}
// ANCHOR_END: read_twice

/// `POST /echo`: sends the text body back.
async fn echo(req: &Request, res: &mut Res) -> Result {
    let text = req.text().await?.to_owned();
    res.text(text);
    Ok(())
}

// ANCHOR: body_limit
/// `POST /upload`: accepts any bytes and says how many arrived.
async fn upload(req: &Request, res: &mut Res) -> Result {
    let body = req.bytes().await?;
    res.text(format!("{} bytes", body.len()));
    Ok(())
}

/// An app that takes uploads of up to 8 MiB instead of the default 1 MiB.
fn uploads() -> App {
    App::new()
        .route("/upload", bocata::post(upload))
        .body_limit(8 * 1024 * 1024)
}
// ANCHOR_END: body_limit

/// Every view of the chapter.
fn app() -> App {
    App::new()
        .route("/inspect/{*rest}", bocata::get(inspect))
        .route("/search", bocata::get(search))
        .route("/articles", bocata::get(articles))
        .route("/theme", bocata::get(theme))
        .route("/dashboard", bocata::get(dashboard))
        .route("/todos", bocata::post(create_todo))
        .route("/todos/form", bocata::post(create_todo_from_form))
        .route("/audited", bocata::post(audited))
        .route("/echo", bocata::post(echo))
        .route("/upload", bocata::post(upload))
}

const MIB: usize = 1024 * 1024;

#[tokio::test]
async fn the_head_of_the_request() {
    let res = TestClient::new(app())
        .get("/inspect/a%20b")
        .query(&[("x", "1")])
        .header("User-Agent", "curl/8.5")
        .send()
        .await;
    assert_eq!(
        res.text(),
        r#"GET /inspect/a%20b (query "x=1") from curl/8.5"#
    );
}

#[tokio::test]
async fn query_parameters() {
    let client = TestClient::new(app());
    let res = client
        .get("/search?q=rust+web&tag=async&tag=http")
        .send()
        .await;
    assert_eq!(res.text(), "rust web [async, http]");
    assert_eq!(client.get("/search").send().await.text(), " []");

    let res = client.get("/articles?page=2").send().await;
    assert_eq!(res.text(), "page 2 with 20 per page");
    let res = client.get("/articles?page=2&per_page=50").send().await;
    assert_eq!(res.text(), "page 2 with 50 per page");

    let res = client.get("/articles?page=two").send().await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.text(),
        "400 Bad Request: invalid query string: invalid digit found in string\n"
    );
    let res = client.get("/articles").send().await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.text(),
        "400 Bad Request: invalid query string: missing field `page`\n"
    );
}

#[tokio::test]
async fn cookies_are_percent_decoded() {
    let client = TestClient::new(app());
    let res = client
        .get("/theme")
        .header("cookie", "lang=es; theme=solarized%20dark")
        .send()
        .await;
    assert_eq!(res.text(), "theme: solarized dark");
    assert_eq!(client.get("/theme").send().await.text(), "theme: light");
}

#[tokio::test]
async fn extensions_carry_what_a_layer_attached() {
    assert_eq!(dashboard_for("acme").await, "dashboard of acme");
    let res = TestClient::new(app()).get("/dashboard").send().await;
    assert_eq!(res.status(), 401, "nothing attached it");
}

#[tokio::test]
async fn json_and_form_bodies() {
    let client = TestClient::new(app());
    let res = client
        .post("/todos")
        .json(&serde_json::json!({ "title": "milk", "done": false }))
        .send()
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.text(), r#"{"title":"milk","done":false}"#);

    let res = client
        .post("/todos")
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"title":"milk","done":true}"#)
        .send()
        .await;
    assert_eq!(res.status(), 201, "any application/*+json type is JSON");

    let res = client
        .post("/todos/form")
        .form(&[("title", "bread & butter"), ("done", "true")])
        .send()
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.text(), r#"{"title":"bread & butter","done":true}"#);
}

#[tokio::test]
async fn the_body_is_read_once_and_kept() {
    let res = TestClient::new(app())
        .post("/audited")
        .json(&serde_json::json!({ "café": 1 }))
        .send()
        .await;
    assert_eq!(
        res.json::<serde_json::Value>(),
        serde_json::json!({ "chars": 10, "bytes": 11, "keys": 1 })
    );
}

/// The table of the chapter: each kind of bad body and the answer it gets.
#[tokio::test]
async fn body_problems_and_their_statuses() {
    let client = TestClient::new(app());

    let res = client
        .post("/todos")
        .header("content-type", "text/plain")
        .body(r#"{"title":"milk","done":false}"#)
        .send()
        .await;
    assert_eq!(res.status(), 415);
    assert_eq!(
        res.text(),
        "415 Unsupported Media Type: expected a request with `Content-Type: application/json`\n"
    );

    let res = client
        .post("/todos")
        .header("content-type", "application/json")
        .body("{\"title\": \"milk\",\n \"done\": fals}")
        .send()
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.text(),
        "400 Bad Request: malformed JSON: expected ident at line 2 column 14\n"
    );

    let res = client
        .post("/todos")
        .header("content-type", "application/json")
        .body(r#"{"title": 5, "done": false}"#)
        .send()
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.text(),
        "422 Unprocessable Entity: the JSON body does not have the expected shape: \
         invalid type: integer `5`, expected a string at line 1 column 11\n"
    );

    let res = client
        .post("/todos/form")
        .form(&[("title", "milk")])
        .send()
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        res.text(),
        "422 Unprocessable Entity: the form does not have the expected fields: \
         missing field `done`\n"
    );

    let res = client.post("/echo").body(vec![0xff, 0xfe]).send().await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .starts_with("400 Bad Request: the request body is not valid UTF-8"),
        "{}",
        res.text()
    );

    let res = client.post("/upload").body(vec![0; MIB + 1]).send().await;
    assert_eq!(res.status(), 413);
    assert_eq!(
        res.text(),
        "413 Payload Too Large: the request body is larger than the limit of 1048576 bytes\n"
    );
}

#[tokio::test]
async fn the_default_limit_is_one_mebibyte_and_can_be_raised() {
    let client = TestClient::new(app());
    let res = client.post("/upload").body(vec![0; MIB]).send().await;
    assert_eq!(res.text(), "1048576 bytes", "the limit itself is allowed");

    let client = TestClient::new(uploads());
    let res = client.post("/upload").body(vec![0; 5 * MIB]).send().await;
    assert_eq!(res.text(), "5242880 bytes");
    let res = client
        .post("/upload")
        .body(vec![0; 8 * MIB + 1])
        .send()
        .await;
    assert_eq!(res.status(), 413);
}

/// A client announces a gigabyte and sends none of it: the 413 comes back at once,
/// since bocata trusts `Content-Length` to refuse the body without reading it.
#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_without_reading() {
    let (stop, stopped) = oneshot::channel();
    let (addr, server) = crate::server::start(app(), stopped)
        .await
        .expect("a server");

    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(
            b"POST /upload HTTP/1.1\r\nhost: localhost\r\n\
              content-length: 1073741824\r\n\r\n",
        )
        .await
        .expect("send the head only");
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    let read_head = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.expect("read");
            assert!(n > 0, "the server closed without answering");
            head.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read_head)
        .await
        .expect("an answer without sending the body");
    assert!(
        head.starts_with(b"HTTP/1.1 413 Payload Too Large\r\n"),
        "{}",
        String::from_utf8_lossy(&head)
    );

    drop(stream);
    stop.send(()).ok();
    server
        .await
        .expect("the server task")
        .expect("a clean shutdown");
}

// ANCHOR: stream
/// Counts the bytes of a body of any size, chunk by chunk.
async fn measure(req: &Request, res: &mut Res) -> Result {
    use futures_util::StreamExt;

    let mut body = req.stream()?;
    let mut total = 0;
    while let Some(chunk) = body.next().await {
        total += chunk?.len();
    }
    res.text(format!("{total} bytes"));
    Ok(())
}
// ANCHOR_END: stream

#[tokio::test]
async fn a_body_streams_chunk_by_chunk() {
    let client = TestClient::new(App::new().route("/measure", bocata::post(measure)));
    let res = client
        .post("/measure")
        .body(vec![0u8; 5 * MIB])
        .send()
        .await;
    assert_eq!(res.text(), "5242880 bytes");
}
