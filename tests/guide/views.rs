//! Chapter "Views and routing": struct views, hand-written views, function views,
//! shared state, method handling and the route table.

use std::sync::atomic::{AtomicU64, Ordering};

use bocata::routing::RouteError;
use bocata::testing::TestClient;
use bocata::{App, Methods, Request, Res, Result, View};

// ANCHOR: greeter
/// Greets the name in the path. Built once, shared by every request.
struct Greeter {
    greeting: String,
}

#[bocata::view]
impl Greeter {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let name: String = req.param("name")?;
        res.text(self.phrase(&name));
        Ok(())
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let name: String = req.param("name")?;
        res.status(201)
            .json(&serde_json::json!({ "greeted": self.phrase(&name) }));
        Ok(())
    }

    /// Not an `on_*` method: an ordinary helper, kept in an inherent `impl`.
    fn phrase(&self, name: &str) -> String {
        format!("{}, {name}!", self.greeting)
    }
}
// ANCHOR_END: greeter

// ANCHOR: hand_written
/// A health check written without the macro.
struct Health;

impl View for Health {
    fn methods(&self) -> Methods {
        Methods::GET
    }

    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("ok");
        Ok(())
    }
}
// ANCHOR_END: hand_written

// ANCHOR: function_views
/// `GET /fruits`
async fn list_fruits(_req: &Request, res: &mut Res) -> Result {
    res.json(&["apple", "pear"]);
    Ok(())
}

/// `POST /fruits`, with the fruit's name as the body.
async fn create_fruit(req: &Request, res: &mut Res) -> Result {
    let name = req.text().await?;
    res.status(201).text(format!("created {name}"));
    Ok(())
}

/// One route, two methods, two functions.
fn fruits() -> App {
    App::new().route("/fruits", bocata::get(list_fruits).post(create_fruit))
}
// ANCHOR_END: function_views

// ANCHOR: closure
/// An async closure that captures nothing, with its parameter types written out.
fn ping() -> App {
    App::new().route(
        "/ping",
        bocata::get(async |req: &Request, res: &mut Res| {
            let body = req.text().await?;
            res.text(format!("pong {body}"));
            Ok(())
        }),
    )
}
// ANCHOR_END: closure

// ANCHOR: state
/// Counts the requests it has answered.
struct Hits {
    count: AtomicU64,
}

#[bocata::view]
impl Hits {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        res.text(format!("hit number {n}"));
        Ok(())
    }
}
// ANCHOR_END: state

// ANCHOR: params
/// `/users/{id}`: the id must be a number.
async fn user(req: &Request, res: &mut Res) -> Result {
    let id: u64 = req.param("id")?;
    res.text(format!("user {id}"));
    Ok(())
}

/// `/users/me`: a literal segment, tried before `{id}`.
async fn me(_req: &Request, res: &mut Res) -> Result {
    res.text("the current user");
    Ok(())
}

/// `/users/{id}/posts/{slug}`: two parameters, each percent-decoded.
async fn user_post(req: &Request, res: &mut Res) -> Result {
    let id: u64 = req.param("id")?;
    let slug: String = req.param("slug")?;
    res.text(format!("post {slug:?} of user {id}"));
    Ok(())
}

/// `/static/{*path}`: everything after `/static/`, slashes included.
async fn asset(req: &Request, res: &mut Res) -> Result {
    let path: String = req.param("path")?;
    res.text(format!("would send {path}"));
    Ok(())
}

/// `/docs/`: registered with its trailing slash.
async fn docs(_req: &Request, res: &mut Res) -> Result {
    res.text("the docs index");
    Ok(())
}
// ANCHOR_END: params

// ANCHOR: routes
/// The whole route table of the chapter.
fn app() -> App {
    App::new()
        .route(
            "/hello/{name}",
            Greeter {
                greeting: "Hello".into(),
            },
        )
        .route("/health", Health)
        .route("/fruits", bocata::get(list_fruits).post(create_fruit))
        .route(
            "/hits",
            Hits {
                count: AtomicU64::new(0),
            },
        )
        .route("/users/{id}", bocata::get(user))
        .route("/users/me", bocata::get(me))
        .route("/users/{id}/posts/{slug}", bocata::get(user_post))
        .route("/static/{*path}", bocata::get(asset))
        .route("/docs/", bocata::get(docs))
}
// ANCHOR_END: routes

// ANCHOR: try_route
/// Adds a route read from configuration, reporting a bad one instead of panicking.
fn add_alias(app: App, alias: &str) -> std::result::Result<App, RouteError> {
    app.try_route(alias, bocata::get(user))
}
// ANCHOR_END: try_route

#[tokio::test]
async fn struct_views_answer_their_methods() {
    let client = TestClient::new(app());
    let res = client.get("/hello/Ana").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "Hello, Ana!");

    let res = client.post("/hello/Ana").send().await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.json::<serde_json::Value>(),
        serde_json::json!({ "greeted": "Hello, Ana!" })
    );

    assert_eq!(client.get("/health").send().await.text(), "ok");
}

