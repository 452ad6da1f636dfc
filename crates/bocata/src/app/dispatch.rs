//! Answering a request. Each step is a function of [`App`] here, in this order:
//!
//! 1. [`handle`](App::handle): through the app's tower layers, if it has any.
//! 2. [`answer`](App::answer): resolves the request, runs the hooks and the view,
//!    finishes what they made of `res`; then settles HEAD and `Content-Length` for
//!    every response ([`settle`]) and writes the access-log line.
//! 3. [`resolve`](App::resolve): everything before the view, none of which waits:
//!    redirects, `OPTIONS`, 404 and 405, mounted services, WebSocket upgrades, or the
//!    view, with the [`Request`] for it and its [`Res`] on the heap.
//! 4. [`run_hooks_and_view`](App::run_hooks_and_view): the before hooks, the view, the
//!    after hooks; a panic in any of them is caught.
//! 5. [`finish_without_waiting`](App::finish_without_waiting): the session cookie,
//!    then [`Res::finalize`]; what waits (a file to open, a session written back to
//!    Redis, [`error_response`](App::error_response) with the app's error page or the
//!    default body) is one boxed future.
//!
//! hyper moves a request's future before it polls it, so the future's size is on
//! every request's path: routing is done before the future is made (when hyper hands
//! the request over), the future holds a pointer to the request and response rather
//! than the request itself, and it owns what it needs, so nothing that awaits it holds
//! the request too.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use crate::body::Body;
use bytes::Bytes;
use futures_util::future::{BoxFuture, Either};
use http::{HeaderValue, Method, Response, StatusCode, header};
use tower::ServiceExt;

use super::{App, Shared};
use crate::context::ConnectionContext;
use crate::error::{BoxError, BoxedCatch, Caught, catch_panic, render};
use crate::headers::accepts_json;
use crate::request::RequestBody;
use crate::response::{Finalize, settle};
use crate::routing::reverse::with_query;
use crate::routing::{Endpoint, Lookup, Target};
use crate::service::{self, HttpService};
use crate::view::{ErasedView, Methods, Verb};
use crate::{Error, Request, Res};

impl App {
    /// Answers one request, through the app's layers if it has any.
    pub(crate) fn handle<B: Into<RequestBody>>(
        &self,
        request: http::Request<B>,
        connection: Option<Arc<ConnectionContext>>,
    ) -> impl Future<Output = Response<Body>> + Send + use<B> {
        if self.shared.layers.is_empty() {
            return Either::Left(self.answer(request, connection));
        }
        let mut request = request.map(|body| body.into().into_body());
        if let Some(connection) = connection {
            request.extensions_mut().insert(connection);
        }
        let stack = self.shared.stack.get_or_init(|| self.build_stack()).clone();
        // Boxed: this future holds the request until the layers take it, and every
        // request's future (with layers or without) is as large as the larger way.
        Either::Right(Box::pin(async move {
            match stack.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }))
    }

    /// The app's own service, wrapped in its layers in the order they were added. The
    /// service inside answers with a copy of the app without layers (so that the stack
    /// it is kept in does not keep itself alive).
    fn build_stack(&self) -> HttpService {
        let inner = App {
            shared: Arc::new(Shared {
                layers: Vec::new(),
                stack: OnceLock::new(),
                ..Shared::clone(&self.shared)
            }),
        };
        let app = service::boxed(tower::service_fn(
            move |mut request: http::Request<Body>| {
                let inner = inner.clone();
                async move {
                    let connection = request.extensions_mut().remove::<Arc<ConnectionContext>>();
                    let response = inner.answer(request, connection).await;
                    Ok::<_, Infallible>(response)
                }
            },
        ));
        self.shared
            .layers
            .iter()
            .fold(app, |service, layer| layer(service))
    }

