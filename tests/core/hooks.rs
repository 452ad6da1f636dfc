//! The application around the views: state, before and after hooks, and routers
//! (blueprints) mounted under prefixes.

use std::sync::{Arc, Mutex};

use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result, Router, abort};

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
