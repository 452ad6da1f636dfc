//! One connection: which protocol it speaks, the task that serves it, and the watchdog
//! task that closes it (idle, out of time, or past a shutdown's grace period).
//!
//! The two tasks are apart so that serving a request polls hyper and nothing else: the
//! watchdog's timers and tokens wake only the watchdog, and a graceful shutdown reaches
//! the connection through a flag it reads with one atomic load.

use std::convert::Infallible;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker, ready};
use std::time::Duration;

use crate::body::Body;
use futures_util::future::Either;
use futures_util::task::AtomicWaker;
use http::{HeaderValue, Response, StatusCode, Version, header};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

use super::exchange::Exchange;
use super::idle::{self, Activity, InFlight};
use super::io::Watched;
use super::pipelining::Pipelined;
use super::slots::{Slot, Slots};
use super::streams::{self, Sent, Streams};
use crate::App;
use crate::context::{ConnectionContext, StreamTimeouts};
use crate::error::BoxError;

/// What the server hands each connection it serves.
pub(super) struct Serving {
    pub(super) app: App,
    pub(super) protocols: Arc<Protocols>,
    pub(super) slots: Arc<Slots>,
    /// For HTTPS: the TLS handshake each connection begins with.
    #[cfg(feature = "tls")]
    pub(super) tls: Option<Arc<crate::tls::Acceptor>>,
}

/// The server's HTTP settings, shared by its connections.
pub(super) struct Protocols {
    /// For a connection whose first bytes are an HTTP/1 request, which is served
    /// without hyper-util's sniffing wrapper.
    pub(super) http1: http1::Builder,
    /// For a connection that began with the whole HTTP/2 preface, or agreed on `h2`
    /// by ALPN.
    pub(super) http2: http2::Builder<Streams>,
    /// For the rest: first bytes that could still be either (the auto builder reads
    /// on until it knows), or TLS without ALPN.
    pub(super) auto: auto::Builder<Streams>,
    /// The watchdog's limits: for the first request's head, and between requests.
    pub(super) header_read_timeout: Duration,
    pub(super) keep_alive_timeout: Duration,
    /// The largest HTTP/1 request head, in bytes.
    pub(super) max_header_size: usize,
}

/// Serves `stream`, which holds `slot`, on a task of its own, watched by a task in
/// `connections`: the connection is closed when it is idle too long, when the server's
/// slots close it to make room, and when `connections` is shut down; when
/// `info.draining` is cancelled it finishes the requests in flight and closes.
pub(super) fn spawn(
    connections: &mut JoinSet<()>,
    stream: TcpStream,
    slot: Slot,
    info: ConnectionContext,
    server: &Serving,
) {
    let activity = Activity::new();
    let close = CancellationToken::new();
    let candidate = server.slots.serving(Arc::clone(&activity), close.clone());
    let watched = Arc::clone(&activity);
    let idle = idle::idle(
        Arc::clone(&activity),
        server.protocols.header_read_timeout,
        server.protocols.keep_alive_timeout,
    );
    let drain = Arc::new(DrainSignal::default());
    let (peer, draining) = (info.peer, info.draining.clone());
    let exchange = Exchange::new(
        server.app.shared.context.stream_timeouts,
        tokio::time::Instant::now(),
    );
    let connection = Connection {
        app: server.app.clone(),
        protocols: Arc::clone(&server.protocols),
        exchange: Arc::clone(&exchange),
        activity,
        signal: Arc::clone(&drain),
    };
    #[cfg(feature = "tls")]
    let tls = server.tls.clone();
    let serve = async move {
        // The handshake is under the watchdog's limit for the first request's head.
        #[cfg(feature = "tls")]
        if let Some(acceptor) = tls {
            let first = first_byte(&stream).await;
            let io = Watched::new(stream, exchange, slot);
            let crate::tls::Handshake::Done(io, agreed) = acceptor.accept(io, first).await else {
                return;
            };
            let speaks = match agreed.alpn_protocol() {
                Some(b"http/1.1") => Speaks::Http1,
                Some(b"h2") => Speaks::Http2,
                _ => Speaks::Unsure,
            };
            let info = ConnectionContext {
                tls: Some(agreed),
                ..info
            };
            return connection.serve(io, speaks, info).await;
        }
        let speaks = speaks(&stream).await;
        connection
            .serve(Watched::new(stream, exchange, slot), speaks, info)
            .await;
    };
    connections.spawn(async move {
        // Dropping the handle (this task ending, or being aborted by a shutdown) closes
        // the connection.
        let mut serving = AbortOnDropHandle::new(tokio::spawn(serve));
        let _candidate = candidate;
        let mut idle = pin!(idle);
        let mut drained = false;
        loop {
            tokio::select! {
                _ = &mut serving => break,
                () = close.cancelled() => break,
                () = &mut idle => {
                    tracing::debug!(target: "bocata::server", %peer, "closing a connection without a request in time");
                    break;
                }
                () = draining.cancelled(), if !drained => {
                    // Before its first request a connection has nothing to finish (it
                    // may be waiting for a first byte that never comes).
                    if !watched.begun() {
                        break;
                    }
                    drained = true;
                    drain.start();
                }
            }
        }
    });
}

