//! What a request and its response read of the app and of the connection they belong
//! to, handed to them by the app and the server: the narrow context of Falcon's request
//! options, or of the state and `ConnectInfo` axum passes beside a request.
//!
//! It sits below the modules that build it (`app`, `server`) and those that read it
//! (`request`, `response`, `websocket`), so that neither side depends on the other and a
//! request or a response can be built, and tested, from a context alone.

use std::net::SocketAddr;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
#[cfg(feature = "websocket")]
use tokio_util::task::TaskTracker;

#[cfg(feature = "multipart")]
use crate::request::multipart::limits::{DEFAULT_MULTIPART_LIMITS, MultipartLimits};
use crate::routing::paths::Paths;
#[cfg(feature = "sessions")]
use crate::session::Sessions;
use crate::state::StateMap;
#[cfg(feature = "templates")]
use crate::template::Templates;
#[cfg(feature = "websocket")]
use crate::websocket::WebSocketSettings;

/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// The default [`App::body_timeout`](crate::App::body_timeout): 30 seconds.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The default [`App::body_min_rate`](crate::App::body_min_rate): 1 KiB a second.
pub const DEFAULT_BODY_MIN_RATE: u64 = 1024;

/// The default [`App::chunk_timeout`](crate::App::chunk_timeout): 30 seconds.
pub const DEFAULT_CHUNK_TIMEOUT: Duration = Duration::from_secs(30);

/// What every request of an app reads: its routes as requests see them, its limits,
/// its state, and the parts that finish a response (templates, sessions).
#[derive(Clone, Debug)]
pub(crate) struct AppContext {
    pub(crate) paths: Paths,
    pub(crate) body_limit: usize,
    pub(crate) body_deadlines: BodyDeadlines,
    pub(crate) behind_proxy: bool,
    pub(crate) stream_timeouts: StreamTimeouts,
    pub(crate) state: StateMap,
    #[cfg(feature = "sessions")]
    pub(crate) sessions: Sessions,
    #[cfg(feature = "templates")]
    pub(crate) templates: Option<Templates>,
    #[cfg(feature = "multipart")]
    pub(crate) multipart_limits: MultipartLimits,
    #[cfg(feature = "websocket")]
    pub(crate) websocket: WebSocketSettings,
    /// The routes as the OpenAPI document describes them.
    #[cfg(feature = "openapi")]
    pub(crate) openapi: crate::openapi::Registry,
    pub(crate) debug: bool,
}

impl Default for AppContext {
    fn default() -> Self {
        Self {
            paths: Paths::default(),
            body_limit: DEFAULT_BODY_LIMIT,
            body_deadlines: BodyDeadlines {
                timeout: Some(DEFAULT_BODY_TIMEOUT),
                min_rate: Some(DEFAULT_BODY_MIN_RATE),
            },
            behind_proxy: false,
            stream_timeouts: StreamTimeouts {
                chunk: Some(DEFAULT_CHUNK_TIMEOUT),
                complete: None,
            },
            state: StateMap::default(),
            #[cfg(feature = "sessions")]
            sessions: Sessions::default(),
            #[cfg(feature = "templates")]
            templates: None,
            #[cfg(feature = "multipart")]
            multipart_limits: DEFAULT_MULTIPART_LIMITS,
            #[cfg(feature = "websocket")]
            websocket: WebSocketSettings::default(),
            #[cfg(feature = "openapi")]
            openapi: crate::openapi::Registry::default(),
            debug: false,
        }
    }
}

/// What a request knows of the connection it came on, when bocata's server serves it.
#[derive(Debug)]
pub(crate) struct ConnectionContext {
    /// The client's address.
    pub(crate) peer: SocketAddr,
    /// Cancelled when a graceful shutdown starts: server-sent event streams end, and
    /// open WebSockets close with 1001.
    pub(crate) draining: CancellationToken,
    /// The server's WebSocket tasks, which a shutdown waits for.
    #[cfg(feature = "websocket")]
    pub(crate) tasks: TaskTracker,
    /// What the TLS handshake agreed on, on an HTTPS connection.
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::TlsInfo>,
}

/// The time limits of a request body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BodyDeadlines {
    /// For a body read whole: how long it may take. For a streamed one: the longest
    /// wait for its next piece, and the time it gets before `min_rate` counts.
    pub(crate) timeout: Option<Duration>,
    /// For a streamed body: the pace, in bytes a second, that buys it more time.
    pub(crate) min_rate: Option<u64>,
}

/// The time limits of a response body. `None` (or zero) disables a limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct StreamTimeouts {
    /// How long the client may take to accept each chunk.
    pub(crate) chunk: Option<Duration>,
    /// How long the whole body may take.
    pub(crate) complete: Option<Duration>,
}
