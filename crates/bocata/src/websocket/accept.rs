//! Accepting a WebSocket: handshake, before hooks, the 101 (with the hooks' headers),
//! and the socket's task.

use std::sync::Arc;

use crate::body::Body;
use bytes::Bytes;
use http::{Response, StatusCode};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_util::sync::CancellationToken;

use super::handshake::{self, InProcess};
use super::socket::{Io, WebSocket};
use crate::app::Unrouted;
use crate::context::ConnectionContext;
use crate::error::catch_panic;
use crate::request::RequestBody;
use crate::routing::{Endpoint, ParamRanges};
use crate::view::{ErasedView, Methods};
use crate::{App, Error, Request, Res};

/// Where the socket's connection comes from, once the 101 has gone out.
enum Source {
    Hyper(OnUpgrade),
    InProcess(Box<dyn Io>),
}

impl App {
    /// Answers a WebSocket handshake on `endpoint`: checks it, runs the before hooks
    /// (which may refuse it), sends `101 Switching Protocols` with the headers and
    /// cookies the hooks set, and serves the socket with the view's `on_websocket` in a
    /// task of its own.
    pub(crate) async fn accept_websocket(
        &self,
        endpoint: &Endpoint,
        view: Arc<dyn ErasedView>,
        mut head: http::request::Parts,
        body: RequestBody,
        (index, params): (usize, ParamRanges),
        connection: Option<Arc<ConnectionContext>>,
    ) -> Response<Body> {
        let handshake = match handshake::check(&head.method, head.version, &head.headers) {
            Ok(handshake) => handshake,
            Err(err) => {
                return self
                    .error_response(&Unrouted { head, connection }, &err)
                    .await;
            }
        };
        let source = match head.extensions.remove::<OnUpgrade>() {
            Some(upgrade) => Some(Source::Hyper(upgrade)),
            None => head
                .extensions
                .remove::<InProcess>()
                .and_then(|pipe| pipe.0.lock().ok()?.take())
                .map(Source::InProcess),
        };
        let Some(source) = source else {
            let err = Error::internal("this connection cannot be upgraded to a WebSocket");
            return self
                .error_response(&Unrouted { head, connection }, &err)
                .await;
        };

        let context = Arc::clone(&self.shared.context);
        let mut request = Request::new(head, body, context, index, params, connection);
        let mut res = Res::new();
        let before =
            catch_panic(self.run_before(endpoint, Methods::WEBSOCKET, &mut request, &mut res))
                .await
                .unwrap_or_else(|panic| Err(panic.into()));
        match before {
            Ok(()) if !res.is_complete() => {}
            // Refused by a hook: its answer, or its error, goes out instead of the 101.
            outcome => return self.finish(&request, &mut res, outcome).await,
        }

        // The hooks' headers and cookies, and the session's cookie, go out on the 101,
        // finished as any response is. A status or a body a hook set without completing
        // the response has no place on a 101 and is dropped; a header a setter could
        // not take makes the answer a 500, as for any other request.
        res.status(StatusCode::SWITCHING_PROTOCOLS)
            .content(Bytes::new());
        let mut response = self.finish(&request, &mut res, Ok(())).await;
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return response;
        }
        let protocol = handshake.choose(view.websocket_protocols());
        handshake.respond(&mut response, protocol.as_deref());
        let settings = self.shared.context.websocket.clone();
        let (shutdown, tasks) = match request.connection() {
            Some(c) => (c.draining.clone(), Some(c.tasks.clone())),
            None => (CancellationToken::new(), None),
        };
        let serve = async move {
            let io: Box<dyn Io> = match source {
                Source::InProcess(io) => io,
                Source::Hyper(upgrade) => match upgrade.await {
                    Ok(upgraded) => Box::new(TokioIo::new(upgraded)),
                    Err(e) => {
                        tracing::debug!(target: "bocata::websocket", "the upgrade failed: {e}");
                        return;
                    }
                },
            };
            let socket = WebSocket::new(io, Role::Server, settings, shutdown).await;
            let outcome = catch_panic(view.call_websocket(&request, socket))
                .await
                .unwrap_or_else(|panic| Err(panic.into()));
            if let Err(err) = outcome {
                let path = request.path();
                tracing::error!(target: "bocata::websocket", path, "a WebSocket view failed: {err}");
            }
        };
        match tasks {
            Some(tasks) => drop(tasks.spawn(serve)),
            None => drop(tokio::spawn(serve)),
        }
        response
    }
}
