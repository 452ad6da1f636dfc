//! The HTTP server: accept loop, HTTP/1.1 and HTTP/2 on one port, connection limits,
//! graceful shutdown.

mod connection;
mod exchange;
mod idle;
mod io;
mod pipelining;
mod slots;
mod streams;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::{http1, http2};
use hyper_util::rt::TokioTimer;
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpSocket, ToSocketAddrs};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
#[cfg(feature = "tls")]
use tokio_util::task::AbortOnDropHandle;
#[cfg(feature = "websocket")]
use tokio_util::task::TaskTracker;

use self::connection::{Protocols, Serving};
use self::slots::{Admission, Slots};
use self::streams::Streams;
use crate::App;
use crate::context::ConnectionContext;

/// How long WebSockets get to finish closing once the requests are done.
#[cfg(feature = "websocket")]
const SOCKET_GOODBYE: Duration = Duration::from_secs(5);

/// How long connections get, once the grace period is over, to send the resets of
/// their HTTP/2 streams before they are closed.
const RESET_FLUSH: Duration = Duration::from_secs(1);

/// The first pause after a failed `accept`; it doubles while `accept` keeps failing.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// How often failing `accept`s are reported in the log, at most.
const ACCEPT_REPORT: Duration = Duration::from_secs(10);

/// The default grace period of a graceful shutdown: 30 seconds.
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(30);

