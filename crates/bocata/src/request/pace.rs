//! Deadlines on a request body read as a stream ([`Request::stream`], multipart
//! uploads), where the body may be too large to take in whole within `body_timeout`.
//!
//! Time counts only while the view waits for the body: a view that writes each chunk
//! to a slow disk is not the client's fault. No single wait may last longer than
//! `body_timeout`, and the waits together may last `body_timeout` plus one second for
//! every `body_min_rate` bytes received, so a client that trickles a byte now and then
//! is cut off as surely as one that sends nothing, while a large upload at a sound pace
//! never is.
//!
//! [`Request::stream`]: crate::Request::stream

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::Instant;

use super::error::BodyError;
use crate::context::BodyDeadlines;
use crate::error::BoxError;
use crate::timer::Timer;

/// `inner`, failing with a [`BodyError`] once the client keeps the view waiting past
/// `deadlines`.
pub(super) struct Paced<B> {
    inner: B,
    timeout: Duration,
    min_rate: Option<u64>,
    received: u64,
    /// The time spent waiting before the current wait.
    waited: Duration,
    /// When the current wait began.
    waiting_since: Option<Instant>,
    timer: Timer,
}

impl<B> Paced<B> {
    /// `inner` under `deadlines`, or `None` when there is no timeout to keep.
    pub(crate) fn new(inner: B, deadlines: BodyDeadlines) -> Result<Self, B> {
        let Some(timeout) = deadlines.timeout else {
            return Err(inner);
        };
        Ok(Self {
            inner,
            timeout,
            min_rate: deadlines.min_rate.filter(|rate| *rate > 0),
            received: 0,
            waited: Duration::ZERO,
            waiting_since: None,
            timer: Timer::default(),
        })
    }

    /// When the wait that began at `since` runs out, and the error it gives.
    fn deadline(&self, since: Instant) -> (Instant, BodyError) {
        let Some(rate) = self.min_rate else {
            return (since + self.timeout, BodyError::TimedOut(self.timeout));
        };
        let earned = Duration::from_nanos(
            u64::try_from(u128::from(self.received) * 1_000_000_000 / u128::from(rate))
                .unwrap_or(u64::MAX),
        );
        let left = (self.timeout + earned).saturating_sub(self.waited);
        if left < self.timeout {
            (since + left, BodyError::TooSlow { rate })
        } else {
            (since + self.timeout, BodyError::TimedOut(self.timeout))
        }
    }
}

impl<B> http_body::Body for Paced<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Pending => {
                let since = *this.waiting_since.get_or_insert_with(Instant::now);
                let (at, error) = this.deadline(since);
                ready!(this.timer.poll_until(cx, at));
                Poll::Ready(Some(Err(error.into())))
            }
            Poll::Ready(frame) => {
                if let Some(since) = this.waiting_since.take() {
                    this.waited += since.elapsed();
                }
                if let Some(Ok(data)) = frame.as_ref().map(|f| f.as_ref().map(Frame::data_ref)) {
                    this.received += data.map_or(0, |d| d.len() as u64);
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use http_body_util::BodyExt;
    use tokio::time::Sleep;

    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    /// A body whose pieces arrive at the given times after the start.
    struct Scripted {
        pieces: VecDeque<(Duration, &'static [u8])>,
        started: Instant,
        timer: Pin<Box<Sleep>>,
    }

    impl Scripted {
        fn new(pieces: &[(u64, &'static [u8])]) -> Self {
            let started = Instant::now();
            Self {
                pieces: pieces
                    .iter()
                    .map(|(at, bytes)| (Duration::from_secs(*at), *bytes))
                    .collect(),
                started,
                timer: Box::pin(tokio::time::sleep_until(started)),
            }
        }
    }

    impl http_body::Body for Scripted {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            let Some(&(at, bytes)) = self.pieces.front() else {
                return Poll::Ready(None);
            };
            let at = self.started + at;
            self.timer.as_mut().reset(at);
            match self.timer.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.pieces.pop_front();
                    Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(bytes)))))
                }
                Poll::Pending => Poll::Pending,
            }
        }
    }

    fn paced(pieces: &[(u64, &'static [u8])], rate: Option<u64>) -> Paced<Scripted> {
        let deadlines = BodyDeadlines {
            timeout: Some(30 * SECOND),
            min_rate: rate,
        };
        Paced::new(Scripted::new(pieces), deadlines).unwrap_or_else(|_| panic!("a timeout"))
    }

    async fn outcome(body: Paced<Scripted>) -> (Duration, Result<usize, String>) {
        let started = Instant::now();
        let collected = body.collect().await;
        let result = collected
            .map(|c| c.to_bytes().len())
            .map_err(|e| e.to_string());
        (started.elapsed(), result)
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stops_is_cut_after_the_timeout() {
        let (after, result) = outcome(paced(&[(1, b"a"), (100, b"b")], None)).await;
        assert_eq!(after, 31 * SECOND);
        let message = result.expect_err("cut off");
        assert!(message.contains("30s"), "{message}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_is_cut_once_it_falls_behind_the_pace() {
        // A byte every five seconds, forever: never a wait of 30 s, but far below
        // 1 KiB/s, so cut once the first 30 s (and the 6 ms its bytes earned) are used.
        let pieces: Vec<(u64, &'static [u8])> = (1..100).map(|n| (n * 5, &b"x"[..])).collect();
        let (after, result) = outcome(paced(&pieces, Some(1024))).await;
        let message = result.expect_err("cut off");
        assert!(message.contains("1024 bytes a second"), "{message}");
        assert!((30 * SECOND..31 * SECOND).contains(&after), "{after:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_large_body_at_a_sound_pace_is_never_cut() {
        // 10 KiB every 5 s (2 KiB/s) for ten minutes.
        const PIECE: &[u8] = &[b'x'; 10 * 1024];
        let pieces: Vec<(u64, &'static [u8])> = (1..=120).map(|n| (n * 5, PIECE)).collect();
        let (after, result) = outcome(paced(&pieces, Some(1024))).await;
        assert_eq!(result, Ok(120 * 10 * 1024));
        assert_eq!(after, 600 * SECOND);
    }

    #[tokio::test(start_paused = true)]
    async fn time_the_view_spends_elsewhere_does_not_count() {
        let mut body = paced(&[(0, b"a"), (3605, b"b")], Some(1024));
        assert!(body.frame().await.is_some());
        // The view is busy for an hour, not waiting on the client; then it waits five
        // seconds for the next piece.
        tokio::time::advance(3600 * SECOND).await;
        let next = body.frame().await.expect("a frame");
        assert!(next.is_ok(), "not the client's fault");
    }

    #[tokio::test]
    async fn no_timeout_no_wrapper() {
        let deadlines = BodyDeadlines {
            timeout: None,
            min_rate: Some(1),
        };
        assert!(Paced::new((), deadlines).is_err());
    }
}