    /// The response to one request: routed, run through the hooks and the view, and
    /// finished; then settled for HEAD and `Content-Length`, and logged.
    ///
    /// The request is routed before the future is made, so that the future holds what
    /// routing made of it (the view's request and response are on the heap) rather
    /// than the request itself; and the future owns what it needs, so that whoever
    /// awaits it need not hold the request either: hyper moves the future, and its
    /// size is on every request's path.
    fn answer<B: Into<RequestBody>>(
        &self,
        request: http::Request<B>,
        connection: Option<Arc<ConnectionContext>>,
    ) -> impl Future<Output = Response<Body>> + Send + use<B> {
        let is_head = request.method() == Method::HEAD;
        // Read the clock only when the access log is on.
        let logged = tracing::enabled!(target: "bocata::access", tracing::Level::INFO)
            .then(|| Box::new(Logged::start(&request)));
        let mut routed = self.resolve(request, connection);
        let app = self.clone();
        async move {
            // Matched in place: moving the parts out would keep them twice.
            let mut response = match &mut routed {
                Routed::Answer(response) => std::mem::take(&mut **response),
                Routed::Elsewhere(answer) => answer.await,
                Routed::View {
                    exchange,
                    index,
                    method,
                } => {
                    let Exchange { request, res } = &mut **exchange;
                    let endpoint = app.shared.routes.endpoint(*index);
                    let Target::View(view) = &endpoint.target else {
                        unreachable!("a request is routed to a view only at a view's endpoint")
                    };
                    let run = app.run_hooks_and_view(endpoint, &**view, *method, request, res);
                    let outcome = catch_panic(run).await.unwrap_or_else(|p| Err(p.into()));
                    match app.finish_without_waiting(request, res, outcome) {
                        Ok(response) => response,
                        Err(rest) => rest.await,
                    }
                }
            };
            settle(&mut response, is_head);
            if let Some(logged) = logged {
                logged.write(&response);
            }
            response
        }
    }

