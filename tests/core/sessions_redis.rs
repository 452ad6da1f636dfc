//! Sessions kept in a real Redis (`App::session_store`): the cookie holds only a
//! signed id, two apps sharing the Redis (two processes behind a balancer) share the
//! sessions, and ending a session (log out, log out everywhere) holds for every
//! process at once, even against a replayed cookie. Redis gone is a 503, never a hang.

use std::time::Duration;

use bocata::session::RedisSessions;
use bocata::testing::{TestClient, TestResponse};
use bocata::{App, Request, Res, Result};
use bocata_tests::redis::Redis;
use bocata_tests::within;
use serde::Deserialize;

const KEY: &[u8] = &[9; 64];
const COOKIE: &str = "bocata_session";

#[derive(Deserialize)]
struct Login {
    name: String,
}

// ANCHOR: views
async fn login(req: &Request, res: &mut Res) -> Result {
    let Login { name } = req.json().await?;
    let session = req.session()?;
    session.insert("user", &name)?;
    // Whose session it is: "log out everywhere" finds it by its owner.
    session.set_owner(&name);
    res.text(format!("hello {name}"));
    Ok(())
}

async fn me(req: &Request, res: &mut Res) -> Result {
    let user: Option<String> = req.session()?.get("user");
    res.text(user.unwrap_or_else(|| "nobody".to_owned()));
    Ok(())
}

async fn logout(req: &Request, res: &mut Res) -> Result {
    req.session()?.clear();
    res.status(204);
    Ok(())
}

async fn logout_everywhere(req: &Request, res: &mut Res) -> Result {
    let ended = req.session()?.end_everywhere().await?;
    res.text(format!("{ended} sessions ended"));
    Ok(())
}
// ANCHOR_END: views

async fn cart(req: &Request, res: &mut Res) -> Result {
    req.session()?.insert("cart", &["tea"])?;
    res.status(204);
    Ok(())
}

async fn anonymous(_req: &Request, res: &mut Res) -> Result {
    res.text("no session needed");
    Ok(())
}

// ANCHOR: app
fn app(store: &RedisSessions) -> App {
    App::new()
        .secret_key(KEY)
        .session_store(store.clone())
        .route("/login", bocata::post(login))
        .route("/me", bocata::get(me))
        .route("/logout", bocata::post(logout))
        .route("/logout-everywhere", bocata::post(logout_everywhere))
        .route("/cart", bocata::post(cart))
        .route("/anonymous", bocata::get(anonymous))
}
// ANCHOR_END: app

fn store(redis: &Redis) -> RedisSessions {
    RedisSessions::new(&redis.url()).expect("a Redis URL")
}

async fn log_in(client: &TestClient, name: &str) {
    let res = client
        .post("/login")
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await;
    assert_eq!(res.status(), 200, "{}", res.text());
}

async fn who(client: &TestClient) -> String {
    let res = client.get("/me").send().await;
    assert_eq!(res.status(), 200, "{}", res.text());
    res.text().to_owned()
}

/// A client of `app` that sends `cookie` as the session cookie: another process, or
/// an attacker replaying a copy.
fn with_cookie(app: App, cookie: &str) -> TestClient {
    TestClient::new(app).with_cookie(COOKIE, cookie)
}

#[tokio::test]
async fn two_apps_share_sessions_and_a_logout_holds_for_both() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let (a, b) = (app(&store(&redis)), app(&store(&redis)));
    let on_a = TestClient::new(a.clone());
    log_in(&on_a, "ana").await;
    let cookie = on_a.cookie(COOKIE).expect("a session cookie");
    assert!(
        !cookie.contains("ana"),
        "the cookie holds an id, not the values: {cookie}"
    );

    // The other process reads the same session.
    assert_eq!(who(&with_cookie(b.clone(), &cookie)).await, "ana");

    // Logged out through A: the same cookie, replayed to B, opens nothing.
    assert_eq!(on_a.post("/logout").send().await.status(), 204);
    assert_eq!(who(&with_cookie(b, &cookie)).await, "nobody");
    assert_eq!(who(&on_a).await, "nobody");
}

#[tokio::test]
async fn log_out_everywhere_ends_every_session_of_the_owner() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let (a, b) = (app(&store(&redis)), app(&store(&redis)));
    let (phone, laptop, other) = (
        TestClient::new(a.clone()),
        TestClient::new(b.clone()),
        TestClient::new(b.clone()),
    );
    log_in(&phone, "ana").await;
    log_in(&laptop, "ana").await;
    log_in(&other, "luis").await;
    let laptop_cookie = laptop.cookie(COOKIE).expect("a cookie");

    let res = phone.post("/logout-everywhere").send().await;
    assert_eq!(res.text(), "2 sessions ended");
    assert_eq!(who(&phone).await, "nobody");
    assert_eq!(who(&laptop).await, "nobody");
    assert_eq!(who(&with_cookie(a, &laptop_cookie)).await, "nobody");
    // Someone else's session is untouched.
    assert_eq!(who(&other).await, "luis");
    // The store does the same for a view that is not the owner's (an admin's ban).
    log_in(&laptop, "ana").await;
    assert_eq!(
        store(&redis).end_sessions_of("ana").await.expect("ended"),
        1
    );
    assert_eq!(who(&laptop).await, "nobody");
}

