//! Time limits on response bodies (Vibora's `chunk_timeout` and `complete_timeout`).
//!
//! Finishing a response settles its limits: its own, or the app's. A body that is still
//! producing when its complete timeout passes ends itself with an error (here). A client
//! that stops taking the body is noticed by the server instead, where the wait shows
//! (the connection's socket, an HTTP/2 stream's task), since nothing polls a body that
//! the client is not taking.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::Instant;

use super::stream::ChunkStream;
use crate::error::BoxError;
use crate::timer::Timer;

/// Which limit a body ran out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Expired {
    #[error("the client took longer than the chunk timeout ({0:?}) to accept a chunk")]
    Chunk(Duration),
    #[error("the body took longer than the complete timeout ({0:?})")]
    Complete(Duration),
}

/// `stream`, ended with an error if it is still going after `complete` (none or zero:
/// no limit, and no wrapper).
pub(super) fn limit(stream: ChunkStream, complete: Option<Duration>) -> ChunkStream {
    match complete.filter(|d| !d.is_zero()) {
        Some(complete) => Box::pin(Limited {
            inner: stream,
            complete,
            at: Instant::now() + complete,
            timer: Timer::default(),
            done: false,
        }),
        None => stream,
    }
}

struct Limited {
    inner: ChunkStream,
    complete: Duration,
    at: Instant,
    timer: Timer,
    done: bool,
}

impl Stream for Limited {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let at = self.at;
        if self.timer.poll_until(cx, at).is_ready() {
            self.done = true;
            let expired = Expired::Complete(self.complete);
            tracing::warn!(target: "bocata::stream", "ending the response: {expired}");
            return Poll::Ready(Some(Err(expired.into())));
        }
        let item = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(None | Some(Err(_))) = &item {
            self.done = true;
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test(start_paused = true)]
    async fn complete_timeout_ends_a_body_that_is_still_going() {
        let endless = futures_util::stream::repeat_with(|| Ok(Bytes::from_static(b"x"))).then(
            |item| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                item
            },
        );
        let mut body = limit(Box::pin(endless), Some(Duration::from_millis(100)));
        let mut chunks = 0;
        let outcome = loop {
            match body.next().await {
                Some(Ok(_)) => chunks += 1,
                Some(Err(e)) => break e.to_string(),
                None => panic!("an endless stream ended"),
            }
        };
        assert!(outcome.contains("complete timeout"), "{outcome}");
        assert!((9..=11).contains(&chunks), "{chunks}");
        assert!(body.next().await.is_none(), "nothing after the error");
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_body_is_ended_on_time_too() {
        let silent = futures_util::stream::pending::<Result<Bytes, BoxError>>();
        let started = tokio::time::Instant::now();
        let mut body = limit(Box::pin(silent), Some(Duration::from_secs(3)));
        let outcome = body.next().await.expect("an item");
        assert!(outcome.is_err());
        assert_eq!(started.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_ends_in_time_is_untouched() {
        let chunks = futures_util::stream::iter([Ok(Bytes::from_static(b"a"))]);
        let body = limit(Box::pin(chunks), Some(Duration::from_secs(1)));
        let items: Vec<_> = body.collect().await;
        assert_eq!(items.len(), 1);
        assert!(items[0].is_ok());
    }

    #[test]
    fn zero_or_none_is_no_limit_and_no_wrapper() {
        for complete in [None, Some(Duration::ZERO)] {
            let chunks: ChunkStream = Box::pin(futures_util::stream::empty());
            let before = std::ptr::addr_of!(*chunks).cast::<()>();
            let limited = limit(chunks, complete);
            assert_eq!(std::ptr::addr_of!(*limited).cast::<()>(), before);
        }
    }
}
