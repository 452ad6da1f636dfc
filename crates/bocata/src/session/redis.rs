//! Sessions kept in Redis (feature `redis`): the cookie holds only a random id, signed
//! with the app's key; the values live in Redis with a time to live, so that a session
//! can be ended at once, for every process, before its cookie expires.
//!
//! Keys (under the store's prefix, `bocata:` by default):
//! - `session:<id>`: the session as JSON, `{"owner": …, "values": {…}}`, expiring
//!   [`RedisSessions::ttl`] after it was last written;
//! - `owner:<owner>`: the set of ids of an owner's sessions, for
//!   [`RedisSessions::end_sessions_of`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use cookie::Key;
use http::{HeaderValue, header};
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::{Session, SessionConfig};
use crate::{Error, Result};

/// How long a request waits on Redis for one command (or to connect) before it is
/// answered 503. Default of [`RedisSessions::timeout`].
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a session lives after it was last written. Default of
/// [`RedisSessions::ttl`].
const DEFAULT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Random bytes in a session id: 256 bits, hex in the cookie.
const ID_BYTES: usize = 32;

/// Sessions kept in Redis, for [`App::session_store`](crate::App::session_store).
///
/// The cookie holds a random id signed with the app's key (a forged or altered
/// cookie is refused without asking Redis); the values live in Redis for
/// [`ttl`](Self::ttl) after they were last written. [`Session`] works as with
/// cookies, and two things become possible: ending a session for good (`clear`
/// deletes it from Redis, for every process at once), and ending every session of one
/// owner (a user logged in on several devices) with
/// [`end_sessions_of`](Self::end_sessions_of) or [`Session::end_everywhere`], once
/// [`Session::set_owner`] said whose a session is.
///
/// Every request that carries a session cookie reads its session from Redis before
/// the hooks run, and one whose session changed writes it back before its response
/// is sent. Redis unreachable, or slower than [`timeout`](Self::timeout), answers
/// those requests `503 Service Unavailable` with `Retry-After`, and nothing else.
///
/// ```
/// use bocata::App;
/// use bocata::session::RedisSessions;
///
/// let sessions = RedisSessions::new("redis://127.0.0.1:6379/")?;
/// let app = App::new()
///     .secret_key(bocata::cookie::Key::generate().master())
///     .session_store(sessions.clone())
///     // Views that end other sessions reach the store as app state.
///     .state(sessions);
/// # Ok::<(), bocata::session::RedisSessionsError>(())
/// ```
#[derive(Clone)]
pub struct RedisSessions {
    client: redis::Client,
    /// The connection, made on first use and shared by every clone.
    connection: Arc<OnceCell<ConnectionManager>>,
    prefix: Arc<str>,
    ttl: Duration,
    timeout: Duration,
}

