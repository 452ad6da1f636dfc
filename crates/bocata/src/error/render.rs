//! Turning an [`Error`] into a short, negotiated response body.

use crate::body::Body;
use http::{HeaderValue, Response, header};
use serde::Serialize;

use super::Error;

const PROBLEM_JSON: HeaderValue = HeaderValue::from_static("application/problem+json");
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// An RFC 9457 problem details object.
#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
}

/// Builds the response for `err`: problem JSON when `json`, plain text otherwise.
///
/// The detail shown is the error's message; the cause of a server error
/// is shown only when `debug` is on. Request data is never echoed unescaped: JSON is
/// escaped by the serializer and plain text is sent with `X-Content-Type-Options: nosniff`.
pub(crate) fn render(err: &Error, json: bool, debug: bool) -> Response<Body> {
    let status = err.status();
    let title = status.canonical_reason().unwrap_or("Error");
    let detail = err.detail(debug);
    let detail = detail.as_deref();

    let (content_type, body) = if json {
        let problem = Problem {
            kind: "about:blank",
            title,
            status: status.as_u16(),
            detail,
        };
        // Serializing a struct of strings and a number cannot fail.
        let json = serde_json::to_vec(&problem).unwrap_or_default();
        (PROBLEM_JSON, json)
    } else {
        let text = match detail {
            Some(detail) => format!("{} {title}: {detail}\n", status.as_u16()),
            None => format!("{} {title}\n", status.as_u16()),
        };
        (TEXT_PLAIN, text.into_bytes())
    };

    let mut headers = err.headers().clone();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    use super::*;
    use crate::headers::accepts_json;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn negotiation_table() {
        let cases = [
            ("application/json", true),
            ("application/problem+json", true),
            ("application/vnd.api+json", true),
            ("text/html, application/json;q=0.9", true),
            ("APPLICATION/JSON", true),
            ("application/json;q=0", false),
            ("application/json; q=0.0", false),
            ("*/*", false),
            ("text/html,application/xhtml+xml,*/*;q=0.8", false),
            ("", false),
        ];
        for (value, expected) in cases {
            assert_eq!(accepts_json(&accept(value)), expected, "Accept: {value}");
        }
        assert!(!accepts_json(&HeaderMap::new()));
    }

    #[test]
    fn server_error_cause_is_hidden_unless_debug() {
        let err = Error::internal(std::io::Error::other("disk on fire"));
        let hidden = render(&err, false, false);
        assert_eq!(hidden.status(), 500);
        let shown = render(&err, false, true);
        let size = |response: &Response<Body>| http_body::Body::size_hint(response.body()).exact();
        assert_eq!(
            size(&hidden),
            Some(26),
            "only `500 Internal Server Error\\n`"
        );
        assert_ne!(size(&shown), size(&hidden));
    }
}