#[tokio::test]
async fn function_views_answer_the_methods_they_were_given() {
    let client = TestClient::new(fruits());
    let res = client.get("/fruits").send().await;
    assert_eq!(res.text(), r#"["apple","pear"]"#);
    let res = client.post("/fruits").body("kiwi").send().await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.text(), "created kiwi");
}

#[tokio::test]
async fn an_async_closure_that_captures_nothing_is_a_handler() {
    let client = TestClient::new(ping());
    let res = client.get("/ping").body("ball").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "pong ball");
    let res = client.post("/ping").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD, OPTIONS"));
}

#[tokio::test]
async fn an_async_closure_can_be_a_before_hook() {
    let app = ping().before(async |req: &mut Request, _res: &mut Res| {
        if req.header("x-token").is_none() {
            return bocata::abort(401);
        }
        Ok(())
    });
    let client = TestClient::new(app);
    assert_eq!(client.get("/ping").send().await.status(), 401);
    let res = client.get("/ping").header("x-token", "t").send().await;
    assert_eq!(res.text(), "pong ");
}

#[tokio::test]
async fn one_view_serves_every_request_so_its_fields_are_state() {
    let client = TestClient::new(app());
    assert_eq!(client.get("/hits").send().await.text(), "hit number 1");
    assert_eq!(client.get("/hits").send().await.text(), "hit number 2");
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let client = TestClient::new(app());
    let res = client.delete("/hello/Ana").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    assert_eq!(res.text(), "405 Method Not Allowed\n");

    let res = client.put("/health").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD, OPTIONS"));

    let res = client
        .request(bocata::http::Method::TRACE, "/fruits")
        .send()
        .await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
}

#[tokio::test]
async fn head_and_options_are_automatic() {
    let client = TestClient::new(app());
    let head = client.head("/hello/Ana").send().await;
    assert_eq!(head.status(), 200);
    assert_eq!(head.header("content-length"), Some("11"));
    assert_eq!(
        head.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(head.bytes().is_empty());

    let options = client.options("/hello/Ana").send().await;
    assert_eq!(options.status(), 204);
    assert_eq!(options.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    assert!(options.bytes().is_empty());
}

#[tokio::test]
async fn parameters_are_typed_and_decoded() {
    let client = TestClient::new(app());
    assert_eq!(client.get("/users/42").send().await.text(), "user 42");
    assert_eq!(
        client.get("/users/me").send().await.text(),
        "the current user"
    );
    assert_eq!(
        client
            .get("/users/7/posts/hello%20world")
            .send()
            .await
            .text(),
        r#"post "hello world" of user 7"#
    );
    assert_eq!(
        client.get("/static/css/site.css").send().await.text(),
        "would send css/site.css"
    );
    assert_eq!(client.get("/nowhere").send().await.status(), 404);
}

#[tokio::test]
async fn a_bad_parameter_is_a_400_naming_it() {
    let res = TestClient::new(app()).get("/users/abc").send().await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        res.text(),
        "400 Bad Request: path parameter `id` is invalid: invalid digit found in string\n"
    );
}

#[test]
#[should_panic(expected = "route `/users/{name}` conflicts with `/users/{id}`")]
fn conflicting_routes_panic_when_the_app_is_built() {
    let _ = App::new()
        .route("/users/{id}", bocata::get(user))
        .route("/users/{name}", bocata::get(user));
}

#[test]
fn try_route_returns_the_problem() {
    let app = App::new().route("/users/{id}", bocata::get(user));
    let err = add_alias(app, "/users/{name}").expect_err("a conflict");
    assert_eq!(
        err.to_string(),
        "route `/users/{name}` conflicts with `/users/{id}`, which is already registered"
    );
    let err = add_alias(App::new(), "users").expect_err("no leading slash");
    assert_eq!(err.to_string(), "route `users` must start with `/`");
    assert!(add_alias(App::new(), "/people/{id}").is_ok());
}

#[tokio::test]
async fn the_other_trailing_slash_spelling_redirects() {
    let client = TestClient::new(app());
    let res = client.get("/users/42/").send().await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.header("location"), Some("/users/42"));

    let res = client.get("/docs").query(&[("page", "2")]).send().await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.header("location"), Some("/docs/?page=2"));

    let res = client.post("/hello/Ana/").send().await;
    assert_eq!(res.status(), 308, "every method, and 308 keeps it");
    assert_eq!(client.get("/docs/").send().await.status(), 200);
}

#[tokio::test]
async fn double_braces_are_literal_braces() {
    let app = App::new().route("/{{id}}/{id}", bocata::get(user));
    let res = TestClient::new(app).get("/{id}/5").send().await;
    assert_eq!(res.text(), "user 5");
}