    /// Everything before the view, none of which waits: the route, the method, and
    /// the answers that need no view (redirects, `OPTIONS`, errors, mounted services,
    /// WebSocket upgrades; the last three are handed back as boxed futures).
    fn resolve<B: Into<RequestBody>>(
        &self,
        request: http::Request<B>,
        connection: Option<Arc<ConnectionContext>>,
    ) -> Routed {
        let (head, body) = request.into_parts();
        let body = body.into();
        let routes = &self.shared.routes;
        let (index, params) = match routes.lookup(head.uri.path()) {
            Lookup::Found(index, params) => (index, params),
            Lookup::RedirectTo(path) => {
                return Routed::Answer(Box::new(trailing_slash_redirect(&head, &path)));
            }
            Lookup::NotFound => {
                return self.fail(Unrouted { head, connection }, Error::from_status(404));
            }
        };
        let endpoint = routes.endpoint(index);
        // The view itself is wanted here only to accept a WebSocket; the view's future
        // finds it again at the endpoint.
        #[cfg_attr(not(feature = "websocket"), expect(unused_variables))]
        let view = match &endpoint.target {
            Target::View(view) => view,
            Target::Service { service, prefix } => {
                let request = service::strip_prefix(
                    http::Request::from_parts(head, body.into_body()),
                    prefix,
                );
                let answer = service.clone().oneshot(request);
                return Routed::Elsewhere(Box::pin(async move {
                    match answer.await {
                        Ok(response) => response,
                        Err(never) => match never {},
                    }
                }));
            }
        };
        #[cfg(feature = "websocket")]
        if head.method == Method::GET && endpoint.methods.contains(Methods::WEBSOCKET) {
            if crate::websocket::handshake::is_upgrade(&head.headers) {
                let (app, view, route) = (self.clone(), Arc::clone(view), (index, params));
                return Routed::Elsewhere(Box::pin(async move {
                    let endpoint = app.shared.routes.endpoint(index);
                    app.accept_websocket(endpoint, view, head, body, route, connection)
                        .await
                }));
            }
            if !endpoint.methods.contains(Methods::GET) {
                let err = Error::new(
                    StatusCode::UPGRADE_REQUIRED,
                    "this resource speaks WebSocket only: open it with `Upgrade: websocket`",
                )
                .with_header(header::UPGRADE, HeaderValue::from_static("websocket"));
                return self.fail(Unrouted { head, connection }, err);
            }
        }
        let method = match Verb::of(&head.method) {
            Verb::Call(method) if endpoint.methods.contains(method) => method,
            Verb::Options => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::NO_CONTENT;
                response
                    .headers_mut()
                    .insert(header::ALLOW, endpoint.allow.clone());
                return Routed::Answer(Box::new(response));
            }
            Verb::Call(_) | Verb::Unsupported => {
                let err = Error::from_status(StatusCode::METHOD_NOT_ALLOWED)
                    .with_header(header::ALLOW, endpoint.allow.clone());
                return self.fail(Unrouted { head, connection }, err);
            }
        };
        let context = Arc::clone(&self.shared.context);
        Routed::View {
            exchange: Box::new(Exchange {
                request: Request::new(head, body, context, index, params, connection),
                res: Res::new(),
            }),
            index,
            method,
        }
    }

    /// The error response for a request that reached no view.
    fn fail(&self, request: Unrouted, err: Error) -> Routed {
        let app = self.clone();
        Routed::Elsewhere(Box::pin(
            async move { app.error_response(&request, &err).await },
        ))
    }

    /// The app's and the route's before hooks, the view (unless a hook completed the
    /// response), then the after hooks.
    async fn run_hooks_and_view(
        &self,
        endpoint: &Endpoint,
        view: &dyn ErasedView,
        method: Methods,
        request: &mut Request,
        res: &mut Res,
    ) -> crate::Result {
        // Most routes have nothing to run before their view: then nothing is awaited.
        if self.runs_before(endpoint, request) {
            self.run_before(endpoint, method, request, res).await?;
        }
        if !res.is_complete() {
            // A view method that never waits is a plain call: no future, no allocation.
            match view.call_ready(method, request, res) {
                Some(outcome) => outcome?,
                None => view.call(method, request, res).await?,
            }
        }
        let (app, route) = (&self.shared.hooks, &endpoint.hooks);
        for (methods, hook) in route.after.iter().chain(&app.after) {
            if methods.contains(method) {
                hook.call_boxed(request, res).await?;
            }
        }
        Ok(())
    }

    /// Whether [`run_before`](Self::run_before) has anything to do for `request` at
    /// `endpoint`.
    fn runs_before(
        &self,
        endpoint: &Endpoint,
        #[cfg_attr(not(feature = "redis"), expect(unused_variables))] request: &Request,
    ) -> bool {
        #[cfg(feature = "redis")]
        if request.context.sessions.store.is_some() {
            return true;
        }
        !self.shared.hooks.before.is_empty() || !endpoint.hooks.before.is_empty()
    }

    /// The app's and the route's before hooks for `method`, until one completes the
    /// response.
    pub(crate) async fn run_before(
        &self,
        endpoint: &Endpoint,
        method: Methods,
        request: &mut Request,
        res: &mut Res,
    ) -> crate::Result {
        // A session kept in Redis is read before any hook may want it (boxed: a wait
        // only apps with such a store have).
        #[cfg(feature = "redis")]
        if request.context.sessions.store.is_some() {
            Box::pin(request.load_session()).await?;
        }
        let (app, route) = (&self.shared.hooks, &endpoint.hooks);
        for (methods, hook) in app.before.iter().chain(&route.before) {
            if !methods.contains(method) {
                continue;
            }
            hook.call_boxed(request, res).await?;
            if res.is_complete() {
                break;
            }
        }
        Ok(())
    }

    /// The response for what the hooks and the view made of `res` (`outcome` is theirs):
    /// the session cookie added and finalized; or the error page for what went wrong.
    #[cfg(feature = "websocket")]
    pub(crate) async fn finish(
        &self,
        request: &Request,
        res: &mut Res,
        outcome: crate::Result,
    ) -> Response<Body> {
        match self.finish_without_waiting(request, res, outcome) {
            Ok(response) => response,
            Err(rest) => rest.await,
        }
    }

    /// [`finish`](Self::finish) for a request's usual end, which has no wait: the
    /// response; or, for an end that waits (a file to open, an error page, a session
    /// to write back), that wait, boxed, so that the future of every request, which
    /// holds this one's, stays small.
    fn finish_without_waiting<'a>(
        &'a self,
        request: &'a Request,
        res: &'a mut Res,
        outcome: crate::Result,
    ) -> Result<Response<Body>, BoxFuture<'a, Response<Body>>> {
        // A changed session kept in Redis is written back before the response leaves.
        #[cfg(feature = "redis")]
        if outcome.is_ok() && request.context.sessions.store.is_some() {
            return Err(Box::pin(async move {
                let outcome = request.save_session().await.map(|cookie| {
                    if let Some(cookie) = cookie {
                        res.append_header(header::SET_COOKIE, cookie);
                    }
                });
                self.finished(request, self.finish_now(request, res, outcome))
                    .await
            }));
        }
        match self.finish_now(request, res, outcome) {
            Finished::Done(Ok(response)) => Ok(response),
            finished => Err(Box::pin(self.finished(request, finished))),
        }
    }

    /// The response for how far [`finish_now`](Self::finish_now) got: the file opened,
    /// or the error page for what went wrong.
    async fn finished(&self, request: &Request, finished: Finished<'_>) -> Response<Body> {
        let result = match finished {
            Finished::Done(result) => result,
            Finished::Opening(opening) => opening.await,
        };
        match result {
            Ok(response) => response,
            Err(err) => self.error_response(request, &err).await,
        }
    }

    /// [`finish`](Self::finish) as far as it goes without waiting.
    fn finish_now<'a>(
        &'a self,
        request: &'a Request,
        res: &'a mut Res,
        outcome: crate::Result,
    ) -> Finished<'a> {
        #[cfg(feature = "sessions")]
        let outcome = outcome.and_then(|()| {
            if let Some(cookie) = request.session_cookie()? {
                res.append_header(header::SET_COOKIE, cookie);
            }
            Ok(())
        });
        match outcome {
            Ok(()) if res.sends_file() => Finished::Opening(Box::pin(async move {
                res.take_response(&self.finalize_context(request)).await
            })),
            Ok(()) => Finished::Done(res.finalize(&self.finalize_context(request), None)),
            Err(err) => Finished::Done(Err(err)),
        }
    }

    /// What finalizing a response for `request` needs: for a view's response and an
    /// error page's alike.
    fn finalize_context<'a>(&'a self, request: &'a impl RequestHead) -> Finalize<'a> {
        Finalize {
            method: request.method(),
            headers: request.headers(),
            app: &self.shared.context,
            connection: request.connection(),
        }
    }

    /// The response for `err`, logging it when it is a server error: the app's page for
    /// its status if there is one, the default short body otherwise.
    pub(crate) async fn error_response(
        &self,
        request: &impl RequestHead,
        err: &Error,
    ) -> Response<Body> {
        if err.is_server_error() {
            tracing::error!(
                target: "bocata::error",
                method = %request.method(),
                path = request.uri().path(),
                status = err.status().as_u16(),
                error = %err,
            );
        }
        let catcher = self
            .shared
            .catchers
            .iter()
            .find(|(s, _)| *s == err.status());
        if let Some((_, handler)) = catcher {
            // Boxed, like the other cold paths, to keep every request's future small.
            match Box::pin(self.error_page(handler.as_ref(), request, err)).await {
                Ok(response) => return response,
                Err(problem) => tracing::error!(
                    target: "bocata::error",
                    status = err.status().as_u16(),
                    "the error page handler failed, sending the default page: {problem}",
                ),
            }
        }
        let json = self.shared.json_errors || accepts_json(request.headers());
        render(err, json, self.shared.context.debug)
    }

    async fn error_page(
        &self,
        handler: &dyn BoxedCatch,
        request: &impl RequestHead,
        err: &Error,
    ) -> Result<Response<Body>, Error> {
        let caught = Caught {
            error: err,
            method: request.method(),
            uri: request.uri(),
            headers: request.headers(),
            debug: self.shared.context.debug,
        };
        let mut res = Res::new();
        res.status(err.status());
        for (name, value) in err.headers() {
            res.append_header(name, value);
        }
        catch_panic(handler.call_boxed(&caught, &mut res)).await??;
        res.take_response(&self.finalize_context(request)).await
    }
}

