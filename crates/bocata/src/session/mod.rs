//! Sessions: serde values kept in a signed cookie, so no server keeps them and any
//! process behind a load balancer can read them.
//!
//! The signature covers the values together with the cookie's name and path, the time
//! it was issued and, with [`SessionConfig::max_age`], the time it expires: a cookie is
//! refused (an empty session) under another name or path, and once it has expired,
//! whatever the browser kept. A signed cookie cannot be revoked before it expires; the
//! book's chapter "State and sessions" says what to do when that matters.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use cookie::{Cookie, CookieJar, Key, SameSite};
use http::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{Error, Result};

#[cfg(feature = "redis")]
mod redis;
#[cfg(feature = "redis")]
pub use self::redis::{RedisSessions, RedisSessionsError};

/// The largest `Set-Cookie` value bocata sends for a session: browsers drop cookies
/// over 4 KB silently, so a larger session is an error instead.
pub const MAX_SESSION_COOKIE: usize = 4096;

/// How the session cookie is set, with safe defaults.
///
/// ```
/// use bocata::{App, SessionConfig};
/// use bocata::cookie::time::Duration;
///
/// let key = bocata::cookie::Key::generate();
/// let app = App::new()
///     .secret_key(key.master())
///     .session_config(SessionConfig::new().secure(true).max_age(Duration::days(7)));
/// ```
#[derive(Clone, Debug)]
pub struct SessionConfig {
    name: String,
    path: String,
    secure: bool,
    same_site: SameSite,
    max_age: Option<cookie::time::Duration>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            name: "bocata_session".to_owned(),
            path: "/".to_owned(),
            secure: false,
            same_site: SameSite::Lax,
            max_age: None,
        }
    }
}

impl SessionConfig {
    /// The defaults: cookie `bocata_session`, `Path=/`, `HttpOnly`, `SameSite=Lax`,
    /// `Secure` for a request that came over HTTPS (to bocata's TLS, or through a
    /// declared proxy), no `Max-Age` (ends with the browser).
    pub fn new() -> Self {
        Self::default()
    }

    /// The cookie's name. Default: `bocata_session`.
    #[must_use]
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// The cookie's path. Default: `/`.
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        self.path = path.to_owned();
        self
    }

    /// Whether the cookie is always `Secure` (only sent over HTTPS), even on a request
    /// that came over plain HTTP. Default: off; a request that came over HTTPS gets a
    /// `Secure` cookie either way.
    #[must_use]
    pub fn secure(mut self, on: bool) -> Self {
        self.secure = on;
        self
    }

    /// The cookie's `SameSite`. Default: `Lax`.
    #[must_use]
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// How long a session lasts after it was last written: the cookie's `Max-Age`, and
    /// an expiry signed into the cookie, so the app refuses it afterwards (an empty
    /// session) even from a browser or a copy that kept it. Reading a session does not
    /// extend it; [`Session::renew`] does. Cookies issued before this setting was added
    /// or shortened are held to it too, counted from when they were issued.
    ///
    /// Default: none. The cookie ends when the browser closes, and the app accepts it
    /// for as long as the key is the same.
    #[must_use]
    pub fn max_age(mut self, max_age: cookie::time::Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }
}

/// The cookie of one store or the other: its attributes and, once it carries a value,
/// the value signed with the app's key for the cookie's name.
impl SessionConfig {
    /// The session cookie as configured, without a value: `HttpOnly`, and `Secure` if
    /// the configuration says so or the request came over HTTPS (`https`).
    pub(crate) fn cookie(&self, https: bool) -> Cookie<'static> {
        Cookie::build((self.name.clone(), String::new()))
            .path(self.path.clone())
            .http_only(true)
            .secure(self.secure || https)
            .same_site(self.same_site)
            .build()
    }

    /// Gives `cookie` the value `value`, signed with `key`, and the configured
    /// `Max-Age`.
    pub(crate) fn fill(&self, cookie: &mut Cookie<'static>, key: &Key, value: String) {
        let mut jar = CookieJar::new();
        jar.signed_mut(key)
            .add(Cookie::new(self.name.clone(), value));
        let signed = jar
            .get(&self.name)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        cookie.set_value(signed);
        if let Some(max_age) = self.max_age {
            cookie.set_max_age(max_age);
        }
    }

    /// What a cookie value carries, if it was signed with `key` for this cookie's name.
    pub(crate) fn verify(&self, key: &Key, value: String) -> Option<String> {
        CookieJar::new()
            .signed(key)
            .verify(Cookie::new(self.name.clone(), value))
            .map(|cookie| cookie.value().to_owned())
    }
}

