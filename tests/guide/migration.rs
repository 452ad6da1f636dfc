//! The "Coming from…" pages: Responder, Bocadillo, Falcon, BustAPI, axum and actix-web
//! idioms written the bocata way, with tests that check what the pages say.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bocata::http::StatusCode;
use bocata::testing::TestClient;
use bocata::websocket::{Message, WebSocket};
use bocata::{App, Error, Event, Methods, Request, Res, Result, abort, with_hooks};
use bocata_tests::{Fixture, LogCapture, within};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tower::ServiceExt;

// Responder ---------------------------------------------------------------------------

// ANCHOR: responder_view
/// `/hello/{who}`: one struct, one method per verb, as in Responder.
struct Greeting;

#[bocata::view]
impl Greeting {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let who: String = req.param("who")?;
        res.header("x-pizza", "42").json(&json!({ "hello": who }));
        Ok(())
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let who: String = req.param("who")?;
        let data: Value = req.json().await?;
        res.status(201)
            .json(&json!({ "hello": who, "received": data }));
        Ok(())
    }
}

/// The app: `api.add_route("/hello/{who}", Greeting())`.
fn responder_app() -> App {
    App::new().route("/hello/{who}", Greeting)
}
// ANCHOR_END: responder_view

// ANCHOR: responder_test
#[tokio::test]
async fn responder_greeting() {
    let client = TestClient::new(responder_app());

    let res = client.get("/hello/guido").send().await;
    assert_eq!(res.json::<Value>(), json!({ "hello": "guido" }));
    assert_eq!(res.header("x-pizza"), Some("42"));

    let res = client
        .post("/hello/guido")
        .json(&json!({ "mood": "sunny" }))
        .send()
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.json::<Value>(),
        json!({ "hello": "guido", "received": { "mood": "sunny" } })
    );
}
// ANCHOR_END: responder_test

#[tokio::test]
async fn responder_bodies_that_do_not_fit() {
    let client = TestClient::new(responder_app());
    let res = client
        .post("/hello/guido")
        .header("content-type", "application/json")
        .body("{\"mood\":")
        .send()
        .await;
    assert_eq!(res.status(), 400);
    let res = client
        .post("/hello/guido")
        .form(&[("mood", "sunny")])
        .send()
        .await;
    assert_eq!(res.status(), 415);
}

#[tokio::test]
async fn responder_routes_answer_only_the_methods_they_have() {
    let client = TestClient::new(responder_app());
    let res = client.delete("/hello/guido").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
}

// ANCHOR: responder_idioms
/// `/`: `resp.json.hello = "world!"`, one field at a time.
struct Index;

#[bocata::view]
impl Index {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.json_mut()["hello"] = "world!".into();
        Ok(())
    }
}

/// `/old`: `resp.redirect(view=Index)`.
async fn old_home(req: &Request, res: &mut Res) -> Result {
    res.redirect(&req.url_for::<Index>(&[])?);
    Ok(())
}

/// `/events`: `@resp.sse`, one `Event` where Responder yields a dict.
async fn updates(_req: &Request, res: &mut Res) -> Result {
    res.sse(futures_util::stream::iter((1..=2).map(|i| {
        Event::new()
            .event("update")
            .id(i.to_string())
            .data(format!("message {i}"))
    })));
    Ok(())
}

/// `/login`: Responder writes `resp.session[…]`; in bocata the session is the
/// request's.
async fn log_in(req: &Request, res: &mut Res) -> Result {
    req.session()?.insert("username", "alice")?;
    res.text("logged in");
    Ok(())
}

/// `/profile`: `req.session.get("username")`.
async fn profile(req: &Request, res: &mut Res) -> Result {
    let user = req.session()?.get::<String>("username");
    res.json(&json!({ "user": user }));
    Ok(())
}
// ANCHOR_END: responder_idioms

