//! The response a view builds by mutating [`Res`].
//!
//! A body setter fixes the body and the `Content-Type` it implies; the last one called
//! wins. Metadata setters adjust status, headers and cookies. Every setter returns
//! `&mut Res`, so calls chain in any order:
//!
//! ```
//! # use bocata::{Request, Res, Result};
//! async fn created(_req: &Request, res: &mut Res) -> Result {
//!     res.status(201)
//!         .header("x-served-by", "bocata")
//!         .cookie(("last-visit", "today"))
//!         .json(&serde_json::json!({ "id": 7 }));
//!     Ok(())
//! }
//! ```
//!
//! | setter | body | `Content-Type` it implies |
//! |---|---|---|
//! | [`text`](Res::text) | the string | `text/plain; charset=utf-8` |
//! | [`html`](Res::html) | the string | `text/html; charset=utf-8` |
//! | [`json`](Res::json) | the value, serialized | `application/json` |
//! | [`json_mut`](Res::json_mut) | a JSON value built field by field | `application/json` |
//! | [`content`](Res::content) | raw bytes | `application/octet-stream` |
//! | [`file`](Res::file) | a file, streamed in chunks | guessed from the extension |
//! | [`template`][Res::template] | a rendered tera template | from the template's extension |
//! | [`streaming`](Res::streaming) | each chunk of a `Stream`, sent as produced | `application/octet-stream` |
//! | [`streaming_blocking`](Res::streaming_blocking) | each chunk of a blocking iterator | `application/octet-stream` |
//! | [`stream_writer`](Res::stream_writer) | each chunk sent through a [`StreamWriter`] | `application/octet-stream` |
//! | [`sse`](Res::sse) | server-sent [`Event`]s | `text/event-stream` |
//! | [`redirect`](Res::redirect) | empty | none |
//!
//! An explicit `Content-Type` ([`content_type`](Res::content_type) or
//! [`header`](Res::header)) always wins over the implied one, whichever was called first.
//!
//! A setter given something invalid (a header value with CR/LF, a status of 1000, a
//! value that fails to serialize) does not panic and is not ignored: the response
//! becomes a `500 Internal Server Error` and the cause is logged.
//!
#![cfg_attr(
    not(feature = "templates"),
    doc = "[Res::template]: crate#cargo-features"
)]

mod background;
mod conditional;
mod cookie;
mod deadline;
mod disposition;
mod file;
mod finalize;
mod range;
mod read;
mod settle;
mod sse;
mod stream;

use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use serde::Serialize;

pub use self::background::TaskOutput;
pub(crate) use self::deadline::Expired;
use self::disposition::{Disposition, content_disposition};
pub(crate) use self::finalize::Finalize;
pub use self::read::BodyKind;
pub(crate) use self::settle::{declare_length, settle};
pub use self::sse::{Event, IntoEvent};
use self::stream::ChunkStream;
pub use self::stream::{Chunk, Disconnected, StreamWriter};
use crate::Error;

const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");
const EVENT_STREAM: HeaderValue = HeaderValue::from_static("text/event-stream");

/// Why a setter could not do what it was asked. Recorded on the `Res` and reported as a
/// 500 when the response is finalized.
#[derive(Debug, thiserror::Error)]
enum ResError {
    #[error("res.status() was given an invalid status code: {0}")]
    Status(http::Error),
    #[error("res.{setter}() was given an invalid header: {error}")]
    Header {
        setter: &'static str,
        error: http::Error,
    },
    #[error("res.json() could not serialize the value: {0}")]
    Json(serde_json::Error),
    #[error("cookie `{name}` is invalid: {reason}")]
    Cookie { name: String, reason: String },
    #[cfg(feature = "templates")]
    #[error(transparent)]
    Template(crate::template::TemplateError),
}

