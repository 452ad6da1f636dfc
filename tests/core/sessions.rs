//! Sessions in signed cookies: round trips, tampering, limits, flags, and a real
//! client's cookie jar over a socket.

use std::process::Command;

use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result, SessionConfig};
use bocata_tests::{Fixture, Running};

const KEY: [u8; 64] = [7; 64];

async fn visit(req: &Request, res: &mut Res) -> Result {
    let session = req.session()?;
    let visits: u32 = session.get("visits").unwrap_or(0) + 1;
    session.insert("visits", &visits)?;
    res.text(visits.to_string());
    Ok(())
}

async fn login(req: &Request, res: &mut Res) -> Result {
    let user = req.query("user").unwrap_or_else(|| "ana".into());
    req.session()?.insert("user", &user)?;
    res.text("logged in");
    Ok(())
}

async fn me(req: &Request, res: &mut Res) -> Result {
    let user: Option<String> = req.session()?.get("user");
    res.text(user.unwrap_or_else(|| "anonymous".into()));
    Ok(())
}

async fn logout(req: &Request, res: &mut Res) -> Result {
    req.session()?.clear();
    res.text("bye");
    Ok(())
}

async fn hoard(req: &Request, res: &mut Res) -> Result {
    req.session()?.insert("big", &"x".repeat(5000))?;
    res.text("hoarded");
    Ok(())
}

async fn untouched(_req: &Request, res: &mut Res) -> Result {
    res.text("no session");
    Ok(())
}

fn app(key: &[u8]) -> App {
    App::new()
        .secret_key(key)
        .debug(true)
        .route("/visit", bocata::get(visit))
        .route("/login", bocata::post(login))
        .route("/me", bocata::get(me))
        .route("/logout", bocata::post(logout))
        .route("/hoard", bocata::post(hoard))
        .route("/untouched", bocata::get(untouched))
}

#[tokio::test]
async fn a_session_follows_its_client() {
    let client = TestClient::new(app(&KEY));
    assert_eq!(client.get("/visit").send().await.text(), "1");
    assert_eq!(client.get("/visit").send().await.text(), "2");
    let other = TestClient::new(app(&KEY));
    assert_eq!(
        other.get("/visit").send().await.text(),
        "1",
        "each client its own"
    );
    assert_eq!(client.get("/visit").send().await.text(), "3");
}

