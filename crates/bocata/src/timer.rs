//! One timer for a deadline that moves: the limits on what a client must send or take
//! are enforced where the wait is seen, by a future or an I/O type that polls this.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::time::{Instant, Sleep};

/// One timer, set again whenever the deadline it waits for moves, allocated the first
/// time a deadline is needed.
#[derive(Debug, Default)]
pub(crate) struct Timer(Option<Pin<Box<Sleep>>>);

impl Timer {
    /// Ready once `at` has passed.
    pub(crate) fn poll_until(&mut self, cx: &mut Context<'_>, at: Instant) -> Poll<()> {
        let sleep = self
            .0
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if sleep.deadline() != at {
            sleep.as_mut().reset(at);
        }
        sleep.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[tokio::test(start_paused = true)]
    async fn the_timer_follows_a_moving_deadline() {
        let mut timer = Timer::default();
        let start = Instant::now();
        std::future::poll_fn(|cx| {
            assert!(timer.poll_until(cx, start + 10 * SECOND).is_pending());
            Poll::Ready(())
        })
        .await;
        std::future::poll_fn(|cx| timer.poll_until(cx, start + 2 * SECOND)).await;
        assert_eq!(Instant::now(), start + 2 * SECOND);
    }
}
