//! Chapter "Blueprints": routers with their own hooks, mounted under prefixes, nested,
//! with parameters in the prefix.

// ANCHOR: imports
use bocata::{App, Request, Res, Result, Router};
// ANCHOR_END: imports

use bocata::testing::TestClient;

// ANCHOR: admin
/// The admin pages: one module, one router, one hook that guards them all.
mod admin {
    use bocata::{Request, Res, Result, Router, abort};

    /// Before every admin view.
    async fn require_admin(req: &mut Request, _res: &mut Res) -> Result {
        if req.header("x-admin-token") != Some("s3cret") {
            return abort(403);
        }
        Ok(())
    }

    /// `/`, relative to where the router is mounted.
    async fn dashboard(_req: &Request, res: &mut Res) -> Result {
        res.text("admin dashboard");
        Ok(())
    }

    /// `/users/{id}`, relative to where the router is mounted.
    async fn user(req: &Request, res: &mut Res) -> Result {
        let id: u32 = req.param("id")?;
        res.text(format!("admin page of user {id}"));
        Ok(())
    }

    /// The admin blueprint.
    pub(crate) fn router() -> Router {
        Router::new()
            .before(require_admin)
            .route("/", bocata::get(dashboard))
            .route("/users/{id}", bocata::get(user))
    }
}
// ANCHOR_END: admin

// ANCHOR: shop
/// One shop's catalogue, mounted under a prefix that names the shop.
mod shop {
    use bocata::{Request, Res, Result, Router};

    /// `/products/{id}`: reads the prefix's `{shop}` like its own `{id}`.
    async fn product(req: &Request, res: &mut Res) -> Result {
        let shop: String = req.param("shop")?;
        let id: u32 = req.param("id")?;
        res.json(&serde_json::json!({ "shop": shop, "product": id }));
        Ok(())
    }

    /// The shop blueprint.
    pub(crate) fn router() -> Router {
        Router::new().route("/products/{id}", bocata::get(product))
    }
}
// ANCHOR_END: shop

// ANCHOR: app
/// After every API view: API answers are not to be cached.
async fn no_store(_req: &Request, res: &mut Res) -> Result {
    res.header("cache-control", "no-store");
    Ok(())
}

/// `GET /`
async fn home(_req: &Request, res: &mut Res) -> Result {
    res.text("welcome");
    Ok(())
}

/// The site: a home page, the admin pages, and an API with shops nested in it.
fn app() -> App {
    let api = Router::new()
        .after(no_store)
        .mount("/shops/{shop}", shop::router());
    App::new()
        .route("/", bocata::get(home))
        .mount("/admin", admin::router())
        .mount("/api", api)
}
// ANCHOR_END: app

#[tokio::test]
async fn a_router_serves_under_its_prefix_with_its_hooks() {
    let client = TestClient::new(app());
    let res = client
        .get("/admin/users/7")
        .header("x-admin-token", "s3cret")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "admin page of user 7");

    let res = client.get("/admin/users/7").send().await;
    assert_eq!(res.status(), 403, "the router's hook guards its views");
    assert_eq!(
        client.get("/").send().await.text(),
        "welcome",
        "and nothing else"
    );
}

#[tokio::test]
async fn the_routers_root_ends_with_a_slash() {
    let client = TestClient::new(app());
    let res = client
        .get("/admin/")
        .header("x-admin-token", "s3cret")
        .send()
        .await;
    assert_eq!(res.text(), "admin dashboard");
    let res = client.get("/admin").send().await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.header("location"), Some("/admin/"));
}

#[tokio::test]
async fn prefix_parameters_and_nested_routers() {
    let client = TestClient::new(app());
    let res = client.get("/api/shops/acme/products/3").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), r#"{"product":3,"shop":"acme"}"#);
    assert_eq!(
        res.header("cache-control"),
        Some("no-store"),
        "the outer router's hook"
    );
    assert_eq!(client.get("/").send().await.header("cache-control"), None);
    assert_eq!(
        client.get("/shops/acme/products/3").send().await.status(),
        404,
        "only under the prefix"
    );
}

#[tokio::test]
async fn a_path_no_route_matches_runs_no_hook() {
    let client = TestClient::new(app());
    assert_eq!(client.get("/admin/nothing").send().await.status(), 404);
    assert_eq!(client.get("/admin/users/7").send().await.status(), 403);
}

// ANCHOR: root
/// The notes API: `/notes` itself, and one note under it. No trailing slashes.
mod notes {
    use bocata::{Request, Res, Result, Router};

