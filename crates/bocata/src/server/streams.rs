//! HTTP/2 streams, each under its own deadlines: hyper runs every stream of an HTTP/2
//! connection as a task of its own, through the executor given here, which watches it.
//!
//! A stream whose client does not take its body in time (a flow-control window left
//! shut, say) is reset (RST_STREAM), its body and whatever the body holds (a file) are
//! dropped, and the connection's other streams go on. At the end of a shutdown's grace
//! period the streams still open are reset the same way, so no client mistakes a cut
//! body for a whole one.
//!
//! The stream's [`Exchange`] reaches its response through a task-local: hyper polls the
//! service's future, and then the body, inside the stream's task.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use crate::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use super::connection::Answering;
use super::exchange::Exchange;
use crate::context::StreamTimeouts;
use crate::response::Expired;
use crate::timer::Timer;

tokio::task_local! {
    /// The exchange of the HTTP/2 stream whose task is running.
    static STREAM: Arc<Exchange>;
}

/// The exchange of the HTTP/2 stream this runs in, if it runs in one.
pub(super) fn current() -> Option<Arc<Exchange>> {
    STREAM.try_with(Arc::clone).ok()
}

/// Runs hyper's HTTP/2 stream tasks, each under its deadlines and the server's grace
/// period.
#[derive(Clone, Debug)]
pub(super) struct Streams {
    /// The app's limits, until a response sets its own.
    pub(super) limits: StreamTimeouts,
    /// When the server started: the streams' times are counted from it.
    pub(super) epoch: Instant,
    /// Cancelled when the server's grace period is over. In an `Arc`, so that a
    /// stream's copy costs one atomic increment (cloning a token takes a lock).
    pub(super) grace_over: Arc<CancellationToken>,
}

impl<F> hyper::rt::Executor<F> for Streams
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, stream: F) {
        let exchange = Exchange::new(self.limits, self.epoch);
        let guarded = Guarded {
            stream,
            overdue: Overdue::new(Arc::clone(&exchange)),
            grace_over: GraceOver::Unwatched(Arc::clone(&self.grace_over)),
        };
        // Boxed: tokio moves a task's future a few times on its way in and writes its
        // whole size again each time the task's stage changes; a pointer is cheaper to
        // move than hyper's stream futures, by more than the allocation costs.
        tokio::spawn(Box::pin(STREAM.scope(exchange, guarded)));
    }
}

pin_project_lite::pin_project! {
    /// A stream's task: the stream, until it ends, its body waits on the client past
    /// its limits, or the server's grace period is over. Returning drops the stream,
    /// which h2 answers with RST_STREAM. (A future of its own rather than a `select!`
    /// in an `async` block, which would hold the stream twice: hyper's stream futures
    /// are large, and each is moved into its task.)
    struct Guarded<F> {
        #[pin]
        stream: F,
        overdue: Overdue,
        grace_over: GraceOver,
    }
}

impl<F: Future<Output = ()>> Future for Guarded<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.stream.poll(cx).is_ready() {
            return Poll::Ready(());
        }
        // After the stream, in the same poll, so that the deadline sees what it did.
        if let Poll::Ready(expired) = Pin::new(this.overdue).poll(cx) {
            tracing::warn!(target: "bocata::server", "resetting an HTTP/2 stream: {expired}");
            return Poll::Ready(());
        }
        if Pin::new(this.grace_over).poll(cx).is_ready() {
            tracing::debug!(target: "bocata::server", "resetting an HTTP/2 stream still open after the grace period");
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

/// Completes when the server's grace period is over. A stream that ends in its first
/// poll (a short response, when the connection's flow-control window has room) never
/// waits for it, so the wait is set up (and allocated) only by one that is still open
/// after its first poll.
enum GraceOver {
    Unwatched(Arc<CancellationToken>),
    Watched(Pin<Box<WaitForCancellationFutureOwned>>),
}

impl Future for GraceOver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if let Self::Unwatched(token) = &*self {
            let wait = CancellationToken::clone(token).cancelled_owned();
            *self = Self::Watched(Box::pin(wait));
        }
        match &mut *self {
            Self::Watched(wait) => wait.as_mut().poll(cx),
            Self::Unwatched(_) => Poll::Pending,
        }
    }
}

/// Completes when the stream's body has waited on the client past its limits. Polled
/// after the stream in the same task, so it sees each change the stream made, and a
/// wait that began in that poll is timed from then.
struct Overdue {
    exchange: Arc<Exchange>,
    timer: Timer,
    /// The wait being timed, by its number, and since when.
    timing: Option<(u64, Instant)>,
}

impl Overdue {
    fn new(exchange: Arc<Exchange>) -> Self {
        Self {
            exchange,
            timer: Timer::default(),
            timing: None,
        }
    }
}

impl Future for Overdue {
    type Output = Expired;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Expired> {
        let Self {
            exchange,
            timer,
            timing,
        } = &mut *self;
        let Some(wait) = exchange.wait() else {
            return Poll::Pending;
        };
        let since = match *timing {
            Some((timed, since)) if timed == wait => since,
            _ => timing.insert((wait, Instant::now())).1,
        };
        let Some((at, expired)) = exchange.deadline(since) else {
            return Poll::Pending;
        };
        ready!(timer.poll_until(cx, at));
        Poll::Ready(expired)
    }
}

/// A response body on its way out: it keeps its request counted as in flight, and on
/// an HTTP/2 stream tells the stream's exchange when it waits for the client to take a
/// chunk (from the moment it is handed to hyper, until hyper comes back for more).
pub(super) struct Sent {
    inner: Body,
    _in_flight: Answering,
    stream: Option<Arc<Exchange>>,
}

impl Sent {
    pub(super) fn new(inner: Body, in_flight: Answering, stream: Option<Arc<Exchange>>) -> Self {
        if let Some(stream) = &stream {
            stream.wait_for_client();
        }
        Self {
            inner,
            _in_flight: in_flight,
            stream,
        }
    }
}

impl http_body::Body for Sent {
    type Data = Bytes;
    type Error = crate::body::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let Some(stream) = &this.stream else {
            return Pin::new(&mut this.inner).poll_frame(cx);
        };
        stream.client_took();
        let frame = Pin::new(&mut this.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &frame
            && frame.is_data()
        {
            stream.wait_for_client();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
