//! The server's side of the handshake, with the configuration of the moment, and the
//! task that reloads it.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use rustls::server::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_rustls::server::TlsStream;

use super::TlsInfo;
use super::config::{Source, Tls, TlsError};

/// What a TLS connection says when it is spoken to in plain HTTP.
const PLAIN_HTTP: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
content-type: text/plain; charset=utf-8\r\n\
connection: close\r\n\
content-length: 58\r\n\
\r\n\
this port speaks HTTPS: send the request over TLS instead\n";

/// Accepts TLS connections with the server's current configuration.
#[derive(Debug)]
pub(crate) struct Acceptor {
    tls: Tls,
    current: RwLock<Arc<ServerConfig>>,
    /// The files' modification times and sizes when they were last loaded.
    stamps: Mutex<Vec<Option<(SystemTime, u64)>>>,
}

/// How a handshake ended.
#[derive(Debug)]
pub(crate) enum Handshake<IO> {
    /// A TLS connection, and what was agreed.
    Done(Box<TlsStream<IO>>, TlsInfo),
    /// The client spoke plain HTTP and was told so, or the handshake failed.
    Failed,
}

impl Acceptor {
    /// The acceptor for `tls`, its files read now.
    pub(crate) fn new(tls: Tls) -> Result<Self, TlsError> {
        let config = tls.load()?;
        let stamps = stamps(&tls);
        Ok(Self {
            tls,
            current: RwLock::new(config),
            stamps: Mutex::new(stamps),
        })
    }

    /// The TLS side of `io`, once the handshake is done; `first` is its first byte,
    /// peeked (`None` if the client closed before sending one). A client that begins
    /// with something other than a TLS handshake is closed, and one that begins like
    /// an HTTP request is told first, in plain HTTP, that this port speaks HTTPS.
    pub(crate) async fn accept<IO>(&self, mut io: IO, first: Option<u8>) -> Handshake<IO>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        // A TLS record of the handshake begins with 22.
        match first {
            Some(22) => {}
            Some(byte) => {
                if byte.is_ascii_uppercase() {
                    io.write_all(PLAIN_HTTP).await.ok();
                    io.shutdown().await.ok();
                }
                return Handshake::Failed;
            }
            None => return Handshake::Failed,
        }
        let config = Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()));
        match tokio_rustls::TlsAcceptor::from(config).accept(io).await {
            Ok(tls) => {
                let info = TlsInfo::of(tls.get_ref().1);
                Handshake::Done(Box::new(tls), info)
            }
            Err(e) => {
                tracing::debug!(target: "bocata::tls", "TLS handshake failed: {e}");
                Handshake::Failed
            }
        }
    }

    /// Reloads the files if they changed since they were loaded (or always, if
    /// `forced`): `None` if they did not change, or whether the new configuration
    /// loaded. One that does not load leaves the current one in place.
    fn reload(&self, forced: bool) -> Option<Result<(), TlsError>> {
        let now = stamps(&self.tls);
        {
            let mut stamps = self.stamps.lock().unwrap_or_else(|e| e.into_inner());
            if !forced && *stamps == now {
                return None;
            }
            *stamps = now;
        }
        let config = match self.tls.load() {
            Ok(config) => config,
            Err(e) => return Some(Err(e)),
        };
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = config;
        Some(Ok(()))
    }

    /// Reloads on `SIGHUP` and when the files change, until dropped.
    pub(crate) async fn watch(self: Arc<Self>) {
        let Source::Files(_) = &self.tls.source else {
            return;
        };
        let mut hangup = hangup();
        let mut tick = self.tls.reload_every.map(|every| {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick
        });
        loop {
            let forced = tokio::select! {
                () = recv(&mut hangup) => true,
                () = next_tick(&mut tick) => false,
            };
            // Reading files blocks; the blocking pool does it.
            let this = Arc::clone(&self);
            match tokio::task::spawn_blocking(move || this.reload(forced)).await {
                Ok(Some(Ok(()))) => tracing::info!(target: "bocata::tls", "certificate reloaded"),
                Ok(Some(Err(e))) => tracing::warn!(
                    target: "bocata::tls",
                    "keeping the current certificate: the new one does not load: {e}"
                ),
                Ok(None) | Err(_) => {}
            }
        }
    }
}

/// The modification time and size of each file `tls` is loaded from.
fn stamps(tls: &Tls) -> Vec<Option<(SystemTime, u64)>> {
    match &tls.source {
        Source::Files(files) => files.paths().map(stamp).collect(),
        Source::Config(_) => Vec::new(),
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

/// `SIGHUP`, on Unix; if it cannot be listened for, that is logged.
fn hangup() -> Hangup {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(signal) => Some(signal),
            Err(e) => {
                tracing::warn!(target: "bocata::tls", "cannot listen for SIGHUP: {e}");
                None
            }
        }
    }
    #[cfg(not(unix))]
    None
}

/// The next `SIGHUP`; never, without one to listen for.
async fn recv(hangup: &mut Hangup) {
    #[cfg(unix)]
    if let Some(signal) = hangup
        && signal.recv().await.is_some()
    {
        return;
    }
    #[cfg(not(unix))]
    let _ = hangup;
    std::future::pending::<()>().await;
}

/// The next tick; never, without checks.
async fn next_tick(tick: &mut Option<tokio::time::Interval>) {
    match tick {
        Some(tick) => {
            tick.tick().await;
        }
        None => std::future::pending().await,
    }
}
