//! Chapter "State and sessions": app state shared by every request, and sessions kept in
//! a signed cookie.

use std::sync::atomic::{AtomicU64, Ordering};

use bocata::cookie::Key;
use bocata::cookie::time::Duration;
use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result, SessionConfig, abort};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

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
