//! Custom error pages: handlers that replace the default body for a status.

use std::borrow::Cow;

use http::{HeaderMap, Method, StatusCode, Uri};

use super::Error;
use crate::Res;
use crate::async_fn::async_fn_trait;

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
        self.error.detail(self.debug).map(Cow::into_owned)
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

async_fn_trait! {
    /// An async function that can render an error page: any
    /// `async fn(&Caught<'_>, &mut Res) -> bocata::Result` whose future is `Send`.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not an error page handler",
        label = "expected an `async fn(&Caught<'_>, &mut Res) -> bocata::Result`",
        note = "an error page handler is `async fn(&Caught<'_>, &mut Res) -> bocata::Result`"
    )]
    pub trait CatchHandler / BoxedCatch (caught: &'a Caught<'a>, res: &'a mut Res);
}
