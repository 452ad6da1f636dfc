//! The TestClient itself: query building, cookies kept across requests.

use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result};

async fn login(req: &Request, res: &mut Res) -> Result {
    let user = req.query("user").unwrap_or_default();
    res.cookie(("user", user)).text("logged in");
    Ok(())
}

async fn whoami(req: &Request, res: &mut Res) -> Result {
    let user = req.cookie("user").unwrap_or_else(|| "anonymous".into());
    let theme = req.cookie("theme").unwrap_or_else(|| "light".into());
    res.text(format!("{user} ({theme})"));
    Ok(())
}

async fn logout(_req: &Request, res: &mut Res) -> Result {
    res.remove_cookie("user").text("bye");
    Ok(())
}

#[tokio::test]
async fn cookies_persist_across_requests_of_one_client() {
    let client = TestClient::new(
        App::new()
            .route("/login", bocata::post(login))
            .route("/whoami", bocata::get(whoami))
            .route("/logout", bocata::post(logout)),
    );
    assert_eq!(
        client.get("/whoami").send().await.text(),
        "anonymous (light)"
    );
    client
        .post("/login")
        .query(&[("user", "ana maría")])
        .send()
        .await;
    assert_eq!(client.cookie("user").as_deref(), Some("ana maría"));
    assert_eq!(
        client.get("/whoami").send().await.text(),
        "ana maría (light)"
    );
    let res = client.get("/whoami").cookie("theme", "dark").send().await;
    assert_eq!(
        res.text(),
        "ana maría (dark)",
        "a per-request cookie joins the jar's"
    );
    assert_eq!(
        client.get("/whoami").send().await.text(),
        "ana maría (light)"
    );
    client.post("/logout").send().await;
    assert_eq!(client.cookie("user"), None);
    assert_eq!(
        client.get("/whoami").send().await.text(),
        "anonymous (light)"
    );

    let other = TestClient::new(App::new().route("/whoami", bocata::get(whoami)));
    assert_eq!(
        other.get("/whoami").send().await.text(),
        "anonymous (light)"
    );
}

async fn uri(req: &Request, res: &mut Res) -> Result {
    res.text(req.uri().to_string());
    Ok(())
}

#[tokio::test]
async fn query_builder_encodes_and_appends() {
    let client = TestClient::new(App::new().route("/uri", bocata::get(uri)));
    let res = client
        .get("/uri?x=1")
        .query(&[("y", "a b&c")])
        .query(&[("z", "3")])
        .send()
        .await;
    assert_eq!(res.text(), "/uri?x=1&y=a+b%26c&z=3");
    let res = client.get("/uri").query(&[("only", "1")]).send().await;
    assert_eq!(res.text(), "/uri?only=1");
}
