//! The body type bocata hands to the tower world: the responses of an [`App`] served as
//! a `tower::Service`, and the requests and responses that [`App::layer`]'s layers and
//! [`App::mount_service`]'s services see. Views never meet it: they read a
//! [`Request`](crate::Request) and fill a [`Res`](crate::Res).
//!
//! It is an [`http_body::Body`] of [`Bytes`], so anything in the tower and hyper
//! ecosystem takes it, and it takes any such body in ([`Body::new`]).
//!
//! [`App`]: crate::App
//! [`App::layer`]: crate::App::layer
//! [`App::mount_service`]: crate::App::mount_service

use std::any::Any;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, TryStreamExt};
use http_body::{Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};

use crate::error::BoxError;

/// An HTTP body of [`Bytes`]: of known size, streamed, or empty.
///
/// ```
/// use bocata::body::Body;
/// use http_body::Body as _;
///
/// let body = Body::from("hello");
/// assert_eq!(body.size_hint().exact(), Some(5));
/// ```
#[derive(Default)]
pub struct Body(Inner);

/// A body of known bytes is kept as they are, so that the common response costs no
/// allocation and no dynamic call; any other body is boxed.
enum Inner {
    /// All of it, until it is sent; `None` when empty or sent.
    Full(Option<Bytes>),
    Boxed(UnsyncBoxBody<Bytes, Error>),
}

impl Default for Inner {
    fn default() -> Self {
        Self::Full(None)
    }
}

impl Body {
    /// Any body of [`Bytes`] whose errors convert to a boxed error.
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        // A body that is already one of ours is not boxed a second time.
        let mut slot = Some(body);
        if let Some(ours) = (&mut slot as &mut dyn Any).downcast_mut::<Option<Self>>() {
            return ours.take().unwrap_or_default();
        }
        slot.map_or_else(Self::default, |body| {
            Self(Inner::Boxed(UnsyncBoxBody::new(
                body.map_err(|e| Error(e.into())),
            )))
        })
    }

    /// The empty body.
    pub fn empty() -> Self {
        Self::default()
    }

    /// A body sent chunk by chunk, as `stream` yields them; an error from it ends the
    /// body as failed.
    pub(crate) fn from_stream<S, E>(stream: S) -> Self
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        Self::new(StreamBody::new(
            stream.map_ok(Frame::data).map_err(Into::<BoxError>::into),
        ))
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self(Inner::Full((!bytes.is_empty()).then_some(bytes)))
    }
}

macro_rules! from_bytes_like {
    ($($ty:ty),*) => {
        $(
            impl From<$ty> for Body {
                fn from(bytes: $ty) -> Self {
                    Self::from(Bytes::from(bytes))
                }
            }
        )*
    };
}

from_bytes_like!(Vec<u8>, String, &'static str, &'static [u8]);

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match &mut self.0 {
            Inner::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            Inner::Boxed(body) => Pin::new(body).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Inner::Full(bytes) => bytes.is_none(),
            Inner::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Inner::Full(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Inner::Boxed(body) => body.size_hint(),
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Inner::Full(bytes) => f
                .debug_tuple("Body")
                .field(&bytes.as_ref().map_or(0, Bytes::len))
                .finish(),
            Inner::Boxed(_) => f.write_str("Body(streamed)"),
        }
    }
}

/// Why a body could not be read to its end: the stream behind it failed, or the
/// connection did.
#[derive(Debug)]
pub struct Error(BoxError);

impl Error {
    /// The underlying error.
    pub fn into_inner(self) -> Box<dyn std::error::Error + Send + Sync> {
        self.0
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test]
    async fn bodies_in_and_out() {
        let collected = Body::from("hello").collect().await.map(|c| c.to_bytes());
        assert_eq!(collected.ok().as_deref(), Some(&b"hello"[..]));
        let failing =
            http_body_util::StreamBody::new(futures_util::stream::iter([Err::<Frame<Bytes>, _>(
                std::io::Error::other("the disk went away"),
            )]));
        let err = Body::new(failing)
            .collect()
            .await
            .expect_err("the stream failed");
        assert_eq!(err.to_string(), "the disk went away");
        assert!(http_body::Body::is_end_stream(&Body::empty()));
    }
}