#[tokio::test]
async fn the_cookie_is_signed_httponly_and_lax() {
    let client = TestClient::new(app(&KEY));
    let res = client.post("/login").send().await;
    let cookie = res.header("set-cookie").expect("a session cookie");
    assert!(cookie.starts_with("bocata_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    // Signed, not encrypted: a MAC precedes the readable JSON, so keep secrets out.
    assert!(cookie.contains("%7B%22user%22%3A%22ana%22%7D"), "{cookie}");
    assert!(
        !cookie.starts_with("bocata_session=%7B"),
        "a MAC comes first: {cookie}"
    );
    let res = client.get("/untouched").send().await;
    assert_eq!(
        res.header("set-cookie"),
        None,
        "an unchanged session is not resent"
    );

    let configured = TestClient::new(
        app(&KEY).session_config(
            SessionConfig::new()
                .name("sid")
                .secure(true)
                .max_age(bocata::cookie::time::Duration::hours(1)),
        ),
    );
    let res = configured.post("/login").send().await;
    let cookie = res.header("set-cookie").expect("a session cookie");
    assert!(cookie.starts_with("sid="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Max-Age=3600"),
        "{cookie}"
    );
}

#[tokio::test]
async fn tampered_truncated_and_foreign_cookies_give_an_empty_session() {
    let client = TestClient::new(app(&KEY));
    client.post("/login").send().await;
    let genuine = client.cookie("bocata_session").expect("a session");
    assert_eq!(client.get("/me").send().await.text(), "ana");

    let foreign = TestClient::new(app(&[9; 64]));
    foreign
        .post("/login")
        .query(&[("user", "mallory")])
        .send()
        .await;
    let forged = foreign.cookie("bocata_session").expect("a session");

    let tampered = genuine.replace("ana", "eve");
    let truncated = genuine[..genuine.len() - 5].to_owned();
    for value in [
        tampered,
        truncated,
        forged,
        "garbage".to_owned(),
        String::new(),
    ] {
        let fresh = TestClient::new(app(&KEY));
        let res = fresh
            .get("/me")
            .cookie("bocata_session", &value)
            .send()
            .await;
        assert_eq!(res.status(), 200, "{value}");
        assert_eq!(res.text(), "anonymous", "{value}");
    }
}

#[tokio::test]
async fn clearing_the_session_deletes_the_cookie() {
    let client = TestClient::new(app(&KEY));
    client.post("/login").send().await;
    let res = client.post("/logout").send().await;
    let cookie = res.header("set-cookie").expect("a removal");
    assert!(cookie.contains("Max-Age=0"), "{cookie}");
    assert_eq!(client.cookie("bocata_session"), None);
    assert_eq!(client.get("/me").send().await.text(), "anonymous");
}

#[tokio::test]
async fn a_session_too_large_for_a_cookie_is_a_500_not_a_lost_cookie() {
    let client = TestClient::new(app(&KEY));
    let res = client.post("/hoard").send().await;
    assert_eq!(res.status(), 500);
    assert!(
        res.text().contains("the session is too large for a cookie"),
        "{}",
        res.text()
    );
    assert_eq!(res.header("set-cookie"), None);
}

#[tokio::test]
async fn sessions_without_a_key_are_a_clear_500() {
    let client = TestClient::new(App::new().debug(true).route("/visit", bocata::get(visit)));
    let res = client.get("/visit").send().await;
    assert_eq!(res.status(), 500);
    assert!(
        res.text().contains("sessions need a secret key"),
        "{}",
        res.text()
    );
}

#[test]
fn configuring_sessions_without_a_key_fails_before_serving() {
    let app = App::new()
        .session_config(SessionConfig::new().secure(true))
        .route("/visit", bocata::get(visit));
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| TestClient::new(app)))
        .expect_err("refused");
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .expect("a message");
    assert!(message.contains("no secret key"), "{message}");
}

#[test]
fn a_short_key_fails_when_the_app_is_built() {
    let panic = std::panic::catch_unwind(|| App::new().secret_key(b"too short"))
        .expect_err("a short key is refused");
    let message = panic.downcast_ref::<String>().expect("a message");
    assert_eq!(
        message,
        "bocata: the secret key must be at least 64 bytes long, not 9"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_cookie_jar_over_a_socket() {
    let server = Running::start(app(&KEY)).await;
    let fixture = Fixture::new("sessions");
    let jar = fixture.path("cookies.txt");
    let base = format!("http://{}", server.addr);
    let out = tokio::task::spawn_blocking(move || {
        let curl = |args: &[&str]| {
            let output = Command::new("curl")
                .args([
                    "--silent",
                    "--show-error",
                    "--max-time",
                    "30",
                    "--cookie-jar",
                ])
                .arg(&jar)
                .arg("--cookie")
                .arg(&jar)
                .args(args)
                .output()
                .expect("curl is installed (.ci/run installs it)");
            assert!(output.status.success(), "curl {args:?}");
            String::from_utf8_lossy(&output.stdout).into_owned()
        };
        let steps = [
            curl(&[&format!("{base}/me")]),
            curl(&["-X", "POST", &format!("{base}/login?user=luis")]),
            curl(&[&format!("{base}/me")]),
            curl(&["-X", "POST", &format!("{base}/logout")]),
            curl(&[&format!("{base}/me")]),
        ];
        drop(fixture);
        steps
    })
    .await
    .expect("the curl steps");
    assert_eq!(out, ["anonymous", "logged in", "luis", "bye", "anonymous"]);
    server.shutdown().await.expect("clean shutdown");
}