type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Serves an [`App`] over TCP: HTTP/1.1 with keep-alive and HTTP/2 (cleartext, prior
/// knowledge) on the same port, with graceful shutdown.
///
/// [`App::run`] and [`App::serve`] use a server with the defaults; build one to change
/// them:
///
/// ```no_run
/// use std::time::Duration;
/// use bocata::{App, Server};
///
/// # async fn demo(app: App) -> std::io::Result<()> {
/// Server::new(app)
///     .grace_period(Duration::from_secs(5))
///     .run("0.0.0.0:8000")
///     .await
/// # }
/// ```
///
/// On shutdown the server stops accepting (new connections are refused), ends event
/// streams and closes WebSockets (1001), lets the requests in flight and their bodies
/// finish, and closes idle keep-alive connections (HTTP/2 gets a `GOAWAY`). After the
/// grace period it aborts what is still open, so that a client sees a cut body as cut:
/// an HTTP/2 stream is reset, an HTTP/1 connection closed before the body's end. Then
/// it runs the app's shutdown hooks ([`App::on_shutdown`]); its startup hooks
/// ([`App::on_startup`]) run before it accepts the first connection.
pub struct Server {
    app: App,
    grace_period: Duration,
    signal: Option<Signal>,
    limits: Limits,
    #[cfg(feature = "tls")]
    tls: Option<crate::tls::Tls>,
    #[cfg(feature = "tls")]
    redirect: Option<TcpListener>,
}

/// The connection limits of a [`Server`]; each setter documents its default.
#[derive(Clone, Debug)]
struct Limits {
    header_read_timeout: Duration,
    keep_alive_timeout: Duration,
    max_header_size: usize,
    max_headers: usize,
    max_connections: usize,
    max_connections_per_address: Option<usize>,
    http2_max_concurrent_streams: u32,
    http2_stream_window: u32,
    http2_connection_window: u32,
    reuse_port: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(75),
            max_header_size: 16 * 1024,
            max_headers: 100,
            max_connections: 10_000,
            max_connections_per_address: None,
            http2_max_concurrent_streams: 256,
            http2_stream_window: 1024 * 1024,
            http2_connection_window: 4 * 1024 * 1024,
            reuse_port: false,
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("app", &self.app)
            .field("grace_period", &self.grace_period)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server for `app` with the default settings.
    pub fn new(app: App) -> Self {
        Self {
            app,
            grace_period: DEFAULT_GRACE_PERIOD,
            signal: None,
            limits: Limits::default(),
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            redirect: None,
        }
    }

    /// How long a client has to send a complete request head on a new connection; one
    /// that sends nothing, or sends its head a byte at a time (slowloris), is
    /// disconnected. Zero: no limit. Default: 10 seconds.
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// How long a keep-alive connection may sit without a request in flight before it
    /// is closed; the next request's head must be complete within it. The check runs
    /// once a period on a timer of its own, so an idle connection is closed between
    /// this and twice this after its last request. Zero: no limit. Default: 75 seconds.
    #[must_use]
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.limits.keep_alive_timeout = timeout;
        self
    }

    /// The largest request head, in bytes (at least 8192); a larger one is answered
    /// `431 Request Header Fields Too Large`. An HTTP/1 head counts as sent: the request
    /// line and each header line with their line ends, and the blank line (whitespace
    /// around header values aside). On HTTP/2 it bounds the header list as RFC 9113
    /// counts it (each field's name and value, plus 32). Default: 16 KiB.
    #[must_use]
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.limits.max_header_size = bytes.max(8192);
        self
    }

    /// The most header fields a request may have; more is a `431`. Default: 100.
    #[must_use]
    pub fn max_headers(mut self, count: usize) -> Self {
        self.limits.max_headers = count;
        self
    }

    /// The most connections served at once, an upgraded WebSocket's included. When
    /// every slot is taken, the connection idle the longest (open, but with no request
    /// in flight) is closed to make room for a new one; with none idle, new connections
    /// wait until one closes (they are neither refused nor a crash). Default: 10 000.
    #[must_use]
    pub fn max_connections(mut self, count: usize) -> Self {
        self.limits.max_connections = count.max(1);
        self
    }

    /// The most connections one client address may hold at once; past it, its new
    /// connections are closed at once. Behind a reverse proxy every client has the
    /// proxy's address, so leave it off there (the proxy can limit clients itself).
    /// `None`: no limit. Default: none.
    #[must_use]
    pub fn max_connections_per_address(mut self, count: impl Into<Option<usize>>) -> Self {
        self.limits.max_connections_per_address = count.into().map(|count| count.max(1));
        self
    }

    /// The most concurrent streams on one HTTP/2 connection. Default: 256.
    #[must_use]
    pub fn http2_max_concurrent_streams(mut self, count: u32) -> Self {
        self.limits.http2_max_concurrent_streams = count;
        self
    }

    /// The HTTP/2 flow-control windows, in bytes: how much a peer may send on one stream,
    /// and on the whole connection, before the server has read it. They bound what one
    /// HTTP/2 client can make the server buffer. Default: 1 MiB a stream, 4 MiB a
    /// connection.
    #[must_use]
    pub fn http2_windows(mut self, stream: u32, connection: u32) -> Self {
        self.limits.http2_stream_window = stream;
        self.limits.http2_connection_window = connection;
        self
    }

    /// Binds with `SO_REUSEPORT` (Unix), so several processes can serve one port and
    /// the kernel spreads connections between them. Used by [`run`](Self::run).
    /// Default: off.
    #[must_use]
    pub fn reuse_port(mut self, on: bool) -> Self {
        self.limits.reuse_port = on;
        self
    }

    /// How long a graceful shutdown waits for requests in flight, and their bodies,
    /// before aborting them. Default: 30 seconds ([`DEFAULT_GRACE_PERIOD`]).
    #[must_use]
    pub fn grace_period(mut self, grace_period: Duration) -> Self {
        self.grace_period = grace_period;
        self
    }

    /// Shuts down gracefully when `signal` completes, instead of on Ctrl-C or SIGTERM.
    ///
    /// ```no_run
    /// # async fn demo(app: bocata::App) -> std::io::Result<()> {
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let server = tokio::spawn(
    ///     bocata::Server::new(app)
    ///         .shutdown_signal(async { stopped.await.ok(); })
    ///         .run("127.0.0.1:8000"),
    /// );
    /// // … later:
    /// stop.send(()).ok();
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn shutdown_signal(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.signal = Some(Box::pin(signal));
        self
    }

    /// Serves HTTPS with `tls` (feature `tls`): ALPN offers HTTP/2 and HTTP/1.1, with
    /// the same limits, timeouts and graceful shutdown as plain HTTP, and the TLS
    /// handshake is under the [`header_read_timeout`](Self::header_read_timeout).
    /// See [`Tls`](crate::tls::Tls).
    ///
    /// ```no_run
    /// use bocata::tls::Tls;
    /// use bocata::{App, Server};
    ///
    /// # async fn demo(app: App) -> std::io::Result<()> {
    /// Server::new(app)
    ///     .tls(Tls::from_pem_files("cert.pem", "key.pem"))
    ///     .run("0.0.0.0:443")
    ///     .await
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn tls(mut self, tls: crate::tls::Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Answers plain HTTP on `listener` with a `308 Permanent Redirect` to the same
    /// host, path and query over HTTPS, on the port this server serves HTTPS on
    /// (feature `tls`). Each connection answers one request within the
    /// [`header_read_timeout`](Self::header_read_timeout), at most
    /// [`max_connections`](Self::max_connections) at once; it stops with the server.
    ///
    /// ```no_run
    /// use bocata::tls::Tls;
    /// use bocata::{App, Server};
    /// use tokio::net::TcpListener;
    ///
    /// # async fn demo(app: App) -> std::io::Result<()> {
    /// Server::new(app)
    ///     .tls(Tls::from_pem_files("cert.pem", "key.pem"))
    ///     .redirect_http(TcpListener::bind("0.0.0.0:80").await?)
    ///     .run("0.0.0.0:443")
    ///     .await
    /// # }
    /// ```
    #[cfg(feature = "tls")]
    #[must_use]
    pub fn redirect_http(mut self, listener: TcpListener) -> Self {
        self.redirect = Some(listener);
        self
    }

    /// Binds `addr` and serves until the shutdown signal.
    ///
    /// # Errors
    ///
    /// When `addr` cannot be bound (the error names the address), the TLS certificate
    /// cannot be loaded (the error names the file), or a startup hook fails.
    pub async fn run(self, addr: impl ToSocketAddrs) -> std::io::Result<()> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(addr)
            .await
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("bocata could not resolve the address: {e}"),
                )
            })?
            .collect();
        let listener = bind(&addrs, self.limits.reuse_port).map_err(|e| {
            let addrs: Vec<String> = addrs.iter().map(ToString::to_string).collect();
            std::io::Error::new(
                e.kind(),
                format!("bocata could not bind {}: {e}", addrs.join(", ")),
            )
        })?;
        self.serve(listener).await
    }

    /// Serves on `listener` until the shutdown signal.
    ///
    /// # Errors
    ///
    /// When the listener's local address cannot be read, the TLS certificate cannot be
    /// loaded (the error names the file), or a startup hook fails (the error names the
    /// hook and says why).
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        let local = listener.local_addr()?;
        #[cfg(feature = "tls")]
        let tls = self
            .tls
            .map(crate::tls::Acceptor::new)
            .transpose()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?
            .map(Arc::new);
        let app = self.app.clone();
        if let Err(why) = app.shared.lifecycle.start().await {
            return Err(std::io::Error::other(format!(
                "bocata could not start the app: {why}"
            )));
        }
        #[cfg(feature = "tls")]
        let scheme = if tls.is_some() { "https" } else { "http" };
        #[cfg(not(feature = "tls"))]
        let scheme = "http";
        tracing::info!(target: "bocata::server", "listening on {scheme}://{local}");
        let mut signal = self.signal.unwrap_or_else(|| Box::pin(ctrl_c_or_sigterm()));

        let draining = CancellationToken::new();
        let grace_over = Arc::new(CancellationToken::new());
        let protocols = protocols(
            &self.limits,
            Streams {
                limits: self.app.shared.context.stream_timeouts,
                epoch: tokio::time::Instant::now(),
                grace_over: Arc::clone(&grace_over),
            },
        );
        // Both end with this function: the certificate's reloads, and the plain-HTTP
        // listener once it has answered what it had begun.
        #[cfg(feature = "tls")]
        let _reloads = tls
            .clone()
            .map(|tls| AbortOnDropHandle::new(tokio::spawn(tls.watch())));
        #[cfg(feature = "tls")]
        let _redirect = self.redirect.map(|redirect| {
            AbortOnDropHandle::new(tokio::spawn(crate::tls::redirect_to_https(
                redirect,
                local.port(),
                draining.clone(),
                self.limits.header_read_timeout,
                self.limits.max_connections,
            )))
        });
        let serving = Serving {
            app: self.app,
            protocols: Arc::new(protocols),
            slots: Slots::new(
                self.limits.max_connections,
                self.limits.max_connections_per_address,
            ),
            #[cfg(feature = "tls")]
            tls,
        };
        let slots = &serving.slots;
        let mut connections = JoinSet::new();
        #[cfg(feature = "websocket")]
        let tasks = TaskTracker::new();
        let mut failing = AcceptFailures::default();

        loop {
            let (stream, peer) = tokio::select! {
                () = &mut signal => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => {
                        failing.recovered();
                        accepted
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: give one back by
                        // closing a connection with nothing in flight, back off, and
                        // keep serving the connections already open meanwhile.
                        if out_of_resources(&e) {
                            slots.close_an_idle_one();
                        }
                        let pause = failing.failed(&e);
                        tokio::select! {
                            () = &mut signal => break,
                            () = tokio::time::sleep(pause) => continue,
                        }
                    }
                },
            };
            let slot = match slots.admit(peer.ip()) {
                Admission::Admitted(slot) => slot,
                Admission::TooManyFromAddress => {
                    tracing::debug!(target: "bocata::server", %peer, "refusing a connection: its address holds as many as it may");
                    continue;
                }
                // Every slot is taken: wait (connection in hand) until one is let go.
                Admission::Full => tokio::select! {
                    () = &mut signal => break,
                    slot = slots.wait(peer.ip()) => slot,
                },
            };
            // Small responses go out at once rather than waiting for Nagle.
            stream.set_nodelay(true).ok();
            // Shared by the connection's requests (behind an `Arc`, once the TLS
            // handshake has added what it agreed): cloning it is one atomic increment,
            // where its tokens would each take a lock.
            let info = ConnectionContext {
                peer,
                draining: draining.clone(),
                #[cfg(feature = "websocket")]
                tasks: tasks.clone(),
                #[cfg(feature = "tls")]
                tls: None,
            };
            connection::spawn(&mut connections, stream, slot, info, &serving);
        }

        drop(listener);
        // Event streams end and WebSockets close (1001) now, so their clients reconnect
        // elsewhere; requests and finite bodies get the grace period.
        draining.cancel();
        tracing::info!(
            target: "bocata::server",
            open = connections.len(),
            "shutting down; waiting up to {:?} for requests in flight",
            self.grace_period
        );
        if !drain(&mut connections, self.grace_period).await {
            tracing::warn!(
                target: "bocata::server",
                open = connections.len(),
                "grace period over; aborting the responses still in flight"
            );
            // HTTP/2 streams still open are reset, each, and their connections end
            // once the resets are out; what has not ended a moment later is closed, so
            // its clients see a cut body as cut.
            grace_over.cancel();
            drain(&mut connections, RESET_FLUSH).await;
            connections.shutdown().await;
        }
        #[cfg(feature = "websocket")]
        close_websockets(&tasks).await;
        app.shared.lifecycle.stop().await;
        Ok(())
    }
}

