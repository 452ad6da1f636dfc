//! Redirects to views, reverse routing across mounts, and local-only redirects.

use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result, Router};

struct Index;

#[bocata::view]
impl Index {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        res.text(req.url_for::<Index>(&[])?);
        Ok(())
    }
}

struct Post;

#[bocata::view]
impl Post {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let slug: String = req.param("slug")?;
        res.text(format!("post {slug}"));
        Ok(())
    }
}

struct Unrouted;

#[bocata::view]
impl Unrouted {
    async fn on_get(&self, _req: &Request, _res: &mut Res) -> Result {
        Ok(())
    }
}

async fn to_index(req: &Request, res: &mut Res) -> Result {
    res.redirect(&req.url_for::<Index>(&[])?);
    Ok(())
}

async fn links(req: &Request, res: &mut Res) -> Result {
    let post = req.url_for::<Post>(&[("user", &7), ("slug", &"hello world/2")])?;
    let file = req.url_for_name("asset", &[("path", &"css/site main.css")])?;
    let named = req.url_for_name("archive", &[])?;
    res.json(&[post, file, named]);
    Ok(())
}

async fn asset(_req: &Request, res: &mut Res) -> Result {
    res.text("asset");
    Ok(())
}

async fn archive(_req: &Request, res: &mut Res) -> Result {
    res.text("archive");
    Ok(())
}

async fn broken(req: &Request, res: &mut Res) -> Result {
    let url = match req.query("case").as_deref() {
        Some("unrouted") => req.url_for::<Unrouted>(&[])?,
        Some("missing") => req.url_for::<Post>(&[("user", &1)])?,
        Some("extra") => req.url_for::<Index>(&[("page", &2)])?,
        _ => req.url_for_name("nobody", &[])?,
    };
    res.text(url);
    Ok(())
}

async fn login(req: &Request, res: &mut Res) -> Result {
    let next = req.query("next").unwrap_or_else(|| "/".into());
    res.redirect_local(&next)?.status(303);
    Ok(())
}

fn client() -> TestClient {
    let blog = Router::new().route("/{user}/posts/{slug}", Post);
    TestClient::new(
        App::new()
            .debug(true)
            .route("/", Index)
            .route("/home", bocata::get(to_index))
            .route("/links", bocata::get(links))
            .route("/static/{*path}", bocata::get(asset))
            .route("/old-posts", bocata::get(archive).name("archive"))
            .route("/broken", bocata::get(broken))
            .route("/login", bocata::post(login))
            .mount("/blog", blog),
    )
}

#[tokio::test]
async fn redirect_to_a_view() {
    let client = client();
    let res = client.get("/home").send().await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.header("location"), Some("/"));
    assert_eq!(client.get("/").send().await.text(), "/");
}

#[tokio::test]
async fn urls_follow_prefixes_and_are_percent_encoded() {
    let client = client();
    let urls: Vec<String> = client.get("/links").send().await.json();
    assert_eq!(
        urls,
        [
            "/blog/7/posts/hello%20world%2F2",
            "/static/css/site%20main.css",
            "/old-posts",
        ]
    );
    let res = client.get(&urls[0]).send().await;
    assert_eq!(
        res.text(),
        "post hello world/2",
        "the URL leads back to the view"
    );
}

#[tokio::test]
async fn asking_for_what_cannot_be_built_is_a_clear_500() {
    let client = client();
    let cases = [
        ("unrouted", "url_for: no route serves view `Unrouted`"),
        (
            "missing",
            "url_for: route `/blog/{user}/posts/{slug}` needs a value for parameter `slug`",
        ),
        ("extra", "url_for: route `/` has no parameter `page`"),
        ("name", "url_for: no route serves view `nobody`"),
    ];
    for (case, message) in cases {
        let res = client.get("/broken").query(&[("case", case)]).send().await;
        assert_eq!(res.status(), 500, "{case}");
        assert!(res.text().contains(message), "{case}: {}", res.text());
    }
}

#[tokio::test]
async fn redirect_local_refuses_other_sites() {
    let client = client();
    for next in ["/account", "/a/b?c=d#e", "/"] {
        let res = client.post("/login").query(&[("next", next)]).send().await;
        assert_eq!(res.status(), 303, "{next}");
        assert_eq!(res.header("location"), Some(next));
    }
    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "evil.example",
        "javascript:alert(1)",
        "/ok\r\nset-cookie: x=1",
        "",
    ] {
        let res = client.post("/login").query(&[("next", next)]).send().await;
        assert_eq!(res.status(), 400, "{next:?}");
        assert_eq!(res.header("location"), None, "{next:?}");
        assert!(res.text().contains("refusing to redirect"), "{next:?}");
    }
}