/// The body a response will carry.
#[derive(Default)]
enum Content {
    #[default]
    Empty,
    Bytes(Bytes),
    Json(serde_json::Value),
    File(PathBuf),
    #[cfg(feature = "templates")]
    Template {
        name: String,
        context: tera::Context,
    },
    Stream(ChunkStream),
    Events(ChunkStream),
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("Empty"),
            Self::Bytes(bytes) => f.debug_tuple("Bytes").field(bytes).finish(),
            Self::Json(value) => f.debug_tuple("Json").field(value).finish(),
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            #[cfg(feature = "templates")]
            Self::Template { name, .. } => f.debug_tuple("Template").field(name).finish(),
            Self::Stream(_) => f.write_str("Stream(..)"),
            Self::Events(_) => f.write_str("Events(..)"),
        }
    }
}

/// Per-response settings of a streamed body; `None` means "the app's default".
#[derive(Debug, Default)]
struct StreamSettings {
    chunk_timeout: Option<Option<Duration>>,
    complete_timeout: Option<Option<Duration>>,
    keep_alive: Option<Duration>,
}

/// The response under construction, handed to views as `&mut Res`.
///
/// It starts as `200 OK` with no body. See the [module documentation](self) for the
/// body kinds and the rules that combine them.
#[derive(Default)]
pub struct Res {
    status: StatusCode,
    /// `None` until a header is set, and again once the response is finished: then a
    /// `Res` without headers of its own has no map to drop.
    headers: Option<HeaderMap>,
    content: Content,
    implied_type: Option<HeaderValue>,
    disposition: Disposition,
    stream: StreamSettings,
    complete: bool,
    background: Vec<futures_util::future::BoxFuture<'static, ()>>,
    error: Option<ResError>,
}

impl std::fmt::Debug for Res {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Res")
            .field("status", &self.status)
            .field("headers", self.headers())
            .field("content", &self.content)
            .field("background", &self.background.len())
            .finish_non_exhaustive()
    }
}

impl Res {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// The headers, made when the first is set.
    fn header_map(&mut self) -> &mut HeaderMap {
        self.headers.get_or_insert_with(HeaderMap::new)
    }

    fn fail(&mut self, error: ResError) -> &mut Self {
        if self.error.is_none() {
            self.error = Some(error);
        }
        self
    }

    fn set_body(&mut self, content: Content, implied_type: Option<HeaderValue>) -> &mut Self {
        self.content = content;
        self.implied_type = implied_type;
        self
    }

    /// Sets the status code: a `u16` or an [`http::StatusCode`]. Default: `200 OK`.
    /// A number outside 100–999 makes the response a 500 (logged).
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.status(404).text("no such page");
    /// res.status(bocata::http::StatusCode::CREATED);
    /// # }
    /// ```
    pub fn status<S>(&mut self, status: S) -> &mut Self
    where
        S: TryInto<StatusCode>,
        S::Error: Into<http::Error>,
    {
        match status.try_into() {
            Ok(status) => {
                self.status = status;
                self
            }
            Err(e) => self.fail(ResError::Status(e.into())),
        }
    }

