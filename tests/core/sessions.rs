//! Sessions in signed cookies: round trips, tampering, expiry, the name and path
//! inside the signature, cookies from the earlier format, limits, flags, and a real
//! client's cookie jar over a socket.

use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use bocata::cookie::time::Duration;
use bocata::cookie::{Cookie, CookieJar, Key};
use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result, SessionConfig, abort};
use bocata_tests::{Fixture, Running, get, read, within};
use serde_json::{Value, json};

const KEY: [u8; 64] = [7; 64];
const HOUR: i64 = 3600;

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

/// A page for logged-in users only.
async fn private(req: &Request, res: &mut Res) -> Result {
    let Some(user) = req.session()?.get::<String>("user") else {
        return abort(401);
    };
    res.text(format!("welcome back, {user}"));
    Ok(())
}

/// Reads the session and sends it again, issued now.
async fn stay(req: &Request, res: &mut Res) -> Result {
    let session = req.session()?;
    session.renew();
    res.text(session.get::<String>("user").unwrap_or_default());
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
        .route("/private", bocata::get(private))
        .route("/stay", bocata::post(stay))
        .route("/logout", bocata::post(logout))
        .route("/hoard", bocata::post(hoard))
        .route("/untouched", bocata::get(untouched))
}

/// The wall clock in seconds since the Unix epoch, as the app reads it.
fn now() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970");
    i64::try_from(since.as_secs()).expect("before the year 292 billion")
}

/// `payload` signed with `key` the way the cookie crate's signed jar signs a value.
fn signed(key: &[u8], payload: &str) -> String {
    let mut jar = CookieJar::new();
    jar.signed_mut(&Key::from(key))
        .add(Cookie::new("any", payload.to_owned()));
    jar.get("any").expect("just added").value().to_owned()
}

/// A cookie value in the current format, crafted as bocata would sign it for the
/// default name and path, issued and expiring at the given times.
fn crafted(user: &str, issued: i64, expires: Option<i64>) -> String {
    crafted_for("bocata_session", "/", user, issued, expires)
}

/// [`crafted`] for the cookie `name` at `path`.
fn crafted_for(name: &str, path: &str, user: &str, issued: i64, expires: Option<i64>) -> String {
    let payload = json!([2, name, path, issued, expires, {"user": user}]);
    signed(&KEY, &payload.to_string())
}

/// What the signature of a session cookie value covers: the JSON after the 44
/// characters of the MAC.
fn payload(value: &str) -> Value {
    serde_json::from_str(&value[44..]).expect("a JSON payload after the MAC")
}