    /// `""`: the prefix itself.
    async fn list(_req: &Request, res: &mut Res) -> Result {
        res.json(&["buy bread", "call mum"]);
        Ok(())
    }

    /// `/{id}`
    async fn one(req: &Request, res: &mut Res) -> Result {
        let id: usize = req.param("id")?;
        res.json(&id);
        Ok(())
    }

    /// The notes blueprint.
    pub(crate) fn router() -> Router {
        Router::new()
            .route("", bocata::get(list))
            .route("/{id}", bocata::get(one))
    }
}

/// The public pages: a router with no prefix, for the hook they share.
mod pages {
    use bocata::{Request, Res, Result, Router};

    /// After every page: a page may be cached for an hour.
    async fn cache_for_an_hour(_req: &Request, res: &mut Res) -> Result {
        res.header("cache-control", "public, max-age=3600");
        Ok(())
    }

    /// `GET /about`
    async fn about(_req: &Request, res: &mut Res) -> Result {
        res.text("about us");
        Ok(())
    }

    /// The pages blueprint.
    pub(crate) fn router() -> Router {
        Router::new()
            .after(cache_for_an_hour)
            .route("/about", bocata::get(about))
    }
}

fn site() -> App {
    App::new()
        .mount("/notes", notes::router())
        .mount("", pages::router())
}
// ANCHOR_END: root

#[tokio::test]
async fn a_router_serves_its_prefix_and_can_be_mounted_at_the_root() {
    let client = TestClient::new(site());
    let res = client.get("/notes").send().await;
    assert_eq!(res.json::<Vec<String>>(), ["buy bread", "call mum"]);
    assert_eq!(client.get("/notes/1").send().await.text(), "1");
    let res = client.get("/notes/").send().await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.header("location"), Some("/notes"));

    let res = client.get("/about").send().await;
    assert_eq!(res.text(), "about us");
    assert_eq!(res.header("cache-control"), Some("public, max-age=3600"));
    assert_eq!(
        client.get("/notes").send().await.header("cache-control"),
        None,
        "the pages' hook stays with the pages"
    );
}

// ANCHOR: catch_all
/// Every other path under the router's prefix: a 404, but only past its hooks.
async fn nothing_here(_req: &Request, _res: &mut Res) -> Result {
    bocata::abort(404)
}

/// The admin router, with its unknown paths behind its hook too.
fn guarded_admin() -> Router {
    admin::router().route("/{*rest}", bocata::get(nothing_here))
}
// ANCHOR_END: catch_all

#[tokio::test]
async fn a_catch_all_route_puts_unknown_paths_behind_the_hooks() {
    let client = TestClient::new(App::new().mount("/admin", guarded_admin()));
    assert_eq!(client.get("/admin/nothing").send().await.status(), 403);
    assert_eq!(client.get("/admin/users/7").send().await.status(), 403);
    let res = client
        .get("/admin/nothing")
        .header("x-admin-token", "s3cret")
        .send()
        .await;
    assert_eq!(res.status(), 404);
    let res = client
        .get("/admin/users/7")
        .header("x-admin-token", "s3cret")
        .send()
        .await;
    assert_eq!(res.text(), "admin page of user 7", "real routes still win");
}

/// `GET /users`, twice over.
async fn users(_req: &Request, res: &mut Res) -> Result {
    res.text("users");
    Ok(())
}

// ANCHOR: try_mount
/// Mounts a plugin's router under `/api`, or says why it cannot be.
fn install(app: App, plugin: Router) -> std::result::Result<App, String> {
    app.try_mount("/api", plugin)
        .map_err(|e| format!("cannot install the plugin: {e}"))
}
// ANCHOR_END: try_mount

#[test]
fn conflicts_are_found_when_mounting() {
    let app = App::new().route("/api/users", bocata::get(users));
    let plugin = Router::new().route("/users", bocata::get(users));
    let err = install(app, plugin).expect_err("a conflict");
    assert_eq!(
        err,
        "cannot install the plugin: route `/api/users` conflicts with `/api/users`, which is already registered"
    );
    let plugin = Router::new().route("/orders", bocata::get(users));
    assert!(install(App::new(), plugin).is_ok());
}

#[test]
fn a_route_without_a_leading_slash_is_refused_when_mounted() {
    let err = App::new()
        .try_mount("/admin", Router::new().route("users", bocata::get(users)))
        .expect_err("a path without `/`");
    assert_eq!(err.to_string(), "route `users` must start with `/`");
}
