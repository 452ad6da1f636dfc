//! The incoming request, as a view sees it.

mod body;
mod error;
#[cfg(feature = "multipart")]
pub mod multipart;
mod pace;

use std::any::{TypeId, type_name};
use std::borrow::Cow;
use std::fmt::Display;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use cookie::Cookie;
use http::header::AsHeaderName;
use http::{Extensions, HeaderMap, Method, StatusCode, Uri, Version, header};
use percent_encoding::percent_decode_str;
use serde::de::DeserializeOwned;

pub(crate) use self::body::RequestBody;
use self::body::{LazyBody, has_content_type, has_json_type, json_error, unsupported_media_type};
use self::error::BodyError;
use crate::context::{AppContext, ConnectionContext};
use crate::routing::ParamRanges;
use crate::routing::paths::{RoutePath, ViewKey};
#[cfg(feature = "sessions")]
use crate::session::Session;
use crate::view::short_type_name;
use crate::{Error, Result, View, headers};

/// An HTTP request: its head, the route's parameters, and a body read on demand.
///
/// Views receive `&Request`. Everything a client sends is checked when read, and a
/// problem is an [`Error`] with the status that fits (400, 413, 415, 422), so `?` in a
/// view turns bad input into a clear answer.
///
/// The body is read lazily, at most once from the wire, and kept: `req.text()` then
/// `req.json()` both work. Its size is limited by
/// [`App::body_limit`](crate::App::body_limit) (default 1 MiB).
pub struct Request {
    head: http::request::Parts,
    body: LazyBody,
    pub(crate) context: Arc<AppContext>,
    /// The index of the route that matched.
    route: usize,
    params: ParamRanges,
    connection: Option<Arc<ConnectionContext>>,
    #[cfg(feature = "sessions")]
    session: std::sync::OnceLock<Session>,
}

impl Request {
    /// The request `head` with `body`, matched to route `route` of `context` with
    /// `params` (byte ranges of the path), on `connection` when bocata's server serves
    /// it.
    pub(crate) fn new(
        head: http::request::Parts,
        body: RequestBody,
        context: Arc<AppContext>,
        route: usize,
        params: ParamRanges,
        connection: Option<Arc<ConnectionContext>>,
    ) -> Self {
        let limit = context
            .paths
            .route(route)
            .body_limit
            .unwrap_or(context.body_limit);
        Self {
            body: LazyBody::new(body, limit, context.body_deadlines),
            head,
            context,
            route,
            params,
            connection,
            #[cfg(feature = "sessions")]
            session: std::sync::OnceLock::new(),
        }
    }

    /// The route that matched, as requests see it.
    fn route(&self) -> &RoutePath {
        self.context.paths.route(self.route)
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.head.method
    }

    /// The request URI as sent: path and query, and for HTTP/2 the scheme and authority.
    pub fn uri(&self) -> &Uri {
        &self.head.uri
    }

    /// The path, still percent-encoded, without the query string.
    pub fn path(&self) -> &str {
        self.head.uri.path()
    }

    /// The HTTP version.
    pub fn version(&self) -> Version {
        self.head.version
    }