#[tokio::test]
async fn responder_idioms_translate() {
    let client = TestClient::new(
        App::new()
            .secret_key(bocata::cookie::Key::generate().master())
            .route("/", Index)
            .route("/old", bocata::get(old_home))
            .route("/events", bocata::get(updates))
            .route("/login", bocata::post(log_in))
            .route("/profile", bocata::get(profile)),
    );

    let res = client.get("/").send().await;
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.text(), r#"{"hello":"world!"}"#);

    let res = client.get("/old").send().await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.header("location"), Some("/"));

    let res = client.get("/events").send().await;
    assert_eq!(res.header("content-type"), Some("text/event-stream"));
    assert_eq!(
        res.text(),
        "event: update\nid: 1\ndata: message 1\n\nevent: update\nid: 2\ndata: message 2\n\n"
    );

    let res = client.get("/profile").send().await;
    assert_eq!(res.json::<Value>(), json!({ "user": null }));
    assert_eq!(client.post("/login").send().await.status(), 200);
    let res = client.get("/profile").send().await;
    assert_eq!(res.json::<Value>(), json!({ "user": "alice" }));
}

// Bocadillo ---------------------------------------------------------------------------

// ANCHOR: bocadillo_view
/// A job, as clients send it.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Job {
    title: String,
}

/// `/jobs`: Bocadillo's `get` and `post` methods are `on_get` and `on_post`.
struct Jobs {
    jobs: Mutex<Vec<Job>>,
    /// Where new jobs are announced, after the response has gone.
    announce: mpsc::UnboundedSender<String>,
}

#[bocata::view]
impl Jobs {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let jobs = self.jobs.lock().expect("not poisoned").clone();
        res.json(&jobs);
        Ok(())
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let job: Job = req.json().await?;
        if job.title.trim().is_empty() {
            return Err(Error::new(400, "a job needs a title"));
        }
        self.jobs.lock().expect("not poisoned").push(job.clone());
        let announce = self.announce.clone();
        res.status(201)
            .json(&job)
            .background(async move { announce.send(job.title) });
        Ok(())
    }
}
// ANCHOR_END: bocadillo_view

/// The jobs view, and the receiving end of its announcements.
fn jobs() -> (Jobs, mpsc::UnboundedReceiver<String>) {
    let (announce, announced) = mpsc::unbounded_channel();
    let jobs = Jobs {
        jobs: Mutex::default(),
        announce,
    };
    (jobs, announced)
}

#[tokio::test]
async fn bocadillo_jobs() {
    let (jobs, mut announced) = jobs();
    let client = TestClient::new(App::new().route("/jobs", jobs));

    let res = client
        .post("/jobs")
        .json(&json!({ "title": "paint the fence" }))
        .send()
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>(), json!({ "title": "paint the fence" }));
    assert_eq!(
        within("the announcement", announced.recv())
            .await
            .as_deref(),
        Some("paint the fence")
    );

    let res = client
        .post("/jobs")
        .json(&json!({ "title": " " }))
        .send()
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.text(), "400 Bad Request: a job needs a title\n");

    let res = client.post("/jobs").json(&json!({})).send().await;
    assert_eq!(
        res.status(),
        422,
        "`req.json()` answers for a body of the wrong shape"
    );

    let res = client.get("/jobs").send().await;
    assert_eq!(res.json::<Value>(), json!([{ "title": "paint the fence" }]));
    assert!(
        announced.try_recv().is_err(),
        "failed posts announce nothing"
    );
}

