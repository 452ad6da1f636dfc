//! The limits and liveness settings of an app's WebSockets: data the app's settings
//! hold, read by every socket.

use std::time::Duration;

/// Limits and liveness settings of an app's WebSockets.
///
/// ```
/// use std::time::Duration;
/// use bocata::App;
/// use bocata::websocket::WebSocketSettings;
///
/// let app = App::new().websocket(
///     WebSocketSettings::new()
///         .max_message_size(64 * 1024)
///         .idle_timeout(Some(Duration::from_secs(120))),
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebSocketSettings {
    pub(super) max_message_size: usize,
    pub(super) max_frame_size: usize,
    pub(super) idle_timeout: Option<Duration>,
    pub(super) heartbeat: Option<Duration>,
}

impl Default for WebSocketSettings {
    fn default() -> Self {
        Self {
            max_message_size: 1024 * 1024,
            max_frame_size: 1024 * 1024,
            idle_timeout: Some(Duration::from_secs(60)),
            heartbeat: Some(Duration::from_secs(20)),
        }
    }
}

impl WebSocketSettings {
    /// The defaults, as listed on each setter.
    pub fn new() -> Self {
        Self::default()
    }

    /// The largest message a peer may send, in bytes; a larger one closes the socket
    /// with 1009 (message too big). Default: 1 MiB.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// The largest frame a peer may send, in bytes. Default: 1 MiB.
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// How long a peer may stay silent (no message, no pong) before the socket is
    /// closed with 1001 and `recv` ends (Responder's `ws_idle_timeout`). `None`
    /// disables it. Default: 60 seconds.
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout.filter(|t| !t.is_zero());
        self
    }

    /// How often a ping is sent while waiting in `recv`, so a live peer answers and a
    /// vanished one is noticed. `None` disables it. Default: 20 seconds.
    #[must_use]
    pub fn heartbeat(mut self, interval: Option<Duration>) -> Self {
        self.heartbeat = interval.filter(|t| !t.is_zero());
        self
    }

    pub(super) fn protocol_config(
        &self,
    ) -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_frame_size))
    }
}
