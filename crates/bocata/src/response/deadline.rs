//! Time limits on streamed bodies (Vibora's `chunk_timeout` and `complete_timeout`).
//!
//! A streamed body is wrapped so that it knows when it handed the connection a chunk
//! and when the connection came back for the next one. A client that stops reading
//! fills the socket's buffers, the connection stops asking for chunks, and nothing polls
//! the body any more; so a small watchdog task, not the body, notices the expired limit
//! and closes the connection.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::stream::ChunkStream;
use crate::error::BoxError;

/// The limits on one streamed body. `None` (or zero) disables a limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct StreamTimeouts {
    /// How long the client may take to accept each chunk.
    pub(crate) chunk: Option<Duration>,
    /// How long the whole body may take.
    pub(crate) complete: Option<Duration>,
}

impl StreamTimeouts {
    /// Drops zero durations, which mean "no limit".
    pub(crate) fn normalized(self) -> Self {
        let keep = |d: Option<Duration>| d.filter(|d| !d.is_zero());
        Self {
            chunk: keep(self.chunk),
            complete: keep(self.complete),
        }
    }
}

/// Which limit a body ran out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Expired {
    #[error("the client took longer than the chunk timeout ({0:?}) to accept a chunk")]
    Chunk(Duration),
    #[error("the body took longer than the complete timeout ({0:?})")]
    Complete(Duration),
}

/// What the body and its watchdog share.
struct Watch {
    started: Instant,
    limits: StreamTimeouts,
    /// Nanoseconds after `started` at which the last chunk was handed over and not yet
    /// taken, plus one; zero when the connection is not holding a chunk of ours.
    handed_over: AtomicU64,
    finished: AtomicBool,
    changed: Notify,
}

impl Watch {
    fn now_offset(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX - 1) + 1
    }

    /// The limit that has run out at `now`, if any.
    fn check(&self, now: Instant) -> Option<Expired> {
        if let Some(complete) = self.limits.complete {
            if now >= self.started + complete {
                return Some(Expired::Complete(complete));
            }
        }
        let chunk = self.limits.chunk?;
        let since = self.handed_over.load(Ordering::Acquire);
        (since != 0 && now >= self.started + Duration::from_nanos(since - 1) + chunk)
            .then_some(Expired::Chunk(chunk))
    }

    /// When the next limit runs out, as things stand.
    fn next_deadline(&self) -> Option<Instant> {
        let complete = self.limits.complete.map(|c| self.started + c);
        let since = self.handed_over.load(Ordering::Acquire);
        let chunk = self
            .limits
            .chunk
            .filter(|_| since != 0)
            .map(|c| self.started + Duration::from_nanos(since - 1) + c);
        match (complete, chunk) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Wraps `stream` in `limits`. With a `connection`, a watchdog closes it when a limit
/// runs out while the connection is stalled; in any case the body itself ends with an
/// error the next time it is polled after a limit ran out.
pub(crate) fn limit(
    stream: ChunkStream,
    limits: StreamTimeouts,
    connection: Option<&CancellationToken>,
) -> ChunkStream {
    let limits = limits.normalized();
    if limits == StreamTimeouts::default() {
        return stream;
    }
    let watch = Arc::new(Watch {
        started: Instant::now(),
        limits,
        handed_over: AtomicU64::new(0),
        finished: AtomicBool::new(false),
        changed: Notify::new(),
    });
    if let Some(connection) = connection {
        tokio::spawn(watchdog(Arc::clone(&watch), connection.clone()));
    }
    Box::pin(Limited {
        inner: stream,
        watch,
        done: false,
    })
}

async fn watchdog(watch: Arc<Watch>, connection: CancellationToken) {
    loop {
        let changed = watch.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if watch.finished.load(Ordering::Acquire) {
            return;
        }
        let Some(deadline) = watch.next_deadline() else {
            changed.await;
            continue;
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {
                if let Some(expired) = watch.check(Instant::now()) {
                    if !watch.finished.load(Ordering::Acquire) {
                        tracing::warn!(target: "bocata::stream", "closing the connection: {expired}");
                        connection.cancel();
                    }
                    return;
                }
            }
            () = &mut changed => {}
            () = connection.cancelled() => return,
        }
    }
}

struct Limited {
    inner: ChunkStream,
    watch: Arc<Watch>,
    done: bool,
}

impl Stream for Limited {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        // Being polled means the connection took the previous chunk.
        self.watch.handed_over.store(0, Ordering::Release);
        if let Some(expired) = self.watch.check(Instant::now()) {
            self.done = true;
            tracing::warn!(target: "bocata::stream", "ending the response: {expired}");
            return Poll::Ready(Some(Err(expired.into())));
        }
        let item = self.inner.as_mut().poll_next(cx);
        match &item {
            Poll::Ready(Some(Ok(_))) => {
                let now = self.watch.now_offset();
                self.watch.handed_over.store(now, Ordering::Release);
                self.watch.changed.notify_one();
            }
            Poll::Ready(_) => self.done = true,
            Poll::Pending => {}
        }
        item
    }
}

impl Drop for Limited {
    fn drop(&mut self) {
        self.watch.finished.store(true, Ordering::Release);
        self.watch.changed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test(start_paused = true)]
    async fn complete_timeout_ends_a_body_that_is_still_polled() {
        let endless = futures_util::stream::repeat_with(|| Ok(Bytes::from_static(b"x"))).then(
            |item| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                item
            },
        );
        let limits = StreamTimeouts {
            chunk: None,
            complete: Some(Duration::from_millis(100)),
        };
        let mut body = limit(Box::pin(endless), limits, None);
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
    async fn the_watchdog_closes_a_stalled_connection() {
        let chunks = futures_util::stream::repeat_with(|| Ok(Bytes::from_static(b"x")));
        let limits = StreamTimeouts {
            chunk: Some(Duration::from_secs(5)),
            complete: None,
        };
        let connection = CancellationToken::new();
        let mut body = limit(Box::pin(chunks), limits, Some(&connection));
        assert!(body.next().await.is_some(), "one chunk handed over");
        // The connection never comes back for the next chunk.
        tokio::time::timeout(Duration::from_secs(6), connection.cancelled())
            .await
            .expect("closed after the chunk timeout");
    }

    #[tokio::test(start_paused = true)]
    async fn a_producer_that_takes_its_time_is_not_the_clients_fault() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, BoxError>>(1);
        let limits = StreamTimeouts {
            chunk: Some(Duration::from_secs(1)),
            complete: None,
        };
        let connection = CancellationToken::new();
        let body = limit(Box::pin(tokio_stream_from(rx)), limits, Some(&connection));
        let reader = tokio::spawn(body.collect::<Vec<_>>());
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(5)).await;
            tx.send(Ok(Bytes::from_static(b"slow")))
                .await
                .expect("send");
        }
        drop(tx);
        let received = reader.await.expect("no panic");
        assert_eq!(received.len(), 3);
        assert!(received.iter().all(Result::is_ok));
        assert!(!connection.is_cancelled());
    }

    fn tokio_stream_from(
        mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, BoxError>>,
    ) -> impl Stream<Item = Result<Bytes, BoxError>> {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }

    #[test]
    fn zero_means_no_limit() {
        let limits = StreamTimeouts {
            chunk: Some(Duration::ZERO),
            complete: Some(Duration::ZERO),
        };
        assert_eq!(limits.normalized(), StreamTimeouts::default());
    }
}
