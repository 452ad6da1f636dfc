//! Building an [`App`], and the app as a [`tower::Service`].

mod dispatch;
mod lifecycle;
#[cfg(feature = "openapi")]
mod openapi;

#[cfg(feature = "websocket")]
pub(crate) use self::dispatch::Unrouted;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::body::Body;
use bytes::Bytes;
use http::{Response, StatusCode};

use self::lifecycle::Lifecycle;
use crate::context::AppContext;
pub use crate::context::{
    DEFAULT_BODY_LIMIT, DEFAULT_BODY_MIN_RATE, DEFAULT_BODY_TIMEOUT, DEFAULT_CHUNK_TIMEOUT,
};
use crate::error::{BoxError, BoxedCatch, CatchHandler};
use crate::hooks::{BeforeHook, Hooks, IntoRoute};
#[cfg(feature = "multipart")]
use crate::request::multipart::MultipartLimits;
use crate::router::Mounted;
use crate::routing::paths::Paths;
use crate::routing::{RouteError, Routes, Target};
pub use crate::service::Next;
use crate::service::{self, BoxLayer, HttpService};
#[cfg(feature = "sessions")]
use crate::session::SessionConfig;
use crate::static_files::{self, StaticFiles};
#[cfg(feature = "templates")]
use crate::template::Templates;
use crate::view::Methods;
#[cfg(feature = "websocket")]
use crate::websocket::WebSocketSettings;
use crate::{Handler, Router};

/// A bocata application: a table of routes to views, and the settings they share.
///
/// Build it with chained calls, then [`run`](App::run) it:
///
/// ```no_run
/// use bocata::{App, Request, Res, Result};
///
/// async fn hello(_req: &Request, res: &mut Res) -> Result {
///     res.text("Hello, World!");
///     Ok(())
/// }
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     App::new().route("/", bocata::get(hello)).run("127.0.0.1:8000").await
/// }
/// ```
///
/// `App` is cheap to clone (it is one `Arc`) and is a
/// [`tower::Service`] for `http::Request<B>` of any body `B`, so any
/// hyper server can serve it and tower layers can wrap it.
#[derive(Clone, Default)]
pub struct App {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field(
                "routes",
                &self.shared.context.paths.patterns().collect::<Vec<_>>(),
            )
            .field("body_limit", &self.shared.context.body_limit)
            .field("stream_timeouts", &self.shared.context.stream_timeouts)
            .field("state", &self.shared.context.state)
            .field("hooks", &self.shared.hooks)
            .field("debug", &self.shared.context.debug)
            .field("json_errors", &self.shared.json_errors)
            .finish()
    }
}

/// The app: what dispatching a request needs (the router, hooks, error pages, layers),
/// and the context every request reads.
#[derive(Clone, Default)]
pub(crate) struct Shared {
    pub(crate) context: Arc<AppContext>,
    pub(crate) routes: Routes,
    hooks: Hooks,
    catchers: Vec<(StatusCode, Arc<dyn BoxedCatch>)>,
    /// Whether every default error page is problem JSON, whatever the client accepts.
    json_errors: bool,
    layers: Vec<BoxLayer>,
    /// The app inside its layers, built on first use when there are layers.
    stack: OnceLock<HttpService>,
    /// The startup and shutdown hooks.
    pub(crate) lifecycle: Lifecycle,
}

impl App {
    /// An app with no routes.
    pub fn new() -> Self {
        Self::default()
    }

    fn shared_mut(&mut self) -> &mut Shared {
        let shared = Arc::make_mut(&mut self.shared);
        shared.stack = OnceLock::new();
        shared
    }

    pub(crate) fn context_mut(&mut self) -> &mut AppContext {
        Arc::make_mut(&mut self.shared_mut().context)
    }

    /// The router and the paths requests see of it, to add routes to both.
    fn routes_mut(&mut self) -> (&mut Routes, &mut Paths) {
        let shared = self.shared_mut();
        (
            &mut shared.routes,
            &mut Arc::make_mut(&mut shared.context).paths,
        )
    }