/// The layout of what a session cookie's signature covers, as a JSON array:
/// `[format, name, path, issued, expires, values]`, with times in seconds since the Unix
/// epoch and `expires` `null` without a `max_age`.
///
/// A JSON array on purpose: the first layout, from before the format had a version, was
/// the values alone as a JSON object, so no cookie signed then can read as this one.
const FORMAT: u8 = 2;

/// What [`FORMAT`] holds, as read back.
type Payload = (u8, String, String, i64, Option<i64>, Map<String, Value>);

/// Why a session cookie gave an empty session.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
enum Refused {
    /// Not signed with the app's key: tampered with, truncated, forged, or another app's.
    #[error("its signature does not match the app's key")]
    Signature,
    /// Signed with the app's key, but not in the current format: signed before the
    /// format had a version.
    #[error("it is not in the current session format (issued by an older bocata?)")]
    Format,
    /// Signed for a cookie of another name.
    #[error("it was signed for the cookie name `{0}`")]
    Name(String),
    /// Signed for a cookie of another path.
    #[error("it was signed for the cookie path `{0}`")]
    Path(String),
    /// Past its signed expiry, or older than the app's `max_age`.
    #[error("it expired at {0} (seconds since the Unix epoch)")]
    Expired(i64),
}

/// What an app needs to read and write sessions.
#[derive(Clone, Default)]
pub(crate) struct Sessions {
    pub(crate) key: Option<Key>,
    pub(crate) config: SessionConfig,
    /// Where sessions are kept when not in the cookie.
    #[cfg(feature = "redis")]
    pub(crate) store: Option<RedisSessions>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut f = f.debug_struct("Sessions");
        f.field("key", &self.key.as_ref().map(|_| "…"))
            .field("config", &self.config);
        #[cfg(feature = "redis")]
        f.field("store", &self.store);
        f.finish()
    }
}

impl Sessions {
    pub(crate) fn config_name(&self) -> &str {
        &self.config.name
    }

    /// The session carried by a request's cookie value, if it is one this app signed,
    /// for this cookie's name and path, and not expired; anything else is an empty
    /// session (the reason is logged at debug level).
    pub(crate) fn load(&self, key: &Key, cookie_value: Option<String>) -> Session {
        self.load_at(key, cookie_value, unix_now())
    }

    /// [`load`](Self::load) at `now`, in seconds since the Unix epoch.
    fn load_at(&self, key: &Key, cookie_value: Option<String>, now: i64) -> Session {
        let values = match cookie_value.map(|value| self.verify(key, value, now)) {
            None => Map::new(),
            Some(Ok(values)) => values,
            Some(Err(refused)) => {
                tracing::debug!(
                    target: "bocata::session",
                    "session cookie `{}` refused, the request has an empty session: {refused}",
                    self.config.name
                );
                Map::new()
            }
        };
        Session::with_values(values)
    }

    /// The values in a cookie value, if its signature and what it covers hold at `now`.
    fn verify(&self, key: &Key, value: String, now: i64) -> Result<Map<String, Value>, Refused> {
        let verified = self.config.verify(key, value).ok_or(Refused::Signature)?;
        self.open(&verified, now)
    }