    /// Sets header `name` to `value`, replacing earlier values. Names are
    /// case-insensitive. An invalid name or a value with CR, LF or NUL makes the
    /// response a 500 (logged); it never reaches the client.
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.header("cache-control", "no-store");
    /// # }
    /// ```
    pub fn header<K, V>(&mut self, name: K, value: V) -> &mut Self
    where
        K: TryInto<HeaderName>,
        K::Error: Into<http::Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        self.put_header(
            "header",
            header_pair(name, value),
            |headers, name, value| {
                headers.insert(name, value);
            },
        )
    }

    /// Adds a value to header `name`, keeping earlier ones (for `Link`, `Vary`, …).
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.append_header("link", "</style.css>; rel=preload")
    ///     .append_header("link", "</app.js>; rel=preload");
    /// # }
    /// ```
    pub fn append_header<K, V>(&mut self, name: K, value: V) -> &mut Self
    where
        K: TryInto<HeaderName>,
        K::Error: Into<http::Error>,
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        self.put_header(
            "append_header",
            header_pair(name, value),
            |headers, name, value| {
                headers.append(name, value);
            },
        )
    }

    /// Puts a checked header pair with `put`, or records why `setter` could not.
    fn put_header(
        &mut self,
        setter: &'static str,
        pair: Result<(HeaderName, HeaderValue), http::Error>,
        put: impl FnOnce(&mut HeaderMap, HeaderName, HeaderValue),
    ) -> &mut Self {
        match pair {
            Ok((name, value)) => {
                put(self.header_map(), name, value);
                self
            }
            Err(error) => self.fail(ResError::Header { setter, error }),
        }
    }

    /// Sets `Content-Type`. It wins over the type a body setter implies, whether called
    /// before or after it.
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.content_type("text/css").content("h1 { color: gold }");
    /// # }
    /// ```
    pub fn content_type<V>(&mut self, value: V) -> &mut Self
    where
        V: TryInto<HeaderValue>,
        V::Error: Into<http::Error>,
    {
        match value.try_into() {
            Ok(value) => {
                self.header_map().insert(header::CONTENT_TYPE, value);
                self
            }
            Err(e) => self.fail(ResError::Header {
                setter: "content_type",
                error: e.into(),
            }),
        }
    }

    /// Sends `text` as `text/plain; charset=utf-8`. A `&'static str` is sent without
    /// being copied.
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res, name: &str) {
    /// res.text("Hello, World!");
    /// res.text(format!("Hello, {name}!"));
    /// # }
    /// ```
    pub fn text(&mut self, text: impl Into<Cow<'static, str>>) -> &mut Self {
        self.set_body(Content::Bytes(cow_bytes(text.into())), Some(TEXT))
    }

    /// Sends `html` as `text/html; charset=utf-8`.
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.html("<h1>Hello</h1>");
    /// # }
    /// ```
    pub fn html(&mut self, html: impl Into<Cow<'static, str>>) -> &mut Self {
        self.set_body(Content::Bytes(cow_bytes(html.into())), Some(HTML))
    }

    /// Sends `value` serialized as JSON (`application/json`). A value that fails to
    /// serialize (a map with non-string keys, a failing `Serialize` impl) makes the
    /// response a 500 (logged).
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// #[derive(serde::Serialize)]
    /// struct Post {
    ///     title: &'static str,
    /// }
    ///
    /// res.json(&Post { title: "My awesome post" });
    /// # }
    /// ```
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> &mut Self {
        match serde_json::to_vec(value) {
            Ok(json) => self.set_body(Content::Bytes(json.into()), Some(JSON)),
            Err(e) => self.fail(ResError::Json(e)),
        }
    }

    /// A JSON body to build field by field, like Responder's `resp.media["key"] = …`.
    /// If the body is not already one built this way, it starts as an empty object.
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.json_mut()["hello"] = "world".into();
    /// res.json_mut()["count"] = 3.into();
    /// // {"hello":"world","count":3}
    /// # }
    /// ```
    pub fn json_mut(&mut self) -> &mut serde_json::Value {
        if !matches!(self.content, Content::Json(_)) {
            self.set_body(
                Content::Json(serde_json::Value::Object(serde_json::Map::new())),
                Some(JSON),
            );
        }
        match &mut self.content {
            Content::Json(value) => value,
            _ => unreachable!("the body was just set to JSON"),
        }
    }

    /// Sends raw bytes as `application/octet-stream`; set another type with
    /// [`content_type`](Self::content_type).
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.content(vec![0x89, b'P', b'N', b'G']).content_type("image/png");
    /// # }
    /// ```
    pub fn content(&mut self, bytes: impl Into<Bytes>) -> &mut Self {
        self.set_body(Content::Bytes(bytes.into()), Some(OCTET_STREAM))
    }

    /// Renders the template `name` (from [`App::templates`](crate::App::templates))
    /// with `context`: any `Serialize` value that is a map (a struct, a
    /// `serde_json::json!({…})`; for a [`Context`](crate::template::Context) built key
    /// by key, see [`template_with`](Self::template_with)). `Content-Type` comes from the
    /// template's extension (`text/html; charset=utf-8` for `.html`).
    ///
    /// A missing template, a render error (an undefined variable, say) or a context that
    /// is not a map is a 500 whose cause, tera's message, is logged (and shown in debug
    /// mode).
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// #[derive(serde::Serialize)]
    /// struct Page<'a> {
    ///     title: &'a str,
    ///     items: Vec<&'a str>,
    /// }
    ///
    /// res.template("list.html", &Page { title: "Groceries", items: vec!["milk"] });
    /// # }
    /// ```
    #[cfg(feature = "templates")]
    pub fn template<T: Serialize + ?Sized>(&mut self, name: &str, context: &T) -> &mut Self {
        match crate::template::context(name, context) {
            Ok(context) => self.set_body(
                Content::Template {
                    name: name.to_owned(),
                    context,
                },
                None,
            ),
            Err(e) => self.fail(ResError::Template(e)),
        }
    }

    /// Like [`template`](Self::template), with a context built key by key.
    ///
    /// ```
    /// use bocata::template::Context;
    ///
    /// # fn demo(res: &mut bocata::Res) {
    /// let mut context = Context::new();
    /// context.insert("name", "Ana");
    /// res.template_with("welcome.html", context);
    /// # }
    /// ```
    #[cfg(feature = "templates")]
    pub fn template_with(&mut self, name: &str, context: crate::template::Context) -> &mut Self {
        let name = name.to_owned();
        self.set_body(Content::Template { name, context }, None)
    }

    /// Sends the file at `path`, read from disk in 64 KiB chunks as the client takes
    /// them: memory does not grow with the file's size.
    ///
    /// - `Content-Type` is guessed from the extension (`text/*` types get
    ///   `charset=utf-8`; unknown ones are `application/octet-stream`).
    /// - It is an attachment named after the file (the browser downloads it), as in
    ///   Bocadillo; chain [`inline`](Self::inline) to have it shown instead, or
    ///   [`attachment`](Self::attachment) to rename the download.
    /// - Responses carry `ETag`, `Last-Modified` and `Accept-Ranges: bytes`, and answer
    ///   conditional requests (304, 412) and `Range` requests (206, 416) by themselves.
    /// - A missing file or a directory is a 404, a file the server may not read a 403.
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.file("reports/2024.pdf");
    /// res.file("static/logo.png").inline();
    /// # }
    /// ```
    ///
    /// The path is used as given: never build it from request input without checking it
    /// (or use [`App::static_files`](crate::App::static_files), which does).
    pub fn file(&mut self, path: impl AsRef<Path>) -> &mut Self {
        self.set_body(Content::File(path.as_ref().to_owned()), None)
    }

    /// Asks the client to show a [`file`](Self::file) body rather than download it
    /// (`Content-Disposition: inline`, still naming the file). An explicit
    /// [`attachment`](Self::attachment) wins.
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.file("manual.pdf").inline();
    /// # }
    /// ```
    pub fn inline(&mut self) -> &mut Self {
        self.disposition = Disposition::Inline;
        self
    }

    /// Runs `task` once the response has been sent: it never delays the response, and a
    /// panic in it, or the error it returns, is logged without touching the server.
    /// Falcon's `resp.schedule`. Tasks are dropped,
    /// unrun, if the view fails instead of answering.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// async fn signup(req: &Request, res: &mut Res) -> Result {
    ///     let email = req.text().await?.to_owned();
    ///     res.status(202).text("welcome!").background(async move {
    ///         // send_welcome_mail(&email).await
    ///         let _ = email;
    ///     });
    ///     Ok(())
    /// }
    /// ```
    pub fn background<F>(&mut self, task: F) -> &mut Self
    where
        F: Future + Send + 'static,
        F::Output: TaskOutput,
    {
        self.background.push(background::task(task));
        self
    }

    /// Marks the response as complete, from a before hook: the view and the remaining
    /// before hooks are skipped, and the response is sent as it stands (after hooks
    /// still run). Falcon's `resp.complete = True`.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// async fn maintenance(_req: &mut Request, res: &mut Res) -> Result {
    ///     res.status(503).text("back soon").complete();
    ///     Ok(())
    /// }
    /// ```
    pub fn complete(&mut self) -> &mut Self {
        self.complete = true;
        self
    }

    pub(crate) fn is_complete(&self) -> bool {
        self.complete
    }

    /// Sends a file with no `Content-Disposition`, as static file servers do.
    pub(crate) fn static_file(&mut self, path: PathBuf) -> &mut Self {
        self.disposition = Disposition::Omitted;
        self.set_body(Content::File(path), None)
    }

    /// Sends each item of `stream` as soon as it is produced: a `Stream` of bytes-like
    /// chunks (`Bytes`, `Vec<u8>`, `String`, `&'static str`) or of `Result`s of them.
    /// `application/octet-stream` unless a type is set; HTTP/1.1 uses chunked transfer,
    /// HTTP/2 streams natively.
    ///
    /// The stream is polled only as fast as the client reads, an `Err` item ends the
    /// response abnormally (the client can tell the body is incomplete), and a client
    /// that goes away drops the stream. Write generators with [`stream!`](crate::stream)
    /// and [`try_stream!`](crate::try_stream), re-exported from async-stream:
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.content_type("text/plain; charset=utf-8")
    ///     .streaming(bocata::stream! {
    ///         for i in 0..10 {
    ///             tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    ///             yield format!("count: {i}\n");
    ///         }
    ///         yield "Completed!\n".to_owned();
    ///     });
    /// # }
    /// ```
    pub fn streaming<S>(&mut self, stream: S) -> &mut Self
    where
        S: Stream + Send + 'static,
        S::Item: Chunk,
    {
        self.set_body(Content::Stream(stream::chunks(stream)), Some(OCTET_STREAM))
    }

    /// Streams the items of a blocking iterator (a file reader, a synchronous database
    /// cursor), run on tokio's blocking threads so it never stalls the async workers.
    /// Each item waits until the previous one is on its way, and the iterator is dropped
    /// when the client goes away.
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// let rows = (1..=1000).map(|n| format!("{n},{}\n", n * n));
    /// res.content_type("text/csv").streaming_blocking(rows);
    /// # }
    /// ```
    pub fn streaming_blocking<I>(&mut self, iter: I) -> &mut Self
    where
        I: IntoIterator + Send + 'static,
        I::Item: Chunk,
    {
        self.set_body(Content::Stream(stream::blocking(iter)), Some(OCTET_STREAM))
    }

    /// Makes the body a stream fed through the returned [`StreamWriter`], for producers
    /// that push (a task, a callback) rather than yield. Its `send` fails once the
    /// client has gone.
    pub fn stream_writer(&mut self) -> StreamWriter {
        let (writer, stream) = StreamWriter::new();
        self.set_body(Content::Stream(stream), Some(OCTET_STREAM));
        writer
    }

    /// Sends server-sent events: a `Stream` of [`Event`]s (or `Result`s of them) as
    /// `text/event-stream`, with `Cache-Control: no-cache` and `X-Accel-Buffering: no`
    /// (so proxies such as nginx pass events on at once) unless those are set.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bocata::Event;
    ///
    /// # fn demo(res: &mut bocata::Res) {
    /// res.sse(bocata::stream! {
    ///     for n in 0.. {
    ///         yield Event::new().event("tick").id(n.to_string()).data(format!("{n}"));
    ///         tokio::time::sleep(Duration::from_secs(1)).await;
    ///     }
    /// })
    /// .sse_keep_alive(Duration::from_secs(15));
    /// # }
    /// ```
    pub fn sse<S>(&mut self, events: S) -> &mut Self
    where
        S: Stream + Send + 'static,
        S::Item: IntoEvent,
    {
        self.set_body(Content::Events(sse::encode(events)), Some(EVENT_STREAM))
    }

    /// With [`sse`](Self::sse): sends a `:` comment after every `interval` without an
    /// event, so proxies keep the connection open and a vanished client is noticed.
    /// Comments are only made when the client is reading. Default: none.
    pub fn sse_keep_alive(&mut self, interval: Duration) -> &mut Self {
        self.stream.keep_alive = Some(interval);
        self
    }

    /// How long the client may take to take each chunk of this response's body before
    /// the response is aborted (on HTTP/1 the connection is closed, on HTTP/2 the stream
    /// is reset) and what the body holds dropped. `None` or zero disables it. Default:
    /// the app's ([`App::chunk_timeout`](crate::App::chunk_timeout)).
    pub fn chunk_timeout(&mut self, timeout: impl Into<Option<Duration>>) -> &mut Self {
        self.stream.chunk_timeout = Some(timeout.into());
        self
    }

    /// How long this response's body may take in all before the response is aborted
    /// as for [`chunk_timeout`](Self::chunk_timeout). `None` or zero disables it.
    /// Default: the app's ([`App::complete_timeout`](crate::App::complete_timeout)).
    pub fn complete_timeout(&mut self, timeout: impl Into<Option<Duration>>) -> &mut Self {
        self.stream.complete_timeout = Some(timeout.into());
        self
    }

    /// Sets a cookie, sent as its own `Set-Cookie` header. Give a `(name, value)` pair,
    /// or a [`Cookie`](crate::Cookie) built with every attribute you need.
    ///
    /// Attributes left unset get safe defaults: `Path=/`, `HttpOnly`, `SameSite=Lax`.
    /// `Secure` is opt-in, so cookies also work on plain-HTTP development servers; turn
    /// it on in production. Name and value are percent-encoded (and decoded by
    /// [`Request::cookie`](crate::Request::cookie)), so any value is safe.
    ///
    /// ```
    /// use bocata::Cookie;
    /// use bocata::cookie::{SameSite, time::Duration};
    ///
    /// # fn demo(res: &mut bocata::Res) {
    /// res.cookie(("theme", "dark"))
    ///     .cookie(
    ///         Cookie::build(("token", "abc"))
    ///             .secure(true)
    ///             .same_site(SameSite::Strict)
    ///             .max_age(Duration::days(7)),
    ///     );
    /// # }
    /// ```
    pub fn cookie(&mut self, cookie: impl Into<::cookie::Cookie<'static>>) -> &mut Self {
        match cookie::set_cookie(cookie.into()) {
            Ok(value) => {
                self.header_map().append(header::SET_COOKIE, value);
                self
            }
            Err(e) => self.fail(e),
        }
    }

    /// Tells the client to delete a cookie: a `Set-Cookie` with an empty value,
    /// `Max-Age=0` and an expiry in the past. Give the name, or a
    /// [`Cookie`](crate::Cookie) with the `Path`/`Domain` it was set with (default
    /// `Path=/`).
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.remove_cookie("token");
    /// # }
    /// ```
    pub fn remove_cookie(&mut self, cookie: impl Into<::cookie::Cookie<'static>>) -> &mut Self {
        let mut cookie = cookie.into();
        cookie.make_removal();
        self.cookie(cookie)
    }

    /// Asks the client to save the body as a file named `filename`
    /// (`Content-Disposition: attachment`). Works with any body. Names that are not
    /// plain ASCII are sent in RFC 6266's `filename*=UTF-8''…` form with an ASCII
    /// fallback; quotes, backslashes and control characters never reach the header.
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.text("id,value\n1,0.5\n").attachment("données.csv");
    /// # }
    /// ```
    pub fn attachment(&mut self, filename: &str) -> &mut Self {
        let value = content_disposition(Disposition::Attachment, filename).unwrap_or_default();
        self.header(header::CONTENT_DISPOSITION, value)
    }

    /// Redirects to `location` (a path or an absolute URL) with an empty body.
    ///
    /// The status is `302 Found` unless a 3xx status is set, before or after: use
    /// `.status(301)` (moved permanently), `303` (see other, after a POST), `307` or
    /// `308` (which keep the method).
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.redirect("/login");
    /// res.redirect("/new-home").status(308);
    /// # }
    /// ```
    ///
    /// Redirecting to a URL taken from the request (`?next=…`) can send users to
    /// another site; check such targets first.
    pub fn redirect(&mut self, location: &str) -> &mut Self {
        if !self.status.is_redirection() {
            self.status = StatusCode::FOUND;
        }
        self.set_body(Content::Empty, None)
            .header(header::LOCATION, location)
    }

    /// Redirects to `target` only if it is a path on this site, for targets taken from
    /// the request (`?next=/account`).
    ///
    /// A target that could lead elsewhere (an absolute URL, `//host`, `/\\host`, a
    /// backslash or a control character anywhere) is refused with a
    /// `400 Bad Request`, and the response is left as it was.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// async fn login(req: &Request, res: &mut Res) -> Result {
    ///     let next = req.query("next").unwrap_or_else(|| "/".into());
    ///     res.redirect_local(&next)?.status(303);
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// A `400 Bad Request` for a target that is not a local path.
    pub fn redirect_local(&mut self, target: &str) -> crate::Result<&mut Self> {
        let local = target.starts_with('/')
            && !target.starts_with("//")
            && !target.contains('\\')
            && !target.chars().any(char::is_control);
        if local {
            Ok(self.redirect(target))
        } else {
            Err(Error::new(
                StatusCode::BAD_REQUEST,
                "refusing to redirect to a target outside this site",
            ))
        }
    }
}