    /// Serves `view` at `path`.
    ///
    /// Paths are literal segments, `{name}` parameters (read with
    /// [`Request::param`](crate::Request::param)) and a final `{*rest}` catch-all. Trailing slashes are
    /// significant, and the other spelling of a route redirects to it (see
    /// [`routing`](crate::routing)).
    ///
    /// # Panics
    ///
    /// When the route is invalid or conflicts with one already added, with a message
    /// naming both: a mistake in the app, reported when it is built rather than at
    /// request time. Use [`try_route`](App::try_route) to handle it instead.
    ///
    /// ```
    /// use bocata::{App, Request, Res, Result};
    ///
    /// struct Users;
    ///
    /// #[bocata::view]
    /// impl Users {
    ///     async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
    ///         let id: u32 = req.param("id")?;
    ///         res.json(&serde_json::json!({ "id": id }));
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let app = App::new().route("/users/{id}", Users);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn route(self, path: &str, view: impl IntoRoute) -> Self {
        match self.try_route(path, view) {
            Ok(app) => app,
            Err(e) => panic!("bocata: {e}"),
        }
    }

    /// Like [`route`](App::route), but returns the problem with the route instead of
    /// panicking.
    ///
    /// ```
    /// # use bocata::{App, Request, Res, Result};
    /// # async fn a(_: &Request, _: &mut Res) -> Result { Ok(()) }
    /// let app = App::new().route("/users/{id}", bocata::get(a));
    /// let err = app.try_route("/users/{name}", bocata::get(a)).err().unwrap();
    /// assert!(err.to_string().contains("conflicts with `/users/{id}`"));
    /// ```
    pub fn try_route(mut self, path: &str, view: impl IntoRoute) -> Result<Self, RouteError> {
        let route = view.into_route();
        self.add_view(Mounted {
            path: path.to_owned(),
            view: route.view,
            hooks: route.hooks,
            #[cfg(feature = "openapi")]
            tags: Vec::new(),
        })?;
        Ok(self)
    }

    /// Adds a view route (and, with feature `openapi`, notes it for the document).
    fn add_view(&mut self, mounted: Mounted) -> Result<(), RouteError> {
        #[cfg(feature = "openapi")]
        let (name, methods, operations) = (
            mounted.view.name(),
            mounted.view.methods(),
            mounted.view.operations(),
        );
        let (routes, paths) = self.routes_mut();
        routes.insert(
            paths,
            &mounted.path,
            Target::View(mounted.view),
            mounted.hooks,
        )?;
        #[cfg(feature = "openapi")]
        self.context_mut()
            .openapi
            .add(&mounted.path, name, methods, operations, mounted.tags);
        Ok(())
    }

    /// Serves `view` at `path` without describing it in the OpenAPI document: the
    /// document's own routes.
    #[cfg(feature = "openapi")]
    #[track_caller]
    pub(crate) fn route_unlisted(mut self, path: &str, view: impl IntoRoute) -> Self {
        let route = view.into_route();
        let (routes, paths) = self.routes_mut();
        if let Err(e) = routes.insert(paths, path, Target::View(route.view), route.hooks) {
            panic!("bocata: {e}");
        }
        self
    }