// ANCHOR: bocadillo_streams
/// `/numbers/{n}`: `@res.stream` on an async generator.
async fn number_range(req: &Request, res: &mut Res) -> Result {
    let n: u32 = req.param("n")?;
    res.content_type("text/plain").streaming(bocata::stream! {
        for num in 0..n {
            yield num.to_string();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    Ok(())
}

/// `/temperature-feed`: `@res.event_stream`, yielding `server_event(json=…)`.
async fn temperature_feed(_req: &Request, res: &mut Res) -> Result {
    res.sse(bocata::stream! {
        for temperature in [10.5, 11.25] {
            yield Event::new().json_data(&json!({ "temperature": temperature }));
        }
    });
    Ok(())
}
// ANCHOR_END: bocadillo_streams

#[tokio::test]
async fn bocadillo_streams() {
    let client = TestClient::new(
        App::new()
            .route("/numbers/{n}", bocata::get(number_range))
            .route("/temperature-feed", bocata::get(temperature_feed)),
    );

    let mut res = client.get("/numbers/4").send_streamed().await;
    assert_eq!(res.header("content-type"), Some("text/plain"));
    let mut chunks = Vec::new();
    while let Some(chunk) = res.chunk().await {
        chunks.push(chunk.expect("a chunk"));
    }
    assert_eq!(chunks, ["0", "1", "2", "3"], "one chunk per yield");

    let res = client.get("/numbers/four").send().await;
    assert_eq!(res.status(), 400, "as with Bocadillo's `n: int`");

    let res = client.get("/temperature-feed").send().await;
    assert_eq!(
        res.text(),
        "data: {\"temperature\":10.5}\n\ndata: {\"temperature\":11.25}\n\n"
    );
}

// ANCHOR: bocadillo_hooks
/// `@hooks.before(validate_has_my_header)`.
async fn validate_has_my_header(req: &mut Request, _res: &mut Res) -> Result {
    if req.header("x-my-header").is_none() {
        return abort(400);
    }
    Ok(())
}

/// `/message`: the only view the hook guards.
async fn get_message(_req: &Request, res: &mut Res) -> Result {
    res.json(&json!({ "message": "hello" }));
    Ok(())
}

/// `@hooks.before(validate_has_my_header)` on `/message` alone.
fn bocadillo_app(jobs: Jobs) -> App {
    App::new().route("/jobs", jobs).route(
        "/message",
        with_hooks(bocata::get(get_message)).before(validate_has_my_header),
    )
}
// ANCHOR_END: bocadillo_hooks

#[tokio::test]
async fn bocadillo_hooks_on_one_view() {
    let (jobs, _announced) = jobs();
    let client = TestClient::new(bocadillo_app(jobs));
    assert_eq!(client.get("/message").send().await.status(), 400);
    let res = client
        .get("/message")
        .header("x-my-header", "yes")
        .send()
        .await;
    assert_eq!(res.json::<Value>(), json!({ "message": "hello" }));
    assert_eq!(
        client.get("/jobs").send().await.status(),
        200,
        "the hook guards its own view only"
    );
}

// Falcon ------------------------------------------------------------------------------

// ANCHOR: falcon_view
/// `/things/{thing_id}`: a Falcon resource. Its attributes are the view's fields.
#[derive(Default)]
struct Things {
    db: Mutex<HashMap<u64, Value>>,
}

#[bocata::view]
impl Things {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let id: u64 = req.param("thing_id")?;
        let thing = self.db.lock().expect("not poisoned").get(&id).cloned();
        match thing {
            Some(thing) => res.json(&thing),
            None => return abort(404),
        };
        Ok(())
    }

    async fn on_put(&self, req: &Request, res: &mut Res) -> Result {
        let id: u64 = req.param("thing_id")?;
        let thing: Value = req.json().await?;
        self.db.lock().expect("not poisoned").insert(id, thing);
        res.status(204);
        Ok(())
    }
}

/// `app.add_route("/things/{thing_id:int}", ThingsResource())`.
fn falcon_app() -> App {
    App::new().route("/things/{thing_id}", Things::default())
}
// ANCHOR_END: falcon_view

// ANCHOR: falcon_test
#[tokio::test]
async fn falcon_things() {
    let client = TestClient::new(falcon_app());

    assert_eq!(client.get("/things/1").send().await.status(), 404);

    let res = client
        .put("/things/1")
        .json(&json!({ "name": "kettle" }))
        .send()
        .await;
    assert_eq!(res.status(), 204);

    let res = client.get("/things/1").send().await;
    assert_eq!(res.json::<Value>(), json!({ "name": "kettle" }));

    let res = client.get("/things/one").send().await;
    assert_eq!(res.status(), 400);
}
// ANCHOR_END: falcon_test

#[tokio::test]
async fn a_204_has_no_body() {
    let client = TestClient::new(falcon_app());
    let res = client.put("/things/7").json(&json!([])).send().await;
    assert_eq!(res.status(), 204);
    assert!(res.bytes().is_empty());
    assert_eq!(res.header("content-type"), None);
    assert_eq!(res.header("content-length"), None);
}

// ANCHOR: falcon_middleware
/// `req.context.user`: who is asking, typed.
#[derive(Clone, Debug)]
struct Caller(String);

/// Set while the site is down for maintenance.
#[derive(Debug)]
struct Maintenance(bool);

/// `process_request` that answers by itself with `resp.complete = True`.
async fn maintenance(req: &mut Request, res: &mut Res) -> Result {
    if req.state::<Maintenance>()?.0 {
        res.status(503).text("back soon").complete();
    }
    Ok(())
}

/// `process_request` that raises `falcon.HTTPUnauthorized`, or fills `req.context`.
async fn authenticate(req: &mut Request, _res: &mut Res) -> Result {
    if req.header("authorization") != Some("Bearer s3cr3t") {
        return Err(Error::new(401, "send a token"));
    }
    req.extensions_mut().insert(Caller("ana".to_owned()));
    Ok(())
}

/// `process_response`, for requests that succeeded.
async fn tag_caller(req: &Request, res: &mut Res) -> Result {
    if let Some(Caller(name)) = req.extensions().get::<Caller>() {
        res.header("x-caller", name.as_str());
    }
    Ok(())
}

/// `falcon.App(middleware=[Maintenance(), Auth()])`.
fn falcon_guarded(maintenance_on: bool) -> App {
    App::new()
        .state(Maintenance(maintenance_on))
        .before(maintenance)
        .before(authenticate)
        .after(tag_caller)
        .route("/things/{thing_id}", Things::default())
}
// ANCHOR_END: falcon_middleware

#[tokio::test]
async fn falcon_middleware_becomes_hooks() {
    let client = TestClient::new(falcon_guarded(false));
    let res = client.get("/things/1").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.text(), "401 Unauthorized: send a token\n");

    let res = client
        .put("/things/1")
        .header("authorization", "Bearer s3cr3t")
        .json(&json!(true))
        .send()
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.header("x-caller"), Some("ana"));

    let res = client
        .get("/things/2")
        .header("authorization", "Bearer s3cr3t")
        .send()
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.header("x-caller"), None, "after hooks skip errors");

    let client = TestClient::new(falcon_guarded(true));
    let res = client.get("/things/1").send().await;
    assert_eq!(res.status(), 503, "answered before authentication");
    assert_eq!(res.text(), "back soon");
    assert_eq!(res.header("x-caller"), None);
}

