//! Turning a finished [`Res`] into a hyper response, without copying the body.

use axum_core::body::Body;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, header};

use super::background::AfterSent;
use super::deadline::{self, StreamTimeouts};
use super::disposition::content_disposition;
use super::file::{OpenFile, guess_type};
use super::stream::{self, ChunkStream};
use super::{Content, Res, ResError, sse};
use crate::Error;
use crate::app::Shared;
use crate::server::Connection;
#[cfg(feature = "templates")]
use crate::template::{self, TemplateError};

const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
const NO: HeaderValue = HeaderValue::from_static("no");

/// What finalizing a response needs to know of its request, app and connection.
pub(crate) struct Finalize<'a> {
    /// The request's method: HEAD gets no body, files answer conditionals and ranges.
    pub(crate) method: &'a Method,
    /// The request's headers, for conditional and range requests.
    pub(crate) headers: &'a HeaderMap,
    /// The app: its limits for streamed bodies, its templates, its debug mode.
    pub(crate) app: &'a Shared,
    /// The connection, when there is one (not in the TestClient).
    pub(crate) connection: Option<&'a Connection>,
}

impl Res {
    /// The hyper response for this `Res`.
    ///
    /// Fixed bodies have an exact size (HEAD responses get `Content-Length`); 1xx, 204
    /// and 304 responses get neither a body nor `Content-Type`; an explicit
    /// `Content-Type` is kept over the implied one. A streamed body is never polled for
    /// HEAD or for a status without a body.
    ///
    /// Opening a file is the only wait; [`finalize`](Self::finalize) does the rest
    /// without one.
    pub(crate) async fn into_response(self, cx: &Finalize<'_>) -> Result<Response<Body>, Error> {
        let file = match &self.content {
            Content::File(path) if self.error.is_none() => Some(OpenFile::open(path).await?),
            _ => None,
        };
        self.finalize(cx, file)
    }

    /// Whether this response sends a file, which [`into_response`](Self::into_response)
    /// must open; any other is finished by [`finalize`](Self::finalize) at once.
    pub(crate) fn sends_file(&self) -> bool {
        matches!(self.content, Content::File(_))
    }