/// Waits up to `limit` for every connection to end; whether they all did.
async fn drain(connections: &mut JoinSet<()>, limit: Duration) -> bool {
    let drained = async { while connections.join_next().await.is_some() {} };
    tokio::time::timeout(limit, drained).await.is_ok()
}

/// The accept loop's memory of failing `accept`s: it backs off, doubling the pause up to
/// a second while they keep failing, and reports them at most once every
/// [`ACCEPT_REPORT`], so a server out of descriptors does not flood its log.
#[derive(Debug, Default)]
struct AcceptFailures {
    /// Failures in a row, for the pause.
    in_a_row: u32,
    /// Failures since the last report, and when that was.
    unreported: u64,
    reported: Option<tokio::time::Instant>,
}

impl AcceptFailures {
    /// How long to pause after `error`.
    fn failed(&mut self, error: &std::io::Error) -> Duration {
        self.in_a_row = self.in_a_row.saturating_add(1);
        self.unreported += 1;
        if self.reported.is_none_or(|at| at.elapsed() >= ACCEPT_REPORT) {
            tracing::warn!(
                target: "bocata::server",
                failures = self.unreported,
                "accept failed, backing off: {error}"
            );
            self.unreported = 0;
            self.reported = Some(tokio::time::Instant::now());
        }
        let doubled = ACCEPT_BACKOFF.saturating_mul(1 << (self.in_a_row.min(8) - 1));
        doubled.min(Duration::from_secs(1))
    }