// ANCHOR: falcon_hooks
/// `def validate_token(req, resp, resource, params)`, for `@falcon.before`.
async fn validate_token(req: &mut Request, _res: &mut Res) -> Result {
    if req.header("authorization") != Some("Bearer s3cr3t") {
        return Err(Error::new(401, "send a token"));
    }
    Ok(())
}

/// `def add_version(req, resp, resource)`, for `@falcon.after`.
async fn add_version(_req: &Request, res: &mut Res) -> Result {
    res.header("x-api-version", "2");
    Ok(())
}

/// `@falcon.after(add_version)` on the class, `@falcon.before(validate_token)` on
/// `on_put` alone.
fn falcon_hooked() -> App {
    let things = with_hooks(Things::default())
        .after(add_version)
        .before_on(Methods::PUT, validate_token);
    App::new().route("/things/{thing_id}", things)
}
// ANCHOR_END: falcon_hooks

#[tokio::test]
async fn falcon_resource_and_method_hooks() {
    let client = TestClient::new(falcon_hooked());
    let res = client.put("/things/1").json(&json!(true)).send().await;
    assert_eq!(res.status(), 401, "on_put needs the token");
    let res = client
        .put("/things/1")
        .header("authorization", "Bearer s3cr3t")
        .json(&json!(true))
        .send()
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.header("x-api-version"), Some("2"));
    let res = client.get("/things/1").send().await;
    assert_eq!(res.status(), 200, "on_get does not");
    assert_eq!(
        res.header("x-api-version"),
        Some("2"),
        "the class hook runs for both"
    );
}

// ANCHOR: falcon_websocket
/// `/echo`: `on_websocket` keeps its Falcon name. The handshake is accepted before it
/// runs, and `recv` ends when the client leaves.
struct Echo;

