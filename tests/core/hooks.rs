//! The application around the views: state, before and after hooks, and routers
//! (blueprints) mounted under prefixes.

use std::sync::{Arc, Mutex};

use bocata::testing::TestClient;
use bocata::websocket::WebSocket;
use bocata::{App, Methods, Request, Res, Result, Router, abort, with_hooks};

/// Where hooks and views write down the order they ran in; the app holds it as state
/// and the test keeps a handle.
#[derive(Default)]
struct Trail(Mutex<Vec<&'static str>>);

impl Trail {
    fn push(&self, step: &'static str) {
        self.0.lock().expect("not poisoned").push(step);
    }

    fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }
}

macro_rules! step_hooks {
    ($($before:ident, $after:ident => $name:literal;)*) => {
        $(
            async fn $before(req: &mut Request, _res: &mut Res) -> Result {
                req.state::<Arc<Trail>>()?.push(concat!("before ", $name));
                Ok(())
            }

            async fn $after(req: &Request, _res: &mut Res) -> Result {
                req.state::<Arc<Trail>>()?.push(concat!("after ", $name));
                Ok(())
            }
        )*
    };
}

step_hooks! {
    app_before, app_after => "app";
    app_before_2, app_after_2 => "app 2";
    outer_before, outer_after => "outer";
    inner_before, inner_after => "inner";
    view_before, view_after => "view's own";
    post_before, post_after => "on POST";
}

async fn view(req: &Request, res: &mut Res) -> Result {
    req.state::<Arc<Trail>>()?.push("view");
    res.text(format!("view at {}", req.path()));
    Ok(())
}

async fn item(req: &Request, res: &mut Res) -> Result {
    let user: u32 = req.param("user")?;
    let item: String = req.param("item")?;
    res.text(format!("user {user}, item {item}"));
    Ok(())
}

fn nested_app(trail: &Arc<Trail>) -> App {
    let inner = Router::new()
        .before(inner_before)
        .after(inner_after)
        .route("/leaf", bocata::get(view));
    let outer = Router::new()
        .before(outer_before)
        .after(outer_after)
        .route("/", bocata::get(view))
        .mount("/inner", inner);
    App::new()
        .state(Arc::clone(trail))
        .route("/top", bocata::get(view))
        .mount("/outer", outer)
        .mount(
            "/users/{user}",
            Router::new().route("/items/{item}", bocata::get(item)),
        )
        .before(app_before)
        .after(app_after)
        .before(app_before_2)
        .after(app_after_2)
}

#[tokio::test]
async fn hooks_run_outside_in_then_inside_out() {
    let trail = Arc::new(Trail::default());
    let client = TestClient::new(nested_app(&trail));
    let res = client.get("/outer/inner/leaf").send().await;
    assert_eq!(res.text(), "view at /outer/inner/leaf");
    assert_eq!(
        trail.take(),
        [
            "before app",
            "before app 2",
            "before outer",
            "before inner",
            "view",
            "after inner",
            "after outer",
            "after app",
            "after app 2",
        ]
    );
    client.get("/outer/").send().await;
    assert_eq!(
        trail.take(),
        [
            "before app",
            "before app 2",
            "before outer",
            "view",
            "after outer",
            "after app",
            "after app 2",
        ]
    );
    client.get("/top").send().await;
    assert_eq!(
        trail.take(),
        [
            "before app",
            "before app 2",
            "view",
            "after app",
            "after app 2"
        ],
        "a route of the app has only the app's hooks"
    );
}

#[tokio::test]
async fn routing_stays_exact_across_mounts() {
    let trail = Arc::new(Trail::default());
    let client = TestClient::new(nested_app(&trail));
    let res = client.get("/users/7/items/book").send().await;
    assert_eq!(
        res.text(),
        "user 7, item book",
        "prefix parameters are parameters"
    );
    assert_eq!(client.get("/outer/nope").send().await.status(), 404);
    assert_eq!(client.get("/inner/leaf").send().await.status(), 404);
    let res = client.post("/outer/inner/leaf").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD, OPTIONS"));
    let res = client.get("/outer").send().await;
    assert_eq!(res.status(), 308, "the router's root is `/outer/`");
    assert_eq!(res.header("location"), Some("/outer/"));
    trail.take();
    client.get("/outer/nope").send().await;
    assert!(trail.take().is_empty(), "no hooks run for a 404");
}