    /// The response, given the file to send if it sends one, already open.
    pub(crate) fn finalize(
        self,
        cx: &Finalize<'_>,
        file: Option<OpenFile>,
    ) -> Result<Response<Body>, Error> {
        if let Some(error) = self.error {
            return Err(Error::internal(error));
        }
        let Self {
            mut status,
            mut headers,
            content,
            implied_type,
            disposition,
            stream,
            background,
            ..
        } = self;
        let no_body = has_no_body(status);
        let overridden = stream.chunk_timeout.is_some() || stream.complete_timeout.is_some();
        let limits = StreamTimeouts {
            chunk: stream.chunk_timeout.unwrap_or(cx.app.stream_timeouts.chunk),
            complete: stream
                .complete_timeout
                .unwrap_or(cx.app.stream_timeouts.complete),
        };
        let streamed = |headers: &mut HeaderMap, chunks: ChunkStream, endless: bool| {
            if let Some(implied) = implied_type.clone() {
                headers.entry(header::CONTENT_TYPE).or_insert(implied);
            }
            if no_body || cx.method == Method::HEAD {
                return Body::empty();
            }
            let chunks = stream::catch_panics(chunks);
            // A graceful shutdown ends an endless stream cleanly, so its client
            // reconnects elsewhere; a finite one gets the grace period to finish.
            let chunks: ChunkStream = match cx.connection {
                Some(connection) if endless => {
                    Box::pin(chunks.take_until(connection.draining.clone().cancelled_owned()))
                }
                _ => chunks,
            };
            let chunks = deadline::limit(chunks, limits.complete);
            Body::from_stream(chunks.inspect_err(|e| {
                tracing::warn!(target: "bocata::stream", "aborting a streamed response: {e}");
            }))
        };
        let body = match content {
            Content::Empty => fixed(&mut headers, Bytes::new(), implied_type, cx.method),
            Content::Bytes(bytes) => fixed(&mut headers, bytes, implied_type, cx.method),
            Content::Json(value) => {
                let json =
                    serde_json::to_vec(&value).map_err(|e| Error::internal(ResError::Json(e)))?;
                fixed(&mut headers, json.into(), implied_type, cx.method)
            }
            Content::File(path) => {
                let file = file.ok_or_else(|| Error::internal("a file response was not opened"))?;
                if !headers.contains_key(header::CONTENT_DISPOSITION) {
                    if let Some(value) = content_disposition(disposition, &file.name()) {
                        let value = HeaderValue::try_from(value).map_err(Error::internal)?;
                        headers.insert(header::CONTENT_DISPOSITION, value);
                    }
                }
                headers
                    .entry(header::CONTENT_TYPE)
                    .or_insert_with(|| guess_type(&path));
                let (file_status, chunks) =
                    file.respond(cx.method, cx.headers, status, &mut headers)?;
                status = file_status;
                chunks.map_or_else(Body::empty, |chunks| {
                    Body::from_stream(deadline::limit(chunks, limits.complete))
                })
            }
            #[cfg(feature = "templates")]
            Content::Template { name, context } => {
                let Some(templates) = &cx.app.templates else {
                    return Err(Error::internal(TemplateError::NotConfigured(name)));
                };
                let html = templates.render(&cx.app.routes, &name, &context, cx.app.debug)?;
                let implied = Some(template::content_type(&name));
                fixed(&mut headers, html.into(), implied, cx.method)
            }
            Content::Stream(chunks) => streamed(&mut headers, chunks, false),
            Content::Events(events) => {
                headers.entry(header::CACHE_CONTROL).or_insert(NO_CACHE);
                headers.entry(X_ACCEL_BUFFERING).or_insert(NO);
                let events = match stream.keep_alive.filter(|d| !d.is_zero()) {
                    Some(every) => sse::keep_alive(events, every),
                    None => events,
                };
                streamed(&mut headers, events, true)
            }
        };
        let body = if has_no_body(status) {
            headers.remove(header::CONTENT_TYPE);
            headers.remove(header::CONTENT_LENGTH);
            Body::empty()
        } else {
            body
        };
        let mut response = Response::new(AfterSent::wrap(body, background));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        if overridden {
            // For the server, which holds the client to them.
            response.extensions_mut().insert(limits);
        }
        Ok(response)
    }
}

/// Whether responses with `status` carry no body (RFC 9110 §6.4.1).
fn has_no_body(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

/// A body of known bytes, with the implied `Content-Type` unless one was set.
///
/// `Content-Length` is left to the server, which writes it from the body's exact size
/// without building a header value, so one the view set is dropped: it could only
/// disagree with the body. A HEAD response's body is dropped before it reaches the
/// server, so it is given the header here.
fn fixed(
    headers: &mut HeaderMap,
    bytes: Bytes,
    implied_type: Option<HeaderValue>,
    method: &Method,
) -> Body {
    if let Some(implied) = implied_type {
        headers.entry(header::CONTENT_TYPE).or_insert(implied);
    }
    if method == Method::HEAD {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    } else {
        headers.remove(header::CONTENT_LENGTH);
    }
    Body::from(bytes)
}

/// Gives `response` the `Content-Length` a server would write for it: its body's exact
/// size, when it has one and its status allows a body. For responses that do not go
/// through a server (the [`TestClient`](crate::testing::TestClient)); not for HEAD,
/// whose body is already gone.
pub(crate) fn declare_length(response: &mut Response<Body>) {
    if has_no_body(response.status()) || response.headers().contains_key(header::CONTENT_LENGTH) {
        return;
    }
    if let Some(len) = http_body::Body::size_hint(response.body()).exact() {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
}
