//! The answers to pipelined HTTP/1 requests, written to the socket together.
//!
//! A client that pipelines sends several requests before it reads an answer. hyper
//! parses them from its read buffer one after the other and writes each answer with a
//! system call of its own. (Its `pipeline_flush` setting would join them, but it also
//! holds an answer back while the next request has only partly arrived.) [`Pipelined`]
//! joins them without that flaw.
//!
//! A connection is known to pipeline once hyper begins an answer with no read since
//! its last write: that request was already in hand. From then on the answers of
//! the batch are held, and each later read that brings two complete heads or more
//! starts holding again, from its first answer. While answers are held, hyper's
//! flushes are put off; everything held is written in one go
//!
//! - at a flush with nothing new held since the one before: the next answer is not
//!   ready (its view is still working, or its request still arriving);
//! - at a read, once a read has found that the client sent nothing more (hyper looks
//!   for more, or for the client's close, before it writes the answer to the last
//!   request it has, so that answer still joins the others);
//! - when what is held would pass [`HOLD_AT_MOST`] bytes, and at shutdown.
//!
//! Each time a flush is put off, or a read finds nothing while answers are held, the
//! task is woken, so one of these comes on its next poll at the latest. Only a write
//! that begins an answer starts holding, so on a connection that does not pipeline a
//! body written after its head (a stream, a file) is never held. After an answer that
//! switches protocols nothing is held again: an upgraded connection (a WebSocket)
//! passes its frames straight through.
//!
//! A connection that does not pipeline pays a few flag tests per request: its reads
//! are not searched and its writes are not copied.

use std::io;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll, ready};

use memchr::memmem::Finder;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most that is held before it is written out.
const HOLD_AT_MOST: usize = 32 * 1024;

/// How far into a read the ends of heads are looked for: pipelined requests without
/// bodies are small, and a larger read is mostly a body.
const LOOK_AT_MOST: usize = 8 * 1024;

/// The end of a request's head.
static HEAD_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\r\n\r\n"));

/// How every HTTP/1 answer begins.
const ANSWER: &[u8] = b"HTTP/1.";

/// How an answer that upgrades the connection begins.
const SWITCHING: &[u8] = b"HTTP/1.1 101 ";

/// An HTTP/1 connection's `io`, whose answers to pipelined requests are joined.
#[derive(Debug)]
pub(super) struct Pipelined<IO> {
    io: IO,
    /// Written by hyper, not yet passed on; `held[..sent]` has been.
    held: Vec<u8>,
    sent: usize,
    /// The client has pipelined on this connection: its reads are searched for heads.
    pipelines: bool,
    /// hyper wrote since the last read.
    wrote: bool,
    /// Writes are held.
    holding: bool,
    /// Something was held since the last flush.
    fresh: bool,
    /// Something was held and is not yet written and flushed.
    owed: bool,
    /// A read found nothing while something was held.
    waited: bool,
}

impl<IO> Pipelined<IO> {
    pub(super) fn new(io: IO) -> Self {
        Self {
            io,
            held: Vec::new(),
            sent: 0,
            pipelines: false,
            wrote: false,
            holding: false,
            fresh: false,
            owed: false,
            waited: false,
        }
    }

    /// Whether a write of `len` bytes that begins with `first` is held: writes are
    /// held, or it begins an answer to a request hyper had in hand since its last
    /// write, and there is room. Once there is none, writes are no longer held.
    fn holds(&mut self, first: &[u8], len: usize) -> bool {
        let wrote = std::mem::replace(&mut self.wrote, true);
        if first.starts_with(SWITCHING) {
            self.pipelines = false;
            self.holding = false;
            return false;
        }
        if !self.holding && wrote && first.starts_with(ANSWER) {
            self.pipelines = true;
            self.holding = true;
        }
        if self.holding && self.held.len() + len <= HOLD_AT_MOST {
            self.fresh = true;
            self.owed = true;
            return true;
        }
        self.holding = false;
        false
    }
}

impl<IO: AsyncWrite + Unpin> Pipelined<IO> {
    /// Writes out what is held.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.held.len() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &self.held[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.held.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }

    /// Writes out what is held and flushes the socket.
    fn poll_release(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.holding = false;
        ready!(self.poll_drain(cx))?;
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        self.owed = false;
        self.fresh = false;
        self.waited = false;
        Poll::Ready(Ok(()))
    }
}

