//! Background tasks: work scheduled by a view to run once its response has been sent
//! (Falcon's `resp.schedule`).

use std::fmt::Display;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::body::Body;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http_body::{Frame, SizeHint};

use crate::error::catch_panic;

/// What a background task may return: nothing, or a `Result` whose error is logged.
pub trait TaskOutput: Send + 'static {
    /// Logs the outcome, if it is worth a line.
    fn report(self);
}

impl TaskOutput for () {
    fn report(self) {}
}

impl<E: Display + Send + 'static> TaskOutput for Result<(), E> {
    fn report(self) {
        if let Err(e) = self {
            tracing::error!(target: "bocata::background", "a background task failed: {e}");
        }
    }
}

/// Wraps `future` so that its outcome, or its panic, is logged and goes no further.
pub(super) fn task<F>(future: F) -> BoxFuture<'static, ()>
where
    F: Future + Send + 'static,
    F::Output: TaskOutput,
{
    Box::pin(async move {
        match catch_panic(future).await {
            Ok(output) => output.report(),
            Err(panic) => tracing::error!(
                target: "bocata::background",
                "a background task panicked: {}",
                panic.0
            ),
        }
    })
}

/// A response body carrying background tasks, which start when it is dropped: after
/// it has been sent in full, or when the connection gave up on it.
pub(super) struct AfterSent {
    inner: Body,
    tasks: Vec<BoxFuture<'static, ()>>,
}

impl AfterSent {
    /// `inner`, carrying `tasks` if there are any.
    pub(super) fn wrap(inner: Body, tasks: Vec<BoxFuture<'static, ()>>) -> Body {
        if tasks.is_empty() {
            inner
        } else {
            Body::new(Self { inner, tasks })
        }
    }
}

impl http_body::Body for AfterSent {
    type Data = Bytes;
    type Error = crate::body::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for AfterSent {
    fn drop(&mut self) {
        let tasks = std::mem::take(&mut self.tasks);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                for task in tasks {
                    runtime.spawn(task);
                }
            }
            Err(_) => tracing::warn!(
                target: "bocata::background",
                "{} background task(s) dropped: no runtime to run them on",
                tasks.len()
            ),
        }
    }
}
