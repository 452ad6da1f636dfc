//! Hooks: async functions that run before and after the views of an app or a
//! [`Router`](crate::Router).
//!
//! A **before** hook is an `async fn(&mut Request, &mut Res) -> Result`. It may attach
//! per-request data to the request (Flask's `g`, with
//! [`extensions_mut`](crate::Request::extensions_mut)), stop the request with an error
//! (`abort(401)`), or answer it itself: fill in `res` and call
//! [`Res::complete`](crate::Res::complete), and the view (and any later before hook) is
//! skipped.
//!
//! An **after** hook is an `async fn(&Request, &mut Res) -> Result`, like a function
//! view. It runs once the view (or a completing before hook) has filled in `res`, and may
//! change it. After hooks do not run for errors: use
//! [`App::catch`](crate::App::catch) to shape error pages, or a tower layer for headers
//! on every response.
//!
//! Order: before hooks run outside in (the app's, then each router's from the outermost
//! mount to the innermost), each level in the order registered; after hooks run inside
//! out (the innermost router's first, the app's last).
//!
//! ```
//! use bocata::{App, Request, Res, Result, abort};
//!
//! #[derive(Clone)]
//! struct User(String);
//!
//! async fn authenticate(req: &mut Request, _res: &mut Res) -> Result {
//!     let Some(name) = req.header("x-user").map(str::to_owned) else {
//!         return abort(401);
//!     };
//!     req.extensions_mut().insert(User(name));
//!     Ok(())
//! }
//!
//! async fn server_header(_req: &Request, res: &mut Res) -> Result {
//!     res.header("x-powered-by", "bocata");
//!     Ok(())
//! }
//!
//! async fn me(req: &Request, res: &mut Res) -> Result {
//!     let user = req.extensions().get::<User>().map_or("?", |u| u.0.as_str());
//!     res.text(format!("hello {user}"));
//!     Ok(())
//! }
//!
//! let app = App::new()
//!     .before(authenticate)
//!     .after(server_header)
//!     .route("/me", bocata::get(me));
//! ```

use std::sync::Arc;

use crate::async_fn::async_fn_trait;
use crate::view::{BoxedHandler, Methods};
use crate::{Handler, Request, Res, View};

async_fn_trait! {
    /// An async function that can run before a view: any
    /// `async fn(&mut Request, &mut Res) -> bocata::Result` whose future is `Send`, or
    /// an async closure of that shape that captures nothing.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a before hook",
        label = "expected an `async fn(&mut Request, &mut Res) -> bocata::Result`",
        note = "a before hook is `async fn(&mut Request, &mut Res) -> bocata::Result`",
        note = "a closure is one only as an `async |req: &mut Request, res: &mut Res| {{ … }}` that captures nothing"
    )]
    pub trait BeforeHook / BoxedBefore (req: &'a mut Request, res: &'a mut Res);
}

/// The hooks of one level (the app, a router, a view), or the chain of a route. Each
/// hook runs for the methods it was added for (all of them unless said otherwise).
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) before: Vec<(Methods, Arc<dyn BoxedBefore>)>,
    pub(crate) after: Vec<(Methods, Arc<dyn BoxedHandler>)>,
}

impl Hooks {
    pub(crate) fn add_before<H>(&mut self, methods: Methods, hook: H)
    where
        H: for<'a> BeforeHook<'a>,
    {
        self.before.push((methods, Arc::new(hook)));
    }

    pub(crate) fn add_after<H>(&mut self, methods: Methods, hook: H)
    where
        H: for<'a> Handler<'a>,
    {
        self.after.push((methods, Arc::new(hook)));
    }

    /// The chain of a route mounted inside `self`'s level, whose own level has `inner`:
    /// `self`'s before hooks first, `inner`'s after hooks first.
    pub(crate) fn around(&self, inner: &Self) -> Self {
        Self {
            before: self.before.iter().chain(&inner.before).cloned().collect(),
            after: inner.after.iter().chain(&self.after).cloned().collect(),
        }
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("before", &self.before.len())
            .field("after", &self.after.len())
            .finish()
    }
}