#[test]
fn conflicts_between_mounts_are_found_when_mounting() {
    let err = App::new()
        .route("/api/users", bocata::get(view))
        .try_mount("/api", Router::new().route("/users", bocata::get(view)))
        .expect_err("a conflict");
    assert!(err.to_string().contains("`/api/users`"), "{err}");
}

async fn require_user(req: &mut Request, res: &mut Res) -> Result {
    match req.header("x-user").map(str::to_owned) {
        Some(user) if user == "banned" => abort(403),
        Some(user) => {
            req.extensions_mut().insert(user);
            Ok(())
        }
        None => {
            res.status(401)
                .header("www-authenticate", "Bearer")
                .text("log in first")
                .complete();
            Ok(())
        }
    }
}

async fn whoami(req: &Request, res: &mut Res) -> Result {
    let user = req.extensions().get::<String>().map_or("?", String::as_str);
    res.text(format!("you are {user}"));
    Ok(())
}

async fn stamp(_req: &Request, res: &mut Res) -> Result {
    res.header("x-stamp", "after");
    Ok(())
}

async fn broken_hook(_req: &mut Request, _res: &mut Res) -> Result {
    panic!("a hook panicked")
}

#[tokio::test]
async fn before_hooks_add_data_stop_requests_or_answer_them() {
    let client = TestClient::new(
        App::new()
            .before(require_user)
            .after(stamp)
            .route("/me", bocata::get(whoami))
            .mount(
                "/broken",
                Router::new()
                    .before(broken_hook)
                    .route("/", bocata::get(whoami)),
            ),
    );
    let res = client.get("/me").header("x-user", "ana").send().await;
    assert_eq!(res.text(), "you are ana", "data attached by the hook");
    assert_eq!(res.header("x-stamp"), Some("after"));

    let res = client.get("/me").send().await;
    assert_eq!(
        res.status(),
        401,
        "answered by the hook; the view was skipped"
    );
    assert_eq!(res.text(), "log in first");
    assert_eq!(res.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        res.header("x-stamp"),
        Some("after"),
        "after hooks still run"
    );

    let res = client.get("/me").header("x-user", "banned").send().await;
    assert_eq!(res.status(), 403, "stopped with an error");
    assert_eq!(
        res.header("x-stamp"),
        None,
        "after hooks do not run for errors"
    );

    let res = client.get("/broken/").header("x-user", "ana").send().await;
    assert_eq!(res.status(), 500, "a panicking hook is a 500");
    let res = client.get("/me").header("x-user", "ana").send().await;
    assert_eq!(res.status(), 200, "and the app keeps serving");
}

async fn needs_missing_state(req: &Request, res: &mut Res) -> Result {
    let count: &u64 = req.state()?;
    res.text(count.to_string());
    Ok(())
}

#[tokio::test]
async fn missing_state_is_a_500_naming_the_type() {
    let client = TestClient::new(
        App::new()
            .debug(true)
            .route("/", bocata::get(needs_missing_state)),
    );
    let res = client.get("/").send().await;
    assert_eq!(res.status(), 500);
    assert!(
        res.text()
            .contains("no state of type `u64` was added to the app"),
        "{}",
        res.text()
    );
    let client = TestClient::new(
        App::new()
            .state(41_u64)
            .state(42_u64)
            .route("/", bocata::get(needs_missing_state)),
    );
    assert_eq!(
        client.get("/").send().await.text(),
        "42",
        "the last value of a type wins"
    );
}

#[tokio::test]
async fn a_views_own_hooks_run_innermost_and_only_for_its_route() {
    let trail = Arc::new(Trail::default());
    let notes = Router::new()
        .before(outer_before)
        .after(outer_after)
        .route(
            "/hooked",
            with_hooks(bocata::get(view))
                .before(view_before)
                .after(view_after),
        )
        .route("/plain", bocata::get(view));
    let client = TestClient::new(
        App::new()
            .state(Arc::clone(&trail))
            .before(app_before)
            .after(app_after)
            .mount("/notes", notes)
            .route("/top", with_hooks(bocata::get(view)).before(view_before)),
    );

    assert_eq!(client.get("/notes/hooked").send().await.status(), 200);
    assert_eq!(
        trail.take(),
        [
            "before app",
            "before outer",
            "before view's own",
            "view",
            "after view's own",
            "after outer",
            "after app",
        ]
    );
    client.get("/notes/plain").send().await;
    assert_eq!(
        trail.take(),
        [
            "before app",
            "before outer",
            "view",
            "after outer",
            "after app"
        ],
        "a sibling route does not get the view's hooks"
    );
    client.get("/top").send().await;
    assert_eq!(
        trail.take(),
        ["before app", "before view's own", "view", "after app"],
        "a view of the app itself can have hooks too"
    );
}

