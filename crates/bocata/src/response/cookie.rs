//! `Set-Cookie` values with bocata's defaults.

use cookie::{Cookie, SameSite};
use http::HeaderValue;

use super::ResError;

/// The `Set-Cookie` value for `cookie`, after filling in the attributes it leaves unset
/// with bocata's defaults: `Path=/`, `HttpOnly`, `SameSite=Lax`. `Secure` is left off
/// unless asked for, so cookies work on plain-HTTP development servers.
///
/// The name and value are percent-encoded, so no value can add attributes of its own;
/// `Path` and `Domain` are checked for `;` and control characters, which would.
pub(super) fn set_cookie(mut cookie: Cookie<'static>) -> Result<HeaderValue, ResError> {
    let name = cookie.name().to_owned();
    let invalid = |reason: &str| ResError::Cookie {
        name: name.clone(),
        reason: reason.to_owned(),
    };
    if name.is_empty() {
        return Err(invalid("the name is empty"));
    }
    for (attribute, value) in [("Path", cookie.path()), ("Domain", cookie.domain())] {
        if value.is_some_and(|v| v.bytes().any(|b| b == b';' || b.is_ascii_control())) {
            return Err(invalid(&format!(
                "{attribute} contains `;` or a control character"
            )));
        }
    }
    if cookie.path().is_none() {
        cookie.set_path("/");
    }
    if cookie.http_only().is_none() {
        cookie.set_http_only(true);
    }
    if cookie.same_site().is_none() {
        cookie.set_same_site(SameSite::Lax);
    }
    HeaderValue::try_from(cookie.encoded().to_string()).map_err(|_| invalid("not a valid header"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cookie::time::Duration;

    fn value(cookie: impl Into<Cookie<'static>>) -> String {
        set_cookie(cookie.into())
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn defaults_fill_only_what_is_unset() {
        assert_eq!(value(("id", "42")), "id=42; HttpOnly; SameSite=Lax; Path=/");
        let custom = Cookie::build(("id", "42"))
            .http_only(false)
            .same_site(SameSite::Strict)
            .path("/admin")
            .secure(true)
            .max_age(Duration::hours(1))
            .domain("example.com");
        assert_eq!(
            value(custom),
            "id=42; SameSite=Strict; Secure; Path=/admin; Domain=example.com; Max-Age=3600"
        );
    }

    #[test]
    fn expires_is_an_http_date() {
        let expires = cookie::time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert_eq!(
            value(Cookie::build(("id", "1")).expires(expires)),
            "id=1; HttpOnly; SameSite=Lax; Path=/; Expires=Fri, 15 Jan 2027 08:00:00 GMT"
        );
    }

    #[test]
    fn values_cannot_inject_attributes() {
        assert_eq!(
            value(("id", "1; Domain=evil.example")),
            "id=1%3B%20Domain%3Devil.example; HttpOnly; SameSite=Lax; Path=/"
        );
        let err = set_cookie(Cookie::build(("id", "1")).path("/; Secure").into()).unwrap_err();
        assert!(err.to_string().contains("Path"), "{err}");
        assert!(set_cookie(Cookie::new("", "x")).is_err());
    }
}