/// Where [`App::resolve`] sends a request. Every request's future holds one, so the
/// rare answer without a view is boxed to keep it small.
enum Routed {
    /// Answered already.
    Answer(Box<Response<Body>>),
    /// Answered by something other than a view: an error page, a mounted service, a
    /// WebSocket upgrade.
    Elsewhere(BoxFuture<'static, Response<Body>>),
    /// To the view of the endpoint at `index` (found there again, rather than a
    /// reference to it counted for every request).
    View {
        exchange: Box<Exchange>,
        index: usize,
        method: Methods,
    },
}

/// A request and the response its view fills in, together on the heap: moving a
/// request's future then moves a pointer to them, not the few hundred bytes they hold.
struct Exchange {
    request: Request,
    res: Res,
}

/// What the access-log line of a request needs, taken before the request is routed.
struct Logged {
    method: Method,
    uri: http::Uri,
    started: Instant,
}

impl Logged {
    fn start<B>(request: &http::Request<B>) -> Self {
        Self {
            method: request.method().clone(),
            uri: request.uri().clone(),
            started: Instant::now(),
        }
    }

    /// Writes the line for `response`.
    fn write(&self, response: &Response<Body>) {
        tracing::info!(
            target: "bocata::access",
            method = %self.method,
            path = self.uri.path(),
            status = response.status().as_u16(),
            micros = self.started.elapsed().as_micros() as u64,
        );
    }
}

/// How far [`App::finish_now`] got: the response or the error, or a file being opened.
enum Finished<'a> {
    Done(Result<Response<Body>, Error>),
    Opening(BoxFuture<'a, Result<Response<Body>, Error>>),
}

/// A request that reached no view, with its connection, for its error page.
pub(crate) struct Unrouted {
    pub(crate) head: http::request::Parts,
    pub(crate) connection: Option<Arc<ConnectionContext>>,
}

/// What an error response and its page read of a request, routed or not.
pub(crate) trait RequestHead: Sync {
    fn method(&self) -> &Method;
    fn uri(&self) -> &http::Uri;
    fn headers(&self) -> &http::HeaderMap;
    fn connection(&self) -> Option<&ConnectionContext>;
}

impl RequestHead for Unrouted {
    fn method(&self) -> &Method {
        &self.head.method
    }
    fn uri(&self) -> &http::Uri {
        &self.head.uri
    }
    fn headers(&self) -> &http::HeaderMap {
        &self.head.headers
    }
    fn connection(&self) -> Option<&ConnectionContext> {
        self.connection.as_deref()
    }
}

impl RequestHead for Request {
    fn method(&self) -> &Method {
        self.method()
    }
    fn uri(&self) -> &http::Uri {
        self.uri()
    }
    fn headers(&self) -> &http::HeaderMap {
        self.headers()
    }
    fn connection(&self) -> Option<&ConnectionContext> {
        self.connection()
    }
}

/// `308 Permanent Redirect` to the registered spelling of the path, query kept.
fn trailing_slash_redirect(head: &http::request::Parts, path: &str) -> Response<Body> {
    let location = with_query(path, &head.uri);
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::PERMANENT_REDIRECT;
    if let Ok(location) = HeaderValue::try_from(location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

impl<B> tower::Service<http::Request<B>> for App
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let app = self.clone();
        let request = request.map(Body::new);
        Box::pin(async move {
            let response = app.handle(request, None).await;
            Ok(response)
        })
    }
}