/// A connection's side of the server, until it knows which protocol it serves.
struct Connection {
    app: App,
    protocols: Arc<Protocols>,
    /// The limits of the response being sent on an HTTP/1 connection, or of an
    /// HTTP/2 connection's socket as a whole.
    exchange: Arc<Exchange>,
    activity: Arc<Activity>,
    /// A graceful shutdown's signal to this connection.
    signal: Arc<DrainSignal>,
}

impl Connection {
    /// Serves `io` with hyper in the protocol it `speaks`, or, unsure, with the auto
    /// builder, which reads on until it knows. On HTTP/1 the answers to pipelined
    /// requests are written together.
    async fn serve<IO>(self, io: IO, speaks: Speaks, info: ConnectionContext)
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let peer = info.peer;
        let Self {
            app,
            protocols,
            exchange,
            activity,
            signal,
        } = self;
        let responder = Arc::new(Responder {
            app,
            info: Arc::new(info),
            exchange,
            activity,
            http1: speaks == Speaks::Http1,
            max_header_size: protocols.max_header_size,
        });
        let served = if speaks == Speaks::Http1 {
            let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
                responder.respond(request)
            });
            let connection = protocols
                .http1
                .serve_connection(TokioIo::new(Pipelined::new(io)), service)
                .with_upgrades();
            Drainable::new(
                connection,
                signal,
                http1::UpgradeableConnection::graceful_shutdown,
            )
            .await
            .map_err(BoxError::from)
        } else {
            // hyper moves an HTTP/2 stream's future into a task of its own, a few
            // times over: boxed, it moves as a pointer.
            let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
                Box::pin(responder.respond(request))
            });
            if speaks == Speaks::Http2 {
                let connection = protocols.http2.serve_connection(TokioIo::new(io), service);
                Drainable::new(connection, signal, http2::Connection::graceful_shutdown)
                    .await
                    .map_err(BoxError::from)
            } else {
                let connection = protocols
                    .auto
                    .serve_connection_with_upgrades(TokioIo::new(io), service);
                Drainable::new(
                    connection,
                    signal,
                    auto::UpgradeableConnection::graceful_shutdown,
                )
                .await
            }
        };
        if let Err(e) = served {
            tracing::debug!(target: "bocata::server", %peer, "connection ended: {e}");
        }
    }
}

/// The time limits `response` is sent under: its own, or the app's; an upgraded
/// connection (a WebSocket) lasts as long as it likes, each write still under the
/// chunk timeout.
fn limits(response: &mut Response<Body>, app: StreamTimeouts) -> StreamTimeouts {
    let mut limits = response
        .extensions_mut()
        .remove::<StreamTimeouts>()
        .unwrap_or(app);
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        limits.complete = None;
    }
    limits
}

