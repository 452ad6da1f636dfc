//! bocata in the tower ecosystem: tower layers around an app, and tower services (an
//! axum `Router`, say) mounted inside one.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response, Uri};
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};

use crate::Error;
use crate::body::Body;
use crate::error::{BoxError, render};
use crate::routing::reverse::with_query;

/// A type-erased HTTP service with bocata's body types.
pub(crate) type HttpService = BoxCloneSyncService<Request<Body>, Response<Body>, Infallible>;

/// A layer, kept until the app's service stack is built.
pub(crate) type BoxLayer = Arc<dyn Fn(HttpService) -> HttpService + Send + Sync>;

/// What a layer added with [`App::layer`](crate::App::layer) wraps: the app, inside the
/// layers added before this one. A `tower::Service` for requests and responses of
/// bocata's [`Body`].
#[derive(Clone)]
pub struct Next(HttpService);

impl std::fmt::Debug for Next {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Next")
    }
}

impl Service<Request<Body>> for Next {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        self.0.call(request)
    }
}

/// Type-erases `service`: any response body becomes bocata's, and any error becomes a
/// logged `500`.
pub(crate) fn boxed<S, B>(service: S) -> HttpService
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    BoxCloneSyncService::new(Infallibly(service))
}

/// A service whose errors, at readiness or in the call, become responses.
#[derive(Clone)]
struct Infallibly<S>(S);

impl<S, B> Service<Request<Body>> for Infallibly<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Readiness is awaited per call, on a clone, so that its error can be answered.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let service = self.0.clone();
        Box::pin(async move {
            Ok(match service.oneshot(request).await {
                Ok(response) => response.map(Body::new),
                Err(error) => failed(error.into()),
            })
        })
    }
}

/// The response for a tower service that failed: a logged `500`, the default error
/// page.
fn failed(error: BoxError) -> Response<Body> {
    tracing::error!(target: "bocata::error", "a tower service failed: {error}");
    render(&Error::internal(error), false, false)
}

/// Keeps `layer` as a function from the app's service to the layered one.
pub(crate) fn boxed_layer<L, B>(layer: L) -> BoxLayer
where
    L: Layer<Next> + Send + Sync + 'static,
    L::Service: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
    <L::Service as Service<Request<Body>>>::Future: Send + 'static,
    <L::Service as Service<Request<Body>>>::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    Arc::new(move |inner| boxed(layer.layer(Next(inner))))
}

/// `request` with `prefix` taken off the front of its path (the query kept), as a
/// mounted service expects: `/api/users?x=1` under `/api` is `/users?x=1`.
pub(crate) fn strip_prefix(mut request: Request<Body>, prefix: &str) -> Request<Body> {
    let uri = request.uri();
    let rest = uri.path().strip_prefix(prefix).unwrap_or(uri.path());
    let path = if rest.starts_with('/') {
        rest.to_owned()
    } else {
        format!("/{rest}")
    };
    let path_and_query = with_query(&path, uri);
    let mut parts = uri.clone().into_parts();
    if let Ok(path_and_query) = path_and_query.parse() {
        parts.path_and_query = Some(path_and_query);
    }
    if let Ok(stripped) = Uri::from_parts(parts) {
        *request.uri_mut() = stripped;
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_come_off_the_path_only() {
        let cases = [
            ("/api/users?x=1", "/users?x=1"),
            ("/api", "/"),
            ("/api/", "/"),
            ("/api?q", "/?q"),
            ("http://example.com/api/a/b", "http://example.com/a/b"),
        ];
        for (uri, expected) in cases {
            let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
            assert_eq!(strip_prefix(request, "/api").uri(), expected, "{uri}");
        }
    }
}
