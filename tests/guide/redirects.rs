//! Chapter "Redirects and reverse routing": redirecting to a view, URLs built from
//! routes, named function views, and redirects to targets taken from the request.

// ANCHOR: imports
use std::borrow::Cow;

use bocata::{App, Request, Res, Result, Router};
// ANCHOR_END: imports

use bocata::testing::TestClient;

// ANCHOR: to_view
/// `GET /`: the home page.
struct Index;

#[bocata::view]
impl Index {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("home");
        Ok(())
    }
}

/// `GET /start`: Responder's `resp.redirect(view=Index)`.
async fn start(req: &Request, res: &mut Res) -> Result {
    res.redirect(&req.url_for::<Index>(&[])?);
    Ok(())
}
// ANCHOR_END: to_view

// ANCHOR: params
/// `GET /articles/{year}/{slug}`
struct Article;

#[bocata::view]
impl Article {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let year: u16 = req.param("year")?;
        let slug: String = req.param("slug")?;
        res.text(format!("{slug} ({year})"));
        Ok(())
    }
}

/// `POST /articles`: creates an article, then sends the browser to it.
async fn publish(req: &Request, res: &mut Res) -> Result {
    let title = req.text().await?.trim().to_owned();
    // ... store the article ...
    let url = req.url_for::<Article>(&[("year", &2025), ("slug", &title)])?;
    res.redirect(&url).status(303);
    Ok(())
}
// ANCHOR_END: params

// ANCHOR: named
/// `GET /users`
async fn list_users(_req: &Request, res: &mut Res) -> Result {
    res.json(&["ana", "luis"]);
    Ok(())
}

/// `GET /users/{id}/avatar`
async fn avatar(req: &Request, res: &mut Res) -> Result {
    let id: u32 = req.param("id")?;
    res.text(format!("avatar of user {id}"));
    Ok(())
}

/// `GET /links`: URLs of function views, by name.
async fn links(req: &Request, res: &mut Res) -> Result {
    res.json(&[
        req.url_for_name("list_users", &[])?, // the function's name
        req.url_for_name("avatar", &[("id", &7)])?, // named with `.name("avatar")`
    ]);
    Ok(())
}
// ANCHOR_END: named

// ANCHOR: hand_named
/// A struct view known to reverse routing as `"health"` rather than `"Health"`.
struct Health;

#[bocata::view]
impl Health {
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed("health")
    }

    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("ok");
        Ok(())
    }
}
// ANCHOR_END: hand_named

// ANCHOR: next
/// `POST /login?next=/account`: back where the user was going, but only on this site.
async fn login(req: &Request, res: &mut Res) -> Result {
    // ... check the credentials ...
    let next = req.query("next").unwrap_or_else(|| "/".to_owned());
    res.redirect_local(&next)?.status(303);
    Ok(())
}
// ANCHOR_END: next

/// `GET /broken?case=…`: the ways a URL cannot be built.
async fn broken(req: &Request, res: &mut Res) -> Result {
    let url = match req.query("case").as_deref() {
        Some("missing") => req.url_for::<Article>(&[("year", &2025)])?,
        Some("unknown") => req.url_for::<Index>(&[("page", &2)])?,
        _ => req.url_for_name("nobody", &[])?,
    };
    res.text(url);
    Ok(())
}

// ANCHOR: app
/// Every view of the chapter. The articles live in a router mounted under `/blog`.
fn app() -> App {
    let blog = Router::new()
        .route("/articles/{year}/{slug}", Article)
        .route("/articles", bocata::post(publish));
    App::new()
        .route("/", Index)
        .route("/start", bocata::get(start))
        .route("/users", bocata::get(list_users))
        .route("/users/{id}/avatar", bocata::get(avatar).name("avatar"))
        .route("/links", bocata::get(links))
        .route("/health", Health)
        .route("/login", bocata::post(login))
        .mount("/blog", blog)
}
// ANCHOR_END: app

#[tokio::test]
async fn redirect_to_a_view() {
    let client = TestClient::new(app());
    let res = client.get("/start").send().await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.header("location"), Some("/"));
    assert_eq!(res.header("content-length"), Some("0"));
    assert_eq!(res.text(), "");
    assert_eq!(client.get("/").send().await.text(), "home");
}