    /// All request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    /// The first value of header `name` (case-insensitive), if present and visible
    /// ASCII. Use [`headers`](Self::headers) for raw or repeated values.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// async fn agent(req: &Request, res: &mut Res) -> Result {
    ///     res.text(req.header("user-agent").unwrap_or("unknown").to_owned());
    ///     Ok(())
    /// }
    /// ```
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        headers::text(&self.head.headers, name)
    }

    /// The path parameter `name`, percent-decoded and parsed into `T`.
    ///
    /// A value that does not parse is a `400 Bad Request` naming the parameter, so `?`
    /// turns `/users/abc` into a clear client error. Asking for a name the route does not
    /// have is a bug in the app: a 500 naming the parameter and the route.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// // routed as "/users/{id}"
    /// async fn user(req: &Request, res: &mut Res) -> Result {
    ///     let id: u64 = req.param("id")?;
    ///     res.text(format!("user {id}"));
    ///     Ok(())
    /// }
    /// ```
    pub fn param<T>(&self, name: &str) -> Result<T>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        let Some(raw) = self.raw_param(name) else {
            let pattern = self.route().pattern();
            return Err(Error::internal(format!(
                "route `{pattern}` has no parameter `{name}`"
            )));
        };
        // Most values have nothing to decode, and a path is valid UTF-8 already.
        let value = if raw.contains('%') {
            percent_decode_str(raw).decode_utf8().map_err(|_| {
                Error::new(
                    StatusCode::BAD_REQUEST,
                    format!("path parameter `{name}` is not valid UTF-8"),
                )
            })?
        } else {
            Cow::Borrowed(raw)
        };
        value.parse().map_err(|e| {
            Error::new(
                StatusCode::BAD_REQUEST,
                format!("path parameter `{name}` is invalid: {e}"),
            )
        })
    }

    /// The path parameter `name` as matched, still percent-encoded.
    pub(crate) fn raw_param(&self, name: &str) -> Option<&str> {
        let &(start, end) = self.params.get(self.route().param_position(name)?)?;
        self.path().get(start..end)
    }

    /// The path of the route serving view type `V`, with `params` filled in and
    /// percent-encoded: reverse routing, so links and redirects follow the routes.
    /// Redirect to a view (Responder's `resp.redirect(view=Index)`) with
    /// `res.redirect(&req.url_for::<Index>(&[])?)`.
    ///
    /// A view that is not routed, a missing parameter or one the route does not have is
    /// a bug in the app: a 500 whose logged cause says which.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// struct User;
    ///
    /// #[bocata::view]
    /// impl User {
    ///     async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
    ///         res.text("a user");
    ///         Ok(())
    ///     }
    /// }
    ///
    /// async fn create(req: &Request, res: &mut Res) -> Result {
    ///     let id = 7;
    ///     res.redirect(&req.url_for::<User>(&[("id", &id)])?).status(303);
    ///     Ok(())
    /// }
    /// ```
    pub fn url_for<V: View>(&self, params: &[(&str, &dyn Display)]) -> Result<String> {
        let key = ViewKey::Type(TypeId::of::<V>(), short_type_name(type_name::<V>()));
        self.context.paths.url_for(key, params)
    }

    /// Like [`url_for`](Self::url_for), for the view named `name` (see
    /// [`View::name`]): function views, and views named in templates.
    pub fn url_for_name(&self, name: &str, params: &[(&str, &dyn Display)]) -> Result<String> {
        self.context.paths.url_for(ViewKey::Name(name), params)
    }

    /// The raw query string, if the URI has one.
    pub fn query_string(&self) -> Option<&str> {
        self.head.uri.query()
    }

    /// The first value of query parameter `name`, decoded (`+` is a space).
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// // GET /search?q=rust+web
    /// async fn search(req: &Request, res: &mut Res) -> Result {
    ///     let q = req.query("q").unwrap_or_default();
    ///     res.text(format!("searching for {q}"));
    ///     Ok(())
    /// }
    /// ```
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Every value of query parameter `name`, in order (`?tag=a&tag=b`).
    pub fn query_all(&self, name: &str) -> Vec<String> {
        self.query_pairs()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .collect()
    }

    fn query_pairs(&self) -> form_urlencoded::Parse<'_> {
        form_urlencoded::parse(self.query_string().unwrap_or("").as_bytes())
    }

    /// The whole query string deserialized into `T`. A query that does not fit `T` (a
    /// missing field, a number that does not parse) is a `400 Bad Request` saying why.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// #[derive(serde::Deserialize)]
    /// struct Page {
    ///     page: u32,
    ///     per_page: Option<u32>,
    /// }
    ///
    /// async fn list(req: &Request, res: &mut Res) -> Result {
    ///     let p: Page = req.query_as()?;
    ///     res.text(format!("page {} of {}", p.page, p.per_page.unwrap_or(20)));
    ///     Ok(())
    /// }
    /// ```
    pub fn query_as<T: DeserializeOwned>(&self) -> Result<T> {
        serde_urlencoded::from_str(self.query_string().unwrap_or("")).map_err(|e| {
            Error::new(
                StatusCode::BAD_REQUEST,
                format!("invalid query string: {e}"),
            )
        })
    }

    /// The value of cookie `name`, percent-decoded, if the client sent it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.head
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse_encoded)
            .filter_map(|c| c.ok())
            .find(|c| c.name() == name)
            .map(|c| c.value().to_owned())
    }

    /// The address of the peer that opened the connection, when served by bocata's
    /// server (not behind a proxy-aware layer, and not in the [`TestClient`]).
    ///
    /// [`TestClient`]: crate::testing::TestClient
    pub fn client_addr(&self) -> Option<SocketAddr> {
        self.connection.as_ref().map(|c| c.peer)
    }

    /// The client's IP address: the peer's, or, behind a reverse proxy declared with
    /// [`App::behind_proxy`](crate::App::behind_proxy), the last address in the
    /// `X-Forwarded-For` header that proxy added. Without that declaration the header
    /// is ignored, since any client can send it.
    pub fn client_ip(&self) -> Option<std::net::IpAddr> {
        if self.context.behind_proxy {
            let forwarded = self
                .head
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .last()
                .and_then(|ip| ip.trim().parse().ok());
            if forwarded.is_some() {
                return forwarded;
            }
        }
        self.client_addr().map(|addr| addr.ip())
    }

    /// The scheme the client used: `https` when a declared proxy says so in
    /// `X-Forwarded-Proto` or the connection is TLS, the URI's scheme (HTTP/2), or
    /// `http`.
    pub fn scheme(&self) -> &str {
        if self.context.behind_proxy
            && let Some(proto) = self.header("x-forwarded-proto")
        {
            return if proto.trim().eq_ignore_ascii_case("https") {
                "https"
            } else {
                "http"
            };
        }
        #[cfg(feature = "tls")]
        if self.tls().is_some() {
            return "https";
        }
        self.head.uri.scheme_str().unwrap_or("http")
    }

    /// What the TLS handshake of the request's connection agreed on (the ALPN
    /// protocol, the host name asked for, the client's certificates); `None` on plain
    /// HTTP. See [`TlsInfo`](crate::tls::TlsInfo).
    #[cfg(feature = "tls")]
    pub fn tls(&self) -> Option<&crate::tls::TlsInfo> {
        self.connection()?.tls.as_ref()
    }

    /// The connection the request came on, when served by bocata's server.
    pub(crate) fn connection(&self) -> Option<&ConnectionContext> {
        self.connection.as_deref()
    }

    /// The `Last-Event-ID` header: the id of the last server-sent event a reconnecting
    /// browser received, so an event stream can resume after it.
    pub fn last_event_id(&self) -> Option<&str> {
        self.header("last-event-id")
    }

    /// The app's state of type `T`, added with [`App::state`](crate::App::state).
    ///
    /// Asking for a type that was never added is a bug in the app: a 500 whose logged
    /// cause names the type.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// struct Greeting(&'static str);
    ///
    /// async fn hello(req: &Request, res: &mut Res) -> Result {
    ///     let Greeting(greeting) = req.state()?;
    ///     res.text(*greeting);
    ///     Ok(())
    /// }
    /// ```
    pub fn state<T: Send + Sync + 'static>(&self) -> Result<&T> {
        self.context.state.get().ok_or_else(|| {
            Error::internal(format!(
                "no state of type `{}` was added to the app (App::state)",
                std::any::type_name::<T>()
            ))
        })
    }

    /// The session: serde values kept in a cookie signed with the app's
    /// [`secret_key`](crate::App::secret_key), read on first use and written back
    /// (signed) if changed. A cookie that was tampered with, truncated, signed by
    /// another key or for another cookie name or path, or past its
    /// [`max_age`](crate::SessionConfig::max_age), gives an empty session, not an error.
    ///
    /// With `App::session_store` (feature `redis`) the values live in Redis and the
    /// cookie holds only the session's id; the session is read before the hooks run.
    ///
    /// Without a secret key this is a 500 whose logged cause says so.
    #[cfg(feature = "sessions")]
    pub fn session(&self) -> Result<&Session> {
        let sessions = &self.context.sessions;
        let Some(key) = &sessions.key else {
            return Err(Error::internal(
                "sessions need a secret key: add one with App::secret_key",
            ));
        };
        // A session kept in Redis was read before the hooks; there is no other way to
        // read one.
        #[cfg(feature = "redis")]
        if sessions.store.is_some() {
            return self.session.get().ok_or_else(|| {
                Error::internal("the session kept in Redis was not read for this request")
            });
        }
        Ok(self
            .session
            .get_or_init(|| sessions.load(key, self.cookie(sessions.config_name()))))
    }

    /// Reads the session from the app's [`RedisSessions`](crate::session::RedisSessions)
    /// store, before the hooks run.
    #[cfg(feature = "redis")]
    pub(crate) async fn load_session(&self) -> Result<()> {
        let sessions = &self.context.sessions;
        let (Some(store), Some(key)) = (&sessions.store, &sessions.key) else {
            return Ok(());
        };
        let cookie = self.cookie(sessions.config_name());
        let session = store.load(key, &sessions.config, cookie).await?;
        // Loaded once, before anything could read it.
        let _ = self.session.set(session);
        Ok(())
    }

    /// Writes a changed session back to the app's Redis store, and returns the
    /// `Set-Cookie` value for it if its cookie changes.
    #[cfg(feature = "redis")]
    pub(crate) async fn save_session(&self) -> Result<Option<http::HeaderValue>> {
        let sessions = &self.context.sessions;
        match (self.session.get(), &sessions.store, &sessions.key) {
            (Some(session), Some(store), Some(key)) => {
                store
                    .save(key, &sessions.config, session, self.scheme() == "https")
                    .await
            }
            _ => Ok(None),
        }
    }

    /// The `Set-Cookie` value for the session, if it was used and changed.
    #[cfg(feature = "sessions")]
    pub(crate) fn session_cookie(&self) -> Result<Option<http::HeaderValue>> {
        match (self.session.get(), &self.context.sessions.key) {
            (Some(session), Some(key)) => {
                let secure = self.scheme() == "https";
                self.context.sessions.set_cookie(key, session, secure)
            }
            _ => Ok(None),
        }
    }

    /// Typed per-request data (Flask's `g`): whatever tower layers or hooks attached.
    pub fn extensions(&self) -> &Extensions {
        &self.head.extensions
    }

    /// Mutable access to the per-request data.
    ///
    /// ```
    /// # fn demo(req: &mut bocata::Request) {
    /// #[derive(Clone)]
    /// struct UserId(u64);
    ///
    /// req.extensions_mut().insert(UserId(7));
    /// assert_eq!(req.extensions().get::<UserId>().map(|u| u.0), Some(7));
    /// # }
    /// ```
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.head.extensions
    }

    /// The whole body. Over the limit is a `413 Payload Too Large`; a client that stops
    /// sending midway is a `400 Bad Request`, one that takes longer than
    /// [`App::body_timeout`](crate::App::body_timeout) a `408 Request Timeout`.
    pub async fn bytes(&self) -> Result<Bytes> {
        self.body.bytes(&self.head.headers).await.cloned()
    }

    /// The body as a stream of chunks as they arrive, for bodies too large to hold (a
    /// large upload piped to disk or to another service). It is not limited by
    /// [`App::body_limit`](crate::App::body_limit): count what you keep. A body still
    /// on the wire can be streamed once (a second call is a 500); one already read
    /// whole is streamed from the bytes kept, as often as asked.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// use futures_util::StreamExt;
    ///
    /// async fn count(req: &Request, res: &mut Res) -> Result {
    ///     let mut body = req.stream()?;
    ///     let mut total = 0;
    ///     while let Some(chunk) = body.next().await {
    ///         total += chunk?.len();
    ///     }
    ///     res.text(format!("{total} bytes"));
    ///     Ok(())
    /// }
    /// ```
    ///
    /// # Errors
    ///
    /// A 500 if the body was already taken; each chunk is a `400` if the client stops
    /// sending midway, and a `408 Request Timeout` if it keeps the view waiting too long
    /// (see [`App::body_timeout`](crate::App::body_timeout) and
    /// [`App::body_min_rate`](crate::App::body_min_rate)).
    pub fn stream(&self) -> Result<impl futures_util::Stream<Item = Result<Bytes>> + Send + use<>> {
        let body = self.body.take_stream()?;
        Ok(futures_util::StreamExt::map(
            http_body_util::BodyExt::into_data_stream(body),
            |chunk| chunk.map_err(|e| BodyError::answer(e.into_inner())),
        ))
    }

    /// The body as UTF-8 text; bytes that are not UTF-8 are a `400 Bad Request`.
    pub async fn text(&self) -> Result<&str> {
        let bytes = self.body.bytes(&self.head.headers).await?;
        std::str::from_utf8(bytes).map_err(|e| {
            Error::new(
                StatusCode::BAD_REQUEST,
                format!("the request body is not valid UTF-8: {e}"),
            )
        })
    }

    /// The body parsed as JSON into `T`.
    ///
    /// | problem | status |
    /// |---|---|
    /// | `Content-Type` is not `application/json` or `application/*+json` | 415 |
    /// | the body is not JSON (the message names line and column) | 400 |
    /// | valid JSON of the wrong shape for `T` | 422 |
    /// | over the body limit | 413 |
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// #[derive(serde::Deserialize, serde::Serialize)]
    /// struct Todo {
    ///     title: String,
    /// }
    ///
    /// async fn create(req: &Request, res: &mut Res) -> Result {
    ///     let todo: Todo = req.json().await?;
    ///     res.status(201).json(&todo);
    ///     Ok(())
    /// }
    /// ```
    pub async fn json<T: DeserializeOwned>(&self) -> Result<T> {
        if !has_json_type(self.headers()) {
            return Err(unsupported_media_type("application/json"));
        }
        let bytes = self.body.bytes(&self.head.headers).await?;
        serde_json::from_slice(bytes).map_err(|e| json_error(&e))
    }

    /// The body parsed as an HTML form (`application/x-www-form-urlencoded`) into `T`.
    /// Another `Content-Type` is a 415; fields that do not fit `T` are a
    /// `422 Unprocessable Entity` saying which.
    pub async fn form<T: DeserializeOwned>(&self) -> Result<T> {
        const FORM: &str = "application/x-www-form-urlencoded";
        if !has_content_type(self.headers(), FORM) {
            return Err(unsupported_media_type(FORM));
        }
        let bytes = self.body.bytes(&self.head.headers).await?;
        serde_urlencoded::from_bytes(bytes).map_err(|e| {
            Error::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("the form does not have the expected fields: {e}"),
            )
        })
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", self.method())
            .field("uri", self.uri())
            .field("version", &self.version())
            .field("headers", self.headers())
            .field("client_addr", &self.client_addr())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