/// A view with hooks of its own, for the one route it is served at: Falcon's
/// `@falcon.before(hook)` on a resource, Bocadillo's `@before(hook)` on a view. Make
/// one with [`with_hooks`], and give it to [`App::route`](crate::App::route) or
/// [`Router::route`](crate::Router::route) in place of the view.
///
/// Its hooks run inside those of the app and of the routers around the route: its
/// before hooks last, its after hooks first. A hook can be kept to some of the view's
/// methods (Falcon's hooks on `on_post` alone): [`before_on`](Self::before_on),
/// [`after_on`](Self::after_on).
///
/// ```
/// use bocata::{App, Methods, Request, Res, Result, abort, with_hooks};
///
/// async fn require_api_key(req: &mut Request, _res: &mut Res) -> Result {
///     if req.header("x-api-key") != Some("secret") {
///         return abort(401);
///     }
///     Ok(())
/// }
///
/// async fn list(_req: &Request, res: &mut Res) -> Result {
///     res.json(&["a note"]);
///     Ok(())
/// }
///
/// async fn create(_req: &Request, res: &mut Res) -> Result {
///     res.status(201);
///     Ok(())
/// }
///
/// let app = App::new()
///     // Anyone may read; writing needs the key.
///     .route(
///         "/notes",
///         with_hooks(bocata::get(list).post(create)).before_on(Methods::POST, require_api_key),
///     );
/// ```
pub struct Hooked<V> {
    view: V,
    hooks: Hooks,
}

/// `view`, to give hooks of its own; see [`Hooked`].
pub fn with_hooks<V: View>(view: V) -> Hooked<V> {
    Hooked {
        view,
        hooks: Hooks::default(),
    }
}

impl<V: View> Hooked<V> {
    /// Runs `hook` before the view, for every method.
    #[must_use]
    pub fn before<H>(self, hook: H) -> Self
    where
        H: for<'a> BeforeHook<'a>,
    {
        self.before_on(Methods::EVERY, hook)
    }

    /// Runs `hook` after the view, for every method.
    #[must_use]
    pub fn after<H>(self, hook: H) -> Self
    where
        H: for<'a> Handler<'a>,
    {
        self.after_on(Methods::EVERY, hook)
    }

    /// Runs `hook` before the view when the request is for one of `methods`
    /// (`Methods::POST.with(Methods::PUT)`; a WebSocket upgrade is
    /// [`Methods::WEBSOCKET`]).
    #[must_use]
    pub fn before_on<H>(mut self, methods: Methods, hook: H) -> Self
    where
        H: for<'a> BeforeHook<'a>,
    {
        self.hooks.add_before(methods, hook);
        self
    }

    /// Runs `hook` after the view when the request is for one of `methods`.
    #[must_use]
    pub fn after_on<H>(mut self, methods: Methods, hook: H) -> Self
    where
        H: for<'a> Handler<'a>,
    {
        self.hooks.add_after(methods, hook);
        self
    }
}

impl<V> std::fmt::Debug for Hooked<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooked")
            .field("view", &std::any::type_name::<V>())
            .field("hooks", &self.hooks)
            .finish()
    }
}

/// What a route serves: a [`View`], or a view [`with_hooks`] of its own. Taken by
/// [`App::route`](crate::App::route) and [`Router::route`](crate::Router::route).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a view",
    label = "not a view",
    note = "to make a struct a view, add `#[bocata::view]` above the `impl` block of its `on_get`, `on_post`, … methods",
    note = "to make an `async fn(&Request, &mut Res) -> bocata::Result` a view, pass `bocata::get(f)`, `bocata::post(f)`, …"
)]
pub trait IntoRoute {
    /// The view and its own hooks, as the route table keeps them. Only bocata can read
    /// what this returns.
    #[doc(hidden)]
    fn into_route(self) -> route::Parts;
}

impl<V: View> IntoRoute for V {
    fn into_route(self) -> route::Parts {
        route::Parts {
            view: Arc::new(self),
            hooks: Hooks::default(),
        }
    }
}

impl<V: View> IntoRoute for Hooked<V> {
    fn into_route(self) -> route::Parts {
        route::Parts {
            view: Arc::new(self.view),
            hooks: self.hooks,
        }
    }
}

pub(crate) mod route {
    use std::sync::Arc;

    use super::Hooks;
    use crate::view::ErasedView;

    /// A route's view and its own hooks.
    #[allow(unreachable_pub)] // Public in a private module: nameable by bocata alone.
    pub struct Parts {
        pub(crate) view: Arc<dyn ErasedView>,
        pub(crate) hooks: Hooks,
    }

    impl std::fmt::Debug for Parts {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Parts")
                .field("view", &self.view.name())
                .field("hooks", &self.hooks)
                .finish()
        }
    }
}