fn header_pair<K, V>(name: K, value: V) -> Result<(HeaderName, HeaderValue), http::Error>
where
    K: TryInto<HeaderName>,
    K::Error: Into<http::Error>,
    V: TryInto<HeaderValue>,
    V::Error: Into<http::Error>,
{
    let name = name.try_into().map_err(Into::into)?;
    let value = value.try_into().map_err(Into::into)?;
    Ok((name, value))
}

fn cow_bytes(text: Cow<'static, str>) -> Bytes {
    match text {
        Cow::Borrowed(s) => Bytes::from_static(s.as_bytes()),
        Cow::Owned(s) => Bytes::from(s),
    }
}

/// The response-side parsers, for [`crate::fuzzing`].
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzzing {
    use std::time::{Duration, UNIX_EPOCH};

    use http::{HeaderMap, HeaderValue, Method};

    use super::conditional::{self, Validators};
    use super::disposition::{Disposition, content_disposition as disposition};
    use super::range::{self, RangeOutcome};

    pub(crate) fn range(header: &str, len: u64) {
        if let RangeOutcome::Partial(ranges) = range::evaluate(header, len) {
            assert!(!ranges.is_empty() && ranges.len() <= range::MAX_RANGES);
            let mut previous_end = None;
            for r in &ranges {
                assert!(
                    r.start < r.end && r.end <= len,
                    "{header:?}: {r:?} of {len}"
                );
                if let Some(end) = previous_end {
                    assert!(r.start > end, "{header:?}: sorted and disjoint");
                }
                previous_end = Some(r.end);
            }
        }
    }

    pub(crate) fn conditional(method: &Method, headers: &HeaderMap) {
        let current =
            Validators::for_file(500, Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)));
        let _ = conditional::evaluate(method, headers, &current);
        let _ = conditional::if_range_allows(headers, &current);
    }

    pub(crate) fn content_disposition(name: &str) {
        for kind in [Disposition::Attachment, Disposition::Inline] {
            if let Some(value) = disposition(kind, name) {
                assert!(HeaderValue::try_from(value).is_ok(), "{name:?}");
            }
        }
    }
}

#[cfg(test)]
mod tests;
