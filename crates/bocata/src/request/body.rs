//! The request body: read lazily, at most once, within a size limit, then kept.

use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, StatusCode, header};
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use tokio::sync::OnceCell;

use super::error::BodyError;
use super::pace::Paced;
use crate::body::Body;
use crate::context::BodyDeadlines;
use crate::error::BoxError;
use crate::{Error, headers};

/// A request body as it arrives: hyper's own, straight from bocata's server and kept
/// unboxed, or any other body (the TestClient's, one passed through tower layers).
pub(crate) enum RequestBody {
    Wire(Incoming),
    Boxed(Body),
}

impl RequestBody {
    /// The body as the tower ecosystem's body type.
    pub(crate) fn into_body(self) -> Body {
        match self {
            Self::Wire(incoming) => Body::new(incoming),
            Self::Boxed(body) => body,
        }
    }
}

impl From<Incoming> for RequestBody {
    fn from(incoming: Incoming) -> Self {
        Self::Wire(incoming)
    }
}

impl From<Body> for RequestBody {
    fn from(body: Body) -> Self {
        Self::Boxed(body)
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.get_mut() {
            Self::Wire(incoming) => Pin::new(incoming).poll_frame(cx).map_err(Into::into),
            Self::Boxed(body) => Pin::new(body).poll_frame(cx).map_err(Into::into),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Self::Wire(incoming) => incoming.is_end_stream(),
            Self::Boxed(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Wire(incoming) => incoming.size_hint(),
            Self::Boxed(body) => body.size_hint(),
        }
    }
}

/// A body that is read from the wire on first use and kept for later ones.
pub(super) struct LazyBody {
    source: Mutex<Option<RequestBody>>,
    read: OnceCell<Result<Bytes, BodyError>>,
    limit: usize,
    deadlines: BodyDeadlines,
}

impl LazyBody {
    /// A body read within `limit` bytes and `deadlines`.
    pub(crate) fn new(body: RequestBody, limit: usize, deadlines: BodyDeadlines) -> Self {
        Self {
            source: Mutex::new(Some(body)),
            read: OnceCell::new(),
            limit,
            deadlines,
        }
    }

    /// The body as a stream, for readers that must not buffer it (multipart): the bytes
    /// already read if it was read, the unread body otherwise, under the deadlines of a
    /// streamed body (see [`pace`](super::pace)). The body can be streamed once.
    pub(super) fn take_stream(&self) -> Result<Body, Error> {
        if let Some(read) = self.read.get() {
            return read
                .as_ref()
                .map(|bytes| Body::from(bytes.clone()))
                .map_err(|e| e.clone().into_error());
        }
        let body = self
            .source
            .lock()
            .map_or(None, |mut source| source.take())
            .ok_or_else(|| BodyError::Taken.into_error())?;
        Ok(match Paced::new(body, self.deadlines) {
            Ok(paced) => Body::new(paced),
            Err(body) => body.into_body(),
        })
    }

    /// The whole body. A `Content-Length` over the limit is refused before anything is
    /// read; a body without one is read until it passes the limit, and no further.
    pub(super) async fn bytes(&self, headers: &HeaderMap) -> Result<&Bytes, Error> {
        let read = self
            .read
            .get_or_init(|| async {
                let declared = headers::text(headers, header::CONTENT_LENGTH)
                    .and_then(|v| v.parse::<u64>().ok());
                if declared.is_some_and(|len| len > self.limit as u64) {
                    return Err(BodyError::TooLarge { limit: self.limit });
                }
                let Some(body) = self.source.lock().map_or(None, |mut source| source.take()) else {
                    return Err(BodyError::Taken);
                };
                let collect = Limited::new(body, self.limit).collect();
                let collected = match self.deadlines.timeout {
                    Some(timeout) => match tokio::time::timeout(timeout, collect).await {
                        Ok(collected) => collected,
                        Err(_) => return Err(BodyError::TimedOut(timeout)),
                    },
                    None => collect.await,
                };
                match collected {
                    Ok(collected) => Ok(collected.to_bytes()),
                    Err(e) if e.is::<LengthLimitError>() => {
                        Err(BodyError::TooLarge { limit: self.limit })
                    }
                    Err(e) => Err(BodyError::Read(e.to_string())),
                }
            })
            .await;
        read.as_ref().map_err(|e| e.clone().into_error())
    }
}

/// Whether the request's media type is `essence` (parameters such as `charset` aside).
pub(super) fn has_content_type(headers: &HeaderMap, essence: &str) -> bool {
    headers::content_type(headers).is_some_and(|media| media.eq_ignore_ascii_case(essence))
}

/// Whether the request's media type is JSON, `application/*+json` included.
pub(super) fn has_json_type(headers: &HeaderMap) -> bool {
    headers::content_type(headers).is_some_and(headers::is_json)
}

/// The error for a body of the wrong media type.
pub(super) fn unsupported_media_type(expected: &str) -> Error {
    Error::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("expected a request with `Content-Type: {expected}`"),
    )
}

/// The error for a JSON body that does not parse (400) or parses but does not fit the
/// expected type (422). serde_json's message names the line and column.
pub(super) fn json_error(err: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    match err.classify() {
        Category::Data => Error::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the JSON body does not have the expected shape: {err}"),
        ),
        Category::Syntax | Category::Eof | Category::Io => {
            Error::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {err}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const NO_DEADLINES: BodyDeadlines = BodyDeadlines {
        timeout: None,
        min_rate: None,
    };

    fn with_type(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn content_type_table() {
        let cases = [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/merge-patch+json", true),
            ("application/jsonx", false),
            ("text/json", false),
            ("text/plain", false),
            ("+json", false),
            ("application/+json", false),
        ];
        for (value, expected) in cases {
            assert_eq!(has_json_type(&with_type(value)), expected, "{value}");
        }
        assert!(!has_json_type(&HeaderMap::new()));
        assert!(has_content_type(
            &with_type("Multipart/Form-Data; boundary=x"),
            "multipart/form-data"
        ));
        assert!(!has_content_type(
            &with_type("application/merge-patch+json"),
            "application/x-www-form-urlencoded"
        ));
    }

    #[tokio::test]
    async fn declared_length_over_the_limit_is_refused_without_reading() {
        let body = LazyBody::new(Body::from("0123456789").into(), 4, NO_DEADLINES);
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("10"));
        let err = body.bytes(&headers).await.unwrap_err();
        assert_eq!(err.status(), 413);
        assert!(
            body.source.lock().unwrap().is_some(),
            "the body was not read"
        );
        let again = body.bytes(&headers).await.unwrap_err();
        assert_eq!(again.status(), 413, "the failure is remembered");
    }

    #[tokio::test]
    async fn undeclared_length_is_cut_at_the_limit() {
        let body = LazyBody::new(Body::from("0123456789").into(), 4, NO_DEADLINES);
        let err = body.bytes(&HeaderMap::new()).await.unwrap_err();
        assert_eq!(err.status(), 413);
        let fits = LazyBody::new(Body::from("0123").into(), 4, NO_DEADLINES);
        assert_eq!(fits.bytes(&HeaderMap::new()).await.unwrap(), "0123");
        assert_eq!(fits.bytes(&HeaderMap::new()).await.unwrap(), "0123");
    }
}
