//! Errors that stop a view and become HTTP responses.
//!
//! A view returns [`Result`]. Returning an [`Error`] ends the request with that error's
//! status; [`abort`] is the short way to do it. The `?` operator turns any other error
//! (`std::io::Error`, a database error, …) into a `500 Internal Server Error` whose details
//! are logged and never sent to the client (unless the app runs in debug mode).
//!
//! Error bodies are short and negotiated: RFC 9457 problem details
//! (`application/problem+json`) for clients that accept JSON, plain text otherwise.
//! See the book's "Errors" chapter.

mod catch;
mod panic;
mod render;

use std::borrow::Cow;
use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

pub(crate) use catch::BoxedCatch;
pub use catch::{CatchHandler, Caught};
pub(crate) use panic::{PanicMessage, catch_panic};
pub(crate) use render::render;

/// A boxed error, as stored in an [`Error`]'s source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The result type of views: `Ok(())` once `res` is ready, or an [`Error`].
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

/// An error that ends a request with an HTTP status.
///
/// Build one with [`Error::new`] or [`abort`], or let `?` convert any
/// `std::error::Error` into a 500 whose cause is logged.
///
/// ```
/// use bocata::{Error, Request, Res, Result};
///
/// async fn show(req: &Request, res: &mut Res) -> Result {
///     let id: u32 = req.param("id")?;
///     if id == 0 {
///         return Err(Error::new(404, "there is no user 0"));
///     }
///     res.text(format!("user {id}"));
///     Ok(())
/// }
/// ```
///
/// `Error` deliberately does not implement `std::error::Error`, so that `?` can convert
/// every error that does.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    status: StatusCode,
    message: Option<Cow<'static, str>>,
    source: Option<BoxError>,
    headers: HeaderMap,
}

impl Error {
    /// An error with a status and a message that is sent to the client.
    ///
    /// The status is a `u16` or a [`StatusCode`]. A number that is not a valid status
    /// (outside 100–999) gives a 500 whose cause is logged instead.
    ///
    /// ```
    /// use bocata::Error;
    ///
    /// let err = Error::new(409, "that name is taken");
    /// assert_eq!(err.status(), 409);
    /// assert_eq!(err.message(), Some("that name is taken"));
    /// ```
    pub fn new<S>(status: S, message: impl Into<Cow<'static, str>>) -> Self
    where
        S: TryInto<StatusCode>,
        S::Error: Into<http::Error>,
    {
        match status.try_into() {
            Ok(status) => Self::with_parts(status, Some(message.into()), None),
            Err(e) => Self::internal(e.into()),
        }
    }

    /// An error with a status and no message: the body carries only the status's reason.
    ///
    /// ```
    /// use bocata::Error;
    ///
    /// assert_eq!(Error::from_status(403).status(), 403);
    /// ```
    pub fn from_status<S>(status: S) -> Self
    where
        S: TryInto<StatusCode>,
        S::Error: Into<http::Error>,
    {
        match status.try_into() {
            Ok(status) => Self::with_parts(status, None, None),
            Err(e) => Self::internal(e.into()),
        }
    }

    /// A 500 caused by `source`. The cause is logged; the client sees only
    /// "Internal Server Error" (and the cause, in debug mode).
    pub fn internal(source: impl Into<BoxError>) -> Self {
        Self::with_parts(StatusCode::INTERNAL_SERVER_ERROR, None, Some(source.into()))
    }

    /// What may be shown to the client: the message, or in debug mode the cause of a
    /// server error.
    fn detail(&self, debug: bool) -> Option<Cow<'_, str>> {
        self.message()
            .map(Cow::Borrowed)
            .or_else(|| debug.then(|| self.cause_chain()).flatten().map(Cow::Owned))
    }

    fn with_parts(
        status: StatusCode,
        message: Option<Cow<'static, str>>,
        source: Option<BoxError>,
    ) -> Self {
        Self {
            inner: Box::new(Inner {
                status,
                message,
                source,
                headers: HeaderMap::new(),
            }),
        }
    }