    /// The values in a payload whose signature holds, if it is in the current format,
    /// for this cookie's name and path, and not expired at `now`.
    fn open(&self, payload: &str, now: i64) -> Result<Map<String, Value>, Refused> {
        let (format, name, path, issued, expires, values): Payload =
            serde_json::from_str(payload).map_err(|_| Refused::Format)?;
        if format != FORMAT {
            return Err(Refused::Format);
        }
        if name != self.config.name {
            return Err(Refused::Name(name));
        }
        if path != self.config.path {
            return Err(Refused::Path(path));
        }
        // The signed expiry, and the app's max_age now: a cookie issued before max_age
        // was set or shortened is held to it too.
        let by_max_age = self.config.max_age.map(|age| expiry(issued, age));
        let deadline = match (expires, by_max_age) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match deadline {
            Some(deadline) if now >= deadline => Err(Refused::Expired(deadline)),
            _ => Ok(values),
        }
    }

    /// The `Set-Cookie` value for a changed session: the signed values, or a removal
    /// when it is empty. It is `Secure` if the configuration says so, and always for a
    /// request that came over HTTPS (`secure`).
    pub(crate) fn set_cookie(
        &self,
        key: &Key,
        session: &Session,
        secure: bool,
    ) -> Result<Option<HeaderValue>> {
        self.set_cookie_at(key, session, unix_now(), secure)
    }

    /// [`set_cookie`](Self::set_cookie) issued at `now`, in seconds since the Unix epoch.
    fn set_cookie_at(
        &self,
        key: &Key,
        session: &Session,
        now: i64,
        secure: bool,
    ) -> Result<Option<HeaderValue>> {
        if !session.is_changed() {
            return Ok(None);
        }
        // A session kept in Redis sends its cookie when it is written there.
        #[cfg(feature = "redis")]
        if session.server.is_some() {
            return Ok(None);
        }
        let mut cookie = self.config.cookie(secure);
        let payload = {
            let values = session.lock();
            if values.is_empty() {
                None
            } else {
                let expires = self.config.max_age.map(|age| expiry(now, age));
                let payload = (
                    FORMAT,
                    &self.config.name,
                    &self.config.path,
                    now,
                    expires,
                    &*values,
                );
                Some(serde_json::to_string(&payload).map_err(Error::internal)?)
            }
        };
        match payload {
            None => cookie.make_removal(),
            Some(payload) => self.config.fill(&mut cookie, key, payload),
        }
        let value = cookie.encoded().to_string();
        if value.len() > MAX_SESSION_COOKIE {
            return Err(Error::internal(format!(
                "the session is too large for a cookie: {} bytes, the limit is {MAX_SESSION_COOKIE}",
                value.len()
            )));
        }
        HeaderValue::try_from(value)
            .map(Some)
            .map_err(Error::internal)
    }
}

/// The time `max_age` after `issued`, in seconds since the Unix epoch.
fn expiry(issued: i64, max_age: cookie::time::Duration) -> i64 {
    issued.saturating_add(max_age.whole_seconds())
}

/// The system clock in seconds since the Unix epoch (0 for a clock set before it).
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Loads `value` as a session cookie with a fixed key: anything not signed by it is an
/// empty session. Also opens `value` as if its signature held, at the earliest and
/// latest times there are: never a panic.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_load(value: &str) {
    let key = Key::from(&[7; 64]);
    let sessions = Sessions {
        config: SessionConfig::new().max_age(cookie::time::Duration::days(1)),
        ..Sessions::default()
    };
    let session = sessions.load(&key, Some(value.to_owned()));
    assert!(!session.changed.load(Ordering::Acquire));
    assert!(
        session.lock().is_empty(),
        "an unsigned cookie opened a session"
    );
    let _ = session.get::<Value>("user");
    for now in [i64::MIN, 0, i64::MAX] {
        let _ = sessions.open(value, now);
    }
}