    fn recovered(&mut self) {
        self.in_a_row = 0;
    }
}

/// Whether a failed `accept` says the process is out of something a connection needs
/// (descriptors, memory), rather than that one client gave up before it was accepted.
fn out_of_resources(error: &std::io::Error) -> bool {
    !matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::Interrupted
            | std::io::ErrorKind::WouldBlock
    )
}

impl App {
    /// Serves the app on `addr` over HTTP/1.1 and HTTP/2 until Ctrl-C or SIGTERM, then
    /// shuts down gracefully. See [`Server`] for the settings.
    ///
    /// # Errors
    ///
    /// When `addr` cannot be bound (in use, not permitted, not resolvable), or a
    /// startup hook ([`App::on_startup`]) fails.
    pub async fn run(self, addr: impl ToSocketAddrs) -> std::io::Result<()> {
        Server::new(self).run(addr).await
    }

    /// Serves the app on an already bound listener (for example one bound to port 0).
    ///
    /// # Errors
    ///
    /// When the listener's address cannot be read, or a startup hook fails.
    pub async fn serve(self, listener: TcpListener) -> std::io::Result<()> {
        Server::new(self).serve(listener).await
    }
}

/// hyper's settings for `limits`.
fn protocols(limits: &Limits, streams: Streams) -> Protocols {
    // Head and keep-alive timeouts are the connection watchdog's (see `idle`), which
    // runs one timer a connection; hyper's own would arm one for every request.
    //
    // hyper's `pipeline_flush` stays off: it would write the answers to pipelined
    // requests together, but it also holds an answer back while the next request has
    // only partly arrived (tests/core/server.rs). `pipelining` joins them instead.
    let mut http1 = http1::Builder::new();
    http1
        .header_read_timeout(None)
        .max_buf_size(limits.max_header_size)
        .max_headers(limits.max_headers);
    // The same HTTP/2 settings on both builders that serve it (their types differ).
    macro_rules! http2_limits {
        ($builder:expr) => {
            $builder
                .timer(TokioTimer::new())
                .max_concurrent_streams(limits.http2_max_concurrent_streams)
                .initial_stream_window_size(limits.http2_stream_window)
                .initial_connection_window_size(limits.http2_connection_window)
                .max_header_list_size(u32::try_from(limits.max_header_size).unwrap_or(u32::MAX))
        };
    }
    let mut http2 = http2::Builder::new(streams.clone());
    http2_limits!(http2);
    let mut auto = auto::Builder::new(streams);
    auto.http1()
        .header_read_timeout(None)
        .max_buf_size(limits.max_header_size)
        .max_headers(limits.max_headers);
    http2_limits!(auto.http2());
    Protocols {
        http1,
        http2,
        auto,
        header_read_timeout: limits.header_read_timeout,
        keep_alive_timeout: limits.keep_alive_timeout,
        max_header_size: limits.max_header_size,
    }
}