    /// Adds a header to the error response, such as `WWW-Authenticate` on a 401.
    ///
    /// ```
    /// use bocata::Error;
    /// use bocata::http::{HeaderValue, header};
    ///
    /// let err = Error::new(401, "log in first")
    ///     .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
    /// ```
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.inner.headers.append(name, value);
        self
    }

    /// Records what caused the error, for the log only: the client still sees just the
    /// message (even in debug mode, where a message always wins over the cause). For an
    /// answer that tells the client what it can do while the log keeps the reason, such
    /// as a 503 caused by a database that went away.
    ///
    /// ```
    /// use bocata::Error;
    ///
    /// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// let err = Error::new(503, "the database is unavailable, try again").with_source(refused);
    /// assert_eq!(err.message(), Some("the database is unavailable, try again"));
    /// assert!(err.source().is_some());
    /// ```
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// The status the response will have.
    pub fn status(&self) -> StatusCode {
        self.inner.status
    }

    /// The message sent to the client, if one was given.
    pub fn message(&self) -> Option<&str> {
        self.inner.message.as_deref()
    }

    /// The underlying cause, for errors converted with `?` or [`Error::internal`].
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.inner.source.as_deref()
    }

    /// Whether this error is a server error (5xx), which bocata logs.
    pub fn is_server_error(&self) -> bool {
        self.inner.status.is_server_error()
    }

    /// The extra headers of the error response (`Allow`, `WWW-Authenticate`, …).
    pub fn headers(&self) -> &HeaderMap {
        &self.inner.headers
    }

    /// The full cause chain, for logs and debug pages.
    pub(crate) fn cause_chain(&self) -> Option<String> {
        self.inner.source.as_deref().map(|source| chain(source))
    }
}

/// `error` and its causes, each after a colon: the causes often hold the useful part
/// (tera's "variable `x` not found" under "failed to render"). A cause whose words are
/// already there is left out: many errors repeat their source in their own message
/// (sqlx's "while executing migrations: pool timed out…").
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

impl<E> From<E> for Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(err: E) -> Self {
        Self::internal(err)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("status", &self.inner.status)
            .field("message", &self.inner.message)
            .field("source", &self.inner.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.inner.status)?;
        if let Some(message) = &self.inner.message {
            write!(f, ": {message}")?;
        }
        if let Some(cause) = self.cause_chain() {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

/// Stops the view with `status`, like Flask's `abort` (Bocadillo's `raise HTTPError`).
///
/// It returns `Err`, so `return abort(404);` ends a view, and `abort(403)?;` works in
/// any function that returns a [`Result`] (a helper returning `Result<User>`, say).
///
/// ```
/// use bocata::{Request, Res, Result, abort};
///
/// async fn admin(req: &Request, res: &mut Res) -> Result {
///     if req.header("x-admin").is_none() {
///         return abort(403);
///     }
///     res.text("welcome");
///     Ok(())
/// }
/// ```
///
/// Unlike Python's `abort`, calling it does not stop anything: the error goes where the
/// returned value goes. A bare `abort(403);` would let the view run on, so the compiler
/// warns about it and names the fix.
#[must_use = "`abort` does not stop the view by itself: write `return abort(status);` or `abort(status)?;`"]
pub fn abort<S>(status: S) -> Result
where
    S: TryInto<StatusCode>,
    S::Error: Into<http::Error>,
{
    Err(Error::from_status(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_status_becomes_internal_error_with_cause() {
        let err = Error::new(1000, "nope");
        assert_eq!(err.status(), 500);
        assert!(err.cause_chain().unwrap_or_default().contains("status"));
    }

    #[test]
    fn question_mark_converts_any_error_to_500() {
        fn fails() -> Result<u32> {
            Ok("x".parse::<u32>()?)
        }
        let err = fails().unwrap_err();
        assert_eq!(err.status(), 500);
        assert_eq!(err.message(), None);
        assert_eq!(
            err.cause_chain().as_deref(),
            Some("invalid digit found in string")
        );
    }

    /// An error that says `outer`, caused by `inner`.
    #[derive(Debug)]
    struct Wrapped {
        outer: String,
        inner: std::io::Error,
    }

    impl fmt::Display for Wrapped {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.outer)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.inner)
        }
    }

    #[test]
    fn the_cause_chain_names_each_cause_once() {
        let cause = || std::io::Error::other("connection refused");
        let adds = Wrapped {
            outer: "cannot connect".to_owned(),
            inner: cause(),
        };
        assert_eq!(chain(&adds), "cannot connect: connection refused");
        let repeats = Wrapped {
            outer: "cannot connect: connection refused".to_owned(),
            inner: cause(),
        };
        assert_eq!(chain(&repeats), "cannot connect: connection refused");
    }

    #[test]
    fn abort_carries_status_and_no_message() {
        let err = abort(404).unwrap_err();
        assert_eq!(err.status(), StatusCode::NOT_FOUND);
        assert_eq!(err.message(), None);
        assert_eq!(err.to_string(), "404 Not Found");
    }
}