impl std::fmt::Debug for RedisSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSessions")
            .field("server", &self.client.get_connection_info().addr())
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A Redis URL [`RedisSessions::new`] cannot use.
#[derive(Debug, thiserror::Error)]
#[error("not a Redis URL bocata can use: {0}")]
pub struct RedisSessionsError(#[source] redis::RedisError);

/// A session as stored in Redis.
#[derive(Serialize, Deserialize)]
struct Stored {
    owner: Option<String>,
    values: Map<String, Value>,
}

/// What a session loaded from Redis knows beyond its values.
#[derive(Debug)]
pub(crate) struct ServerSide {
    store: RedisSessions,
    /// The id it has in Redis; `None` until it is first written.
    id: Mutex<Option<String>>,
    /// Whose it is, as stored.
    stored_owner: Option<String>,
    /// Whose it is, as the request left it.
    owner: Mutex<Option<String>>,
}

impl RedisSessions {
    /// Sessions in the Redis server at `url` (`redis://host:port/db`, `rediss://` for
    /// TLS, `redis+unix:///path`). Nothing connects until the first request that needs
    /// a session: building the app never waits on Redis.
    ///
    /// # Errors
    ///
    /// When `url` is not a Redis URL.
    pub fn new(url: &str) -> Result<Self, RedisSessionsError> {
        let client = redis::Client::open(url).map_err(RedisSessionsError)?;
        Ok(Self {
            client,
            connection: Arc::default(),
            prefix: Arc::from("bocata:"),
            ttl: DEFAULT_TTL,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// What every key starts with, so that apps can share a Redis. Default: `bocata:`.
    #[must_use]
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = Arc::from(prefix);
        self
    }

    /// How long a session lives in Redis after it was last written (a sliding expiry:
    /// [`Session::renew`] writes it again). Default: 7 days. The cookie's own lifetime
    /// is [`SessionConfig::max_age`] (by default, until the browser closes).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The longest a request waits on Redis, to connect or for one command, before it
    /// is answered 503. Default: 2 seconds.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Ends every session of `owner` (see [`Session::set_owner`]) at once, for every
    /// process: their cookies open empty sessions from the next request on. Returns how
    /// many there were.
    ///
    /// # Errors
    ///
    /// A 503 when Redis cannot be reached in time.
    pub async fn end_sessions_of(&self, owner: &str) -> Result<usize> {
        let owner_key = self.owner_key(owner);
        let mut connection = self.connection().await?;
        let ids: Vec<String> = self.deadline(connection.smembers(&owner_key)).await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        for id in &ids {
            pipe.del(self.session_key(id)).ignore();
        }
        pipe.del(&owner_key).ignore();
        self.deadline(pipe.query_async::<()>(&mut connection))
            .await?;
        Ok(ids.len())
    }

    fn session_key(&self, id: &str) -> String {
        format!("{}session:{id}", self.prefix)
    }

    fn owner_key(&self, owner: &str) -> String {
        format!("{}owner:{owner}", self.prefix)
    }

    /// The shared connection, made on first use; it reconnects by itself after Redis
    /// went away.
    async fn connection(&self) -> Result<ConnectionManager> {
        let connect = self.connection.get_or_try_init(|| async {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(self.timeout))
                .set_response_timeout(Some(self.timeout))
                .set_number_of_retries(1)
                .set_max_delay(self.timeout);
            ConnectionManager::new_with_config(self.client.clone(), config).await
        });
        match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(connection)) => Ok(connection.clone()),
            Ok(Err(err)) => Err(unavailable(err)),
            Err(_) => Err(unavailable("connecting took longer than the timeout")),
        }
    }

    /// `command`, cut at the store's timeout.
    async fn deadline<T>(&self, command: impl Future<Output = redis::RedisResult<T>>) -> Result<T> {
        match tokio::time::timeout(self.timeout, command).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(unavailable(err)),
            Err(_) => Err(unavailable("Redis did not answer within the timeout")),
        }
    }

    /// The session a request's cookie names: its values from Redis, or an empty one
    /// for no cookie, a cookie not signed with `key`, or an id Redis does not have
    /// (ended, or expired).
    pub(crate) async fn load(
        &self,
        key: &Key,
        config: &SessionConfig,
        cookie: Option<String>,
    ) -> Result<Session> {
        let id = cookie.and_then(|value| {
            let verified = config.verify(key, value);
            if verified.is_none() {
                tracing::debug!(
                    target: "bocata::session",
                    "session cookie `{}` refused: its signature does not match the app's key",
                    config.name
                );
            }
            verified
        });
        let Some(id) = id else {
            return Ok(self.session(None, None, Map::new()));
        };
        let mut connection = self.connection().await?;
        let stored: Option<String> = self.deadline(connection.get(self.session_key(&id))).await?;
        let stored = stored.and_then(|json| serde_json::from_str::<Stored>(&json).ok());
        Ok(match stored {
            Some(Stored { owner, values }) => self.session(Some(id), owner, values),
            None => self.session(None, None, Map::new()),
        })
    }

    fn session(
        &self,
        id: Option<String>,
        owner: Option<String>,
        values: Map<String, Value>,
    ) -> Session {
        let mut session = Session::with_values(values);
        session.server = Some(ServerSide {
            store: self.clone(),
            id: Mutex::new(id),
            stored_owner: owner.clone(),
            owner: Mutex::new(owner),
        });
        session
    }

    /// Writes a changed session back (or deletes an emptied one) and returns the
    /// `Set-Cookie` value for it, if the cookie changes: a new id, a renewal, a
    /// removal.
    pub(crate) async fn save(
        &self,
        key: &Key,
        config: &SessionConfig,
        session: &Session,
        secure: bool,
    ) -> Result<Option<HeaderValue>> {
        let Some(server) = &session.server else {
            return Ok(None);
        };
        if !session.is_changed() {
            return Ok(None);
        }
        let values = session.lock().clone();
        let owner = lock(&server.owner).clone();
        let old_id = lock(&server.id).clone();
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let (Some(id), Some(stored_owner)) = (&old_id, &server.stored_owner) {
            pipe.srem(self.owner_key(stored_owner), id).ignore();
        }
        let mut cookie = config.cookie(secure);
        if values.is_empty() {
            if let Some(id) = &old_id {
                pipe.del(self.session_key(id)).ignore();
            }
            cookie.make_removal();
            *lock(&server.id) = None;
        } else {
            // A new id when there was none, and when the owner changed (a login): an id
            // known before the login is never the logged-in session's.
            let id = match &old_id {
                Some(id) if owner == server.stored_owner => id.clone(),
                _ => new_id()?,
            };
            if let Some(old) = old_id.as_ref().filter(|old| **old != id) {
                pipe.del(self.session_key(old)).ignore();
            }
            let json = serde_json::to_string(&Stored {
                owner: owner.clone(),
                values,
            })
            .map_err(Error::internal)?;
            let ttl = self.ttl.as_secs().max(1);
            pipe.set_ex(self.session_key(&id), json, ttl).ignore();
            if let Some(owner) = &owner {
                pipe.sadd(self.owner_key(owner), &id).ignore();
                pipe.expire(
                    self.owner_key(owner),
                    i64::try_from(ttl).unwrap_or(i64::MAX),
                )
                .ignore();
            }
            config.fill(&mut cookie, key, id.clone());
            *lock(&server.id) = Some(id);
        }
        let mut connection = self.connection().await?;
        self.deadline(pipe.query_async::<()>(&mut connection))
            .await?;
        HeaderValue::try_from(cookie.encoded().to_string())
            .map(Some)
            .map_err(Error::internal)
    }
}

impl ServerSide {
    pub(crate) fn set_owner(&self, owner: &str) {
        *lock(&self.owner) = Some(owner.to_owned());
    }

    pub(crate) fn store(&self) -> &RedisSessions {
        &self.store
    }

    pub(crate) fn owner(&self) -> Option<String> {
        lock(&self.owner).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fresh session id: 256 bits from the operating system's random source, in hex.
fn new_id() -> Result<String> {
    let mut bytes = [0; ID_BYTES];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::internal(format!("no random session id: {e}")))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// The answer while Redis cannot be reached: a 503 to come back in 5 seconds, the
/// cause kept for the log.
fn unavailable(cause: impl Into<crate::error::BoxError>) -> Error {
    Error::new(503, "sessions are unavailable, try again")
        .with_source(cause)
        .with_header(header::RETRY_AFTER, HeaderValue::from_static("5"))
}