/// Whether `read` holds the ends of two request heads (or a head and a body with the
/// same four bytes in it, which only costs a flush put off).
fn two_heads(read: &[u8]) -> bool {
    let look = &read[..read.len().min(LOOK_AT_MOST)];
    HEAD_END
        .find(look)
        .is_some_and(|end| HEAD_END.find(&look[end + 4..]).is_some())
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Pipelined<IO> {
    /// A read on a connection that pipelines or owes a write.
    #[inline(never)]
    fn poll_read_pipelined(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // The client was found to have sent nothing more while answers were held: out
        // they go. A socket that takes nothing now does not stop the read (its
        // readiness wakes the task, and the next flush goes on with them).
        if self.owed
            && self.waited
            && let Poll::Ready(Err(e)) = self.poll_release(cx)
        {
            return Poll::Ready(Err(e));
        }
        let start = buf.filled().len();
        match Pin::new(&mut self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                self.wrote = false;
                self.holding = self.pipelines && two_heads(&buf.filled()[start..]);
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                // hyper looks for more (or for the client's close) before it writes
                // the answer to the last request it has: that answer can still join
                // the others if what is held waits for the task's next poll.
                if self.owed && !self.waited {
                    self.waited = true;
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            error => error,
        }
    }

    /// A write that may be held, or must wait for what is.
    #[inline(never)]
    fn poll_write_held(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.first().map_or(&[][..], |buf| &**buf);
        let len = bufs.iter().map(|buf| buf.len()).sum();
        if self.holds(first, len) {
            for buf in bufs {
                self.held.extend_from_slice(buf);
            }
            return Poll::Ready(Ok(len));
        }
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    /// A flush put off while answers are held, or one that writes them out.
    #[inline(never)]
    fn poll_flush_held(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.holding && self.fresh {
            self.fresh = false;
            cx.waker().wake_by_ref();
            return Poll::Ready(Ok(()));
        }
        self.poll_release(cx)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for Pipelined<IO> {
    #[inline]
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pipelines || this.owed {
            return this.poll_read_pipelined(cx, buf);
        }
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        if read.is_ready() {
            this.wrote = false;
        }
        read
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Pipelined<IO> {
    #[inline]
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.wrote || this.holding || this.owed || this.pipelines {
            return this.poll_write_held(cx, &[io::IoSlice::new(buf)]);
        }
        this.wrote = true;
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    #[inline]
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.wrote || this.holding || this.owed || this.pipelines {
            return this.poll_write_held(cx, bufs);
        }
        this.wrote = true;
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    #[inline]
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.holding || this.owed {
            return this.poll_flush_held(cx);
        }
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_release(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::Full;
    use hyper::server::conn::http1;
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
    use tokio::sync::Notify;

    use super::*;

    /// The client's end of a connection whose server counts the writes reaching its
    /// socket. The server answers each request with its path, `/big` with 40 KiB, and
    /// `/slow` only once `slow` is notified.
    struct Served {
        client: DuplexStream,
        writes: Arc<AtomicUsize>,
        slow: Arc<Notify>,
    }

    /// A socket that counts the writes it takes.
    struct Counted {
        io: DuplexStream,
        writes: Arc<AtomicUsize>,
    }

    impl AsyncRead for Counted {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Counted {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let written = ready!(Pin::new(&mut self.io).poll_write(cx, buf))?;
            self.writes.fetch_add(1, Ordering::Relaxed);
            eprintln!("WRITE {written}");
            Poll::Ready(Ok(written))
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_shutdown(cx)
        }
    }

    impl Served {
        async fn send(&mut self, requests: &str) {
            self.client
                .write_all(requests.as_bytes())
                .await
                .expect("write");
        }
    }

    fn serve() -> Served {
        let (client, server) = tokio::io::duplex(256 * 1024);
        let writes = Arc::new(AtomicUsize::new(0));
        let slow = Arc::new(Notify::new());
        let socket = Counted {
            io: server,
            writes: Arc::clone(&writes),
        };
        let released = Arc::clone(&slow);
        let service = hyper::service::service_fn(move |request: http::Request<_>| {
            let released = Arc::clone(&released);
            async move {
                let path = request.uri().path().to_owned();
                if path == "/slow" {
                    released.notified().await;
                }
                let body = if path == "/big" {
                    Bytes::from(vec![b'x'; 40 * 1024])
                } else {
                    Bytes::from(path)
                };
                Ok::<_, Infallible>(http::Response::new(Full::new(body)))
            }
        });
        tokio::spawn(
            http1::Builder::new().serve_connection(TokioIo::new(Pipelined::new(socket)), service),
        );
        Served {
            client,
            writes,
            slow,
        }
    }

    fn get(path: &str) -> String {
        format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n")
    }

    const CLOSE: &str = "GET /last HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";

    /// Reads until what has arrived ends with `end`.
    async fn read_until(client: &mut DuplexStream, end: &str) -> String {
        let mut arrived = Vec::new();
        let reading = async {
            while !arrived.ends_with(end.as_bytes()) {
                let mut chunk = [0; 4096];
                let n = client.read(&mut chunk).await.expect("read");
                assert!(n > 0, "closed before {end:?}");
                arrived.extend_from_slice(&chunk[..n]);
            }
        };
        tokio::time::timeout(Duration::from_secs(60), reading)
            .await
            .unwrap_or_else(|_| panic!("{end:?} never arrived"));
        String::from_utf8(arrived).expect("text")
    }

    async fn read_to_end(client: &mut DuplexStream) -> String {
        let mut rest = String::new();
        tokio::time::timeout(Duration::from_secs(60), client.read_to_string(&mut rest))
            .await
            .expect("the server closes the connection")
            .expect("read");
        rest
    }

    fn bodies(answers: &str) -> Vec<&str> {
        answers
            .split("HTTP/1.1 200 OK")
            .skip(1)
            .map(|answer| answer.split("\r\n\r\n").nth(1).unwrap_or_default())
            .collect()
    }

    #[tokio::test]
    async fn the_answers_to_pipelined_requests_go_out_together() {
        let mut served = serve();
        // The first batch shows the client pipelines: its first answer has gone out
        // by then, and the other fifteen go out together.
        let first: String = (0..16).map(|n| get(&format!("/{n}"))).collect();
        served.send(&first).await;
        let answers = read_until(&mut served.client, "/15").await;
        let expected: Vec<String> = (0..16).map(|n| format!("/{n}")).collect();
        assert_eq!(bodies(&answers), expected);
        assert_eq!(served.writes.load(Ordering::Relaxed), 2, "{answers}");
        // Each later batch goes out in one write.
        let mut second: String = (16..31).map(|n| get(&format!("/{n}"))).collect();
        second.push_str(CLOSE);
        served.send(&second).await;
        let answers = read_to_end(&mut served.client).await;
        let mut expected: Vec<String> = (16..31).map(|n| format!("/{n}")).collect();
        expected.push("/last".into());
        assert_eq!(bodies(&answers), expected);
        assert_eq!(served.writes.load(Ordering::Relaxed), 3, "{answers}");
    }

    #[tokio::test]
    async fn a_request_on_its_own_is_answered_at_once() {
        let mut served = serve();
        for n in 0..3 {
            let path = format!("/{n}");
            served.send(&get(&path)).await;
            read_until(&mut served.client, &path).await;
        }
        assert_eq!(served.writes.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn an_answer_is_not_held_for_a_view_still_working() {
        let mut served = serve();
        // The answer to `/fast` is held: the connection is seen to pipeline.
        let requests = get("/a") + &get("/fast") + &get("/slow") + CLOSE;
        served.send(&requests).await;
        let first = read_until(&mut served.client, "/fast").await;
        assert_eq!(bodies(&first), ["/a", "/fast"]);
        served.slow.notify_one();
        let rest = read_to_end(&mut served.client).await;
        assert_eq!(bodies(&rest), ["/slow", "/last"]);
    }

    #[tokio::test]
    async fn an_answer_is_not_held_for_a_request_still_arriving() {
        let mut served = serve();
        let requests = get("/a") + &get("/b") + "GET /c HT";
        served.send(&requests).await;
        let first = read_until(&mut served.client, "/b").await;
        assert_eq!(bodies(&first), ["/a", "/b"]);
        // Once the connection is known to pipeline, the first answer is held too.
        let requests = "TP/1.1\r\nhost: x\r\n\r\n".to_owned() + &get("/d") + "GET /e HT";
        served.send(&requests).await;
        let second = read_until(&mut served.client, "/d").await;
        assert_eq!(bodies(&second), ["/c", "/d"]);
        let rest = "TP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
        served.send(rest).await;
        assert_eq!(bodies(&read_to_end(&mut served.client).await), ["/e"]);
    }

    #[tokio::test]
    async fn an_answer_larger_than_what_is_held_keeps_its_place() {
        let mut served = serve();
        let requests = get("/a") + &get("/b") + &get("/big") + &get("/c") + CLOSE;
        served.send(&requests).await;
        let answers = read_to_end(&mut served.client).await;
        let big = "x".repeat(40 * 1024);
        assert_eq!(bodies(&answers), ["/a", "/b", big.as_str(), "/c", "/last"]);
    }

    #[tokio::test]
    async fn after_an_upgrade_nothing_is_held() {
        let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
        let mut io = Pipelined::new(ours);
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        let switching = b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n";
        let frame = b"\x81\x05HTTP/";
        // Two answers with no read between: the second is held.
        io.write_all(ok).await.expect("write");
        io.write_all(ok).await.expect("write");
        assert!(io.pipelines && io.holding && io.owed);
        // The upgrade goes out behind it, and the frames after it are not held.
        io.write_all(switching).await.expect("write");
        assert!(!io.pipelines && !io.holding && io.held.is_empty());
        io.write_all(frame).await.expect("write");
        io.flush().await.expect("flush");
        assert!(!io.owed && io.held.is_empty());
        let expected = [&ok[..], ok, switching, frame].concat();
        let mut arrived = vec![0; expected.len()];
        theirs.read_exact(&mut arrived).await.expect("read");
        assert_eq!(arrived, expected);
    }

    #[test]
    fn two_heads_are_told_from_one_and_from_a_head_with_its_body() {
        assert!(!two_heads(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
        assert!(!two_heads(
            b"POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello"
        ));
        assert!(!two_heads(
            b"GET / HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1\r\nho"
        ));
        assert!(two_heads(
            b"GET / HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1\r\nhost: x\r\n\r\n"
        ));
        assert!(!two_heads(b""));
    }
}
