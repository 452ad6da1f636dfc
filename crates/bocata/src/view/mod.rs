//! Views: the structs (and functions) that answer requests.
//!
//! A view is a struct whose `on_get`, `on_post`, `on_put`, `on_patch` and `on_delete`
//! methods receive the [`Request`] and a [`Res`] to fill in. It is registered once with
//! [`App::route`](crate::App::route) and shared by every request, so its fields are its
//! state. Write the methods in an `impl` block marked [`#[bocata::view]`](macro@crate::view):
//!
//! ```
//! use bocata::{Request, Res, Result};
//!
//! struct Greeter {
//!     greeting: String,
//! }
//!
//! #[bocata::view]
//! impl Greeter {
//!     async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
//!         let name: String = req.param("name")?;
//!         res.text(format!("{}, {name}!", self.greeting));
//!         Ok(())
//!     }
//! }
//! ```
//!
//! Methods the view does not implement are answered with `405 Method Not Allowed` and
//! an `Allow` header; HEAD is answered from `on_get` and OPTIONS from the list of
//! methods. Plain async functions are views too: see [`get`] and [`FnView`].

mod function;
mod methods;

use std::any::TypeId;
use std::borrow::Cow;
use std::future::Future;

use futures_util::future::BoxFuture;

pub(crate) use function::BoxedHandler;
pub use function::{FnView, Handler, delete, get, patch, post, put};
pub use methods::Methods;
pub(crate) use methods::Verb;

use crate::{Error, Request, Res, Result};

/// A struct that answers requests with `on_get`, `on_post`, … methods.
///
/// Implement it with [`#[bocata::view]`](macro@crate::view) on an `impl` block, which writes
/// [`methods`](View::methods) from the `on_*` methods present (and rejects a misspelled
/// one at compile time). Implementing it by hand works too: override the `on_*` methods
/// (as `async fn`) and return their set from `methods`.
///
/// ```
/// use bocata::{Methods, Request, Res, Result, View};
///
/// struct Health;
///
/// impl View for Health {
///     fn methods(&self) -> Methods {
///         Methods::GET
///     }
///
///     async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
///         res.text("ok");
///         Ok(())
///     }
/// }
/// ```
///
/// The futures must be `Send`, since requests run on a multi-threaded runtime: hold no
/// `std::sync::MutexGuard` or `Rc` across an `.await`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a view",
    label = "not a view",
    note = "to make a struct a view, add `#[bocata::view]` above the `impl` block of its `on_get`, `on_post`, … methods",
    note = "to make an `async fn(&Request, &mut Res) -> bocata::Result` a view, pass `bocata::get(f)`, `bocata::post(f)`, …"
)]
pub trait View: Send + Sync + 'static {
    /// The methods this view implements. Requests for other methods get a 405.
    fn methods(&self) -> Methods;

    /// The name reverse routing knows this view by
    /// ([`Request::url_for_name`](crate::Request::url_for_name), `url_for` in
    /// templates). Default: the type's name without its path (`Greeter`).
    fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(short_type_name(std::any::type_name::<Self>()))
    }

    /// Answers `GET` (and `HEAD`, whose body bocata drops).
    fn on_get(&self, req: &Request, res: &mut Res) -> impl Future<Output = Result> + Send {
        not_implemented(req, res)
    }

    /// Answers `POST`.
    fn on_post(&self, req: &Request, res: &mut Res) -> impl Future<Output = Result> + Send {
        not_implemented(req, res)
    }

    /// Answers `PUT`.
    fn on_put(&self, req: &Request, res: &mut Res) -> impl Future<Output = Result> + Send {
        not_implemented(req, res)
    }

    /// Answers `PATCH`.
    fn on_patch(&self, req: &Request, res: &mut Res) -> impl Future<Output = Result> + Send {
        not_implemented(req, res)
    }

    /// Answers `DELETE`.
    fn on_delete(&self, req: &Request, res: &mut Res) -> impl Future<Output = Result> + Send {
        not_implemented(req, res)
    }

    /// Serves a WebSocket opened on this view's path (a `GET` with
    /// `Upgrade: websocket`), once the handshake is accepted and the before hooks have
    /// let it through. See [`websocket`](crate::websocket).
    #[cfg(feature = "websocket")]
    fn on_websocket(
        &self,
        req: &Request,
        ws: crate::websocket::WebSocket,
    ) -> impl Future<Output = Result> + Send {
        drop(ws);
        not_implemented_for(req.method())
    }

    /// The largest request body this view accepts, in bytes, if not the app's
    /// ([`App::body_limit`](crate::App::body_limit)): more for an upload endpoint, less
    /// for a login form. Default: the app's.
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// struct Import;
    ///
    /// #[bocata::view]
    /// impl Import {
    ///     fn body_limit(&self) -> Option<usize> {
    ///         Some(50 * 1024 * 1024)
    ///     }
    ///
    ///     async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
    ///         let csv = req.bytes().await?;
    ///         res.text(format!("{} bytes imported", csv.len()));
    ///         Ok(())
    ///     }
    /// }
    /// ```
    fn body_limit(&self) -> Option<usize> {
        None
    }

    /// The WebSocket subprotocols this view speaks; the first one the client offers
    /// is chosen. Default: none.
    fn websocket_protocols(&self) -> &[&'static str] {
        &[]
    }

    /// What the OpenAPI document says of this view's methods (feature `openapi`).
    /// `#[bocata::view]` writes it from each method's doc comment, typed arguments and
    /// `#[param]` / `#[response]` attributes; see [`openapi`](crate::openapi). A method
    /// without an operation is still listed, with its path parameters. Default: none.
    #[cfg(feature = "openapi")]
    fn operations(&self) -> Vec<crate::openapi::Operation> {
        Vec::new()
    }

    /// Calls the `on_*` method for `method`, its future boxed so the route table can
    /// hold views of every type. Function views override it to hand over their
    /// handler's future, already boxed, instead of boxing it a second time. Sealed:
    /// its last argument cannot be named outside bocata, so it can be neither called
    /// nor overridden there.
    #[doc(hidden)]
    fn call_boxed<'a>(
        &'a self,
        method: Methods,
        req: &'a Request,
        res: &'a mut Res,
        _sealed: sealed::Token,
    ) -> BoxFuture<'a, Result>
    where
        Self: Sized,
    {
        match method {
            Methods::GET => Box::pin(self.on_get(req, res)),
            Methods::POST => Box::pin(self.on_post(req, res)),
            Methods::PUT => Box::pin(self.on_put(req, res)),
            Methods::PATCH => Box::pin(self.on_patch(req, res)),
            Methods::DELETE => Box::pin(self.on_delete(req, res)),
            _ => Box::pin(not_implemented(req, res)),
        }
    }

    /// The outcome of the `on_*` method for `method` when that method never waits:
    /// then it is run as a plain call, and no future is made for it nor put on the
    /// heap. `None` when it must be awaited. `#[bocata::view]` writes it for the
    /// methods whose body has no `.await`; a view written by hand keeps the default.
    #[doc(hidden)]
    fn call_ready(&self, _method: Methods, _req: &Request, _res: &mut Res) -> Option<Result> {
        None
    }
}

