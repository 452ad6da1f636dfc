//! Sessions: serde values kept in a signed cookie, so no server keeps them and any
//! process behind a load balancer can read them.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use cookie::{Cookie, CookieJar, Key, SameSite};
use http::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{Error, Result};

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
    /// The defaults: cookie `bocata_session`, `Path=/`, `HttpOnly`, `SameSite=Lax`, no
    /// `Secure` (turn it on in production), no `Max-Age` (ends with the browser).
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

    /// Whether the cookie is only sent over HTTPS. Default: off.
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

    /// How long the cookie lives. Default: until the browser closes.
    #[must_use]
    pub fn max_age(mut self, max_age: cookie::time::Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }
}

/// What an app needs to read and write sessions.
#[derive(Clone, Default)]
pub(crate) struct Sessions {
    pub(crate) key: Option<Key>,
    pub(crate) config: SessionConfig,
    /// Whether the app configured sessions, and so must have a key.
    pub(crate) configured: bool,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("key", &self.key.as_ref().map(|_| "…"))
            .field("config", &self.config)
            .finish()
    }
}

impl Sessions {
    /// Refuses an app that configured sessions but has no key to sign them with.
    ///
    /// # Panics
    ///
    /// In that case, with a message saying what to add.
    pub(crate) fn check(&self) {
        assert!(
            !self.configured || self.key.is_some(),
            "bocata: App::session_config was called but the app has no secret key: add \
             App::secret_key"
        );
    }

    pub(crate) fn config_name(&self) -> &str {
        &self.config.name
    }

    /// The session carried by a request's cookie value, if it is one this app signed;
    /// anything else (absent, tampered with, truncated, signed by another key, not
    /// JSON) is an empty session.
    pub(crate) fn load(&self, key: &Key, cookie_value: Option<String>) -> Session {
        let values = cookie_value
            .and_then(|value| {
                let mut jar = CookieJar::new();
                jar.add_original(Cookie::new(self.config.name.clone(), value));
                jar.signed(key).get(&self.config.name)
            })
            .and_then(|cookie| serde_json::from_str(cookie.value()).ok())
            .unwrap_or_default();
        Session {
            values: Mutex::new(values),
            changed: AtomicBool::new(false),
        }
    }

    /// The `Set-Cookie` value for a changed session: the signed values, or a removal
    /// when it is empty.
    pub(crate) fn set_cookie(&self, key: &Key, session: &Session) -> Result<Option<HeaderValue>> {
        if !session.changed.load(Ordering::Acquire) {
            return Ok(None);
        }
        let values = session.lock().clone();
        let mut cookie = Cookie::build((self.config.name.clone(), String::new()))
            .path(self.config.path.clone())
            .http_only(true)
            .secure(self.config.secure)
            .same_site(self.config.same_site)
            .build();
        if values.is_empty() {
            cookie.make_removal();
        } else {
            let json = serde_json::to_string(&values).map_err(Error::internal)?;
            let mut jar = CookieJar::new();
            jar.signed_mut(key)
                .add(Cookie::new(self.config.name.clone(), json));
            let signed = jar
                .get(&self.config.name)
                .map(|c| c.value().to_owned())
                .unwrap_or_default();
            cookie.set_value(signed);
            if let Some(max_age) = self.config.max_age {
                cookie.set_max_age(max_age);
            }
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

/// Loads `value` as a session cookie with a fixed key: anything not signed by it is an
/// empty session.
#[cfg(feature = "fuzzing")]
pub(crate) fn fuzz_load(value: &str) {
    let key = Key::from(&[7; 64]);
    let session = Sessions::default().load(&key, Some(value.to_owned()));
    assert!(!session.changed.load(Ordering::Acquire));
    let _ = session.get::<Value>("user");
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
}

impl Session {
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
}