#[tokio::test]
async fn parameters_are_filled_in_encoded_and_prefixed() {
    let client = TestClient::new(app());
    let res = client
        .post("/blog/articles")
        .body("hello world")
        .send()
        .await;
    assert_eq!(res.status(), 303);
    let location = res.header("location").expect("a Location");
    assert_eq!(location, "/blog/articles/2025/hello%20world");
    assert_eq!(
        client.get(location).send().await.text(),
        "hello world (2025)",
        "the URL leads back to the view"
    );

    let res = client.post("/blog/articles").body("a/b?c#d").send().await;
    assert_eq!(
        res.header("location"),
        Some("/blog/articles/2025/a%2Fb%3Fc%23d"),
        "a value stays one segment"
    );
}

#[tokio::test]
async fn function_views_by_name() {
    let client = TestClient::new(app());
    let urls: Vec<String> = client.get("/links").send().await.json();
    assert_eq!(urls, ["/users", "/users/7/avatar"]);
}

/// `GET /which`: the URL of the view named `"health"`.
async fn which(req: &Request, res: &mut Res) -> Result {
    res.text(req.url_for_name("health", &[])?);
    Ok(())
}

#[tokio::test]
async fn a_hand_written_view_can_choose_its_name() {
    let client = TestClient::new(app().route("/which", bocata::get(which)));
    assert_eq!(client.get("/which").send().await.text(), "/health");
    assert_eq!(client.get("/health").send().await.text(), "ok");
}

#[tokio::test]
async fn what_cannot_be_built_is_a_500_saying_why() {
    let client = TestClient::new(app().route("/broken", bocata::get(broken)));
    let res = client.get("/broken").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.text(),
        "500 Internal Server Error\n",
        "the cause is logged"
    );

    let client = TestClient::new(app().route("/broken", bocata::get(broken)).debug(true));
    let cases = [
        ("name", "url_for: no route serves view `nobody`"),
        (
            "missing",
            "url_for: route `/blog/articles/{year}/{slug}` needs a value for parameter `slug`",
        ),
        ("unknown", "url_for: route `/` has no parameter `page`"),
    ];
    for (case, message) in cases {
        let res = client.get("/broken").query(&[("case", case)]).send().await;
        assert_eq!(res.status(), 500, "{case}");
        assert!(res.text().contains(message), "{case}: {}", res.text());
    }
}

#[tokio::test]
async fn redirect_local_keeps_users_on_the_site() {
    let client = TestClient::new(app());
    for next in ["/account", "/search?q=rust", "/"] {
        let res = client.post("/login").query(&[("next", next)]).send().await;
        assert_eq!(res.status(), 303, "{next}");
        assert_eq!(res.header("location"), Some(next));
    }
    let res = client.post("/login").send().await;
    assert_eq!(res.header("location"), Some("/"), "no next: home");

    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
    ] {
        let res = client.post("/login").query(&[("next", next)]).send().await;
        assert_eq!(res.status(), 400, "{next}");
        assert_eq!(res.header("location"), None, "{next}");
        assert_eq!(
            res.text(),
            "400 Bad Request: refusing to redirect to a target outside this site\n"
        );
    }
}

/// `GET /files/{*path}`
async fn file(req: &Request, res: &mut Res) -> Result {
    res.text(req.param::<String>("path")?);
    Ok(())
}

/// `GET /where`: URLs that depend on how views were registered.
async fn where_(req: &Request, res: &mut Res) -> Result {
    res.json(&[
        req.url_for_name("file", &[("path", &"css/site main.css")])?,
        req.url_for::<Index>(&[])?,
        req.url_for::<bocata::FnView>(&[])?,
    ]);
    Ok(())
}

#[tokio::test]
async fn catch_alls_keep_slashes_and_the_first_route_wins() {
    let client = TestClient::new(
        App::new()
            .route("/where", bocata::get(where_))
            .route("/files/{*path}", bocata::get(file).name("file"))
            .route("/", Index)
            .route("/index", Index),
    );
    let urls: Vec<String> = client.get("/where").send().await.json();
    assert_eq!(
        urls,
        ["/files/css/site%20main.css", "/", "/where"],
        "url_for::<FnView> finds the first function view, whichever it is"
    );
}