/// The size of an HTTP/1 request's head as the client sent it, but for optional
/// whitespace around header values: the request line and each header line with its
/// line end, and the blank line.
fn head_size<B>(request: &http::Request<B>) -> usize {
    const VERSION_AND_ENDS: usize = " HTTP/1.1\r\n".len() + "\r\n".len();
    let target = request
        .uri()
        .path_and_query()
        .map_or(0, |target| target.as_str().len());
    let fields: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + ": \r\n".len() + value.len())
        .sum();
    request.method().as_str().len() + 1 + target + VERSION_AND_ENDS + fields
}

/// What answering a request on one connection needs, shared by its requests: each
/// holds it (one reference, counted once) until its response body is sent.
pub(super) struct Responder {
    app: App,
    info: Arc<ConnectionContext>,
    /// The limits of the response being sent on an HTTP/1 connection, or of an
    /// HTTP/2 connection's socket as a whole.
    exchange: Arc<Exchange>,
    activity: Arc<Activity>,
    http1: bool,
    max_header_size: usize,
}

impl AsRef<Activity> for Responder {
    fn as_ref(&self) -> &Activity {
        &self.activity
    }
}

/// A request in flight, with its connection's [`Responder`].
pub(super) type Answering = InFlight<Arc<Responder>>;

impl Responder {
    /// The response to `request`, counted as in flight until its body is sent.
    ///
    /// The request is routed here, when hyper hands it over, so that the future hyper
    /// keeps (and moves) holds what routing made of it rather than the request too.
    fn respond(
        self: &Arc<Self>,
        request: http::Request<Incoming>,
    ) -> impl Future<Output = Result<Response<Sent>, Infallible>> + Send + use<> {
        let in_flight = InFlight::begin(Arc::clone(self), self.http1);
        // An HTTP/2 request's head was limited by hyper, field by field.
        let answer =
            if request.version() != Version::HTTP_2 && head_size(&request) > self.max_header_size {
                Either::Left(std::future::ready(head_too_large(self.max_header_size)))
            } else {
                Either::Right(self.app.handle(request, Some(Arc::clone(&self.info))))
            };
        Responding {
            answer,
            in_flight: Some(in_flight),
        }
    }
}

pin_project_lite::pin_project! {
    /// A request being answered, until its response is handed to hyper. (A future of
    /// its own rather than an `async` block, which would keep the answer twice: once
    /// as it was handed in, once as it is awaited.)
    struct Responding<F> {
        #[pin]
        answer: F,
        in_flight: Option<Answering>,
    }
}

impl<F: Future<Output = Response<Body>>> Future for Responding<F> {
    type Output = Result<Response<Sent>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.answer.poll(cx));
        let in_flight = this
            .in_flight
            .take()
            .expect("a response future polled after it completed");
        let responder = in_flight.owner();
        // Only an HTTP/2 request runs in a stream's task; an HTTP/1 connection does
        // not even look.
        let stream = if responder.http1 {
            None
        } else {
            streams::current()
        };
        let limits = limits(&mut response, responder.app.shared.context.stream_timeouts);
        stream
            .as_ref()
            .unwrap_or(&responder.exchange)
            .begin_response(limits);
        Poll::Ready(Ok(response.map(|body| Sent::new(body, in_flight, stream))))
    }
}

/// The answer to a head over the limit (hyper catches most before they are whole; a
/// head that arrives in one large read can be whole before it notices).
fn head_too_large(limit: usize) -> Response<Body> {
    let mut response = Response::new(Body::from(format!(
        "the request head is larger than the limit of {limit} bytes"
    )));
    *response.status_mut() = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// The HTTP/2 connection preface, which a client speaking HTTP/2 with prior knowledge
/// sends first.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Which protocol a connection speaks, as far as its first bytes (or ALPN) tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Speaks {
    /// HTTP/1, or nothing hyper's HTTP/1 side will not answer or close.
    Http1,
    /// HTTP/2: the whole preface arrived, or ALPN agreed on `h2`.
    Http2,
    /// The first bytes are the start of the preface and nothing more yet, or a TLS
    /// client named no protocol.
    Unsure,
}

