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
use crate::view::BoxedHandler;
use crate::{Handler, Request, Res};

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

/// The hooks of one level (the app, or a router), or the chain of a route.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) before: Vec<Arc<dyn BoxedBefore>>,
    pub(crate) after: Vec<Arc<dyn BoxedHandler>>,
}

impl Hooks {
    pub(crate) fn add_before<H>(&mut self, hook: H)
    where
        H: for<'a> BeforeHook<'a>,
    {
        self.before.push(Arc::new(hook));
    }

    pub(crate) fn add_after<H>(&mut self, hook: H)
    where
        H: for<'a> Handler<'a>,
    {
        self.after.push(Arc::new(hook));
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