#[bocata::view]
impl Echo {
    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        while let Some(message) = ws.recv().await {
            if let Message::Text(text) = message? {
                ws.send_text(format!("echo: {}", text.as_str())).await?;
            }
        }
        Ok(())
    }
}
// ANCHOR_END: falcon_websocket

#[tokio::test]
async fn falcon_websocket_echo() {
    let client = TestClient::new(App::new().route("/echo", Echo));
    let mut ws = client.get("/echo").websocket().await.expect("accepted");
    ws.send_text("hi").await;
    assert_eq!(ws.recv_text().await.as_deref(), Some("echo: hi"));
    ws.close(1000, "done").await;

    let res = client.get("/echo").send().await;
    assert_eq!(res.status(), 426, "a plain GET to a socket-only view");
}

// BustAPI -----------------------------------------------------------------------------

// ANCHOR: bustapi_view
/// Flask's and BustAPI's `g.user`: who is asking, if anyone.
#[derive(Clone, Debug)]
struct CurrentUser(String);

/// `@app.before_request`
async fn load_user(req: &mut Request, _res: &mut Res) -> Result {
    if let Some(name) = req.header("x-user").map(str::to_owned) {
        req.extensions_mut().insert(CurrentUser(name));
    }
    Ok(())
}

/// `@app.route("/notes/<int:note_id>")`
async fn note(req: &Request, res: &mut Res) -> Result {
    let Some(CurrentUser(user)) = req.extensions().get::<CurrentUser>() else {
        return abort(401);
    };
    let note_id: u32 = req.param("note_id")?;
    if note_id != 1 {
        return Err(Error::new(404, "no such note"));
    }
    res.append_header("link", r#"</notes>; rel="collection""#)
        .json(&json!({ "id": note_id, "owner": user, "text": "buy bread" }));
    Ok(())
}

/// `app = BustAPI()`, its hook and its route.
fn bustapi_app() -> App {
    App::new()
        .before(load_user)
        .route("/notes/{note_id}", bocata::get(note))
}
// ANCHOR_END: bustapi_view

// ANCHOR: bustapi_test
#[tokio::test]
async fn bustapi_notes() {
    let client = TestClient::new(bustapi_app());

    assert_eq!(client.get("/notes/1").send().await.status(), 401);

    let res = client.get("/notes/2").header("x-user", "ana").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.text(), "404 Not Found: no such note\n");

    let res = client.get("/notes/1").header("x-user", "ana").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("link"), Some(r#"</notes>; rel="collection""#));
    assert_eq!(
        res.json::<Value>(),
        json!({ "id": 1, "owner": "ana", "text": "buy bread" })
    );
}
// ANCHOR_END: bustapi_test

// ANCHOR: bustapi_responses
/// `StreamingResponse(fast_stream(), media_type="text/plain")`: an async generator.
async fn fast_stream(_req: &Request, res: &mut Res) -> Result {
    res.content_type("text/plain").streaming(bocata::stream! {
        for i in 0..3 {
            yield format!("Chunk {i}\n");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    Ok(())
}

/// `StreamingResponse(sync_gen())`: a plain iterator, run on a blocking thread.
async fn sync_stream(_req: &Request, res: &mut Res) -> Result {
    res.content_type("text/plain")
        .streaming_blocking((0..3).map(|i| format!("Chunk {i}\n")));
    Ok(())
}

/// `/download`: `FileResponse(path, media_type="application/zip",
/// filename="custom_name.zip")`.
struct Download {
    path: PathBuf,
}

#[bocata::view]
impl Download {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.file(&self.path)
            .content_type("application/zip")
            .attachment("custom_name.zip");
        Ok(())
    }
}
// ANCHOR_END: bustapi_responses

#[tokio::test]
async fn bustapi_responses() {
    let fixture = Fixture::new("migration-download");
    let path = fixture.file("large_file.zip", b"PK\x03\x04 pretend zip");
    let client = TestClient::new(
        App::new()
            .route("/stream", bocata::get(fast_stream))
            .route("/sync-stream", bocata::get(sync_stream))
            .route("/download", Download { path }),
    );

    for path in ["/stream", "/sync-stream"] {
        let res = client.get(path).send().await;
        assert_eq!(res.header("content-type"), Some("text/plain"), "{path}");
        assert_eq!(res.text(), "Chunk 0\nChunk 1\nChunk 2\n", "{path}");
    }

    let res = client.get("/download").send().await;
    assert_eq!(res.header("content-type"), Some("application/zip"));
    assert_eq!(
        res.header("content-disposition"),
        Some(r#"attachment; filename="custom_name.zip""#)
    );
    assert_eq!(res.bytes().as_ref(), b"PK\x03\x04 pretend zip");

    let res = client
        .get("/download")
        .header("range", "bytes=0-3")
        .send()
        .await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().as_ref(), b"PK\x03\x04");
}

// axum and actix-web ------------------------------------------------------------------

// ANCHOR: axum_handler
/// The users, shared by every request.
#[derive(Clone, Debug, Default)]
struct Users(Arc<HashMap<u32, String>>);

/// axum: extractors in the signature, a response returned.
async fn axum_user(
    axum::extract::State(users): axum::extract::State<Users>,
    axum::extract::Path(id): axum::extract::Path<u32>,
) -> std::result::Result<String, StatusCode> {
    let name = users.0.get(&id).ok_or(StatusCode::NOT_FOUND)?;
    Ok(format!("user {id}: {name}"))
}

/// axum: the router, and the state it hands to extractors.
fn axum_users(users: Users) -> axum::Router {
    axum::Router::new()
        .route("/users/{id}", axum::routing::get(axum_user))
        .with_state(users)
}
// ANCHOR_END: axum_handler

// ANCHOR: bocata_handler
/// bocata: the request and the response are the arguments; the view asks for what it
/// needs, and `?` answers for what is wrong.
async fn bocata_user(req: &Request, res: &mut Res) -> Result {
    let users = req.state::<Users>()?;
    let id: u32 = req.param("id")?;
    let Some(name) = users.0.get(&id) else {
        return abort(404);
    };
    res.text(format!("user {id}: {name}"));
    Ok(())
}

/// bocata: the app, and its state.
fn bocata_users(users: Users) -> App {
    App::new()
        .state(users)
        .route("/users/{id}", bocata::get(bocata_user))
}
// ANCHOR_END: bocata_handler

/// Two users.
fn some_users() -> Users {
    Users(Arc::new(HashMap::from([
        (1, "ana".to_owned()),
        (2, "luis".to_owned()),
    ])))
}

/// Sends `GET path` to an axum router; returns the status and the body.
async fn axum_get(router: axum::Router, path: &str) -> (StatusCode, String) {
    let request = http::Request::get(path)
        .body(axum::body::Body::empty())
        .expect("a request");
    let response = router.oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("a body")
        .to_bytes();
    (status, String::from_utf8(body.to_vec()).expect("UTF-8"))
}

#[tokio::test]
async fn axum_and_bocata_answer_alike() {
    let client = TestClient::new(bocata_users(some_users()));
    for (path, status, body) in [
        ("/users/1", 200, Some("user 1: ana")),
        ("/users/3", 404, None),
        ("/users/x", 400, None),
    ] {
        let (axum_status, axum_body) = axum_get(axum_users(some_users()), path).await;
        let res = client.get(path).send().await;
        assert_eq!(axum_status, status, "axum {path}");
        assert_eq!(res.status(), status, "bocata {path}");
        if let Some(body) = body {
            assert_eq!(axum_body, body);
            assert_eq!(res.text(), body);
        }
    }
}

// ANCHOR: axum_errors
/// The app's own error type, where an axum app would implement `IntoResponse`.
#[derive(Debug)]
enum ShopError {
    OutOfStock(String),
    Storage(std::io::Error),
}

impl From<ShopError> for Error {
    fn from(error: ShopError) -> Self {
        match error {
            ShopError::OutOfStock(item) => Error::new(409, format!("{item} is out of stock")),
            ShopError::Storage(e) => Error::internal(e),
        }
    }
}

/// Takes one `item` from the stock.
fn take(item: &str) -> std::result::Result<u32, ShopError> {
    match item {
        "bread" => Ok(11),
        "saffron" => Err(ShopError::OutOfStock(item.to_owned())),
        _ => Err(ShopError::Storage(std::io::Error::other(
            "the stock file is gone",
        ))),
    }
}

/// `POST /buy/{item}`: `?` converts a `ShopError` into the answer it stands for.
async fn buy(req: &Request, res: &mut Res) -> Result {
    let item: String = req.param("item")?;
    let left = take(&item)?;
    res.json(&json!({ "item": item, "left": left }));
    Ok(())
}
// ANCHOR_END: axum_errors

#[tokio::test]
async fn an_error_type_of_your_own() {
    let log = LogCapture::start();
    let client = TestClient::new(App::new().route("/buy/{item}", bocata::post(buy)));
    let res = client.post("/buy/bread").send().await;
    assert_eq!(res.json::<Value>(), json!({ "item": "bread", "left": 11 }));
    let res = client.post("/buy/saffron").send().await;
    assert_eq!(res.status(), 409);
    assert_eq!(res.text(), "409 Conflict: saffron is out of stock\n");
    let res = client.post("/buy/tea").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "500 Internal Server Error\n");
    assert!(
        log.text().contains("the stock file is gone"),
        "{}",
        log.text()
    );
}

// ANCHOR: axum_middleware
/// axum: `middleware::from_fn`, which runs around the rest of the stack.
async fn axum_require_key(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if request.headers().get("x-api-key").is_none() {
        return axum::response::IntoResponse::into_response(StatusCode::UNAUTHORIZED);
    }
    next.run(request).await
}

/// axum: `route_layer`, so that only matched routes are guarded.
fn axum_guarded(users: Users) -> axum::Router {
    axum::Router::new()
        .route("/users/{id}", axum::routing::get(axum_user))
        .route_layer(axum::middleware::from_fn(axum_require_key))
        .with_state(users)
}

/// bocata: a before hook, which also runs only for matched routes.
async fn require_key(req: &mut Request, _res: &mut Res) -> Result {
    if req.header("x-api-key").is_none() {
        return abort(401);
    }
    Ok(())
}

/// bocata: the same app.
fn bocata_guarded(users: Users) -> App {
    bocata_users(users).before(require_key)
}
// ANCHOR_END: axum_middleware

#[tokio::test]
async fn route_layers_and_hooks_guard_matched_routes() {
    let client = TestClient::new(bocata_guarded(some_users()));
    for (path, status) in [("/users/1", 401), ("/nobody", 404)] {
        let (axum_status, _) = axum_get(axum_guarded(some_users()), path).await;
        assert_eq!(axum_status, status, "axum {path}");
        assert_eq!(
            client.get(path).send().await.status(),
            status,
            "bocata {path}"
        );
    }
    let res = client.get("/users/2").header("x-api-key", "k").send().await;
    assert_eq!(res.text(), "user 2: luis");
    let res = client.get("/nobody").header("x-api-key", "k").send().await;
    assert_eq!(res.status(), 404);
}

// ANCHOR: axum_mixed
/// Halfway through a move: the new routes are bocata, the old ones still axum.
fn half_moved(users: Users) -> App {
    App::new()
        .state(users.clone())
        .route("/v2/users/{id}", bocata::get(bocata_user))
        .mount_service("/v1", axum_users(users))
}

/// The other way round: a bocata app nested in an axum router.
fn axum_outside(users: Users) -> axum::Router {
    axum::Router::new().nest_service("/v2", bocata_users(users))
}
// ANCHOR_END: axum_mixed

#[tokio::test]
async fn axum_and_bocata_mix_both_ways() {
    let client = TestClient::new(half_moved(some_users()));
    for path in ["/v1/users/2", "/v2/users/2"] {
        let res = client.get(path).send().await;
        assert_eq!(res.text(), "user 2: luis", "{path}");
    }
    let (status, body) = axum_get(axum_outside(some_users()), "/v2/users/1").await;
    assert_eq!(status, 200);
    assert_eq!(body, "user 1: ana");
}
