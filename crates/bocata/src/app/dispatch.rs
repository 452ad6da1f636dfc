//! Answering a request: layers, routing, hooks, the view, finalizing, error pages.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum_core::body::Body;
use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Either};
use http::{HeaderValue, Method, Response, StatusCode, header};
use tower::ServiceExt;

use super::App;
use crate::error::{BoxError, BoxedCatch, Caught, PanicMessage, render};
use crate::request::RequestBody;
use crate::response::Finalize;
use crate::routing::{Endpoint, Lookup, Target};
use crate::server::Connection;
use crate::service::{self, HttpService};
use crate::view::{ErasedView, Methods, Verb};
use crate::{Error, Request, Res};

impl App {
    /// Answers one request, through the app's layers if it has any.
    ///
    /// This and [`handle_inner`](Self::handle_inner) are plain functions returning a
    /// future, not `async fn`s: an `async fn` keeps its arguments for its whole life, so
    /// each level would hold the request again, and hyper moves the whole future.
    pub(crate) fn handle(
        &self,
        request: http::Request<RequestBody>,
        connection: Option<Arc<Connection>>,
    ) -> impl Future<Output = Response<Body>> + Send + '_ {
        if self.shared.layers.is_empty() {
            return Either::Left(self.handle_inner(request, connection));
        }
        let mut request = request.map(RequestBody::into_body);
        if let Some(connection) = connection {
            request.extensions_mut().insert(connection);
        }
        let stack = self.stack.get_or_init(|| self.build_stack()).clone();
        Either::Right(async move {
            match stack.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        })
    }

    /// The app's own service, wrapped in its layers in the order they were added.
    fn build_stack(&self) -> HttpService {
        let inner = App {
            shared: Arc::clone(&self.shared),
            stack: Arc::default(),
        };
        let app = service::boxed(tower::service_fn(
            move |mut request: http::Request<Body>| {
                let inner = inner.clone();
                async move {
                    let connection = request.extensions_mut().remove::<Arc<Connection>>();
                    let request = request.map(RequestBody::from);
                    Ok::<_, Infallible>(inner.handle_inner(request, connection).await)
                }
            },
        ));
        self.shared
            .layers
            .iter()
            .fold(app, |service, layer| layer(service))
    }

    /// Answers one request: route, run the view, finalize, log.
    fn handle_inner(
        &self,
        request: http::Request<RequestBody>,
        connection: Option<Arc<Connection>>,
    ) -> impl Future<Output = Response<Body>> + Send + '_ {
        let is_head = request.method() == Method::HEAD;
        // Read the clock only when the access log is on.
        let logged = tracing::enabled!(target: "bocata::access", tracing::Level::INFO).then(|| {
            (
                request.method().clone(),
                request.uri().clone(),
                Instant::now(),
            )
        });
        // `map`, not an `async` block: a block would keep the future it awaits twice.
        self.respond(request, connection).map(move |mut response| {
            if is_head {
                // Same status and headers as GET (Content-Length included), no body.
                *response.body_mut() = Body::empty();
            }
            if let Some((method, uri, started)) = logged {
                tracing::info!(
                    target: "bocata::access",
                    %method,
                    path = uri.path(),
                    status = response.status().as_u16(),
                    micros = started.elapsed().as_micros() as u64,
                );
            }
            response
        })
    }

    /// Routes the request, then runs the view and finishes its response.
    fn respond(
        &self,
        request: http::Request<RequestBody>,
        connection: Option<Arc<Connection>>,
    ) -> impl Future<Output = Response<Body>> + Send + '_ {
        let mut routed = self.find_view(request, connection);
        async move {
            // Matched in place: moving the request out would keep it twice.
            match &mut routed {
                Routed::Answer(response) => std::mem::take(response),
                Routed::Elsewhere(answer) => answer.await,
                Routed::View {
                    request,
                    endpoint,
                    view,
                    method,
                } => {
                    let mut res = Res::new();
                    let run = self.run_view(endpoint, *view, *method, request, &mut res);
                    let outcome = AssertUnwindSafe(run).catch_unwind().await;
                    self.finish(request, res, outcome).await
                }
            }
        }
    }

    /// Everything before the view, none of which waits: the route, the method, and
    /// the answers that need no view (redirects, `OPTIONS`, errors, mounted services,
    /// WebSocket upgrades; the last three are handed back as boxed futures).
    fn find_view(
        &self,
        request: http::Request<RequestBody>,
        connection: Option<Arc<Connection>>,
    ) -> Routed<'_> {
        let (head, body) = request.into_parts();
        let routes = &self.shared.routes;
        let (index, params) = match routes.lookup(head.uri.path()) {
            Lookup::Found(index, params) => (index, params),
            Lookup::RedirectTo(path) => {
                return Routed::Answer(trailing_slash_redirect(&head, &path));
            }
            Lookup::NotFound => return self.fail(head, Error::from_status(404)),
        };
        let endpoint = routes.endpoint(index);
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
                let view = Arc::clone(view);
                let route = (index, params);
                let accept = self.accept_websocket(endpoint, view, head, body, route, connection);
                return Routed::Elsewhere(Box::pin(accept));
            }
            if !endpoint.methods.contains(Methods::GET) {
                let err = Error::new(
                    StatusCode::UPGRADE_REQUIRED,
                    "this resource speaks WebSocket only: open it with `Upgrade: websocket`",
                )
                .with_header(header::UPGRADE, HeaderValue::from_static("websocket"));
                return self.fail(head, err);
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
                return Routed::Answer(response);
            }
            Verb::Call(_) | Verb::Unsupported => {
                let err = Error::from_status(StatusCode::METHOD_NOT_ALLOWED)
                    .with_header(header::ALLOW, endpoint.allow.clone());
                return self.fail(head, err);
            }
        };
        let shared = Arc::clone(&self.shared);
        Routed::View {
            request: Request::new(head, body, shared, index, params, connection),
            endpoint,
            view: view.as_ref(),
            method,
        }
    }

    /// The error response for a request that reached no view.
    fn fail(&self, head: http::request::Parts, err: Error) -> Routed<'_> {
        Routed::Elsewhere(Box::pin(
            async move { self.error_response(&head, &err).await },
        ))
    }

    /// The response for what the hooks and the view made of `res`: the session cookie
    /// added, finalized; or the error page for what went wrong.
    pub(crate) fn finish<'a>(
        &'a self,
        request: &'a Request,
        res: Res,
        outcome: std::thread::Result<crate::Result>,
    ) -> impl Future<Output = Response<Body>> + Send + 'a {
        // Only a file makes finishing wait (to open it); that wait is boxed, and the
        // rest is done before the future starts, so that this future, which every
        // request's embeds and hyper moves, stays small.
        let settled = self.settle(request, res, outcome);
        async move {
            let result = match settled {
                Settled::Done(result) => result,
                Settled::Opening(opening) => opening.await,
            };
            match result {
                Ok(response) => response,
                Err(err) => self.error_response(request, &err).await,
            }
        }
    }

    /// [`finish`](Self::finish) as far as it goes without waiting.
    fn settle<'a>(
        &'a self,
        request: &'a Request,
        res: Res,
        outcome: std::thread::Result<crate::Result>,
    ) -> Settled<'a> {
        let result = match outcome {
            Ok(result) => result.map(|()| res),
            Err(panic) => Err(Error::internal(PanicMessage::from_payload(&*panic))),
        };
        #[cfg(feature = "sessions")]
        let result = result.and_then(|mut res| {
            if let Some(cookie) = request.session_cookie()? {
                res.append_header(header::SET_COOKIE, cookie);
            }
            Ok(res)
        });
        match result {
            Ok(res) if res.sends_file() => Settled::Opening(Box::pin(async move {
                res.into_response(&self.finalize_context(request)).await
            })),
            Ok(res) => Settled::Done(res.finalize(&self.finalize_context(request), None)),
            Err(err) => Settled::Done(Err(err)),
        }
    }

    fn finalize_context<'a>(&'a self, request: &'a Request) -> Finalize<'a> {
        Finalize {
            method: request.method(),
            headers: request.headers(),
            app: &self.shared,
            connection: request.connection(),
        }
    }

    /// The app's and the route's before hooks, the view (unless a hook completed the
    /// response), then the after hooks.
    async fn run_view(
        &self,
        endpoint: &Endpoint,
        view: &dyn ErasedView,
        method: Methods,
        request: &mut Request,
        res: &mut Res,
    ) -> crate::Result {
        self.run_before(endpoint, request, res).await?;
        if !res.is_complete() {
            view.call(method, request, res).await?;
        }
        let (app, route) = (&self.shared.hooks, &endpoint.hooks);
        for hook in route.after.iter().chain(&app.after) {
            hook.call_boxed(request, res).await?;
        }
        Ok(())
    }

    /// The app's and the route's before hooks, until one completes the response.
    pub(crate) async fn run_before(
        &self,
        endpoint: &Endpoint,
        request: &mut Request,
        res: &mut Res,
    ) -> crate::Result {
        let (app, route) = (&self.shared.hooks, &endpoint.hooks);
        for hook in app.before.iter().chain(&route.before) {
            hook.call_boxed(request, res).await?;
            if res.is_complete() {
                break;
            }
        }
        Ok(())
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
        render(err, request.headers(), self.shared.debug)
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
            debug: self.shared.debug,
        };
        let mut res = Res::new();
        res.status(err.status());
        for (name, value) in err.headers() {
            res.append_header(name, value);
        }
        match AssertUnwindSafe(handler.call_boxed(&caught, &mut res))
            .catch_unwind()
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => return Err(failure),
            Err(panic) => return Err(Error::internal(PanicMessage::from_payload(&*panic))),
        }
        let cx = Finalize {
            method: request.method(),
            headers: request.headers(),
            app: &self.shared,
            connection: None,
        };
        res.into_response(&cx).await
    }
}

