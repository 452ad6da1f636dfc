//! Panics in user code (a view, a hook, an error page, a WebSocket view, a background
//! task), caught where bocata calls it: a panic is that request's 500, or that task's
//! logged failure, and never unwinds through the server.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

/// The message a panic carried, for logs and debug pages.
pub(crate) struct PanicMessage(pub(crate) String);

impl PanicMessage {
    pub(crate) fn from_payload(payload: &(dyn Any + Send)) -> Self {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a panic with a non-string payload".to_owned()
        };
        Self(message)
    }
}

impl std::fmt::Display for PanicMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "view panicked: {}", self.0)
    }
}

impl std::fmt::Debug for PanicMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for PanicMessage {}

/// `future`, with a panic in it caught and told apart from its output.
pub(crate) fn catch_panic<F: Future>(
    future: F,
) -> impl Future<Output = Result<F::Output, PanicMessage>> {
    AssertUnwindSafe(future)
        .catch_unwind()
        .map(|outcome| outcome.map_err(|panic| PanicMessage::from_payload(&*panic)))
}
