//! Streamed bodies: any `Stream` of chunks, blocking iterators, and a channel-style
//! writer.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use futures_util::stream::BoxStream;
use tokio::sync::mpsc;

use crate::error::{BoxError, PanicMessage};

/// What a streamed body is made of once its items are converted.
pub(super) type ChunkStream = BoxStream<'static, Result<Bytes, BoxError>>;

/// How many chunks may wait between a producer and the connection: the channel of a
/// [`StreamWriter`] and the hand-off from a blocking iterator hold at most this many.
const QUEUED_CHUNKS: usize = 1;

/// An item of a streamed body: bytes-like (`Bytes`, `Vec<u8>`, `String`,
/// `&'static str`, `&'static [u8]`), or a `Result` of one whose error ends the response
/// abnormally.
///
/// ```
/// # fn demo(res: &mut bocata::Res) {
/// let lines = futures_util::stream::iter(["a\n", "b\n"]);
/// res.streaming(lines);
/// # }
/// ```
pub trait Chunk: Send + 'static {
    /// The chunk's bytes, or the error that ends the stream.
    ///
    /// # Errors
    ///
    /// When the item is an `Err`.
    fn into_chunk(self) -> Result<Bytes, BoxError>;
}

macro_rules! bytes_like {
    ($($ty:ty),*) => {
        $(
            impl Chunk for $ty {
                fn into_chunk(self) -> Result<Bytes, BoxError> {
                    Ok(Bytes::from(self))
                }
            }
        )*
    };
}

bytes_like!(Bytes, Vec<u8>, String, &'static str, &'static [u8]);

impl<T, E> Chunk for Result<T, E>
where
    T: Chunk,
    E: Into<BoxError> + Send + 'static,
{
    fn into_chunk(self) -> Result<Bytes, BoxError> {
        self.map_err(Into::into).and_then(Chunk::into_chunk)
    }
}

/// Converts a stream of chunks into the body's stream.
pub(super) fn chunks<S>(stream: S) -> ChunkStream
where
    S: Stream + Send + 'static,
    S::Item: Chunk,
{
    Box::pin(futures_util::StreamExt::map(stream, Chunk::into_chunk))
}

/// Turns a panic in the producer into an error item, which ends the response
/// abnormally like any other stream error (and is logged with it), instead of unwinding
/// through the connection.
pub(super) fn catch_panics(stream: ChunkStream) -> ChunkStream {
    Box::pin(CatchPanic {
        inner: stream,
        done: false,
    })
}

struct CatchPanic {
    inner: ChunkStream,
    done: bool,
}

impl Stream for CatchPanic {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let inner = &mut self.inner;
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll_next(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                self.done = true;
                let message = PanicMessage::from_payload(&*panic);
                Poll::Ready(Some(Err(
                    format!("the stream panicked: {}", message.0).into()
                )))
            }
        }
    }
}

/// Runs a blocking iterator on tokio's blocking threads, handing its chunks over one at
/// a time: the iterator starts when the body is first polled (never for HEAD), waits
/// while the client is slow, and stops (and is dropped) when the client is gone.
pub(super) fn blocking<I>(iter: I) -> ChunkStream
where
    I: IntoIterator + Send + 'static,
    I::Item: Chunk,
{
    Box::pin(async_stream::stream! {
        let (tx, mut rx) = mpsc::channel(QUEUED_CHUNKS);
        tokio::task::spawn_blocking(move || {
            for item in iter {
                let chunk = item.into_chunk();
                let failed = chunk.is_err();
                if tx.blocking_send(chunk).is_err() || failed {
                    break;
                }
            }
        });
        while let Some(chunk) = rx.recv().await {
            yield chunk;
        }
    })
}

/// The receiving end of a chunk channel, as a stream.
struct Receiver(mpsc::Receiver<Result<Bytes, BoxError>>);

impl Stream for Receiver {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// The sending half of a streamed body, for producers that push rather than yield.
///
/// Get one from [`Res::stream_writer`](crate::Res::stream_writer), hand it to a task,
/// and return from the view: the response goes out, and each `send` reaches the client
/// as it is made. `send` waits while the client is slow (backpressure), and fails once
/// the client has gone, which is the producer's signal to stop and clean up (Bocadillo's
/// `raise_on_disconnect`).
///
/// ```
/// use bocata::{Request, Res, Result};
///
/// async fn ticks(_req: &Request, res: &mut Res) -> Result {
///     let writer = res.stream_writer();
///     tokio::spawn(async move {
///         for n in 0.. {
///             if writer.send(format!("tick {n}\n")).await.is_err() {
///                 break; // the client went away
///             }
///             tokio::time::sleep(std::time::Duration::from_secs(1)).await;
///         }
///     });
///     Ok(())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct StreamWriter {
    tx: mpsc::Sender<Result<Bytes, BoxError>>,
}

/// The client is gone (or the response was abandoned): nothing more can be sent.
#[derive(Debug, thiserror::Error)]
#[error("the client is gone")]
pub struct Disconnected;

impl StreamWriter {
    pub(crate) fn new() -> (Self, ChunkStream) {
        let (tx, rx) = mpsc::channel(QUEUED_CHUNKS);
        (Self { tx }, Box::pin(Receiver(rx)))
    }

    /// Sends a chunk, waiting while the client is slow.
    ///
    /// # Errors
    ///
    /// [`Disconnected`] once the client has gone.
    pub async fn send(&self, chunk: impl Chunk) -> Result<(), Disconnected> {
        self.tx
            .send(chunk.into_chunk())
            .await
            .map_err(|_| Disconnected)
    }

    /// Ends the response abnormally with `error` (logged): on HTTP/1.1 the final chunk
    /// is not sent, on HTTP/2 the stream is reset, so the client knows the body is
    /// incomplete.
    pub async fn abort(self, error: impl Into<BoxError>) {
        self.tx.send(Err(error.into())).await.ok();
    }

    /// Waits until the client has gone.
    pub async fn closed(&self) {
        self.tx.closed().await;
    }

    /// Whether the client has gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }
}