async fn created(req: &Request, res: &mut Res) -> Result {
    req.state::<Arc<Trail>>()?.push("view");
    res.status(201).text("created");
    Ok(())
}

async fn require_key(req: &mut Request, _res: &mut Res) -> Result {
    if req.header("x-api-key") != Some("secret") {
        return abort(401);
    }
    Ok(())
}

#[tokio::test]
async fn a_hook_can_be_kept_to_some_methods() {
    let trail = Arc::new(Trail::default());
    let notes = with_hooks(bocata::get(view).post(created).delete(created))
        .before_on(Methods::POST.with(Methods::DELETE), require_key)
        .before_on(Methods::POST, post_before)
        .after_on(Methods::POST, post_after);
    let client = TestClient::new(App::new().state(Arc::clone(&trail)).route("/notes", notes));

    let res = client.get("/notes").send().await;
    assert_eq!(res.status(), 200, "reading needs no key");
    assert_eq!(trail.take(), ["view"]);
    let res = client.head("/notes").send().await;
    assert_eq!(res.status(), 200, "HEAD is GET for hooks too");
    assert_eq!(trail.take(), ["view"]);
    let res = client.options("/notes").send().await;
    assert_eq!(res.status(), 204, "OPTIONS is answered without hooks");
    assert!(trail.take().is_empty());

    let res = client.post("/notes").send().await;
    assert_eq!(res.status(), 401, "writing does");
    assert!(trail.take().is_empty(), "nothing ran after the refusal");
    let res = client.delete("/notes").send().await;
    assert_eq!(res.status(), 401);

    let res = client
        .post("/notes")
        .header("x-api-key", "secret")
        .send()
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(trail.take(), ["before on POST", "view", "after on POST"]);
    let res = client
        .delete("/notes")
        .header("x-api-key", "secret")
        .send()
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(trail.take(), ["view"], "the POST-only hooks skip DELETE");
}

struct Feed;

#[bocata::view]
impl Feed {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("the page");
        Ok(())
    }

    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        ws.send_text("live").await?;
        Ok(())
    }
}

#[tokio::test]
async fn a_websocket_upgrade_is_its_own_method_for_hooks() {
    let client = TestClient::new(App::new().route(
        "/feed",
        with_hooks(Feed).before_on(Methods::WEBSOCKET, require_key),
    ));
    assert_eq!(client.get("/feed").send().await.text(), "the page");

    let refused = client.get("/feed").websocket().await.err();
    assert_eq!(
        refused.map(|res| res.status()),
        Some(http::StatusCode::UNAUTHORIZED)
    );

    let mut ws = client
        .get("/feed")
        .header("x-api-key", "secret")
        .websocket()
        .await
        .expect("the key lets the upgrade through");
    assert_eq!(ws.recv_text().await.as_deref(), Some("live"));
}

#[tokio::test]
async fn a_routers_empty_path_is_its_mount_point() {
    let trail = Arc::new(Trail::default());
    let notes = Router::new()
        .route("", bocata::get(view))
        .route("/{item}", bocata::get(view));
    let client = TestClient::new(
        App::new()
            .state(Arc::clone(&trail))
            .mount("/notes", notes)
            .mount(
                "",
                Router::new()
                    .before(inner_before)
                    .route("", bocata::get(view))
                    .route("/about", bocata::get(view)),
            ),
    );
    assert_eq!(client.get("/notes").send().await.text(), "view at /notes");
    assert_eq!(
        client.get("/notes/7").send().await.text(),
        "view at /notes/7"
    );
    let res = client.get("/notes/").send().await;
    assert_eq!(
        res.status(),
        308,
        "the trailing slash redirects to the route"
    );
    assert_eq!(res.header("location"), Some("/notes"));

    trail.take();
    assert_eq!(client.get("/").send().await.text(), "view at /");
    assert_eq!(client.get("/about").send().await.text(), "view at /about");
    assert_eq!(
        trail.take(),
        ["before inner", "view", "before inner", "view"],
        "a router mounted at the root keeps its hooks"
    );
    assert!(
        App::new()
            .try_mount("/x", Router::new().route("about", bocata::get(view)))
            .is_err(),
        "a non-empty path still needs its leading slash"
    );
}