/// The body of the `on_*` methods a view does not override. bocata checks
/// [`View::methods`] before calling, so this runs only when `methods` claims a method the
/// view does not implement: a bug in a hand-written `impl View`, reported as a 500.
fn not_implemented(req: &Request, _res: &mut Res) -> impl Future<Output = Result> + Send + 'static {
    not_implemented_for(req.method())
}

fn not_implemented_for(method: &http::Method) -> impl Future<Output = Result> + Send + 'static {
    let message = format!("the view claims {method} in `methods()` but does not implement it");
    std::future::ready(Err(Error::internal(message)))
}

/// What seals [`View::call_boxed`].
pub(crate) mod sealed {
    /// A value only bocata can make.
    #[allow(unreachable_pub)] // Public in a private module: the seal.
    #[derive(Clone, Copy, Debug)]
    pub struct Token;
}

/// A type's name without its module path or generic arguments: `app::views::Greeter<T>`
/// is `Greeter`.
pub(crate) fn short_type_name(full: &'static str) -> &'static str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

/// A view with its type erased, as the route table stores it.
pub(crate) trait ErasedView: Send + Sync + 'static {
    fn methods(&self) -> Methods;

    fn name(&self) -> Cow<'static, str>;

    fn view_type(&self) -> TypeId;

    fn body_limit(&self) -> Option<usize>;

    #[cfg(feature = "openapi")]
    fn operations(&self) -> Vec<crate::openapi::Operation>;

    fn call<'a>(
        &'a self,
        method: Methods,
        req: &'a Request,
        res: &'a mut Res,
    ) -> BoxFuture<'a, Result>;

    fn call_ready(&self, method: Methods, req: &Request, res: &mut Res) -> Option<Result>;

    #[cfg(feature = "websocket")]
    fn call_websocket<'a>(
        &'a self,
        req: &'a Request,
        ws: crate::websocket::WebSocket,
    ) -> BoxFuture<'a, Result>;

    #[cfg(feature = "websocket")]
    fn websocket_protocols(&self) -> &[&'static str];
}

impl<V: View> ErasedView for V {
    fn methods(&self) -> Methods {
        View::methods(self)
    }

    fn name(&self) -> Cow<'static, str> {
        View::name(self)
    }

    fn view_type(&self) -> TypeId {
        TypeId::of::<V>()
    }

    fn body_limit(&self) -> Option<usize> {
        View::body_limit(self)
    }

    #[cfg(feature = "openapi")]
    fn operations(&self) -> Vec<crate::openapi::Operation> {
        View::operations(self)
    }

    #[cfg(feature = "websocket")]
    fn call_websocket<'a>(
        &'a self,
        req: &'a Request,
        ws: crate::websocket::WebSocket,
    ) -> BoxFuture<'a, Result> {
        Box::pin(self.on_websocket(req, ws))
    }

    #[cfg(feature = "websocket")]
    fn websocket_protocols(&self) -> &[&'static str] {
        View::websocket_protocols(self)
    }

    fn call<'a>(
        &'a self,
        method: Methods,
        req: &'a Request,
        res: &'a mut Res,
    ) -> BoxFuture<'a, Result> {
        View::call_boxed(self, method, req, res, sealed::Token)
    }

    fn call_ready(&self, method: Methods, req: &Request, res: &mut Res) -> Option<Result> {
        View::call_ready(self, method, req, res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        assert_eq!(short_type_name("app::views::Greeter"), "Greeter");
        assert_eq!(short_type_name("app::Echo<alloc::vec::Vec<u8>>"), "Echo");
        assert_eq!(short_type_name("Plain"), "Plain");
    }
}
