//! The [`TestClient`](super::TestClient)'s cookie jar.

use cookie::Cookie;
use cookie::time::OffsetDateTime;
use http::{HeaderMap, HeaderValue, header};

/// Cookies by name, as the app last set them (values decoded).
#[derive(Debug, Default)]
pub(super) struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    pub(super) fn get(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// Applies every `Set-Cookie` of a response: a cookie with `Max-Age=0` or an expiry
    /// in the past is removed, any other one is stored or replaced.
    pub(super) fn store(&mut self, headers: &HeaderMap) {
        let now = OffsetDateTime::now_utc();
        for value in headers.get_all(header::SET_COOKIE) {
            let Some(cookie) = value
                .to_str()
                .ok()
                .and_then(|v| Cookie::parse_encoded(v.to_owned()).ok())
            else {
                continue;
            };
            let expired = cookie.max_age().is_some_and(|age| age.is_zero())
                || cookie
                    .expires_datetime()
                    .is_some_and(|expires| expires <= now);
            self.cookies.retain(|(n, _)| n != cookie.name());
            if !expired {
                self.cookies
                    .push((cookie.name().to_owned(), cookie.value().to_owned()));
            }
        }
    }

    /// Stores cookie `name`, replacing one of that name.
    pub(super) fn set(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(n, _)| n != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    /// The `Cookie` header of a request: `explicit`, a `Cookie` header the test set
    /// itself, first and as written; then the jar's cookies; then `extra`, the
    /// request's own. A cookie named in `explicit` or in `extra` hides the jar's of
    /// that name.
    pub(super) fn header_value(
        &self,
        explicit: Option<&HeaderValue>,
        extra: &[(String, String)],
    ) -> Option<HeaderValue> {
        let named: Vec<String> = explicit
            .and_then(|v| v.to_str().ok())
            .into_iter()
            .flat_map(Cookie::split_parse_encoded)
            .filter_map(|c| c.ok().map(|c| c.name().to_owned()))
            .collect();
        let jar = self.cookies.iter().filter(|(name, _)| {
            !extra.iter().any(|(n, _)| n == name) && !named.iter().any(|n| n == name)
        });
        let pairs: Vec<String> = jar
            .chain(extra)
            .map(|(name, value)| {
                Cookie::new(name.as_str(), value.as_str())
                    .encoded()
                    .to_string()
            })
            .collect();
        if pairs.is_empty() {
            return explicit.cloned();
        }
        let mut header = explicit.map(|v| v.as_bytes().to_vec()).unwrap_or_default();
        for pair in pairs {
            if !header.is_empty() {
                header.extend_from_slice(b"; ");
            }
            header.extend_from_slice(pair.as_bytes());
        }
        HeaderValue::from_bytes(&header).ok()
    }
}