#[tokio::test]
async fn a_login_gets_a_new_id_and_keeps_the_values() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let app = app(&store(&redis));
    let client = TestClient::new(app.clone());
    assert_eq!(client.post("/cart").send().await.status(), 204);
    let before = client.cookie(COOKIE).expect("an anonymous session");
    log_in(&client, "ana").await;
    let after = client.cookie(COOKIE).expect("the logged-in session");
    assert_ne!(before, after, "a login changes the id");
    // The id known before the login does not open the logged-in session.
    assert_eq!(who(&with_cookie(app, &before)).await, "nobody");
    assert_eq!(who(&client).await, "ana");
}

#[tokio::test]
async fn a_forged_cookie_opens_an_empty_session() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let app = app(&store(&redis));
    let client = TestClient::new(app.clone());
    log_in(&client, "ana").await;
    let cookie = client.cookie(COOKIE).expect("a cookie");
    // The id alone, without its signature, and a signature for another id.
    let (signature, id) = cookie.split_at(44);
    for forged in [
        id.to_owned(),
        format!("{signature}{}", "0".repeat(64)),
        "garbage".to_owned(),
    ] {
        assert_eq!(
            who(&with_cookie(app.clone(), &forged)).await,
            "nobody",
            "{forged}"
        );
    }
}

/// 503 with `Retry-After`, saying sessions are unavailable, and nothing of Redis's
/// own words.
fn assert_unavailable(res: &TestResponse) {
    assert_eq!(res.status(), 503, "{}", res.text());
    assert_eq!(res.header("retry-after"), Some("5"));
    assert!(
        res.text().contains("sessions are unavailable"),
        "{}",
        res.text()
    );
}

#[tokio::test]
async fn redis_gone_is_a_503_and_sessions_work_again_when_it_is_back() {
    let Some(mut redis) = Redis::start().await else {
        return;
    };
    let store = store(&redis).timeout(Duration::from_millis(500));
    let client = TestClient::new(app(&store));
    log_in(&client, "ana").await;

    redis.kill().await;
    for _ in 0..3 {
        assert_unavailable(&client.get("/me").send().await);
    }
    // A request without a session cookie needs no Redis.
    let fresh = TestClient::new(app(&store));
    assert_eq!(fresh.get("/anonymous").send().await.status(), 200);
    // A login cannot be kept: refused, not half done.
    assert_unavailable(
        &fresh
            .post("/login")
            .json(&serde_json::json!({ "name": "luis" }))
            .send()
            .await,
    );
    assert!(
        fresh.cookie(COOKIE).is_none(),
        "no cookie for a session that was not kept"
    );

    // Back (empty: this Redis keeps nothing on disk). The same app answers again.
    redis.start_again().await;
    within("the store to reconnect", async {
        while client.get("/me").send().await.status() != 200 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert_eq!(who(&client).await, "nobody");
    log_in(&client, "ana").await;
    assert_eq!(who(&client).await, "ana");
}

#[tokio::test]
async fn a_redis_that_never_answers_costs_a_timeout() {
    // Accepts connections, never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = silent.local_addr().expect("its address");
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let store = RedisSessions::new(&format!("redis://{addr}/"))
        .expect("a Redis URL")
        .timeout(Duration::from_millis(300));
    // A cookie signed with the app's key, so that the store asks Redis for its id.
    let mut jar = bocata::cookie::CookieJar::new();
    jar.signed_mut(&bocata::cookie::Key::from(KEY))
        .add(bocata::cookie::Cookie::new(COOKIE, "0".repeat(64)));
    let signed = jar.get(COOKIE).expect("just added").value().to_owned();
    let client = TestClient::new(app(&store)).with_cookie(COOKIE, &signed);
    let res = within(
        "the answer, after the store's timeout",
        client.get("/me").send(),
    )
    .await;
    assert_unavailable(&res);
    held.abort();
}

#[test]
fn a_url_that_is_not_redis_is_refused_when_the_app_is_built() {
    let err = RedisSessions::new("postgres://localhost/db").expect_err("not Redis");
    assert!(err.to_string().contains("not a Redis URL"), "{err}");
}
