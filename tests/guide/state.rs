//! Chapter "State and sessions": app state shared by every request, and sessions kept in
//! a signed cookie.

// ANCHOR: imports
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bocata::cookie::time::Duration;
use bocata::{App, Request, Res, Result, SessionConfig, abort};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;
// ANCHOR_END: imports

use bocata::cookie::Key;
use bocata::testing::TestClient;

// ANCHOR: state
/// Settings, read once at startup.
#[derive(Debug)]
struct Settings {
    site_name: String,
}

/// Page views since the app started: every request may change it.
#[derive(Debug, Default)]
struct Hits(AtomicU64);

/// Notes kept in memory, behind a lock that may be held across an `.await`.
#[derive(Debug, Default)]
struct Notes(RwLock<Vec<String>>);

/// `GET /`
async fn home(req: &Request, res: &mut Res) -> Result {
    let settings = req.state::<Settings>()?;
    let hits = req.state::<Hits>()?.0.fetch_add(1, Ordering::Relaxed) + 1;
    res.text(format!("{}: visit number {hits}", settings.site_name));
    Ok(())
}

/// `POST /notes`: adds the body as a note.
async fn add_note(req: &Request, res: &mut Res) -> Result {
    let text = req.text().await?.to_owned();
    let mut notes = req.state::<Notes>()?.0.write().await;
    notes.push(text);
    res.status(201).json(&*notes);
    Ok(())
}

/// `GET /notes`: every note so far.
async fn list_notes(req: &Request, res: &mut Res) -> Result {
    let notes = req.state::<Notes>()?.0.read().await;
    res.json(&*notes);
    Ok(())
}

/// The app and its state: one value per type.
fn app() -> App {
    App::new()
        .state(Settings {
            site_name: "bocata".to_owned(),
        })
        .state(Hits::default())
        .state(Notes::default())
        .route("/", bocata::get(home))
        .route("/notes", bocata::get(list_notes).post(add_note))
}
// ANCHOR_END: state

// ANCHOR: login
/// `POST /login` with the user's name as the body.
async fn login(req: &Request, res: &mut Res) -> Result {
    let name = req.text().await?.trim().to_owned();
    // ... check a password here ...
    req.session()?.insert("user", &name)?;
    res.text(format!("logged in as {name}"));
    Ok(())
}

/// `GET /me`
async fn me(req: &Request, res: &mut Res) -> Result {
    match req.session()?.get::<String>("user") {
        Some(name) => res.text(format!("you are {name}")),
        None => return abort(401),
    };
    Ok(())
}

/// `POST /logout`: an empty session deletes the cookie.
async fn logout(req: &Request, res: &mut Res) -> Result {
    req.session()?.clear();
    res.text("bye");
    Ok(())
}
// ANCHOR_END: login

// ANCHOR: cart
/// Anything serde can write goes in a session, not only strings.
#[derive(Debug, Default, Deserialize, Serialize)]
struct Cart {
    items: Vec<String>,
}

/// `POST /cart?item=…`
async fn add_to_cart(req: &Request, res: &mut Res) -> Result {
    let Some(item) = req.query("item") else {
        return abort(400);
    };
    let session = req.session()?;
    let mut cart: Cart = session.get("cart").unwrap_or_default();
    cart.items.push(item);
    session.insert("cart", &cart)?;
    res.json(&cart.items);
    Ok(())
}
// ANCHOR_END: cart

// ANCHOR: sessions_app
/// The session views. `secret_key` comes from the deployment, never from the source.
fn sessions_app(secret_key: &[u8]) -> App {
    App::new()
        .secret_key(secret_key)
        .route("/login", bocata::post(login))
        .route("/me", bocata::get(me))
        .route("/logout", bocata::post(logout))
        .route("/cart", bocata::post(add_to_cart))
}
// ANCHOR_END: sessions_app

// ANCHOR: config
/// The same app with the cookie set for production: HTTPS only, kept for a week.
fn production_app(secret_key: &[u8]) -> App {
    sessions_app(secret_key).session_config(
        SessionConfig::new()
            .name("sid")
            .secure(true)
            .max_age(Duration::days(7)),
    )
}
// ANCHOR_END: config

