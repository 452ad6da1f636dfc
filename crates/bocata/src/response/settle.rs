//! The last word on every response's body, whatever made it (a view, an error page, a
//! redirect, a mounted service): the one place where HEAD and `Content-Length` are
//! decided, once the response is finished.
//!
//! - A status without a body (1xx, 204, 304: RFC 9110 §6.4.1, §15.4.5) gets no body,
//!   no `Content-Type` and no `Content-Length`.
//! - A body of known size (text, JSON, a template, an error page, a file or a range of
//!   one): its `Content-Length` is the server's to write from that size, so one a view
//!   set is dropped, since it could only disagree.
//! - A streamed body: a `Content-Length` the view set stays. It is a promise; hyper
//!   holds the stream to it, and a stream that breaks it ends the response as an error
//!   the client sees (a short body), never as a clean end.
//! - HEAD: the same headers as GET, `Content-Length` included where the body's size is
//!   known, and no body: a stream is dropped unread, never started.

use crate::body::Body;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use http_body::Body as _;

/// Settles `response`'s body and `Content-Length`, for a HEAD request if `head`.
pub(crate) fn settle(response: &mut Response<Body>, head: bool) {
    if has_no_body(response.status()) {
        let headers = response.headers_mut();
        headers.remove(header::CONTENT_TYPE);
        headers.remove(header::CONTENT_LENGTH);
        *response.body_mut() = Body::empty();
        return;
    }
    if let Some(len) = response.body().size_hint().exact() {
        if head {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        } else if has_length(response.headers()) {
            response.headers_mut().remove(header::CONTENT_LENGTH);
        }
    }
    if head {
        *response.body_mut() = Body::empty();
    }
}

/// Gives a settled `response` the `Content-Length` a server writes for it: its body's
/// exact size, when it has one and the status allows a body. For responses that do not
/// go through a server (the [`TestClient`](crate::testing::TestClient)).
pub(crate) fn declare_length(response: &mut Response<Body>) {
    if has_no_body(response.status()) || response.headers().contains_key(header::CONTENT_LENGTH) {
        return;
    }
    if let Some(len) = response.body().size_hint().exact() {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
}

/// Whether `headers` has a `Content-Length`: looked for name by name among the few
/// headers most responses have, which costs less than hashing the name.
fn has_length(headers: &HeaderMap) -> bool {
    headers.len() > 8 || headers.keys().any(|name| name == header::CONTENT_LENGTH)
}

/// Whether responses with `status` carry no body.
fn has_no_body(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures_util::stream;

    use super::*;

    fn response(status: u16, body: Body, length: Option<&'static str>) -> Response<Body> {
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or_default();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        if let Some(length) = length {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from_static(length));
        }
        response
    }

    fn streamed() -> Body {
        Body::from_stream(stream::iter([Ok::<_, std::io::Error>(Bytes::from(
            "0123456789",
        ))]))
    }

    fn length(response: &Response<Body>) -> Option<&str> {
        response
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
    }

    /// A response a table row starts from, and what settling it must give.
    struct Case {
        status: u16,
        body: fn() -> Body,
        view_length: Option<&'static str>,
        head: bool,
        length: Option<&'static str>,
        has_body: bool,
        typed: bool,
    }

    #[test]
    fn the_rules_in_one_table() {
        let fixed = || Body::from("hello");
        let row = |status, body, view_length, head, length, has_body, typed| Case {
            status,
            body,
            view_length,
            head,
            length,
            has_body,
            typed,
        };
        let cases = [
            row(200, fixed, None, false, None, true, true),
            row(200, fixed, Some("99"), false, None, true, true),
            row(200, fixed, None, true, Some("5"), false, true),
            row(200, fixed, Some("99"), true, Some("5"), false, true),
            row(200, streamed, Some("10"), false, Some("10"), true, true),
            row(200, streamed, None, false, None, true, true),
            row(200, streamed, Some("10"), true, Some("10"), false, true),
            row(204, fixed, Some("7"), false, None, false, false),
            row(304, fixed, None, true, None, false, false),
        ];
        for (i, case) in cases.into_iter().enumerate() {
            let mut response = response(case.status, (case.body)(), case.view_length);
            settle(&mut response, case.head);
            assert_eq!(length(&response), case.length, "case {i}");
            assert_eq!(!response.body().is_end_stream(), case.has_body, "case {i}");
            assert_eq!(
                response.headers().contains_key(header::CONTENT_TYPE),
                case.typed,
                "case {i}"
            );
        }
    }

    #[test]
    fn a_set_length_is_dropped_among_few_headers_and_among_many() {
        for others in [0, 3, 8, 20] {
            let mut response = response(200, Body::from("hello"), None);
            for i in 0..others {
                let name =
                    http::HeaderName::try_from(format!("x-extra-{i}")).unwrap_or(header::SERVER);
                response
                    .headers_mut()
                    .append(name, HeaderValue::from_static("1"));
            }
            response
                .headers_mut()
                .append(header::CONTENT_LENGTH, HeaderValue::from_static("99"));
            settle(&mut response, false);
            assert_eq!(length(&response), None, "{others} other headers");
            assert_eq!(response.headers().len(), others + 1, "the others stay");
        }
    }

    #[test]
    fn a_test_response_gets_the_length_a_server_would_write() {
        let mut known = response(200, Body::from("hello"), None);
        declare_length(&mut known);
        assert_eq!(length(&known), Some("5"));
        let mut unknown = response(200, streamed(), None);
        declare_length(&mut unknown);
        assert_eq!(length(&unknown), None);
        let mut empty = response(204, Body::empty(), None);
        declare_length(&mut empty);
        assert_eq!(length(&empty), None);
    }
}
