//! Chapter "Testing": the TestClient's request builder, its responses, its cookie jar,
//! the headers and cookies of the client, and a WebSocket's size limit.

// ANCHOR: imports
use bocata::testing::TestClient;
use bocata::websocket::{CloseFrame, Message, WebSocket, WebSocketSettings};
use bocata::{App, Request, Res, Result, abort};
use serde::{Deserialize, Serialize};
// ANCHOR_END: imports

// ANCHOR: app
/// A to-do item.
#[derive(Deserialize, Serialize, Debug, PartialEq)]
struct Todo {
    title: String,
    done: bool,
}

/// `GET /hello/{name}`
async fn hello(req: &Request, res: &mut Res) -> Result {
    let name: String = req.param("name")?;
    let punctuation = req.query("p").unwrap_or_else(|| "!".to_owned());
    res.text(format!("Hello, {name}{punctuation}"));
    Ok(())
}

/// `POST /todos`, from JSON or from a form.
async fn create_todo(req: &Request, res: &mut Res) -> Result {
    let todo: Todo = if req.header("content-type") == Some("application/json") {
        req.json().await?
    } else {
        req.form().await?
    };
    res.status(201).header("x-request-id", "42").json(&todo);
    Ok(())
}

/// `POST /login`: remembers the user in a cookie.
async fn login(req: &Request, res: &mut Res) -> Result {
    let user = req.text().await?.to_owned();
    res.cookie(("user", user)).text("welcome");
    Ok(())
}

/// `GET /me`: who the cookie says is logged in.
async fn me(req: &Request, res: &mut Res) -> Result {
    let Some(user) = req.cookie("user") else {
        return abort(401);
    };
    res.text(user);
    Ok(())
}

/// `POST /logout`
async fn logout(_req: &Request, res: &mut Res) -> Result {
    res.remove_cookie("user").text("bye");
    Ok(())
}

/// The app under test.
fn app() -> App {
    App::new()
        .route("/hello/{name}", bocata::get(hello))
        .route("/todos", bocata::post(create_todo))
        .route("/login", bocata::post(login))
        .route("/me", bocata::get(me))
        .route("/logout", bocata::post(logout))
}
// ANCHOR_END: app

// ANCHOR: first_test
#[tokio::test]
async fn greets_by_name() {
    let client = TestClient::new(app());

    let res = client.get("/hello/Ana").send().await;

    assert_eq!(res.status(), 200);
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(res.text(), "Hello, Ana!");
}
// ANCHOR_END: first_test