/// The session of one request: serde values by key, read from a signed cookie and
/// written back (signed) when changed.
///
/// Get it with [`Request::session`](crate::Request::session). All methods take `&self`,
/// so views with `&Request` can write to it.
///
/// ```
/// # use bocata::{Request, Res, Result};
/// async fn visit(req: &Request, res: &mut Res) -> Result {
///     let session = req.session()?;
///     let visits: u32 = session.get("visits").unwrap_or(0) + 1;
///     session.insert("visits", &visits)?;
///     res.text(format!("visit number {visits}"));
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct Session {
    values: Mutex<Map<String, Value>>,
    changed: AtomicBool,
    /// Its id, owner and store, for a session kept in Redis.
    #[cfg(feature = "redis")]
    server: Option<self::redis::ServerSide>,
}

impl Session {
    fn with_values(values: Map<String, Value>) -> Self {
        Self {
            values: Mutex::new(values),
            changed: AtomicBool::new(false),
            #[cfg(feature = "redis")]
            server: None,
        }
    }

    /// Whether a value changed, or [`renew`](Self::renew) asked for the session to be
    /// written again.
    fn is_changed(&self) -> bool {
        self.changed.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map<String, Value>> {
        self.values
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value under `key`, if there is one of type `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let value = self.lock().get(key).cloned()?;
        serde_json::from_value(value).ok()
    }

    /// Whether there is a value under `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.lock().contains_key(key)
    }

    /// Stores `value` under `key`.
    ///
    /// # Errors
    ///
    /// A 500 if `value` fails to serialize.
    pub fn insert<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result {
        let value = serde_json::to_value(value).map_err(Error::internal)?;
        self.lock().insert(key.to_owned(), value);
        self.changed.store(true, Ordering::Release);
        Ok(())
    }

    /// Removes the value under `key`, returning whether there was one.
    pub fn remove(&self, key: &str) -> bool {
        let removed = self.lock().remove(key).is_some();
        if removed {
            self.changed.store(true, Ordering::Release);
        }
        removed
    }

    /// Removes every value: the cookie is deleted (log out).
    pub fn clear(&self) {
        self.lock().clear();
        self.changed.store(true, Ordering::Release);
    }

    /// Sends the cookie again, issued now, even if no value changed: with
    /// [`SessionConfig::max_age`] the session then lasts `max_age` from this request,
    /// not from when it was last written (a sliding expiry). An empty session's cookie
    /// is deleted instead.
    ///
    /// Without it, a request that only reads the session sends no cookie and does not
    /// extend it.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// /// Before every view (`App::before`): a logged-in user stays logged in for
    /// /// `max_age` after their last visit.
    /// async fn keep_logged_in(req: &mut Request, _res: &mut Res) -> Result {
    ///     let session = req.session()?;
    ///     if session.contains("user") {
    ///         session.renew();
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn renew(&self) {
        self.changed.store(true, Ordering::Release);
    }

    /// Says whose session this is (a user's id or name), so that
    /// [`end_everywhere`](Self::end_everywhere) and
    /// [`RedisSessions::end_sessions_of`] can find it among the owner's other sessions.
    /// A session whose owner changes (a login) gets a new id, so an id known before
    /// the login is never the logged-in session's. Only sessions kept in Redis have an
    /// owner; for a session in a cookie this does nothing.
    #[cfg(feature = "redis")]
    pub fn set_owner(&self, owner: &str) {
        if let Some(server) = &self.server {
            server.set_owner(owner);
            self.changed.store(true, Ordering::Release);
        }
    }

    /// Ends every session of this session's owner, this one included, at once and
    /// for every process ("log out everywhere"), and returns how many there were.
    ///
    /// # Errors
    ///
    /// A 500 for a session that is not kept in Redis or has no owner (a mistake in the
    /// app); a 503 when Redis cannot be reached in time.
    #[cfg(feature = "redis")]
    pub async fn end_everywhere(&self) -> Result<usize> {
        let Some(server) = &self.server else {
            return Err(Error::internal(
                "end_everywhere needs sessions kept in Redis: see App::session_store",
            ));
        };
        let Some(owner) = server.owner() else {
            return Err(Error::internal(
                "end_everywhere needs the session's owner: see Session::set_owner",
            ));
        };
        let ended = server.store().end_sessions_of(&owner).await?;
        self.clear();
        Ok(ended)
    }
}

#[cfg(test)]
mod tests {
    use cookie::time::Duration;

