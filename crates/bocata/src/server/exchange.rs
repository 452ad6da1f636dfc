//! The time limits of a response on its way to the client.
//!
//! A client that stops taking a response stops the server's writes (HTTP/1: the socket's
//! buffers are full) or its stream's flow-control window (HTTP/2). Either way hyper stops
//! polling the body, so the body cannot notice; the limits are enforced where the wait
//! is seen instead: the connection's socket (see [`io`](super::io)) and each HTTP/2
//! stream's task (see [`streams`](super::streams)). Time only counts while the server
//! waits on the client: a producer that takes its time is not the client's fault.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::context::StreamTimeouts;
use crate::response::Expired;

/// The limits of the response being sent on one HTTP/1 connection or one HTTP/2 stream,
/// and (for a stream) whether it is waiting on the client.
///
/// Times are nanoseconds after `base`, so that each fits an atomic; zero means none.
/// Marking a wait reads no clock: whoever times the wait reads it when it first sees
/// it, which on a stream is the same poll.
#[derive(Debug)]
pub(super) struct Exchange {
    base: Instant,
    /// The chunk timeout, in nanoseconds.
    chunk: AtomicU64,
    /// The complete timeout, in nanoseconds.
    complete: AtomicU64,
    /// When the response began, for its complete timeout.
    began: AtomicU64,
    /// Odd while the stream's body waits for the client to take a chunk, even while it
    /// does not; it only grows, so each wait has a number of its own.
    waiting: AtomicU64,
}

impl Exchange {
    /// An exchange under `limits` until a response sets its own, its times counted
    /// from `base` (a time before any of them).
    pub(super) fn new(limits: StreamTimeouts, base: Instant) -> Arc<Self> {
        let exchange = Arc::new(Self {
            base,
            chunk: AtomicU64::new(0),
            complete: AtomicU64::new(0),
            began: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
        });
        exchange.begin_response(limits);
        exchange
    }

    /// A response under `limits` begins. Reads the clock only for a complete timeout.
    pub(super) fn begin_response(&self, limits: StreamTimeouts) {
        self.chunk.store(nanos(limits.chunk), Ordering::Relaxed);
        let complete = nanos(limits.complete);
        self.complete.store(complete, Ordering::Relaxed);
        if complete != 0 {
            self.began
                .store(self.offset(Instant::now()), Ordering::Relaxed);
        }
    }

    /// The body has handed a chunk over (or is ready to): from now on the client is
    /// expected to take it.
    pub(super) fn wait_for_client(&self) {
        let waiting = self.waiting.load(Ordering::Relaxed);
        if waiting.is_multiple_of(2) {
            self.waiting.store(waiting + 1, Ordering::Relaxed);
        }
    }

    /// The connection came back for more: the client took what it was given.
    pub(super) fn client_took(&self) {
        let waiting = self.waiting.load(Ordering::Relaxed);
        if !waiting.is_multiple_of(2) {
            self.waiting.store(waiting + 1, Ordering::Relaxed);
        }
    }

    /// The number of the body's wait on the client, if it is waiting.
    pub(super) fn wait(&self) -> Option<u64> {
        Some(self.waiting.load(Ordering::Relaxed)).filter(|waiting| !waiting.is_multiple_of(2))
    }

    /// When a wait on the client that began at `since` runs out, and which limit that
    /// is; `None` without limits.
    pub(super) fn deadline(&self, since: Instant) -> Option<(Instant, Expired)> {
        let chunk = match self.chunk.load(Ordering::Relaxed) {
            0 => None,
            chunk => {
                let chunk = Duration::from_nanos(chunk);
                Some((since + chunk, Expired::Chunk(chunk)))
            }
        };
        let complete = match self.complete.load(Ordering::Relaxed) {
            0 => None,
            complete => {
                let began = self.base + Duration::from_nanos(self.began.load(Ordering::Relaxed));
                let complete = Duration::from_nanos(complete);
                Some((began + complete, Expired::Complete(complete)))
            }
        };
        match (chunk, complete) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    fn offset(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX - 1)
    }
}

/// A limit as nanoseconds, zero for none (as a zero limit means).
fn nanos(limit: Option<Duration>) -> u64 {
    limit.map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn exchange(limits: StreamTimeouts) -> Arc<Exchange> {
        Exchange::new(limits, Instant::now())
    }

    fn limits(chunk: Option<Duration>, complete: Option<Duration>) -> StreamTimeouts {
        StreamTimeouts { chunk, complete }
    }

    #[tokio::test(start_paused = true)]
    async fn the_nearer_limit_wins() {
        let exchange = exchange(limits(Some(5 * SECOND), Some(60 * SECOND)));
        let now = Instant::now();
        assert_eq!(
            exchange.deadline(now),
            Some((now + 5 * SECOND, Expired::Chunk(5 * SECOND)))
        );
        let late = now + 58 * SECOND;
        assert_eq!(
            exchange.deadline(late),
            Some((now + 60 * SECOND, Expired::Complete(60 * SECOND)))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_limits_no_deadline_and_zero_is_none() {
        let exchange = exchange(limits(None, None));
        assert_eq!(exchange.deadline(Instant::now()), None);
        exchange.begin_response(limits(Some(Duration::ZERO), Some(Duration::ZERO)));
        assert_eq!(exchange.deadline(Instant::now()), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_response_brings_its_own_limits_and_clock() {
        let exchange = exchange(limits(None, Some(10 * SECOND)));
        tokio::time::advance(100 * SECOND).await;
        exchange.begin_response(limits(None, Some(10 * SECOND)));
        let now = Instant::now();
        assert_eq!(
            exchange.deadline(now),
            Some((now + 10 * SECOND, Expired::Complete(10 * SECOND)))
        );
    }

    #[test]
    fn each_wait_has_a_number_of_its_own() {
        let exchange = exchange(limits(Some(SECOND), None));
        assert_eq!(exchange.wait(), None);
        exchange.wait_for_client();
        let first = exchange.wait().expect("waiting");
        exchange.wait_for_client();
        assert_eq!(exchange.wait(), Some(first), "still the same wait");
        exchange.client_took();
        exchange.client_took();
        assert_eq!(exchange.wait(), None);
        exchange.wait_for_client();
        let second = exchange.wait().expect("waiting again");
        assert_ne!(first, second);
    }
}
