//! Custom error pages: handlers that replace the default body for a status.

use std::future::Future;

use futures_util::future::BoxFuture;
use http::{HeaderMap, Method, StatusCode, Uri};

use super::Error;
use crate::{Res, Result};

/// What an error page handler knows: the error, and the request it answers.
///
/// See [`App::catch`](crate::App::catch).
#[derive(Debug)]
pub struct Caught<'a> {
    pub(crate) error: &'a Error,
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Uri,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) debug: bool,
}

impl Caught<'_> {
    /// The status being answered.
    pub fn status(&self) -> StatusCode {
        self.error.status()
    }

    /// The error itself.
    pub fn error(&self) -> &Error {
        self.error
    }

    /// What may be shown to the client: the error's message, or in debug mode the cause
    /// of a server error.
    pub fn detail(&self) -> Option<String> {
        self.error
            .message()
            .map(str::to_owned)
            .or_else(|| self.debug.then(|| self.error.cause_chain()).flatten())
    }

    /// The request's method.
    pub fn method(&self) -> &Method {
        self.method
    }

    /// The request's URI.
    pub fn uri(&self) -> &Uri {
        self.uri
    }

    /// The request's headers (to negotiate the page's format, say).
    pub fn headers(&self) -> &HeaderMap {
        self.headers
    }
}

/// An async function that can render an error page: any
/// `async fn(&Caught<'_>, &mut Res) -> bocata::Result` whose future is `Send`.
///
/// You never implement this trait; bocata implements it for every such function.
pub trait CatchHandler<'a>: Send + Sync + 'static {
    /// The future the function returns.
    type Future: Future<Output = Result> + Send + 'a;

    /// Calls the function.
    fn call(&self, caught: &'a Caught<'a>, res: &'a mut Res) -> Self::Future;
}

impl<'a, F, Fut> CatchHandler<'a> for F
where
    F: Fn(&'a Caught<'a>, &'a mut Res) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result> + Send + 'a,
{
    type Future = Fut;

    fn call(&self, caught: &'a Caught<'a>, res: &'a mut Res) -> Fut {
        self(caught, res)
    }
}

/// An error page handler behind a pointer.
pub(crate) trait BoxedCatch: Send + Sync + 'static {
    fn call_boxed<'a>(&'a self, caught: &'a Caught<'a>, res: &'a mut Res) -> BoxFuture<'a, Result>;
}

impl<H> BoxedCatch for H
where
    H: for<'a> CatchHandler<'a>,
{
    fn call_boxed<'a>(&'a self, caught: &'a Caught<'a>, res: &'a mut Res) -> BoxFuture<'a, Result> {
        Box::pin(CatchHandler::call(self, caught, res))
    }
}