    /// Mounts a tower service (an axum `Router`, a tower-http service, …) at
    /// `url_prefix`: every request under it, whatever its method, goes to the service
    /// with the prefix taken off its path (`/api/users` under `/api` arrives as
    /// `/users`). The app's hooks do not run for it; its layers do.
    ///
    /// ```
    /// use bocata::App;
    ///
    /// # fn demo(legacy: axum::Router) {
    /// let app = App::new().mount_service("/legacy", legacy);
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// When the prefix conflicts with a route already added, or has a parameter (`{id}`
    /// or `{*rest}`): the prefix is taken off as written, so it must be literal.
    #[must_use]
    #[track_caller]
    pub fn mount_service<S, B>(mut self, url_prefix: &str, service: S) -> Self
    where
        S: tower::Service<http::Request<Body>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let prefix = url_prefix.trim_end_matches('/');
        if prefix.contains(['{', '}']) {
            // The prefix is taken off the path as it is written, so a parameter would
            // never match: the service would see paths with the prefix still on.
            let reason = "a mounted service's prefix is literal: it cannot have a parameter";
            panic!(
                "bocata: {}",
                RouteError::Invalid {
                    path: url_prefix.to_owned(),
                    reason: reason.to_owned(),
                }
            );
        }
        let target = Target::Service {
            service: service::boxed(service),
            prefix: prefix.into(),
        };
        let (routes, paths) = self.routes_mut();
        let inserted = [format!("{prefix}/"), format!("{prefix}/{{*rest}}")]
            .into_iter()
            .chain((!prefix.is_empty()).then(|| prefix.to_owned()))
            .try_for_each(|path| routes.insert(paths, &path, target.clone(), Hooks::default()));
        if let Err(e) = inserted {
            panic!("bocata: {e}");
        }
        self
    }

    /// Wraps the whole app in a tower `Layer`: tower-http's `CompressionLayer`,
    /// `CorsLayer`, `TimeoutLayer`, `TraceLayer`, or your own. Layers added later wrap
    /// the ones added earlier. A layer may change the response body; it must keep the
    /// request body type. An error from a layer's service is a logged `500`.
    ///
    /// ```
    /// use bocata::App;
    ///
    /// let app = App::new().layer(tower::limit::ConcurrencyLimitLayer::new(64));
    /// ```
    #[must_use]
    pub fn layer<L, B>(mut self, layer: L) -> Self
    where
        L: tower::Layer<Next> + Send + Sync + 'static,
        L::Service: tower::Service<http::Request<Body>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<http::Request<Body>>>::Future: Send + 'static,
        <L::Service as tower::Service<http::Request<Body>>>::Error: Into<BoxError>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.shared_mut().layers.push(service::boxed_layer(layer));
        self
    }

    /// Mounts `router`'s routes under `prefix`, with the router's hooks around their
    /// views (see [`Router`]). The prefix `""` mounts them at the root, as they are
    /// written: a group of top-level routes that share hooks.
    ///
    /// ```
    /// use bocata::{App, Request, Res, Result, Router};
    ///
    /// async fn about(_req: &Request, res: &mut Res) -> Result {
    ///     res.text("about us");
    ///     Ok(())
    /// }
    ///
    /// async fn cache_for_an_hour(_req: &Request, res: &mut Res) -> Result {
    ///     res.header("cache-control", "public, max-age=3600");
    ///     Ok(())
    /// }
    ///
    /// let pages = Router::new()
    ///     .after(cache_for_an_hour)
    ///     .route("/about", bocata::get(about));
    /// let app = App::new().mount("", pages); // serves /about
    /// ```
    ///
    /// # Panics
    ///
    /// When one of the router's routes is invalid or conflicts with a route already
    /// added, with a message naming both. Use [`try_mount`](App::try_mount) to handle it
    /// instead.
    #[must_use]
    #[track_caller]
    pub fn mount(self, prefix: &str, router: Router) -> Self {
        match self.try_mount(prefix, router) {
            Ok(app) => app,
            Err(e) => panic!("bocata: {e}"),
        }
    }

    /// Like [`mount`](App::mount), but returns the problem with a route instead of
    /// panicking.
    pub fn try_mount(mut self, prefix: &str, router: Router) -> Result<Self, RouteError> {
        let mut routes = Vec::new();
        router.flatten(
            prefix,
            &Hooks::default(),
            #[cfg(feature = "openapi")]
            &[],
            &mut routes,
        )?;
        for mounted in routes {
            self.add_view(mounted)?;
        }
        Ok(self)
    }

    /// Runs `hook` before every view of the app, before the hooks of any router. See
    /// [`hooks`](crate::hooks) for what a hook can do and the order they run in.
    #[must_use]
    pub fn before<H>(mut self, hook: H) -> Self
    where
        H: for<'a> BeforeHook<'a>,
    {
        self.shared_mut().hooks.add_before(Methods::EVERY, hook);
        self
    }

    /// Runs `hook` after every view of the app, after the hooks of any router. See
    /// [`hooks`](crate::hooks).
    #[must_use]
    pub fn after<H>(mut self, hook: H) -> Self
    where
        H: for<'a> Handler<'a>,
    {
        self.shared_mut().hooks.add_after(Methods::EVERY, hook);
        self
    }

    /// Serves the files under a folder at `url_prefix`: `"public"` (a path) for the
    /// defaults, or a [`StaticFiles`] with options. Files get everything
    /// [`Res::file`](crate::Res::file) does (ETag, Last-Modified, conditional and Range requests) and
    /// cannot be escaped from; see [`StaticFiles`].
    ///
    /// ```
    /// use bocata::{App, StaticFiles};
    ///
    /// let app = App::new()
    ///     .static_files("/static", "public")
    ///     .static_files("/", StaticFiles::new("site").cache_control("max-age=60"));
    /// ```
    ///
    /// # Panics
    ///
    /// If the prefix conflicts with a route already added (see [`route`](App::route)).
    #[must_use]
    #[track_caller]
    pub fn static_files(self, url_prefix: &str, files: impl Into<StaticFiles>) -> Self {
        let files = files.into();
        let prefix = url_prefix.trim_end_matches('/');
        self.route(&format!("{prefix}/"), files.clone()).route(
            &format!("{prefix}/{{*{}}}", static_files::PATH_PARAM),
            files,
        )
    }

    /// The largest request body, in bytes, that [`Request::bytes`](crate::Request::bytes) and the readers built
    /// on it accept; a larger one is a `413 Payload Too Large`, refused without reading
    /// the rest. A view can set its own with [`View::body_limit`](crate::View::body_limit). Default: 1 MiB
    /// ([`DEFAULT_BODY_LIMIT`]).
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.context_mut().body_limit = bytes;
        self
    }

    /// Adds `value` to the app's state, shared by every request and read in views with
    /// [`Request::state`](crate::Request::state): a connection pool, a configuration, a client. One value per
    /// type; adding a second value of a type replaces the first. Views can also keep
    /// state in their own fields.
    ///
    /// ```
    /// use bocata::{App, Request, Res, Result};
    ///
    /// struct Config {
    ///     site_name: String,
    /// }
    ///
    /// async fn home(req: &Request, res: &mut Res) -> Result {
    ///     let config = req.state::<Config>()?;
    ///     res.text(format!("Welcome to {}", config.site_name));
    ///     Ok(())
    /// }
    ///
    /// let app = App::new()
    ///     .state(Config { site_name: "bocata".into() })
    ///     .route("/", bocata::get(home));
    /// ```
    #[must_use]
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.context_mut().state.insert(value);
        self
    }

    /// Loads the templates under `dir` (every file, at any depth, named by its path
    /// relative to `dir`), rendered in views with [`Res::template`](crate::Res::template). See
    /// [`template`](crate::template).
    ///
    /// ```no_run
    /// let app = bocata::App::new().templates("templates");
    /// ```
    ///
    /// # Panics
    ///
    /// If a template does not parse, with tera's explanation: a broken template is
    /// found when the app is built, not when a page is first asked for.
    #[cfg(feature = "templates")]
    #[must_use]
    #[track_caller]
    pub fn templates(mut self, dir: impl AsRef<std::path::Path>) -> Self {
        match Templates::load(dir.as_ref()) {
            Ok(templates) => self.context_mut().templates = Some(templates),
            Err(e) => panic!("bocata: {e}"),
        }
        self
    }

    /// How large a `multipart/form-data` upload may be, per field, in all, and in the
    /// headers of each part; over any of them is a `413`. Default: 8 MiB a field,
    /// 32 MiB in all, 8 KiB of headers a part ([`DEFAULT_MULTIPART_LIMITS`](crate::request::multipart::DEFAULT_MULTIPART_LIMITS)). Uploads
    /// are streamed, so the first two do not bound memory, only what a client may
    /// send; [`body_limit`](App::body_limit) does not apply to them.
    ///
    /// ```
    /// use bocata::App;
    /// use bocata::request::multipart::{DEFAULT_MULTIPART_LIMITS, MultipartLimits};
    ///
    /// let app = App::new().multipart_limits(MultipartLimits {
    ///     field: 100 * 1024 * 1024,
    ///     total: 200 * 1024 * 1024,
    ///     ..DEFAULT_MULTIPART_LIMITS
    /// });
    /// ```
    #[cfg(feature = "multipart")]
    #[must_use]
    pub fn multipart_limits(mut self, limits: MultipartLimits) -> Self {
        self.context_mut().multipart_limits = limits;
        self
    }

    /// The limits and liveness settings of the app's WebSockets. Default:
    /// [`WebSocketSettings::new`].
    #[cfg(feature = "websocket")]
    #[must_use]
    pub fn websocket(mut self, settings: WebSocketSettings) -> Self {
        self.context_mut().websocket = settings;
        self
    }

    /// The key that signs session cookies (see [`Request::session`](crate::Request::session)): at least 64
    /// bytes of secret randomness, the same for every process serving the app, kept out
    /// of the source (read it from the environment or a secrets store). Generate one
    /// with `bocata::cookie::Key::generate()` (its `master()` bytes), or
    /// `openssl rand -hex 64` (the 128 characters are the key).
    ///
    /// # Panics
    ///
    /// If the key is shorter than 64 bytes, when the app is built.
    #[cfg(feature = "sessions")]
    #[must_use]
    #[track_caller]
    pub fn secret_key(mut self, key: impl AsRef<[u8]>) -> Self {
        let key = key.as_ref();
        match cookie::Key::try_from(key) {
            Ok(key) => self.context_mut().sessions.key = Some(key),
            Err(_) => panic!(
                "bocata: the secret key must be at least 64 bytes long, not {}",
                key.len()
            ),
        }
        self
    }

    /// How the session cookie is set (name, `Secure`, `SameSite`, `Max-Age`). Default:
    /// [`SessionConfig::new`].
    ///
    /// Sessions are signed with the app's [`secret_key`](App::secret_key), which must
    /// be set first: an app that configures sessions without one is refused when it is
    /// built, whatever will serve it (bocata's server, the
    /// [`TestClient`](crate::testing::TestClient), or axum through `tower::Service`),
    /// rather than failing at the first request that uses a session.
    ///
    /// # Panics
    ///
    /// When the app has no secret key yet, with a message saying what to add.
    #[cfg(feature = "sessions")]
    #[must_use]
    #[track_caller]
    pub fn session_config(mut self, config: SessionConfig) -> Self {
        let sessions = &mut self.context_mut().sessions;
        assert!(
            sessions.key.is_some(),
            "bocata: App::session_config needs the key that signs sessions: call \
             App::secret_key before it"
        );
        sessions.config = config;
        self
    }

    /// Keeps sessions in Redis: the cookie holds only a signed id, and a session can be
    /// ended at once for every process (feature `redis`). See
    /// [`RedisSessions`](crate::session::RedisSessions).
    ///
    /// # Panics
    ///
    /// Without a [`secret_key`](App::secret_key) (added before), which signs the ids.
    #[cfg(feature = "redis")]
    #[must_use]
    #[track_caller]
    pub fn session_store(mut self, store: crate::session::RedisSessions) -> Self {
        let sessions = &mut self.context_mut().sessions;
        assert!(
            sessions.key.is_some(),
            "bocata: App::session_store needs the key that signs session ids: call \
             App::secret_key before it"
        );
        sessions.store = Some(store);
        self
    }

    /// How long a client may take to take each chunk of a response body, whatever the
    /// body (text, JSON, a template, a file, a stream, an error page); past it, the
    /// response is aborted and what it holds (a file, a stream) dropped: on HTTP/1 its
    /// connection is closed, on HTTP/2 its stream is reset and the connection's other
    /// streams go on. Only time spent waiting on the client counts, never a producer
    /// taking its time. A response can set its own with
    /// [`Res::chunk_timeout`](crate::Res::chunk_timeout). `None` or zero disables it.
    /// Default: 30 seconds ([`DEFAULT_CHUNK_TIMEOUT`]).
    ///
    /// A client that stops reading fills the socket's buffers (or leaves its HTTP/2
    /// window shut); without this limit it would hold the response, and whatever the
    /// response holds, for as long as it likes.
    #[must_use]
    pub fn chunk_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.context_mut().stream_timeouts.chunk = timeout.into();
        self
    }

    /// How long a response body may take in all, from when the response starts; past
    /// it, the response is aborted as for [`chunk_timeout`](App::chunk_timeout). A
    /// response can set its own with
    /// [`Res::complete_timeout`](crate::Res::complete_timeout). It does not apply to
    /// an upgraded WebSocket. `None` or zero disables it. Default: none, since event
    /// streams are meant to last.
    #[must_use]
    pub fn complete_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.context_mut().stream_timeouts.complete = timeout.into();
        self
    }

    /// Renders the page for errors with `status` (404, 405, 500, …) with `handler`
    /// instead of the default short body: for errors from views, hooks, the router and
    /// the body readers alike. The handler gets the error and the request's head (as
    /// [`Caught`](crate::error::Caught)) and a `Res` already carrying the status and the error's headers
    /// (`Allow` on a 405, say).
    ///
    /// If the handler fails or panics, the default body is sent and the problem logged.
    ///
    /// ```
    /// use bocata::error::Caught;
    /// use bocata::{App, Res, Result};
    ///
    /// async fn not_found(caught: &Caught<'_>, res: &mut Res) -> Result {
    ///     res.html(format!(
    ///         "<h1>Nothing at {}</h1><p><a href=\"/\">Home</a></p>",
    ///         caught.uri().path().replace('<', "&lt;")
    ///     ));
    ///     Ok(())
    /// }
    ///
    /// let app = App::new().catch(404, not_found);
    /// ```
    ///
    /// # Panics
    ///
    /// If `status` is not a valid status code (100–999).
    #[must_use]
    #[track_caller]
    pub fn catch<S, H>(mut self, status: S, handler: H) -> Self
    where
        S: TryInto<StatusCode>,
        S::Error: std::fmt::Debug,
        H: for<'a> CatchHandler<'a>,
    {
        let status = match status.try_into() {
            Ok(status) => status,
            Err(e) => panic!("bocata: App::catch needs a valid status: {e:?}"),
        };
        let catchers = &mut self.shared_mut().catchers;
        catchers.retain(|(s, _)| *s != status);
        catchers.push((status, Arc::new(handler)));
        self
    }

    /// Makes every default error page an RFC 9457 problem JSON object
    /// (`application/problem+json`), whatever the client's `Accept` says: the habit of a
    /// JSON API, and Falcon's default. Off, the page is problem JSON only for clients
    /// that accept JSON and plain text for the rest. Pages from [`catch`](App::catch)
    /// handlers are theirs to shape. Default: off.
    ///
    /// ```
    /// use bocata::App;
    ///
    /// // A `GET /nope` from curl now gets
    /// // {"type":"about:blank","title":"Not Found","status":404}
    /// let app = App::new().json_errors(true);
    /// ```
    #[must_use]
    pub fn json_errors(mut self, on: bool) -> Self {
        self.shared_mut().json_errors = on;
        self
    }

    /// How long a request body may take to arrive once a reader asks for it; a client
    /// that sends it too slowly gets a `408 Request Timeout` (on HTTP/1 the connection
    /// is then closed). A body read whole ([`Request::bytes`](crate::Request::bytes)
    /// and the readers built on it) must arrive within it. A body read as a stream
    /// ([`Request::stream`](crate::Request::stream), multipart uploads), which may be
    /// too large for that, may keep the view waiting for its next piece no longer than
    /// this, and in all this long plus what it earns at
    /// [`body_min_rate`](App::body_min_rate). Only time the view spends waiting for the
    /// client counts. `None` or zero disables it. Default: 30 seconds
    /// ([`DEFAULT_BODY_TIMEOUT`]).
    #[must_use]
    pub fn body_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.context_mut().body_deadlines.timeout = timeout.into().filter(|t| !t.is_zero());
        self
    }

    /// The pace a request body read as a stream must keep, in bytes a second: each
    /// `rate` bytes received buy it one more second of waiting beyond
    /// [`body_timeout`](App::body_timeout), so a client that trickles a byte now and
    /// then is cut off (`408`) while a large upload at a sound pace never is. `None` or
    /// zero: only the wait for each piece is limited. Default: 1 KiB a second
    /// ([`DEFAULT_BODY_MIN_RATE`]).
    #[must_use]
    pub fn body_min_rate(mut self, bytes_per_second: impl Into<Option<u64>>) -> Self {
        self.context_mut().body_deadlines.min_rate =
            bytes_per_second.into().filter(|rate| *rate > 0);
        self
    }

    /// Declares that the app is served behind one reverse proxy (nginx, a load
    /// balancer) that sets `X-Forwarded-For` and `X-Forwarded-Proto`:
    /// [`Request::client_ip`](crate::Request::client_ip) and [`Request::scheme`](crate::Request::scheme) then trust them. Only turn it on
    /// when every request comes through that proxy, or clients could claim any address.
    /// Default: off.
    #[must_use]
    pub fn behind_proxy(mut self, on: bool) -> Self {
        self.context_mut().behind_proxy = on;
        self
    }

    /// Debug mode: error pages show the cause of server errors (the error chain, the
    /// panic message), and templates are reloaded from disk before each render. Never turn it on in production. Default: off.
    #[must_use]
    pub fn debug(mut self, on: bool) -> Self {
        self.context_mut().debug = on;
        self
    }
}
