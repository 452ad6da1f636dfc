//! The connection's socket, with a deadline on every write the client keeps waiting.
//!
//! When the client stops reading, the socket's buffers fill and a write cannot go on;
//! from then on the client has the response's chunk timeout (and what is left of its
//! complete timeout) to take something, or the write fails and hyper closes the
//! connection. This covers every response on an HTTP/1 connection, whatever its body
//! (fixed, file, stream, an error page), the head included, and an upgraded WebSocket
//! too; on HTTP/2 it closes a connection whose client reads nothing at all. A write
//! that goes through costs one comparison; the clock is read only when one cannot.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use super::exchange::Exchange;
use super::slots::Slot;
use crate::timer::Timer;

/// `io`, whose writes must make progress within the limits of `exchange`, holding the
/// connection's `slot` for as long as it is open (after a WebSocket upgrade too).
#[derive(Debug)]
pub(super) struct Watched<IO> {
    io: IO,
    exchange: Arc<Exchange>,
    _slot: Slot,
    /// Since when the socket has refused to take more.
    blocked: Option<Instant>,
    timer: Timer,
}

impl<IO> Watched<IO> {
    pub(super) fn new(io: IO, exchange: Arc<Exchange>, slot: Slot) -> Self {
        Self {
            io,
            exchange,
            _slot: slot,
            blocked: None,
            timer: Timer::default(),
        }
    }

    /// What to answer when a write cannot go on: wait, or fail once the client has
    /// kept it waiting past the limit.
    fn blocked<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let since = *self.blocked.get_or_insert_with(Instant::now);
        if let Some((at, expired)) = self.exchange.deadline(since) {
            ready!(self.timer.poll_until(cx, at));
            tracing::warn!(target: "bocata::server", "closing the connection: {expired}");
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, expired)));
        }
        Poll::Pending
    }

    /// Notes the outcome of a write.
    #[inline(always)]
    fn wrote<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Pending => self.blocked(cx),
            ready => {
                self.blocked = None;
                ready
            }
        }
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Watched<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Watched<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_flush(cx);
        self.wrote(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.io).poll_shutdown(cx);
        self.wrote(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::context::StreamTimeouts;

    fn exchange(chunk: u64) -> Arc<Exchange> {
        let limits = StreamTimeouts {
            chunk: Some(Duration::from_secs(chunk)),
            complete: None,
        };
        Exchange::new(limits, Instant::now())
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_never_reads_fails_the_write_after_the_chunk_timeout() {
        let (ours, _theirs) = tokio::io::duplex(16);
        let mut watched = Watched::new(ours, exchange(5), Slot::alone());
        let started = Instant::now();
        let err = watched
            .write_all(&[0; 1024])
            .await
            .expect_err("the peer never reads");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert!(err.to_string().contains("chunk timeout"), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_keeps_reading_is_never_cut() {
        let (ours, mut theirs) = tokio::io::duplex(16);
        let mut watched = Watched::new(ours, exchange(5), Slot::alone());
        let reader = tokio::spawn(async move {
            let mut total = 0;
            let mut buf = [0; 8];
            while total < 1024 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                total += tokio::io::AsyncReadExt::read(&mut theirs, &mut buf)
                    .await
                    .expect("read");
            }
        });
        watched
            .write_all(&[0; 1024])
            .await
            .expect("a slow but steady reader gets everything");
        reader.await.expect("no panic");
    }
}
