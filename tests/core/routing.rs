//! Routing: literals, parameters, catch-alls, 404, trailing slashes, conflicts.

use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result};

async fn user(req: &Request, res: &mut Res) -> Result {
    let id: u32 = req.param("id")?;
    res.text(format!("user {id}"));
    Ok(())
}

async fn post(req: &Request, res: &mut Res) -> Result {
    let user: String = req.param("user")?;
    let slug: String = req.param("slug")?;
    res.text(format!("{user}/{slug}"));
    Ok(())
}

async fn files(req: &Request, res: &mut Res) -> Result {
    let rest: String = req.param("rest")?;
    res.text(rest);
    Ok(())
}

async fn literal(_req: &Request, res: &mut Res) -> Result {
    res.text("me");
    Ok(())
}

async fn wrong_name(req: &Request, res: &mut Res) -> Result {
    let id: u32 = req.param("identifier")?;
    res.text(id.to_string());
    Ok(())
}

fn client() -> TestClient {
    TestClient::new(
        App::new()
            .route("/users/{id}", bocata::get(user))
            .route("/users/me", bocata::get(literal))
            .route("/people/{user}/posts/{slug}", bocata::get(post))
            .route("/files/{*rest}", bocata::get(files))
            .route("/broken/{id}", bocata::get(wrong_name))
            .route("/list/", bocata::get(literal)),
    )
}

#[tokio::test]
async fn literal_segments_win_over_parameters() {
    let client = client();
    assert_eq!(client.get("/users/7").send().await.text(), "user 7");
    assert_eq!(client.get("/users/me").send().await.text(), "me");
}

#[tokio::test]
async fn parameters_are_percent_decoded() {
    let client = client();
    let res = client.get("/people/ana%20b/posts/caf%C3%A9").send().await;
    assert_eq!(res.text(), "ana b/café");
    let res = client.get("/people/a%2Fb/posts/x").send().await;
    assert_eq!(
        res.text(),
        "a/b/x",
        "an encoded slash stays inside one segment"
    );
}

#[tokio::test]
async fn catch_all_takes_the_rest_of_the_path() {
    let client = client();
    let res = client.get("/files/css/site/main.css").send().await;
    assert_eq!(res.text(), "css/site/main.css");
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let client = client();
    for path in ["/", "/nope", "/users", "/users/7/extra", "/files"] {
        let res = client.get(path).send().await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(res.text(), "404 Not Found\n", "{path}");
    }
}

#[tokio::test]
async fn a_parameter_that_does_not_parse_is_a_400_naming_it() {
    let client = client();
    for (path, reason) in [
        ("/users/abc", "invalid digit"),
        ("/users/99999999999", "too large"),
        ("/users/-1", "invalid digit"),
        ("/users/%FF", "not valid UTF-8"),
    ] {
        let res = client.get(path).send().await;
        assert_eq!(res.status(), 400, "{path}");
        let text = res.text();
        assert!(text.contains("path parameter `id`"), "{path}: {text}");
        assert!(text.contains(reason), "{path}: {text}");
    }
}

#[tokio::test]
async fn asking_for_a_parameter_the_route_lacks_is_a_500() {
    let client = TestClient::new(
        App::new()
            .route("/broken/{id}", bocata::get(wrong_name))
            .debug(true),
    );
    let res = client.get("/broken/1").send().await;
    assert_eq!(res.status(), 500);
    assert!(
        res.text()
            .contains("route `/broken/{id}` has no parameter `identifier`"),
        "{}",
        res.text()
    );
}

#[tokio::test]
async fn the_other_trailing_slash_spelling_redirects_with_308() {
    let client = client();
    let res = client.get("/users/7/").send().await;
    assert_eq!(res.status(), 308);
    assert_eq!(res.header("location"), Some("/users/7"));
    let res = client.post("/list?page=2").send().await;
    assert_eq!(res.status(), 308, "kept for every method");
    assert_eq!(res.header("location"), Some("/list/?page=2"));
    assert_eq!(client.get("/list/").send().await.text(), "me");
    assert_eq!(client.get("/list").send().await.status(), 308);
}

#[tokio::test]
async fn never_redirects_to_another_host() {
    let client = TestClient::new(App::new().route("/{a}/{b}", bocata::get(literal)));
    let res = client.get("//evil.example/").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.header("location"), None);
}

#[test]
fn conflicting_routes_fail_when_the_app_is_built() {
    let app = App::new().route("/users/{id}", bocata::get(user));
    let err = app
        .clone()
        .try_route("/users/{name}", bocata::get(user))
        .expect_err("a conflict");
    assert_eq!(
        err.to_string(),
        "route `/users/{name}` conflicts with `/users/{id}`, which is already registered"
    );
    let err = app
        .try_route("/users/{id}", bocata::get(user))
        .expect_err("a duplicate");
    assert!(err.to_string().contains("conflicts"), "{err}");

    let panic = std::panic::catch_unwind(|| {
        App::new()
            .route("/a/{x}", bocata::get(user))
            .route("/a/{y}", bocata::get(user))
    })
    .expect_err("route() panics on a conflict");
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(
        message.starts_with("bocata: route `/a/{y}` conflicts"),
        "{message}"
    );
}

#[test]
fn malformed_routes_fail_when_the_app_is_built() {
    for (path, expected) in [
        ("users", "must start with `/`"),
        ("/files/{*rest}/more", "is invalid"),
        ("/a/{}", "is invalid"),
        ("/a/{unclosed", "is invalid"),
    ] {
        let err = App::new()
            .try_route(path, bocata::get(user))
            .err()
            .unwrap_or_else(|| panic!("{path} should be refused"));
        assert!(err.to_string().contains(expected), "{path}: {err}");
    }
}
