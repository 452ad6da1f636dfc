//! Closing connections that hold the server without a request in flight: a client that
//! never sends its first byte, one that sends its head a byte at a time (slowloris), and
//! a keep-alive connection left idle. hyper has no idle timeout of its own, and the
//! HTTP/2 preface sniff of hyper-util's auto builder has no timeout at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// What a connection's watchdog knows: how many requests are in flight, and since
/// when it has had none.
#[derive(Debug)]
pub(crate) struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `opened` at which the last request finished.
    idle_since: AtomicU64,
    served_any: AtomicBool,
}

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            served_any: AtomicBool::new(false),
        })
    }

    /// A request has arrived; the guard marks its end when dropped (with its response
    /// body, or with the request if it is abandoned). Two atomic updates, no wake-up:
    /// the watchdog looks at them when its own timer fires.
    pub(crate) fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.served_any.store(true, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }

    fn millis_since_open(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// One request in flight on a connection; the server's response body carries it
/// (`Guarded<InFlight>`), so it ends when the body is done.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        activity
            .idle_since
            .store(activity.millis_since_open(), Ordering::Release);
        activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Completes when the connection has been without a request for too long: `first`
/// before its first request head has arrived, `between` after that.
///
/// It sleeps until the deadline the state it last saw allows, then looks again; a
/// request that arrived meanwhile only moves the next deadline, so the request path
/// never has to wake it.
pub(crate) async fn idle(activity: Arc<Activity>, first: Duration, between: Duration) {
    loop {
        let deadline = if activity.in_flight.load(Ordering::Acquire) > 0 {
            // Busy: look again once a quiet spell could have run its course.
            Instant::now() + between
        } else {
            let since = activity.idle_since.load(Ordering::Acquire);
            let limit = if activity.served_any.load(Ordering::Relaxed) {
                between
            } else {
                first
            };
            let deadline = activity.opened + Duration::from_millis(since) + limit;
            if deadline <= Instant::now() {
                return;
            }
            deadline
        };
        tokio::time::sleep_until(deadline).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_first_request_and_the_gaps_between_have_their_own_limits() {
        let activity = Activity::new();
        let started = Instant::now();
        idle(
            Arc::clone(&activity),
            Duration::from_secs(10),
            Duration::from_secs(60),
        )
        .await;
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(10),
            "no first request"
        );

        let activity = Activity::new();
        let watch = tokio::spawn(idle(
            Arc::clone(&activity),
            Duration::from_secs(10),
            Duration::from_secs(60),
        ));
        let request = activity.begin();
        tokio::time::sleep(Duration::from_secs(500)).await;
        assert!(!watch.is_finished(), "a request in flight is never idle");
        drop(request);
        let ended = Instant::now();
        watch.await.expect("no panic");
        assert_eq!(
            ended.elapsed(),
            Duration::from_secs(60),
            "idle after a request"
        );
    }
}
