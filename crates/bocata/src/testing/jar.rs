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

    /// The `Cookie` header for the jar plus `extra` (which win over the jar's values).
    pub(super) fn header_value(&self, extra: &[(String, String)]) -> Option<HeaderValue> {
        let jar = self
            .cookies
            .iter()
            .filter(|(name, _)| !extra.iter().any(|(n, _)| n == name));
        let pairs: Vec<String> = jar
            .chain(extra)
            .map(|(name, value)| {
                Cookie::new(name.as_str(), value.as_str())
                    .encoded()
                    .to_string()
            })
            .collect();
        if pairs.is_empty() {
            return None;
        }
        HeaderValue::try_from(pairs.join("; ")).ok()
    }
}