// ANCHOR: sliding
/// Before every view: a logged-in user's cookie is sent again, issued now, so the
/// session lasts `max_age` from their last visit rather than from their login.
async fn keep_logged_in(req: &mut Request, _res: &mut Res) -> Result {
    let session = req.session()?;
    if session.contains("user") {
        session.renew();
    }
    Ok(())
}

/// The production app, with a sliding expiry.
fn sliding_app(secret_key: &[u8]) -> App {
    production_app(secret_key).before(keep_logged_in)
}
// ANCHOR_END: sliding

// ANCHOR: revocation
/// Each user's session version, as a column of the users table would keep it: sessions
/// signed with an older version are no longer accepted.
#[derive(Debug, Default)]
struct SessionVersions(Mutex<HashMap<String, u64>>);

impl SessionVersions {
    fn current(&self, user: &str) -> u64 {
        let versions = self.0.lock().unwrap_or_else(|e| e.into_inner());
        versions.get(user).copied().unwrap_or(0)
    }

    fn bump(&self, user: &str) {
        let mut versions = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *versions.entry(user.to_owned()).or_default() += 1;
    }
}

/// The logged-in user, if their session carries their current version.
fn current_user(req: &Request) -> Result<Option<String>> {
    let session = req.session()?;
    let (Some(user), Some(version)) =
        (session.get::<String>("user"), session.get::<u64>("version"))
    else {
        return Ok(None);
    };
    let current = req.state::<SessionVersions>()?.current(&user);
    Ok((version == current).then_some(user))
}

/// `POST /login` with the user's name as the body: the session records the version.
async fn versioned_login(req: &Request, res: &mut Res) -> Result {
    let name = req.text().await?.trim().to_owned();
    // ... check a password here ...
    let version = req.state::<SessionVersions>()?.current(&name);
    let session = req.session()?;
    session.insert("user", &name)?;
    session.insert("version", &version)?;
    res.text(format!("logged in as {name}"));
    Ok(())
}

/// `GET /me`
async fn versioned_me(req: &Request, res: &mut Res) -> Result {
    match current_user(req)? {
        Some(name) => res.text(format!("you are {name}")),
        None => return abort(401),
    };
    Ok(())
}

/// `POST /logout-everywhere`: every copy of every session of this user stops working.
async fn logout_everywhere(req: &Request, res: &mut Res) -> Result {
    if let Some(user) = current_user(req)? {
        req.state::<SessionVersions>()?.bump(&user);
    }
    req.session()?.clear();
    res.text("logged out everywhere");
    Ok(())
}

/// Sessions that can be revoked.
fn revocable_app(secret_key: &[u8]) -> App {
    App::new()
        .secret_key(secret_key)
        .state(SessionVersions::default())
        .route("/login", bocata::post(versioned_login))
        .route("/me", bocata::get(versioned_me))
        .route("/logout-everywhere", bocata::post(logout_everywhere))
}
// ANCHOR_END: revocation

/// A fresh 64-byte key, as a test would make one.
fn test_key() -> Vec<u8> {
    Key::generate().master().to_vec()
}

#[tokio::test]
async fn state_is_shared_by_every_request() {
    let client = TestClient::new(app());
    assert_eq!(
        client.get("/").send().await.text(),
        "bocata: visit number 1"
    );
    assert_eq!(
        client.get("/").send().await.text(),
        "bocata: visit number 2"
    );

    let res = client.post("/notes").body("buy bread").send().await;
    assert_eq!(res.status(), 201);
    client.post("/notes").body("call ana").send().await;
    let notes: Vec<String> = client.get("/notes").send().await.json();
    assert_eq!(notes, ["buy bread", "call ana"]);
}

/// Asks for state nobody added.
async fn forgotten(req: &Request, res: &mut Res) -> Result {
    let limit = req.state::<u32>()?;
    res.text(limit.to_string());
    Ok(())
}

#[tokio::test]
async fn missing_state_is_a_500_naming_the_type() {
    let client = TestClient::new(
        app()
            .route("/forgotten", bocata::get(forgotten))
            .debug(true),
    );
    let res = client.get("/forgotten").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.text(),
        "500 Internal Server Error: no state of type `u32` was added to the app (App::state)\n"
    );
}