/// What the first bytes on `stream` (peeked, so still there for hyper to read) say
/// about its protocol. Waits for the first bytes.
async fn speaks(stream: &TcpStream) -> Speaks {
    let mut first = [0; PREFACE.len()];
    match stream.peek(&mut first).await {
        Ok(read) if read > 0 && first[..read] == PREFACE[..read] => {
            if read == PREFACE.len() {
                Speaks::Http2
            } else {
                Speaks::Unsure
            }
        }
        _ => Speaks::Http1,
    }
}

/// The first byte on `stream`, peeked; `None` if the client closed first.
#[cfg(feature = "tls")]
async fn first_byte(stream: &TcpStream) -> Option<u8> {
    let mut first = [0];
    match stream.peek(&mut first).await {
        Ok(1) => Some(first[0]),
        _ => None,
    }
}

/// Tells a connection's task that a graceful shutdown has begun.
#[derive(Debug, Default)]
struct DrainSignal {
    started: AtomicBool,
    waker: AtomicWaker,
}

impl DrainSignal {
    fn start(&self) {
        self.started.store(true, Ordering::Release);
        self.waker.wake();
    }
}

/// A connection that shuts down gracefully once its [`DrainSignal`] starts. Until then
/// a poll costs one atomic load, and a pointer comparison to see the task's waker is
/// the one already registered.
struct Drainable<C> {
    connection: Pin<Box<C>>,
    /// The connection's own graceful shutdown.
    shutdown: fn(Pin<&mut C>),
    signal: Arc<DrainSignal>,
    registered: Option<Waker>,
    draining: bool,
}

impl<C: Future> Drainable<C> {
    fn new(connection: C, signal: Arc<DrainSignal>, shutdown: fn(Pin<&mut C>)) -> Self {
        Self {
            connection: Box::pin(connection),
            shutdown,
            signal,
            registered: None,
            draining: false,
        }
    }
}

impl<C: Future> Future for Drainable<C> {
    type Output = C::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if !this.draining {
            if !this
                .registered
                .as_ref()
                .is_some_and(|waker| waker.will_wake(cx.waker()))
            {
                this.signal.waker.register(cx.waker());
                this.registered = Some(cx.waker().clone());
            }
            // Read after registering, so a signal sent in between is not missed.
            if this.signal.started.load(Ordering::Acquire) {
                this.draining = true;
                (this.shutdown)(this.connection.as_mut());
            }
        }
        this.connection.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_brings_its_own_limits_but_an_upgrade_is_never_complete() {
        let app = StreamTimeouts {
            chunk: Some(Duration::from_secs(30)),
            complete: Some(Duration::from_secs(60)),
        };
        let own = StreamTimeouts {
            chunk: Some(Duration::from_secs(5)),
            complete: None,
        };
        let mut plain = Response::new(Body::empty());
        assert_eq!(limits(&mut plain, app), app);
        let mut overridden = Response::new(Body::empty());
        overridden.extensions_mut().insert(own);
        assert_eq!(limits(&mut overridden, app), own);
        assert!(overridden.extensions().get::<StreamTimeouts>().is_none());
        let mut upgrade = Response::new(Body::empty());
        *upgrade.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        assert_eq!(
            limits(&mut upgrade, app),
            StreamTimeouts {
                chunk: app.chunk,
                complete: None
            }
        );
    }

    #[test]
    fn head_size_counts_the_head_as_sent() {
        let request = http::Request::get("/a?b=c")
            .header("host", "x")
            .header("x-long", "value")
            .body(())
            .unwrap_or_default();
        let sent = "GET /a?b=c HTTP/1.1\r\nhost: x\r\nx-long: value\r\n\r\n";
        assert_eq!(head_size(&request), sent.len());
    }
}