    use super::*;

    /// 2024-06-10T06:13:20Z: any fixed time will do.
    const T: i64 = 1_718_000_000;
    const HOUR: i64 = 3600;

    fn key() -> Key {
        Key::from(&[7; 64])
    }

    fn sessions(config: SessionConfig) -> Sessions {
        Sessions {
            key: Some(key()),
            config,
            ..Sessions::default()
        }
    }

    /// The cookie value `sessions` sends at `now` for a session holding `user`.
    fn issue(sessions: &Sessions, user: &str, now: i64) -> String {
        let session = sessions.load_at(&key(), None, now);
        session.insert("user", user).expect("a string serializes");
        let header = sessions
            .set_cookie_at(&key(), &session, now, false)
            .expect("small enough")
            .expect("changed, so sent");
        let header = header.to_str().expect("ASCII").to_owned();
        Cookie::parse_encoded(header)
            .expect("a cookie bocata wrote parses")
            .value()
            .to_owned()
    }

    /// `payload` signed the way `cookie`'s signed jar signs any value.
    fn signed(payload: &str) -> String {
        let mut jar = CookieJar::new();
        jar.signed_mut(&key())
            .add(Cookie::new("bocata_session", payload.to_owned()));
        jar.get("bocata_session")
            .expect("just added")
            .value()
            .to_owned()
    }

    fn user(sessions: &Sessions, value: &str, now: i64) -> Option<String> {
        sessions
            .load_at(&key(), Some(value.to_owned()), now)
            .get("user")
    }

    #[test]
    fn the_signature_covers_format_name_path_times_and_values() {
        let app = sessions(SessionConfig::new().max_age(Duration::hours(1)));
        let value = issue(&app, "ana", T);
        let json = &value[value.find('[').expect("a JSON array")..];
        assert_eq!(
            json,
            format!(
                r#"[2,"bocata_session","/",{T},{},{{"user":"ana"}}]"#,
                T + HOUR
            )
        );
        assert_eq!(
            signed(json),
            value,
            "signed by the cookie crate's signed jar"
        );
    }

    #[test]
    fn with_max_age_a_session_lasts_until_its_signed_expiry() {
        let app = sessions(SessionConfig::new().max_age(Duration::hours(1)));
        let value = issue(&app, "ana", T);
        assert_eq!(user(&app, &value, T).as_deref(), Some("ana"));
        assert_eq!(user(&app, &value, T + HOUR - 1).as_deref(), Some("ana"));
        assert_eq!(
            app.verify(&key(), value.clone(), T + HOUR),
            Err(Refused::Expired(T + HOUR))
        );
        assert_eq!(user(&app, &value, T + HOUR), None);
        assert_eq!(user(&app, &value, T + 1000 * HOUR), None);
    }