/// A listener on the first of `addrs` that binds, with `SO_REUSEPORT` if asked.
fn bind(addrs: &[SocketAddr], reuse_port: bool) -> std::io::Result<TcpListener> {
    let mut last = std::io::Error::new(std::io::ErrorKind::InvalidInput, "no address to bind");
    for addr in addrs {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }?;
        // On Windows the option would let the bind take a port another process uses.
        #[cfg(unix)]
        socket.set_reuseaddr(true)?;
        #[cfg(unix)]
        socket.set_reuseport(reuse_port)?;
        #[cfg(not(unix))]
        let _ = reuse_port;
        match socket.bind(*addr).and_then(|()| socket.listen(1024)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Waits a moment for the WebSockets, which were told the server is going away when
/// the shutdown began, to finish closing.
#[cfg(feature = "websocket")]
async fn close_websockets(tasks: &TaskTracker) {
    tasks.close();
    if tokio::time::timeout(SOCKET_GOODBYE, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            target: "bocata::server",
            "WebSockets still open after {SOCKET_GOODBYE:?}; dropping them"
        );
    }
}

/// Completes on Ctrl-C, or SIGTERM on Unix. If a handler cannot be installed, that
/// signal is logged and ignored.
async fn ctrl_c_or_sigterm() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(target: "bocata::server", "cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::warn!(target: "bocata::server", "cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!(target: "bocata::server", "shutdown signal received");
}