/// `GET /me` and `GET /private` from a fresh client sending `value` as `name`.
async fn me_and_private(app: App, name: &str, value: &str) -> (String, u16) {
    let client = TestClient::new(app);
    let me = client.get("/me").cookie(name, value).send().await;
    assert_eq!(me.status(), 200, "{value}");
    let private = client.get("/private").cookie(name, value).send().await;
    (me.text().to_owned(), private.status().as_u16())
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
    let before = now();
    let res = configured.post("/login").send().await;
    let after = now();
    let cookie = res.header("set-cookie").expect("a session cookie");
    assert!(cookie.starts_with("sid="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Max-Age=3600"),
        "{cookie}"
    );
    let signed = payload(&configured.cookie("sid").expect("in the jar"));
    let issued = signed[3].as_i64().expect("an issue time");
    assert!((before..=after).contains(&issued), "{signed}");
    assert_eq!(
        signed,
        json!([2, "sid", "/", issued, issued + HOUR, {"user": "ana"}]),
        "the name, the path, the issue time and the expiry are signed with the values"
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
    let issued = payload(&genuine)[3].as_i64().expect("an issue time");
    let backdated = genuine.replace(&issued.to_string(), &(issued + 1000).to_string());
    let unsigned = genuine[44..].to_owned();
    for value in [
        tampered,
        truncated,
        backdated,
        unsigned,
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
async fn an_expired_cookie_is_an_empty_session() {
    let hourly = || app(&KEY).session_config(SessionConfig::new().max_age(Duration::hours(1)));
    let t = now();
    let fresh = crafted("ana", t - HOUR / 2, Some(t + HOUR / 2));
    assert_eq!(
        me_and_private(hourly(), "bocata_session", &fresh).await,
        ("ana".to_owned(), 200),
        "the crafted cookie is one the app accepts while it lasts"
    );

    let expired = crafted("ana", t - 2 * HOUR, Some(t - HOUR));
    assert_eq!(
        me_and_private(hourly(), "bocata_session", &expired).await,
        ("anonymous".to_owned(), 401),
        "past its signed expiry, whatever the browser kept"
    );
    assert_eq!(
        me_and_private(app(&KEY), "bocata_session", &expired).await,
        ("anonymous".to_owned(), 401),
        "the signed expiry holds even in an app that no longer sets max_age"
    );

    let just_expired = crafted("ana", t - HOUR, Some(t));
    assert_eq!(
        me_and_private(hourly(), "bocata_session", &just_expired).await,
        ("anonymous".to_owned(), 401),
        "an expiry of now is past"
    );
}

#[tokio::test]
async fn a_cookie_older_than_max_age_is_refused_even_without_a_signed_expiry() {
    let t = now();
    let old = crafted("ana", t - 2 * HOUR, None);
    assert_eq!(
        me_and_private(app(&KEY), "bocata_session", &old).await,
        ("ana".to_owned(), 200),
        "without max_age a session has no expiry"
    );
    let hourly = app(&KEY).session_config(SessionConfig::new().max_age(Duration::hours(1)));
    assert_eq!(
        me_and_private(hourly, "bocata_session", &old).await,
        ("anonymous".to_owned(), 401),
        "a max_age added later counts from the issue time"
    );
}

#[tokio::test]
async fn a_cookie_signed_for_another_name_is_an_empty_session() {
    let app_a = || app(&KEY).session_config(SessionConfig::new().name("a_session"));
    let app_b = || app(&KEY).session_config(SessionConfig::new().name("b_session"));
    let client = TestClient::new(app_a());
    client.post("/login").send().await;
    let value = client.cookie("a_session").expect("app A's session");
    assert_eq!(
        me_and_private(app_a(), "a_session", &value).await,
        ("ana".to_owned(), 200)
    );
    assert_eq!(
        me_and_private(app_b(), "b_session", &value).await,
        ("anonymous".to_owned(), 401),
        "the same key, another cookie name"
    );
    assert_eq!(
        me_and_private(app(&KEY), "bocata_session", &value).await,
        ("anonymous".to_owned(), 401),
        "nor under the default name"
    );
}

#[tokio::test]
async fn a_cookie_signed_for_another_path_is_an_empty_session() {
    let at = |path: &str| app(&KEY).session_config(SessionConfig::new().path(path));
    let client = TestClient::new(at("/a"));
    let res = client.post("/login").send().await;
    let cookie = res.header("set-cookie").expect("a session cookie");
    assert!(cookie.contains("Path=/a"), "{cookie}");
    let value = client.cookie("bocata_session").expect("app A's session");
    assert_eq!(
        me_and_private(at("/a"), "bocata_session", &value).await,
        ("ana".to_owned(), 200)
    );
    for path in ["/b", "/", "/a/"] {
        assert_eq!(
            me_and_private(at(path), "bocata_session", &value).await,
            ("anonymous".to_owned(), 401),
            "signed for /a, presented to an app at {path}"
        );
    }
}

#[tokio::test]
async fn cookies_signed_before_the_format_had_a_version_give_an_empty_session() {
    // The earlier format: the values alone as JSON, signed by the cookie crate's signed
    // jar under the app's key.
    let old = signed(&KEY, r#"{"user":"ana"}"#);
    assert!(old.ends_with(r#"{"user":"ana"}"#), "{old}");
    assert_eq!(
        me_and_private(app(&KEY), "bocata_session", &old).await,
        ("anonymous".to_owned(), 401)
    );

    let client = TestClient::new(app(&KEY));
    let res = client
        .get("/visit")
        .cookie("bocata_session", &old)
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "1", "a fresh session replaces the old cookie");
    let current = client.cookie("bocata_session").expect("a new cookie");
    assert_eq!(payload(&current)[5], json!({"visits": 1}));
    assert_eq!(client.get("/visit").send().await.text(), "2");
}

#[tokio::test]
async fn reading_a_session_does_not_extend_it_and_renew_does() {
    let hourly = || app(&KEY).session_config(SessionConfig::new().max_age(Duration::hours(1)));
    let t = now();
    let old = crafted("ana", t - HOUR + 600, Some(t + 600));
    let client = TestClient::new(hourly());
    let res = client
        .get("/me")
        .cookie("bocata_session", &old)
        .send()
        .await;
    assert_eq!(res.text(), "ana");
    assert_eq!(res.header("set-cookie"), None, "a read sends no cookie");

    let res = client
        .post("/stay")
        .cookie("bocata_session", &old)
        .send()
        .await;
    assert_eq!(res.text(), "ana");
    let cookie = res.header("set-cookie").expect("renewed");
    assert!(cookie.contains("Max-Age=3600"), "{cookie}");
    let renewed = payload(&client.cookie("bocata_session").expect("in the jar"));
    let issued = renewed[3].as_i64().expect("an issue time");
    assert!(issued >= t, "issued anew: {renewed}");
    assert_eq!(
        renewed,
        json!([2, "bocata_session", "/", issued, issued + HOUR, {"user": "ana"}])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_renamed_and_old_cookies_over_a_socket() {
    let hourly = app(&KEY).session_config(SessionConfig::new().max_age(Duration::hours(1)));
    let server = Running::start(hourly).await;
    let t = now();
    let cases = [
        (
            "a current cookie",
            crafted("ana", t - 60, Some(t + HOUR - 60)),
            200,
        ),
        (
            "a cookie replayed after its expiry",
            crafted("ana", t - 2 * HOUR, Some(t - HOUR)),
            401,
        ),
        (
            "another app's cookie under this app's name",
            crafted_for("admin_session", "/", "ana", t - 60, Some(t + HOUR - 60)),
            401,
        ),
        (
            "a cookie signed for another path",
            crafted_for(
                "bocata_session",
                "/admin",
                "ana",
                t - 60,
                Some(t + HOUR - 60),
            ),
            401,
        ),
        (
            "a cookie in the earlier format",
            signed(&KEY, r#"{"user":"ana"}"#),
            401,
        ),
    ];
    let mut conn = server.http1().await;
    for (case, value, status) in cases {
        let cookie = Cookie::new("bocata_session", value).encoded().to_string();
        let mut request = get("/private");
        request.headers_mut().insert(
            "cookie",
            cookie.parse().expect("an encoded cookie is a header value"),
        );
        within("ready", conn.ready())
            .await
            .expect("connection usable");
        let response = within("response", conn.send_request(request))
            .await
            .expect("a response");
        let (parts, body) = read(response).await;
        assert_eq!(parts.status, status, "{case}: {body:?}");
    }
    server.shutdown().await.expect("clean shutdown");
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
fn configuring_sessions_without_a_key_fails_when_the_app_is_built() {
    // Whatever will serve it (bocata's server, the TestClient, axum through
    // `tower::Service`), the app is refused before it can answer anything.
    let panic = std::panic::catch_unwind(|| {
        App::new()
            .session_config(SessionConfig::new().secure(true))
            .route("/visit", bocata::get(visit))
    })
    .expect_err("refused");
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .expect("a message");
    assert!(
        message.contains("call App::secret_key before it"),
        "{message}"
    );
    // With the key first, the same configuration is fine.
    let _ = App::new()
        .secret_key(KEY)
        .session_config(SessionConfig::new().secure(true));
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
    if !bocata_tests::client("curl", bocata_tests::has_program("curl")) {
        return;
    }
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
                .expect("curl runs");
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