    #[test]
    fn without_max_age_a_session_never_expires() {
        let app = sessions(SessionConfig::new());
        let value = issue(&app, "ana", T);
        assert!(value.contains(&format!(r#""/",{T},null,"#)), "{value}");
        assert_eq!(
            user(&app, &value, T + 100 * 365 * 24 * HOUR).as_deref(),
            Some("ana")
        );
    }

    #[test]
    fn the_shorter_of_the_signed_expiry_and_the_apps_max_age_holds() {
        let forever = issue(&sessions(SessionConfig::new()), "ana", T);
        let week = issue(
            &sessions(SessionConfig::new().max_age(Duration::days(7))),
            "ana",
            T,
        );
        let hour = sessions(SessionConfig::new().max_age(Duration::hours(1)));
        for value in [&forever, &week] {
            assert_eq!(user(&hour, value, T + HOUR - 1).as_deref(), Some("ana"));
            assert_eq!(
                hour.verify(&key(), value.clone(), T + HOUR),
                Err(Refused::Expired(T + HOUR)),
                "{value}"
            );
        }

        let hour_value = issue(&hour, "ana", T);
        let week_app = sessions(SessionConfig::new().max_age(Duration::days(7)));
        assert_eq!(
            week_app.verify(&key(), hour_value, T + HOUR),
            Err(Refused::Expired(T + HOUR)),
            "a longer max_age does not lengthen a cookie already issued"
        );
    }

    #[test]
    fn a_cookie_is_refused_under_another_name_or_path() {
        let a = sessions(SessionConfig::new().name("a_session").path("/a"));
        let value = issue(&a, "ana", T);
        assert_eq!(user(&a, &value, T).as_deref(), Some("ana"));
        let other_name = sessions(SessionConfig::new().name("b_session").path("/a"));
        assert_eq!(
            other_name.verify(&key(), value.clone(), T),
            Err(Refused::Name("a_session".to_owned()))
        );
        let other_path = sessions(SessionConfig::new().name("a_session").path("/b"));
        assert_eq!(
            other_path.verify(&key(), value, T),
            Err(Refused::Path("/a".to_owned()))
        );
    }

    #[test]
    fn payloads_in_another_format_are_refused() {
        let app = sessions(SessionConfig::new());
        let current = format!(r#"[2,"bocata_session","/",{T},null,{{"user":"ana"}}]"#);
        assert_eq!(user(&app, &signed(&current), T).as_deref(), Some("ana"));
        for payload in [
            // The first layout: the values alone.
            r#"{"user":"ana"}"#.to_owned(),
            // The fields of the current layout, as an object.
            format!(
                r#"{{"0":2,"1":"bocata_session","2":"/","3":{T},"4":null,"5":{{"user":"ana"}}}}"#
            ),
            format!(r#"[1,"bocata_session","/",{T},null,{{"user":"ana"}}]"#),
            format!(r#"[3,"bocata_session","/",{T},null,{{"user":"ana"}}]"#),
            format!(r#"[2,"bocata_session","/",{T},null,{{"user":"ana"}},0]"#),
            format!(r#"[2,"bocata_session","/",{T},null]"#),
            format!(r#"[2,"bocata_session","/","{T}",null,{{"user":"ana"}}]"#),
            format!(r#"[2,"bocata_session","/",{T},null,["ana"]]"#),
            String::new(),
        ] {
            assert_eq!(
                app.verify(&key(), signed(&payload), T),
                Err(Refused::Format),
                "{payload}"
            );
        }
    }

    #[test]
    fn unsigned_tampered_and_foreign_values_are_refused() {
        let app = sessions(SessionConfig::new().max_age(Duration::hours(1)));
        let value = issue(&app, "ana", T);
        let later = (T + HOUR).to_string();
        let much_later = (T + 1000 * HOUR).to_string();
        let foreign = {
            let mut jar = CookieJar::new();
            jar.signed_mut(&Key::from(&[9; 64]))
                .add(Cookie::new("bocata_session", value[44..].to_owned()));
            jar.get("bocata_session")
                .expect("just added")
                .value()
                .to_owned()
        };
        for forged in [
            value.replace(&later, &much_later),
            value.replace("ana", "eve"),
            value[44..].to_owned(),
            value[..value.len() - 1].to_owned(),
            foreign,
            String::new(),
        ] {
            assert_eq!(
                app.verify(&key(), forged.clone(), T),
                Err(Refused::Signature),
                "{forged}"
            );
        }
    }

    #[test]
    fn extreme_times_and_max_ages_saturate() {
        let app = sessions(SessionConfig::new().max_age(Duration::MAX));
        let value = issue(&app, "ana", i64::MAX - 1);
        assert!(
            value.contains(&format!(",{},{},", i64::MAX - 1, i64::MAX)),
            "{value}"
        );
        assert_eq!(user(&app, &value, i64::MAX - 1).as_deref(), Some("ana"));
        assert_eq!(user(&app, &value, i64::MAX), None);

        let negative = sessions(SessionConfig::new().max_age(Duration::seconds(-5)));
        let value = issue(&negative, "ana", T);
        assert_eq!(user(&negative, &value, T), None, "expired when issued");
    }

    #[test]
    fn only_a_changed_or_renewed_session_is_sent_issued_anew() {
        let app = sessions(SessionConfig::new().max_age(Duration::hours(1)));
        let value = issue(&app, "ana", T);
        let read = app.load_at(&key(), Some(value.clone()), T + HOUR / 2);
        assert_eq!(read.get::<String>("user").as_deref(), Some("ana"));
        assert_eq!(
            app.set_cookie_at(&key(), &read, T + HOUR / 2, false)
                .expect("nothing to refuse"),
            None,
            "reading does not extend the session"
        );

        read.renew();
        let header = app
            .set_cookie_at(&key(), &read, T + HOUR / 2, false)
            .expect("small enough")
            .expect("renewed, so sent");
        let renewed = Cookie::parse_encoded(header.to_str().expect("ASCII").to_owned())
            .expect("parses")
            .value()
            .to_owned();
        assert_eq!(renewed.len(), value.len());
        assert_eq!(user(&app, &renewed, T + HOUR).as_deref(), Some("ana"));
        assert_eq!(
            user(&app, &value, T + HOUR),
            None,
            "the old copy still expires"
        );

        let empty = app.load_at(&key(), None, T);
        empty.renew();
        let header = app
            .set_cookie_at(&key(), &empty, T, false)
            .expect("a removal")
            .expect("sent");
        assert!(
            header.to_str().expect("ASCII").contains("Max-Age=0"),
            "{header:?}"
        );
    }

    #[test]
    fn the_cookie_is_secure_over_https_or_when_configured() {
        let cookie = |config: SessionConfig, https: bool| {
            let app = sessions(config);
            let session = app.load_at(&key(), None, T);
            session.insert("user", "ana").expect("a string");
            let header = app.set_cookie_at(&key(), &session, T, https);
            let header = header.expect("small").expect("changed");
            Cookie::parse_encoded(header.to_str().expect("ASCII").to_owned())
                .expect("parses")
                .secure()
                == Some(true)
        };
        assert!(!cookie(SessionConfig::new(), false));
        assert!(cookie(SessionConfig::new(), true));
        assert!(cookie(SessionConfig::new().secure(true), false));
    }

    #[test]
    fn the_size_limit_counts_the_whole_signed_cookie() {
        let app = sessions(
            SessionConfig::new()
                .name("a_long_session_cookie_name")
                .path("/a/long/path/for/the/session")
                .max_age(Duration::days(30)),
        );
        let size = |len: usize| {
            let session = app.load_at(&key(), None, T);
            session.insert("notes", &"x".repeat(len)).expect("a string");
            app.set_cookie_at(&key(), &session, T, false)
                .map(|header| header.expect("changed").len())
        };
        // The MAC's base64 may be percent-encoded (`+`, `/`, `=`), so the size near the
        // limit moves by a few bytes with the content: around it, every cookie sent is
        // within the limit and every refusal names a size over it.
        let near = MAX_SESSION_COOKIE - size(0).expect("an empty note fits");
        let (mut sent, mut refused) = (0, 0);
        for len in near - 20..near + 20 {
            match size(len) {
                Ok(size) => {
                    assert!(size <= MAX_SESSION_COOKIE, "{len}: {size}");
                    sent += 1;
                }
                Err(error) => {
                    let error = error.to_string();
                    let bytes: usize = error
                        .split("for a cookie: ")
                        .nth(1)
                        .and_then(|rest| rest.split(' ').next())
                        .and_then(|n| n.parse().ok())
                        .unwrap_or_else(|| panic!("a size in {error}"));
                    assert!(bytes > MAX_SESSION_COOKIE, "{error}");
                    assert!(error.ends_with("the limit is 4096"), "{error}");
                    refused += 1;
                }
            }
        }
        assert!(sent > 0 && refused > 0, "{sent} sent, {refused} refused");
        assert!(size(near - 20).is_ok() && size(near + 20).is_err());
    }
}
