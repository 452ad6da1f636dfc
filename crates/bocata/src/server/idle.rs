//! Closing connections that hold the server without a request in flight: a client that
//! never sends its first byte, one that sends its head a byte at a time (slowloris), and
//! a keep-alive connection left idle. hyper has no idle timeout of its own, and the wait
//! for a connection's first bytes (to tell HTTP/1 from HTTP/2) has none at all.

use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What a connection's watchdog knows: how many requests are in flight, and how many
/// times one began or ended, in one atomic word (in flight in the low half, events in
/// the high half) so that a request's start and end are one atomic operation each.
/// Requests only count; the watchdog reads the clock, so a request costs no clock
/// reading.
#[derive(Debug, Default)]
pub(super) struct Activity(AtomicU64);

/// One request in flight.
const IN_FLIGHT: u64 = 1;
/// One request beginning or ending.
const EVENT: u64 = 1 << 32;

impl Activity {
    pub(crate) fn new() -> Arc<Self> {
        Arc::default()
    }

    /// Adds `n` to the word: with a load and a store when this task is its only
    /// writer (an atomic read-modify-write costs a request more than the rest of the
    /// counting together), atomically otherwise. The watchdog only reads it.
    fn add(&self, n: u64, alone: bool) {
        if alone {
            let word = self.0.load(Ordering::Relaxed);
            self.0.store(word.wrapping_add(n), Ordering::Release);
        } else {
            self.0.fetch_add(n, Ordering::AcqRel);
        }
    }

    /// Whether a request has begun on the connection.
    pub(super) fn begun(&self) -> bool {
        self.0.load(Ordering::Acquire) != 0
    }

    /// Whether a request is in flight.
    pub(super) fn busy(&self) -> bool {
        self.read().1
    }

    /// The events so far (they wrap around, which only equality needs), and whether a
    /// request is in flight.
    fn read(&self) -> (u64, bool) {
        let word = self.0.load(Ordering::Acquire);
        (word >> 32, word & (EVENT - 1) != 0)
    }
}

impl AsRef<Activity> for Activity {
    fn as_ref(&self) -> &Activity {
        self
    }
}

/// A request in flight on the connection whose [`Activity`] `owner` leads to, until
/// the guard is dropped (with the request's response body, so a long download is not
/// idle). The owner is whatever the request keeps of its connection anyway, so that
/// counting it costs no reference of its own.
#[derive(Debug)]
pub(super) struct InFlight<O: Deref<Target: AsRef<Activity>>> {
    owner: O,
    alone: bool,
}

impl<O: Deref<Target: AsRef<Activity>>> InFlight<O> {
    /// Marks a request in flight. `alone` says the connection's requests all begin and
    /// end on its own task (HTTP/1, where they come one after another), so that no
    /// other thread writes the count meanwhile.
    pub(super) fn begin(owner: O, alone: bool) -> Self {
        owner.as_ref().add(EVENT + IN_FLIGHT, alone);
        Self { owner, alone }
    }

    /// What the guard was made with.
    pub(super) fn owner(&self) -> &O {
        &self.owner
    }
}

impl<O: Deref<Target: AsRef<Activity>>> Drop for InFlight<O> {
    fn drop(&mut self) {
        // Adds 2^32 - 1: the in-flight half (at least 1, for this guard's request)
        // goes down by one, and its carry is the event.
        self.owner.as_ref().add(EVENT - IN_FLIGHT, self.alone);
    }
}

/// Completes when the connection should be closed for idleness: when no request has
/// begun within `first` of its opening, or, after that, when a whole `between` went by
/// with no request in flight and none beginning or ending. A connection left idle is
/// so closed between `between` and twice `between` after its last request. A zero
/// limit is no limit.
pub(super) async fn idle(activity: Arc<Activity>, first: Duration, between: Duration) {
    if !first.is_zero() {
        tokio::time::sleep(first).await;
        if !activity.begun() {
            return;
        }
    }
    if between.is_zero() {
        return std::future::pending().await;
    }
    let (mut seen, _) = activity.read();
    loop {
        tokio::time::sleep(between).await;
        let (now, busy) = activity.read();
        if now == seen && !busy {
            return;
        }
        seen = now;
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;

    const FIRST: Duration = Duration::from_secs(10);
    const BETWEEN: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn a_connection_without_a_first_request_is_closed_after_the_first_limit() {
        let started = Instant::now();
        idle(Activity::new(), FIRST, BETWEEN).await;
        assert_eq!(started.elapsed(), FIRST);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_flight_is_never_idle_and_idleness_after_it_is_bounded() {
        let activity = Activity::new();
        let watch = tokio::spawn(idle(Arc::clone(&activity), FIRST, BETWEEN));
        let request = InFlight::begin(Arc::clone(&activity), false);
        tokio::time::sleep(Duration::from_secs(500)).await;
        assert!(!watch.is_finished(), "a request in flight is never idle");
        drop(request);
        let ended = Instant::now();
        watch.await.expect("no panic");
        let idle_for = ended.elapsed();
        assert!(
            (BETWEEN..=2 * BETWEEN).contains(&idle_for),
            "closed {idle_for:?} after the last request"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_limit_is_no_limit() {
        let waiting = tokio::time::timeout(
            Duration::from_secs(3600),
            idle(Activity::new(), Duration::ZERO, Duration::ZERO),
        );
        assert!(waiting.await.is_err(), "never closed, and no spinning");
        let activity = Activity::new();
        let watch = tokio::spawn(idle(Arc::clone(&activity), Duration::ZERO, BETWEEN));
        drop(InFlight::begin(Arc::clone(&activity), false));
        tokio::time::sleep(BETWEEN * 3).await;
        assert!(watch.is_finished(), "the keep-alive limit still holds");
    }

    #[tokio::test(start_paused = true)]
    async fn requests_that_keep_coming_keep_the_connection() {
        for alone in [false, true] {
            let activity = Activity::new();
            let watch = tokio::spawn(idle(Arc::clone(&activity), FIRST, BETWEEN));
            for _ in 0..20 {
                drop(InFlight::begin(Arc::clone(&activity), alone));
                tokio::time::sleep(BETWEEN / 2).await;
                assert!(
                    !watch.is_finished(),
                    "a request every half period is not idle (alone: {alone})"
                );
            }
        }
    }

    #[test]
    fn requests_counted_by_their_own_task_count_like_the_others() {
        for alone in [false, true] {
            let activity = Activity::new();
            let first = InFlight::begin(Arc::clone(&activity), alone);
            let second = InFlight::begin(Arc::clone(&activity), alone);
            assert_eq!(activity.read(), (2, true));
            drop(first);
            assert_eq!(activity.read(), (3, true), "one still in flight");
            drop(second);
            assert_eq!(activity.read(), (4, false), "alone: {alone}");
        }
    }
}