// ANCHOR: builder
#[tokio::test]
async fn building_requests() {
    let client = TestClient::new(app());

    // Query parameters are encoded for you: `?p=%3F%21`.
    let res = client.get("/hello/Ana").query(&[("p", "?!")]).send().await;
    assert_eq!(res.text(), "Hello, Ana?!");

    // A JSON body, with `Content-Type: application/json`.
    let todo = Todo {
        title: "milk".into(),
        done: false,
    };
    let res = client.post("/todos").json(&todo).send().await;
    assert_eq!(res.status(), 201);

    // A form body, with `Content-Type: application/x-www-form-urlencoded`.
    let res = client
        .post("/todos")
        .form(&[("title", "bread"), ("done", "true")])
        .send()
        .await;
    assert_eq!(res.status(), 201);

    // Raw bytes, with whatever headers the test needs.
    let res = client
        .post("/todos")
        .header("content-type", "application/json")
        .body(r#"{"title": 7}"#)
        .send()
        .await;
    assert_eq!(res.status(), 422);

    // A cookie for this request only.
    let res = client.get("/me").cookie("user", "ana").send().await;
    assert_eq!(res.text(), "ana");
}
// ANCHOR_END: builder

// ANCHOR: response
#[tokio::test]
async fn reading_responses() {
    let client = TestClient::new(app());
    let res = client
        .post("/todos")
        .json(&serde_json::json!({ "title": "milk", "done": true }))
        .send()
        .await;

    assert_eq!(res.status(), 201);
    assert_eq!(res.header("x-request-id"), Some("42"));
    assert_eq!(res.headers()["content-length"], "28");
    assert_eq!(res.bytes().len(), 28);
    assert_eq!(res.text(), r#"{"title":"milk","done":true}"#);
    let todo: Todo = res.json();
    assert!(todo.done);
}
// ANCHOR_END: response

// ANCHOR: jar
#[tokio::test]
async fn the_client_keeps_cookies() {
    let client = TestClient::new(app());
    assert_eq!(client.get("/me").send().await.status(), 401);

    client.post("/login").body("ana maría").send().await;
    assert_eq!(client.cookie("user").as_deref(), Some("ana maría"));
    assert_eq!(client.get("/me").send().await.text(), "ana maría");

    client.post("/logout").send().await;
    assert_eq!(client.cookie("user"), None);
    assert_eq!(client.get("/me").send().await.status(), 401);
}
// ANCHOR_END: jar

#[tokio::test]
async fn any_method() {
    let client = TestClient::new(app());
    let res = client
        .request(bocata::http::Method::PATCH, "/todos")
        .send()
        .await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("POST, OPTIONS"));
}

/// `GET /facts`: what a view sees of the (absent) connection.
async fn facts(req: &Request, res: &mut Res) -> Result {
    res.text(format!("{:?} {:?}", req.client_addr(), req.version()));
    Ok(())
}

#[tokio::test]
async fn no_connection_in_the_test_client() {
    let client = TestClient::new(App::new().route("/facts", bocata::get(facts)));
    assert_eq!(client.get("/facts").send().await.text(), "None HTTP/1.1");
}

#[tokio::test]
async fn a_request_cookie_wins_over_the_jar() {
    let client = TestClient::new(app());
    client.post("/login").body("ana").send().await;
    let res = client.get("/me").cookie("user", "luis").send().await;
    assert_eq!(res.text(), "luis");
    assert_eq!(
        client.get("/me").send().await.text(),
        "ana",
        "jar unchanged"
    );
}

/// `GET /whoami`: who the `authorization` header and the `user` cookie say.
async fn whoami(req: &Request, res: &mut Res) -> Result {
    let token = req.header("authorization").unwrap_or("none");
    let user = req.cookie("user").unwrap_or_else(|| "nobody".to_owned());
    res.text(format!("{user} with {token}"));
    Ok(())
}

// ANCHOR: client_defaults
#[tokio::test]
async fn headers_and_cookies_for_every_request() {
    let client = TestClient::new(app().route("/whoami", bocata::get(whoami)))
        .with_header("authorization", "Bearer ana-token")
        .with_cookie("user", "ana");

    let res = client.get("/whoami").send().await;
    assert_eq!(res.text(), "ana with Bearer ana-token");

    // A request's own header or cookie wins, for that request only.
    let res = client
        .get("/whoami")
        .header("authorization", "Bearer luis-token")
        .cookie("user", "luis")
        .send()
        .await;
    assert_eq!(res.text(), "luis with Bearer luis-token");

    // The cookie is in the jar: the app can replace it, or remove it.
    client.post("/logout").send().await;
    let res = client.get("/whoami").send().await;
    assert_eq!(res.text(), "nobody with Bearer ana-token");
}
// ANCHOR_END: client_defaults

// ANCHOR: size_limit
/// Echoes what it hears.
struct Echo;

#[bocata::view]
impl Echo {
    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        while let Some(Ok(message)) = ws.recv().await {
            ws.send(message).await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_message_over_the_limit_closes_the_socket_with_1009() {
    let app = App::new()
        .route("/echo", Echo)
        .websocket(WebSocketSettings::new().max_message_size(64 * 1024));
    let client = TestClient::new(app);
    let mut ws = client.get("/echo").websocket().await.expect("accepted");

    ws.send(Message::binary(vec![0; 64 * 1024])).await;
    assert_eq!(ws.recv().await, Some(Message::binary(vec![0; 64 * 1024])));

    ws.send(Message::binary(vec![0; 64 * 1024 + 1])).await;
    assert_eq!(
        ws.closed().await,
        Some((1009, "message too big".to_owned()))
    );
}
// ANCHOR_END: size_limit

#[tokio::test]
async fn try_send_reports_a_close_that_came_first() {
    let app = App::new()
        .route("/echo", Echo)
        .websocket(WebSocketSettings::new().max_frame_size(1024));
    let client = TestClient::new(app);
    let mut ws = client.get("/echo").websocket().await.expect("accepted");
    // A frame over the limit is refused as soon as its header is read, long before
    // a megabyte is written.
    let outcome = ws.try_send(Message::binary(vec![0; 1024 * 1024])).await;
    assert_eq!(
        outcome,
        Err(CloseFrame {
            code: 1009,
            reason: "message too big".to_owned()
        })
    );
}
