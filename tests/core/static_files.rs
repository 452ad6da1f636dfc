//! Static folders: index files, options, precompressed siblings, and every way of
//! trying to leave the folder.

use bocata::testing::TestClient;
use bocata::{App, StaticFiles};
use bocata_tests::Fixture;

/// A site folder next to a secret that must stay out of reach.
fn site() -> Fixture {
    let fixture = Fixture::new("static");
    fixture.file("secret.txt", "top secret");
    fixture.file("site/index.html", "<h1>home</h1>");
    fixture.file("site/hello world.txt", "hello");
    fixture.file("site/café.txt", "coffee");
    fixture.file("site/docs/index.html", "<h1>docs</h1>");
    fixture.file("site/docs/guide.css", "h1 {}");
    fixture.file("site/empty/.keep", "");
    fixture.file("site/.env", "PASSWORD=1");
    fixture.file("site/.well-known/security.txt", "Contact: x");
    fixture.file("site/app.js", "console.log('plain')");
    fixture.file("site/app.js.gz", "gzip bytes");
    fixture.file("site/app.js.br", "brotli bytes");
    fixture.file("site/only-gz.css", "plain css");
    fixture.file("site/only-gz.css.gz", "gzip css");
    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        symlink(fixture.path("secret.txt"), fixture.path("site/escape.txt")).expect("symlink");
        symlink(fixture.dir.clone(), fixture.path("site/up")).expect("symlink");
        symlink(
            fixture.path("site/hello world.txt"),
            fixture.path("site/alias.txt"),
        )
        .expect("symlink");
    }
    fixture
}

fn serve(files: StaticFiles) -> TestClient {
    TestClient::new(App::new().static_files("/static", files))
}

#[tokio::test]
async fn files_are_served_inline_with_their_type() {
    let fixture = site();
    let client = serve(StaticFiles::new(fixture.path("site")));
    let res = client.get("/static/docs/guide.css").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "h1 {}");
    assert_eq!(res.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(res.header("content-disposition"), None);
    assert!(res.header("etag").is_some());
    assert_eq!(res.header("accept-ranges"), Some("bytes"));
    assert_eq!(res.header("cache-control"), None);
    assert_eq!(res.header("vary"), None);

    assert_eq!(
        client.get("/static/hello%20world.txt").send().await.text(),
        "hello"
    );
    assert_eq!(
        client.get("/static/caf%C3%A9.txt").send().await.text(),
        "coffee"
    );
    let res = client
        .get("/static/hello%20world.txt")
        .header("range", "bytes=1-2")
        .send()
        .await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.text(), "el");
}

#[tokio::test]
async fn directories_serve_their_index_after_a_slash() {
    let fixture = site();
    let client = serve(StaticFiles::new(fixture.path("site")));
    let res = client.get("/static/").send().await;
    assert_eq!(res.text(), "<h1>home</h1>");
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    let res = client.get("/static").send().await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.header("location"), Some("/static/"));
    let res = client.get("/static/docs?v=1").send().await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.header("location"), Some("/static/docs/?v=1"));
    assert_eq!(
        client.get("/static/docs/").send().await.text(),
        "<h1>docs</h1>"
    );
    assert_eq!(
        client.get("/static/empty/").send().await.status(),
        404,
        "no index file"
    );

    let no_index = serve(StaticFiles::new(fixture.path("site")).no_index());
    assert_eq!(no_index.get("/static/").send().await.status(), 404);
    assert_eq!(no_index.get("/static/docs/").send().await.status(), 404);
}

#[tokio::test]
async fn a_trailing_slash_names_a_folder_never_a_file() {
    let fixture = site();
    let cases: &[(&str, u16, &str)] = &[
        ("/static/docs/guide.css", 200, "h1 {}"),
        ("/static/docs/guide.css/", 404, ""),
        ("/static/hello%20world.txt/", 404, ""),
        ("/static/index.html/", 404, ""),
        ("/static/docs/index.html/", 404, ""),
        ("/static/app.js/", 404, ""),
        ("/static/docs/guide.css//", 404, ""),
        ("/static/docs/", 200, "<h1>docs</h1>"),
        ("/static/docs", 308, ""),
        ("/static/", 200, "<h1>home</h1>"),
        ("/static/empty/", 404, ""),
        #[cfg(unix)]
        ("/static/alias.txt/", 404, ""),
    ];
    for files in [
        StaticFiles::new(fixture.path("site")),
        StaticFiles::new(fixture.path("site")).precompressed(true),
    ] {
        let client = serve(files);
        for (path, status, body) in cases {
            let res = client.get(path).send().await;
            assert_eq!(res.status(), *status, "{path}");
            if *status == 200 {
                assert_eq!(res.text(), *body, "{path}");
            } else {
                assert!(!res.text().contains("h1 {}"), "{path}");
            }
        }
    }
    let at_root = TestClient::new(App::new().static_files("/", fixture.path("site")));
    assert_eq!(at_root.get("/docs/guide.css/").send().await.status(), 404);
    assert_eq!(at_root.get("/docs/guide.css").send().await.status(), 200);
}

