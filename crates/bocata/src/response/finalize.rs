//! Turning a finished [`Res`] into a hyper response, without copying the body.

use crate::body::Body;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, header};

use super::background::AfterSent;
use super::deadline;
use super::disposition::content_disposition;
use super::file::{FileBody, FileChunks, OpenFile};
use super::stream::{self, ChunkStream};
use super::{Content, Res, ResError, sse};
use crate::Error;
use crate::context::{AppContext, ConnectionContext, StreamTimeouts};
use crate::headers::guess_type;
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
    pub(crate) app: &'a AppContext,
    /// The connection, when there is one (not in the TestClient).
    pub(crate) connection: Option<&'a ConnectionContext>,
}

impl Res {
    /// The hyper response for this `Res`, whose body and headers it takes: an explicit
    /// `Content-Type` is kept over the implied one, and a file's body has its exact
    /// size. What HEAD and a status without a body do to it is
    /// [`settle`](super::settle)'s.
    ///
    /// Opening a file is the only wait; [`finalize`](Self::finalize) does the rest
    /// without one.
    pub(crate) async fn take_response(
        &mut self,
        cx: &Finalize<'_>,
    ) -> Result<Response<Body>, Error> {
        let file = match &self.content {
            Content::File(path) if self.error.is_none() => Some(OpenFile::open(path).await?),
            _ => None,
        };
        self.finalize(cx, file)
    }

    /// Whether this response sends a file, which [`take_response`](Self::take_response)
    /// must open; any other is finished by [`finalize`](Self::finalize) at once.
    pub(crate) fn sends_file(&self) -> bool {
        matches!(self.content, Content::File(_))
    }

    /// The response, given the file to send if it sends one, already open; it takes
    /// the body and the headers out of `self`, which stays where it is (a `Res` is
    /// large, and moving it costs every request).
    pub(crate) fn finalize(
        &mut self,
        cx: &Finalize<'_>,
        file: Option<OpenFile>,
    ) -> Result<Response<Body>, Error> {
        if let Some(error) = self.error.take() {
            return Err(Error::internal(error));
        }
        // Taken field by field: the `Res` stays where it is.
        let mut status = self.status;
        let mut headers = self.headers.take().unwrap_or_default();
        let content = std::mem::take(&mut self.content);
        let implied_type = self.implied_type.take();
        let disposition = self.disposition;
        let stream = &self.stream;
        let background = std::mem::take(&mut self.background);
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
            Content::Empty => fixed(&mut headers, Bytes::new(), implied_type),
            Content::Bytes(bytes) => fixed(&mut headers, bytes, implied_type),
            Content::Json(value) => {
                let json =
                    serde_json::to_vec(&value).map_err(|e| Error::internal(ResError::Json(e)))?;
                fixed(&mut headers, json.into(), implied_type)
            }
            Content::File(path) => {
                let file = file.ok_or_else(|| Error::internal("a file response was not opened"))?;
                if !headers.contains_key(header::CONTENT_DISPOSITION)
                    && let Some(value) = content_disposition(disposition, &file.name())
                {
                    let value = HeaderValue::try_from(value).map_err(Error::internal)?;
                    headers.insert(header::CONTENT_DISPOSITION, value);
                }
                headers
                    .entry(header::CONTENT_TYPE)
                    .or_insert_with(|| guess_type(&path));
                let (file_status, chunks) =
                    file.respond(cx.method, cx.headers, status, &mut headers)?;
                status = file_status;
                chunks.map_or_else(Body::empty, |file| match file {
                    FileBody::Whole(bytes) => Body::from(bytes),
                    FileBody::Chunks(file) => {
                        let chunks = deadline::limit(file.chunks, limits.complete);
                        FileChunks { chunks, ..file }.into_body()
                    }
                })
            }
            #[cfg(feature = "templates")]
            Content::Template { name, context } => {
                let Some(templates) = &cx.app.templates else {
                    return Err(Error::internal(TemplateError::NotConfigured(name)));
                };
                let html = templates.render(&cx.app.paths, &name, &context, cx.app.debug)?;
                let implied = Some(template::content_type(&name));
                fixed(&mut headers, html.into(), implied)
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
        let mut response = Response::new(AfterSent::wrap(body, background));
        *response.status_mut() = status;
        // The map `Response::new` made is empty, and `HeaderMap::new` does not allocate
        // (as its documentation promises): forgetting it frees nothing and skips its
        // drop, which every response would pay.
        std::mem::forget(std::mem::replace(response.headers_mut(), headers));
        if overridden {
            // For the server, which holds the client to them.
            response.extensions_mut().insert(limits);
        }
        Ok(response)
    }
}

/// A body of known bytes, with the implied `Content-Type` unless one was set.
fn fixed(headers: &mut HeaderMap, bytes: Bytes, implied_type: Option<HeaderValue>) -> Body {
    if let Some(implied) = implied_type {
        // Most views set no header of their own: then there is nothing to look up.
        if headers.is_empty() {
            headers.insert(header::CONTENT_TYPE, implied);
        } else {
            headers.entry(header::CONTENT_TYPE).or_insert(implied);
        }
    }
    Body::from(bytes)
}
