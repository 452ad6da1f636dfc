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
//! | [`redirect`](Res::redirect) | empty | none |
//!
//! An explicit `Content-Type` ([`content_type`](Res::content_type) or
//! [`header`](Res::header)) always wins over the implied one, whichever was called first.
//!
//! A setter given something invalid (a header value with CR/LF, a status of 1000, a
//! value that fails to serialize) does not panic and is not ignored: the response
//! becomes a `500 Internal Server Error` and the cause is logged.

mod conditional;
mod cookie;
mod disposition;
mod file;
mod range;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use axum_core::body::Body;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, header};
use serde::Serialize;

use self::disposition::{Disposition, content_disposition};
use self::file::OpenFile;
pub(crate) use self::file::guess_type;
use crate::Error;

const TEXT: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");
const JSON: HeaderValue = HeaderValue::from_static("application/json");
const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

/// Why a setter could not do what it was asked. Recorded on the `Res` and reported as a
/// 500 when the response is finalized.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResError {
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
}

/// The body a response will carry.
#[derive(Debug, Default)]
enum Content {
    #[default]
    Empty,
    Bytes(Bytes),
    Json(serde_json::Value),
    File(PathBuf),
}

/// The response under construction, handed to views as `&mut Res`.
///
/// It starts as `200 OK` with no body. See the [module documentation](self) for the
/// body kinds and the rules that combine them.
#[derive(Debug, Default)]
pub struct Res {
    status: StatusCode,
    headers: HeaderMap,
    content: Content,
    implied_type: Option<HeaderValue>,
    disposition: Disposition,
    error: Option<ResError>,
}

impl Res {
    pub(crate) fn new() -> Self {
        Self::default()
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
                put(&mut self.headers, name, value);
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
                self.headers.insert(header::CONTENT_TYPE, value);
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

    /// Sends a file with no `Content-Disposition`, as static file servers do.
    pub(crate) fn static_file(&mut self, path: PathBuf) -> &mut Self {
        self.disposition = Disposition::Omitted;
        self.set_body(Content::File(path), None)
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
                self.headers.append(header::SET_COOKIE, value);
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

    /// Finalizes into a hyper response without copying the body. `method` and
    /// `request_headers` are those of the request, for file bodies' conditional and range
    /// handling.
    ///
    /// Fixed bodies get `Content-Length`; 1xx, 204 and 304 responses get neither a body
    /// nor `Content-Type`; an explicit `Content-Type` is kept over the implied one.
    pub(crate) async fn into_response(
        self,
        method: &Method,
        request_headers: &HeaderMap,
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
            ..
        } = self;
        let body = match content {
            Content::Empty => fixed(&mut headers, Bytes::new(), implied_type),
            Content::Bytes(bytes) => fixed(&mut headers, bytes, implied_type),
            Content::Json(value) => {
                let json =
                    serde_json::to_vec(&value).map_err(|e| Error::internal(ResError::Json(e)))?;
                fixed(&mut headers, json.into(), implied_type)
            }
            Content::File(path) => {
                let file = OpenFile::open(&path).await?;
                if !headers.contains_key(header::CONTENT_DISPOSITION) {
                    if let Some(value) = content_disposition(disposition, &file.name()) {
                        let value = HeaderValue::try_from(value).map_err(Error::internal)?;
                        headers.insert(header::CONTENT_DISPOSITION, value);
                    }
                }
                headers
                    .entry(header::CONTENT_TYPE)
                    .or_insert_with(|| guess_type(&path));
                let (file_status, body) =
                    file.respond(method, request_headers, status, &mut headers)?;
                status = file_status;
                body
            }
        };
        let body = if status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            headers.remove(header::CONTENT_TYPE);
            headers.remove(header::CONTENT_LENGTH);
            Body::empty()
        } else {
            body
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }
}

/// A body of known bytes: `Content-Length`, and the implied `Content-Type` unless one
/// was set.
fn fixed(headers: &mut HeaderMap, bytes: Bytes, implied_type: Option<HeaderValue>) -> Body {
    if let Some(implied) = implied_type {
        headers.entry(header::CONTENT_TYPE).or_insert(implied);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Body::from(bytes)
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

#[cfg(test)]
mod tests;