#[tokio::test]
async fn the_folder_cannot_be_escaped() {
    let fixture = site();
    let client = serve(StaticFiles::new(fixture.path("site")));
    let attempts = [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%2Fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/..%5Csecret.txt",
        "/static/docs/..%2f..%2fsecret.txt",
        "/static/docs/%2e%2e/%2e%2e/secret.txt",
        "/static/.%2e/secret.txt",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/index.html%00.txt",
        "/static/index.html%00",
        "/static/docs\\..\\..\\secret.txt",
        "/static/./index.html",
        "/static/docs//guide.css",
        "/static/%ff.txt",
        "/static/.env",
        "/static/%2eenv",
        "/static/escape.txt",
        "/static/up/secret.txt",
        "/static/missing.txt",
    ];
    for path in attempts {
        let res = client.get(path).send().await;
        assert_eq!(res.status(), 404, "{path}");
        assert!(!res.text().contains("secret"), "{path}");
        assert!(!res.text().contains("PASSWORD"), "{path}");
    }
    #[cfg(unix)]
    assert_eq!(
        client.get("/static/alias.txt").send().await.text(),
        "hello",
        "a link that stays inside is fine"
    );
}

#[tokio::test]
async fn hidden_files_on_request() {
    let fixture = site();
    let client = serve(StaticFiles::new(fixture.path("site")).hidden_files(true));
    let res = client.get("/static/.well-known/security.txt").send().await;
    assert_eq!(res.text(), "Contact: x");
    assert_eq!(
        client.get("/static/../secret.txt").send().await.status(),
        404
    );
}

#[tokio::test]
async fn cache_control_on_every_file() {
    let fixture = site();
    let client = serve(StaticFiles::new(fixture.path("site")).cache_control("public, max-age=60"));
    let res = client.get("/static/app.js").send().await;
    assert_eq!(res.header("cache-control"), Some("public, max-age=60"));
}

#[tokio::test]
async fn precompressed_siblings_when_the_client_accepts_them() {
    let fixture = site();
    let client = serve(StaticFiles::new(fixture.path("site")).precompressed(true));
    let cases = [
        ("/static/app.js", "br, gzip", "brotli bytes", Some("br")),
        ("/static/app.js", "gzip", "gzip bytes", Some("gzip")),
        ("/static/app.js", "br;q=0, gzip", "gzip bytes", Some("gzip")),
        ("/static/app.js", "identity", "console.log('plain')", None),
        ("/static/app.js", "", "console.log('plain')", None),
        ("/static/only-gz.css", "br, gzip", "gzip css", Some("gzip")),
        ("/static/only-gz.css", "br", "plain css", None),
    ];
    for (path, accept, body, encoding) in cases {
        let mut request = client.get(path);
        if !accept.is_empty() {
            request = request.header("accept-encoding", accept);
        }
        let res = request.send().await;
        assert_eq!(res.status(), 200, "{path} {accept}");
        assert_eq!(res.text(), body, "{path} {accept}");
        assert_eq!(res.header("content-encoding"), encoding, "{path} {accept}");
        assert_eq!(
            res.header("vary"),
            Some("accept-encoding"),
            "{path} {accept}"
        );
        let expected_type = if path.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(
            res.header("content-type"),
            Some(expected_type),
            "{path} {accept}"
        );
    }
    let plain = client.get("/static/app.js").send().await;
    let gzip = client
        .get("/static/app.js")
        .header("accept-encoding", "gzip")
        .send()
        .await;
    assert_ne!(
        plain.header("etag"),
        gzip.header("etag"),
        "each variant has its own tag"
    );
}

#[tokio::test]
async fn a_missing_folder_is_404_not_500() {
    let fixture = site();
    let client = serve(StaticFiles::new(fixture.path("no-such-folder")));
    assert_eq!(client.get("/static/index.html").send().await.status(), 404);
    assert_eq!(client.get("/static/").send().await.status(), 404);
}

#[tokio::test]
async fn mounted_at_the_root() {
    let fixture = site();
    let client = TestClient::new(App::new().static_files("/", fixture.path("site")));
    assert_eq!(client.get("/").send().await.text(), "<h1>home</h1>");
    assert_eq!(client.get("/docs/guide.css").send().await.text(), "h1 {}");
    assert_eq!(client.get("/../secret.txt").send().await.status(), 404);
}
