//! The set of HTTP methods a view answers.

use http::{HeaderValue, Method};

/// A set of the HTTP methods a view implements: GET, POST, PUT, PATCH, DELETE.
///
/// HEAD and OPTIONS are never in the set: bocata answers HEAD from GET and OPTIONS from
/// the set itself. `#[bocata::view]` writes [`View::methods`](crate::View::methods) for
/// you; a hand-written `impl View` returns the set of the `on_*` methods it overrides.
///
/// ```
/// use bocata::Methods;
///
/// let methods = Methods::GET.with(Methods::POST);
/// assert!(methods.contains(Methods::POST));
/// assert!(!methods.contains(Methods::DELETE));
/// assert_eq!(methods.allow_header(), "GET, HEAD, POST, OPTIONS");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Methods(u8);

impl Methods {
    /// No method.
    pub const EMPTY: Self = Self(0);
    /// `GET` (and so `HEAD`).
    pub const GET: Self = Self(1);
    /// `POST`.
    pub const POST: Self = Self(1 << 1);
    /// `PUT`.
    pub const PUT: Self = Self(1 << 2);
    /// `PATCH`.
    pub const PATCH: Self = Self(1 << 3);
    /// `DELETE`.
    pub const DELETE: Self = Self(1 << 4);
    /// A WebSocket upgrade of a `GET` (`on_websocket`).
    pub const WEBSOCKET: Self = Self(1 << 5);
    /// Every method, a WebSocket upgrade included: what a hook added without a set of
    /// methods runs for.
    pub(crate) const EVERY: Self = Self((1 << 6) - 1);

    /// Every method in `self` and in `other`.
    #[must_use]
    pub const fn with(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Whether every method of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The value of the `Allow` header for a view with these methods: the methods in a
    /// fixed order, with HEAD after GET and OPTIONS last.
    pub fn allow_header(self) -> HeaderValue {
        let mut names = Vec::with_capacity(7);
        if self.contains(Self::WEBSOCKET) && !self.contains(Self::GET) {
            names.push("GET");
        }
        for (method, name) in [
            (Self::GET, "GET, HEAD"),
            (Self::POST, "POST"),
            (Self::PUT, "PUT"),
            (Self::PATCH, "PATCH"),
            (Self::DELETE, "DELETE"),
        ] {
            if self.contains(method) {
                names.push(name);
            }
        }
        names.push("OPTIONS");
        HeaderValue::from_str(&names.join(", ")).unwrap_or(HeaderValue::from_static("OPTIONS"))
    }
}

/// What the router does with a request's method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verb {
    /// Run this view method (HEAD runs GET).
    Call(Methods),
    /// Answer OPTIONS with the `Allow` header.
    Options,
    /// A method no view can implement (TRACE, CONNECT, extensions).
    Unsupported,
}

impl Verb {
    pub(crate) fn of(method: &Method) -> Self {
        match *method {
            Method::GET | Method::HEAD => Self::Call(Methods::GET),
            Method::POST => Self::Call(Methods::POST),
            Method::PUT => Self::Call(Methods::PUT),
            Method::PATCH => Self::Call(Methods::PATCH),
            Method::DELETE => Self::Call(Methods::DELETE),
            Method::OPTIONS => Self::Options,
            _ => Self::Unsupported,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_header_lists_exactly_the_implemented_methods() {
        assert_eq!(Methods::EMPTY.allow_header(), "OPTIONS");
        assert_eq!(Methods::POST.allow_header(), "POST, OPTIONS");
        assert_eq!(Methods::WEBSOCKET.allow_header(), "GET, OPTIONS");
        assert_eq!(
            Methods::WEBSOCKET.with(Methods::GET).allow_header(),
            "GET, HEAD, OPTIONS"
        );
        let all = Methods::GET
            .with(Methods::POST)
            .with(Methods::PUT)
            .with(Methods::PATCH)
            .with(Methods::DELETE);
        assert_eq!(
            all.allow_header(),
            "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
        );
    }

    #[test]
    fn verbs() {
        assert_eq!(Verb::of(&Method::HEAD), Verb::Call(Methods::GET));
        assert_eq!(Verb::of(&Method::OPTIONS), Verb::Options);
        assert_eq!(Verb::of(&Method::TRACE), Verb::Unsupported);
        assert_eq!(
            Verb::of(&Method::from_bytes(b"PROPFIND").unwrap()),
            Verb::Unsupported
        );
    }
}
