//! Responses as a client sees them: chaining, cookies, redirects, and invalid setters.

use bocata::testing::TestClient;
use bocata::{App, Cookie, Request, Res, Result};

async fn chained(_req: &Request, res: &mut Res) -> Result {
    res.status(201)
        .header("x-served-by", "bocata")
        .cookie(("theme", "dark"))
        .json(&serde_json::json!({ "created": true }))
        .append_header("vary", "accept")
        .append_header("vary", "cookie");
    Ok(())
}

async fn built(_req: &Request, res: &mut Res) -> Result {
    res.json_mut()["hello"] = "world".into();
    res.json_mut()["n"] = 2.into();
    Ok(())
}

async fn bad_header(req: &Request, res: &mut Res) -> Result {
    let value = req.query("v").unwrap_or_default();
    res.header("x-echo", value.as_str()).text("never sent");
    Ok(())
}

async fn no_content(_req: &Request, res: &mut Res) -> Result {
    res.text("dropped").status(204);
    Ok(())
}

async fn logout(_req: &Request, res: &mut Res) -> Result {
    res.remove_cookie("theme")
        .remove_cookie(Cookie::build("admin").path("/admin"))
        .redirect("/")
        .status(303);
    Ok(())
}

async fn download(_req: &Request, res: &mut Res) -> Result {
    res.content("1,2\n")
        .content_type("text/csv")
        .attachment("résumé \"final\".csv");
    Ok(())
}

fn client() -> TestClient {
    TestClient::new(
        App::new()
            .route("/chained", bocata::post(chained))
            .route("/built", bocata::get(built))
            .route("/bad-header", bocata::get(bad_header))
            .route("/no-content", bocata::get(no_content))
            .route("/logout", bocata::post(logout))
            .route("/download", bocata::get(download)),
    )
}

#[tokio::test]
async fn chained_setters_all_reach_the_response() {
    let res = client().post("/chained").send().await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.header("x-served-by"), Some("bocata"));
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.header("content-length"), Some("16"));
    assert_eq!(res.text(), r#"{"created":true}"#);
    let vary: Vec<_> = res.headers().get_all("vary").iter().collect();
    assert_eq!(vary, ["accept", "cookie"]);
    assert_eq!(
        res.header("set-cookie"),
        Some("theme=dark; HttpOnly; SameSite=Lax; Path=/")
    );
}

#[tokio::test]
async fn json_built_field_by_field() {
    let res = client().get("/built").send().await;
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(
        res.json::<serde_json::Value>(),
        serde_json::json!({"hello": "world", "n": 2})
    );
}

#[tokio::test]
async fn an_invalid_header_value_is_a_500_and_never_reaches_the_client() {
    let client = client();
    let res = client
        .get("/bad-header")
        .query(&[("v", "a\r\nset-cookie: stolen=1")])
        .send()
        .await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.header("x-echo"), None);
    assert_eq!(res.header("set-cookie"), None);
    assert!(!res.text().contains("never sent"));
    let fine = client.get("/bad-header").query(&[("v", "ok")]).send().await;
    assert_eq!(fine.status(), 200, "the app keeps serving");
    assert_eq!(fine.header("x-echo"), Some("ok"));
}

#[tokio::test]
async fn no_content_has_no_body_and_no_content_type() {
    let res = client().get("/no-content").send().await;
    assert_eq!(res.status(), 204);
    assert!(res.bytes().is_empty());
    assert_eq!(res.header("content-type"), None);
    assert_eq!(res.header("content-length"), None);
}

#[tokio::test]
async fn removing_cookies_and_redirecting_after_a_post() {
    let res = client().post("/logout").send().await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.header("location"), Some("/"));
    let cookies: Vec<_> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ASCII cookies"))
        .collect();
    assert_eq!(cookies.len(), 2);
    assert!(cookies[0].starts_with("theme=; ") && cookies[0].contains("Max-Age=0"));
    assert!(cookies[1].starts_with("admin=; ") && cookies[1].contains("Path=/admin"));
}

#[tokio::test]
async fn attachments_with_any_name() {
    let res = client().get("/download").send().await;
    assert_eq!(res.header("content-type"), Some("text/csv"));
    assert_eq!(
        res.header("content-disposition"),
        Some(
            "attachment; filename=\"r_sum_ _final_.csv\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.csv"
        )
    );
    assert_eq!(res.text(), "1,2\n");
}
