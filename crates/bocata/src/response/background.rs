//! Background tasks: work scheduled by a view to run once its response has been sent
//! (Falcon's `resp.schedule`).

use std::fmt::Display;
use std::panic::AssertUnwindSafe;

use axum_core::body::Body;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::guarded::Guarded;
use crate::error::PanicMessage;

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
pub(crate) fn task<F>(future: F) -> BoxFuture<'static, ()>
where
    F: Future + Send + 'static,
    F::Output: TaskOutput,
{
    Box::pin(async move {
        match AssertUnwindSafe(future).catch_unwind().await {
            Ok(output) => output.report(),
            Err(panic) => tracing::error!(
                target: "bocata::background",
                "a background task panicked: {}",
                PanicMessage::from_payload(&*panic).0
            ),
        }
    })
}

/// Background tasks, started when dropped with the response body: after it has been
/// sent in full, or when the connection gave up on it.
pub(crate) struct AfterSent(Vec<BoxFuture<'static, ()>>);

impl AfterSent {
    /// `inner`, carrying `tasks` if there are any.
    pub(crate) fn wrap(inner: Body, tasks: Vec<BoxFuture<'static, ()>>) -> Body {
        if tasks.is_empty() {
            inner
        } else {
            Body::new(Guarded::new(inner, Self(tasks)))
        }
    }
}

impl Drop for AfterSent {
    fn drop(&mut self) {
        let tasks = std::mem::take(&mut self.0);
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