/// Where [`App::find_view`] sends a request.
// `View` is the common case and the large one; boxing it would cost every request an
// allocation to save the rare others a few bytes.
#[allow(clippy::large_enum_variant)]
enum Routed<'a> {
    /// Answered already.
    Answer(Response<Body>),
    /// Answered by something other than a view: an error page, a mounted service, a
    /// WebSocket upgrade.
    Elsewhere(BoxFuture<'a, Response<Body>>),
    /// To a view.
    View {
        request: Request,
        endpoint: &'a Endpoint,
        view: &'a dyn ErasedView,
        method: Methods,
    },
}

/// How far [`App::settle`] got: the response or the error, or a file being opened.
enum Settled<'a> {
    Done(Result<Response<Body>, Error>),
    Opening(BoxFuture<'a, Result<Response<Body>, Error>>),
}

/// The parts of a request an error response needs, from either request type.
pub(crate) trait RequestHead {
    fn method(&self) -> &Method;
    fn uri(&self) -> &http::Uri;
    fn headers(&self) -> &http::HeaderMap;
}

impl RequestHead for http::request::Parts {
    fn method(&self) -> &Method {
        &self.method
    }
    fn uri(&self) -> &http::Uri {
        &self.uri
    }
    fn headers(&self) -> &http::HeaderMap {
        &self.headers
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
}

/// `308 Permanent Redirect` to the registered spelling of the path, query kept.
fn trailing_slash_redirect(head: &http::request::Parts, path: &str) -> Response<Body> {
    let location = match head.uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
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
        let request = request.map(|body| RequestBody::from(Body::new(body)));
        Box::pin(async move { Ok(app.handle(request, None).await) })
    }
}
