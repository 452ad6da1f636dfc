//! The hub's one error type: what went wrong publishing, reaching Redis, or reading a
//! message as JSON.

#[cfg(feature = "redis")]
use std::time::Duration;

/// A hub problem: Redis unreachable or too slow, a command Redis refused, an invalid
/// Redis URL, or a message that is not the expected JSON. Its `Display` says which (and
/// which Redis, by host and port, never by password); the wording is not a stable API,
/// the predicates are.
///
/// Returned from a view with `?`, it becomes a 500 whose cause is logged; a view that
/// would rather answer `503 Service Unavailable` maps it itself (see
/// [`is_unreachable`](Self::is_unreachable)).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct HubError(#[from] Problem);

#[derive(Debug, thiserror::Error)]
pub(super) enum Problem {
    #[cfg(feature = "redis")]
    #[error("invalid Redis URL: {0}")]
    Url(#[source] redis::RedisError),
    #[cfg(feature = "redis")]
    #[error("Redis at {addr} is unreachable ({cause}); {retry}")]
    Unreachable {
        addr: String,
        cause: String,
        retry: Retry,
    },
    #[cfg(feature = "redis")]
    #[error("Redis at {addr} did not answer {what} within {after:?}")]
    Timeout {
        addr: String,
        what: &'static str,
        after: Duration,
    },
    #[cfg(feature = "redis")]
    #[error("Redis at {addr} refused {what}: {source}")]
    Refused {
        addr: String,
        what: &'static str,
        #[source]
        source: redis::RedisError,
    },
    #[error("the message is not the expected JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// When the next connection attempt is made, as the error tells it.
#[cfg(feature = "redis")]
#[derive(Debug)]
pub(super) enum Retry {
    /// The next publish tries again at once.
    Now,
    /// A connection attempt failed recently; publishes fail at once until then.
    After(Duration),
}

#[cfg(feature = "redis")]
impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Now => write!(f, "the next publish reconnects"),
            Self::After(delay) => write!(f, "next connection attempt in {delay:?}"),
        }
    }
}

impl HubError {
    /// Whether Redis could not be reached, or did not answer in time: the message was
    /// not published (or, when the connection broke while it was being sent, may not
    /// have been). Publishing again later may succeed. Never true for the in-process hub.
    pub fn is_unreachable(&self) -> bool {
        match &self.0 {
            #[cfg(feature = "redis")]
            Problem::Unreachable { .. } | Problem::Timeout { .. } => true,
            _ => false,
        }
    }

    /// Whether Redis did not answer within the hub's timeout (a special case of
    /// [`is_unreachable`](Self::is_unreachable)).
    pub fn is_timeout(&self) -> bool {
        match &self.0 {
            #[cfg(feature = "redis")]
            Problem::Timeout { .. } => true,
            _ => false,
        }
    }

    /// Whether a message was not valid JSON of the expected shape
    /// ([`Message::json`](super::Message::json)).
    pub fn is_json(&self) -> bool {
        matches!(self.0, Problem::Json(_))
    }
}