#[tokio::test]
async fn a_session_follows_its_client() {
    let client = TestClient::new(sessions_app(&test_key()));
    assert_eq!(client.get("/me").send().await.status(), 401);
    let res = client.post("/login").body("ana").send().await;
    assert_eq!(res.text(), "logged in as ana");
    assert_eq!(client.get("/me").send().await.text(), "you are ana");

    client
        .post("/cart")
        .query(&[("item", "bread")])
        .send()
        .await;
    let res = client.post("/cart").query(&[("item", "milk")]).send().await;
    assert_eq!(res.json::<Vec<String>>(), ["bread", "milk"]);
    assert_eq!(
        client.get("/me").send().await.text(),
        "you are ana",
        "one session, several keys"
    );

    let res = client.post("/logout").send().await;
    let cookie = res.header("set-cookie").expect("a removal");
    assert!(cookie.contains("Max-Age=0"), "{cookie}");
    assert_eq!(client.cookie("bocata_session"), None);
    assert_eq!(client.get("/me").send().await.status(), 401);
}

#[tokio::test]
async fn the_cookie_is_signed_not_encrypted() {
    let key = test_key();
    let client = TestClient::new(sessions_app(&key));
    let res = client.post("/login").body("ana").send().await;
    let set_cookie = res.header("set-cookie").expect("a session cookie");
    assert!(set_cookie.starts_with("bocata_session="), "{set_cookie}");
    assert!(
        set_cookie.ends_with("; HttpOnly; SameSite=Lax; Path=/"),
        "{set_cookie}"
    );
    let value = client.cookie("bocata_session").expect("in the jar");
    assert!(
        value.ends_with(r#",null,{"user":"ana"}]"#),
        "anyone holding the cookie can read it: {value}"
    );
    assert!(
        value[44..].starts_with(r#"[2,"bocata_session","/","#),
        "the name and path are signed with the values: {value}"
    );

    let res = client.get("/me").send().await;
    assert_eq!(
        res.header("set-cookie"),
        None,
        "an unchanged session is not resent"
    );

    let forged = value.replace("ana", "eve");
    let res = TestClient::new(sessions_app(&key))
        .get("/me")
        .cookie("bocata_session", &forged)
        .send()
        .await;
    assert_eq!(res.status(), 401, "a changed cookie is an empty session");

    let res = TestClient::new(sessions_app(&test_key()))
        .get("/me")
        .cookie("bocata_session", &value)
        .send()
        .await;
    assert_eq!(res.status(), 401, "another key, another app");
}

#[tokio::test]
async fn a_copied_cookie_outlives_logout() {
    let key = test_key();
    let client = TestClient::new(sessions_app(&key));
    client.post("/login").body("ana").send().await;
    let copy = client.cookie("bocata_session").expect("a session");
    client.post("/logout").send().await;

    let res = TestClient::new(sessions_app(&key))
        .get("/me")
        .cookie("bocata_session", &copy)
        .send()
        .await;
    assert_eq!(res.text(), "you are ana", "still signed with the app's key");
}

#[tokio::test]
async fn with_max_age_a_copy_works_until_its_signed_expiry() {
    let key = test_key();
    let client = TestClient::new(production_app(&key));
    client.post("/login").body("ana").send().await;
    let copy = client.cookie("sid").expect("a session");
    client.post("/logout").send().await;

    let res = TestClient::new(production_app(&key))
        .get("/me")
        .cookie("sid", &copy)
        .send()
        .await;
    assert_eq!(res.text(), "you are ana", "not revoked by logging out");
    let signed: serde_json::Value = serde_json::from_str(&copy[44..]).expect("JSON");
    let issued = signed[3].as_i64().expect("an issue time");
    assert_eq!(
        signed,
        serde_json::json!([2, "sid", "/", issued, issued + 7 * 24 * 3600, {"user": "ana"}]),
        "refused from a week after it was issued"
    );

    let res = TestClient::new(sessions_app(&key))
        .get("/me")
        .cookie("bocata_session", &copy)
        .send()
        .await;
    assert_eq!(res.status(), 401, "signed for the cookie `sid` only");
}

#[tokio::test]
async fn a_sliding_session_is_sent_again_on_every_visit() {
    let client = TestClient::new(sliding_app(&test_key()));
    let res = client.get("/me").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.header("set-cookie"), None, "no user, no cookie");
    client.post("/login").body("ana").send().await;
    let res = client.get("/me").send().await;
    assert_eq!(res.text(), "you are ana");
    let cookie = res.header("set-cookie").expect("renewed on a read");
    assert!(
        cookie.starts_with("sid=") && cookie.ends_with("; Max-Age=604800"),
        "{cookie}"
    );

    let plain = TestClient::new(production_app(&test_key()));
    plain.post("/login").body("ana").send().await;
    let res = plain.get("/me").send().await;
    assert_eq!(
        res.header("set-cookie"),
        None,
        "without the hook, a read sends nothing"
    );
}

#[tokio::test]
async fn a_version_in_the_user_record_revokes_every_copy() {
    let key = test_key();
    let client = TestClient::new(revocable_app(&key));
    client.post("/login").body("ana").send().await;
    let copy = client.cookie("bocata_session").expect("a session");
    assert_eq!(client.get("/me").send().await.text(), "you are ana");

    let res = client.post("/logout-everywhere").send().await;
    assert_eq!(res.text(), "logged out everywhere");
    let res = client
        .get("/me")
        .cookie("bocata_session", &copy)
        .send()
        .await;
    assert_eq!(res.status(), 401, "the copy carries an old version");

    client.post("/login").body("ana").send().await;
    assert_eq!(
        client.get("/me").send().await.text(),
        "you are ana",
        "a new login carries the new version"
    );
    let res = client
        .get("/me")
        .cookie("bocata_session", &copy)
        .send()
        .await;
    assert_eq!(res.status(), 401, "and the copy stays refused");
}

#[tokio::test]
async fn session_config_sets_the_cookie() {
    let client = TestClient::new(production_app(&test_key()));
    let res = client.post("/login").body("ana").send().await;
    let cookie = res.header("set-cookie").expect("a session cookie");
    assert!(cookie.starts_with("sid="), "{cookie}");
    assert!(
        cookie.ends_with("; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=604800"),
        "{cookie}"
    );
}

/// `GET /user-id`: asks for the `user` value as a number, which it is not.
async fn user_id(req: &Request, res: &mut Res) -> Result {
    let id: Option<u32> = req.session()?.get("user");
    let present = req.session()?.contains("user");
    res.text(format!("{id:?} {present}"));
    Ok(())
}

#[tokio::test]
async fn get_is_none_for_a_value_of_another_type() {
    let client = TestClient::new(sessions_app(&test_key()).route("/user-id", bocata::get(user_id)));
    assert_eq!(client.get("/user-id").send().await.text(), "None false");
    client.post("/login").body("ana").send().await;
    assert_eq!(client.get("/user-id").send().await.text(), "None true");
}

/// Writes to the session, then fails.
async fn half_login(req: &Request, _res: &mut Res) -> Result {
    req.session()?.insert("user", &"mallory")?;
    abort(500)
}

/// Stores more than a cookie can hold.
async fn hoard(req: &Request, res: &mut Res) -> Result {
    req.session()?.insert("notes", &"x".repeat(5000))?;
    res.text("stored");
    Ok(())
}

#[tokio::test]
async fn what_is_not_saved() {
    let client = TestClient::new(
        sessions_app(&test_key())
            .route("/half-login", bocata::post(half_login))
            .route("/hoard", bocata::post(hoard))
            .debug(true),
    );
    let res = client.post("/half-login").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.header("set-cookie"),
        None,
        "a failing view's changes are lost"
    );

    let res = client.post("/hoard").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.header("set-cookie"), None);
    assert!(
        res.text().contains("the session is too large for a cookie"),
        "{}",
        res.text()
    );
    assert_eq!(bocata::session::MAX_SESSION_COOKIE, 4096);
}

#[tokio::test]
async fn without_a_key_sessions_are_a_500_saying_so() {
    let client = TestClient::new(App::new().route("/me", bocata::get(me)).debug(true));
    let res = client.get("/me").send().await;
    assert_eq!(res.status(), 500);
    assert_eq!(
        res.text(),
        "500 Internal Server Error: sessions need a secret key: add one with App::secret_key\n"
    );
}

#[test]
#[should_panic(expected = "bocata: the secret key must be at least 64 bytes long, not 6")]
fn a_short_key_stops_the_app_when_it_is_built() {
    let _app = sessions_app(b"s3cr3t");
}
