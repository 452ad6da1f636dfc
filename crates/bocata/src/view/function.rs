//! Function views: plain `async fn(&Request, &mut Res) -> Result` registered for chosen
//! methods, as in Bocadillo.

use std::any::type_name;
use std::borrow::Cow;

use futures_util::future::BoxFuture;

use super::sealed::Token;
use super::short_type_name;
use super::{Methods, View, not_implemented};
use crate::async_fn::async_fn_trait;
use crate::{Request, Res, Result};

async_fn_trait! {
    /// An async function that can answer a request: any
    /// `async fn(&Request, &mut Res) -> bocata::Result` whose future is `Send`, or an
    /// async closure of that shape that captures nothing
    /// (`async |req: &Request, res: &mut Res| { … }`). Pass one to [`get`], [`post`], …
    /// to make a view of it.
    ///
    /// A closure that returns an `async` block, or an async closure that captures
    /// variables, is not one: the book's chapter "Views and routing" says why, and what
    /// to write instead.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a handler",
        label = "expected an `async fn(&Request, &mut Res) -> bocata::Result`",
        note = "function views and after hooks are `async fn(&Request, &mut Res) -> bocata::Result`",
        note = "a closure is one only as an `async |req: &Request, res: &mut Res| {{ … }}` that captures nothing; for a view with state, write a struct view"
    )]
    pub trait Handler / BoxedHandler (req: &'a Request, res: &'a mut Res);
}

/// A view made of async functions, one per method. Build it with [`get`], [`post`],
/// [`put`], [`patch`] or [`delete`] and chain the others:
///
/// ```
/// use bocata::{App, Request, Res, Result};
///
/// async fn list(_req: &Request, res: &mut Res) -> Result {
///     res.json(&["apple", "pear"]);
///     Ok(())
/// }
///
/// async fn create(_req: &Request, res: &mut Res) -> Result {
///     res.status(201).text("created");
///     Ok(())
/// }
///
/// let app = App::new().route("/fruits", bocata::get(list).post(create));
/// ```
#[derive(Default)]
pub struct FnView {
    name: Option<Cow<'static, str>>,
    get: Option<Box<dyn BoxedHandler>>,
    post: Option<Box<dyn BoxedHandler>>,
    put: Option<Box<dyn BoxedHandler>>,
    patch: Option<Box<dyn BoxedHandler>>,
    delete: Option<Box<dyn BoxedHandler>>,
}

macro_rules! method_setters {
    ($($method:ident => $doc:literal),* $(,)?) => {
        impl FnView {
            $(
                #[doc = concat!("Answers `", $doc, "` with `handler`, replacing any earlier one.")]
                #[must_use]
                pub fn $method<H>(mut self, handler: H) -> Self
                where
                    H: for<'a> Handler<'a>,
                {
                    self.name.get_or_insert(Cow::Borrowed(short_type_name(type_name::<H>())));
                    self.$method = Some(Box::new(handler));
                    self
                }
            )*
        }

        $(
            #[doc = concat!("A function view answering `", $doc, "`; chain more methods on it.")]
            ///
            /// ```
            /// use bocata::{App, Request, Res, Result};
            ///
            /// async fn handler(_req: &Request, res: &mut Res) -> Result {
            ///     res.text("hi");
            ///     Ok(())
            /// }
            ///
            #[doc = concat!("let app = App::new().route(\"/\", bocata::", stringify!($method), "(handler));")]
            /// ```
            pub fn $method<H>(handler: H) -> FnView
            where
                H: for<'a> Handler<'a>,
            {
                FnView::default().$method(handler)
            }
        )*
    };
}

method_setters! {
    get => "GET",
    post => "POST",
    put => "PUT",
    patch => "PATCH",
    delete => "DELETE",
}

impl std::fmt::Debug for FnView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnView")
            .field("name", &self.name)
            .field("methods", &self.methods())
            .finish()
    }
}

impl FnView {
    /// The name reverse routing knows this view by. Default: the name of the first
    /// function given (`list` for `bocata::get(list).post(create)`).
    ///
    /// ```
    /// # use bocata::{Request, Res, Result};
    /// # async fn list(_: &Request, _: &mut Res) -> Result { Ok(()) }
    /// let view = bocata::get(list).name("users");
    /// ```
    #[must_use]
    pub fn name(mut self, name: &'static str) -> Self {
        self.name = Some(Cow::Borrowed(name));
        self
    }

    fn handler(&self, method: Methods) -> Option<&dyn BoxedHandler> {
        let slot = match method {
            Methods::GET => &self.get,
            Methods::POST => &self.post,
            Methods::PUT => &self.put,
            Methods::PATCH => &self.patch,
            Methods::DELETE => &self.delete,
            _ => return None,
        };
        slot.as_deref()
    }
}

impl View for FnView {
    fn name(&self) -> Cow<'static, str> {
        self.name.clone().unwrap_or(Cow::Borrowed("FnView"))
    }

    fn methods(&self) -> Methods {
        [
            Methods::GET,
            Methods::POST,
            Methods::PUT,
            Methods::PATCH,
            Methods::DELETE,
        ]
        .into_iter()
        .filter(|m| self.handler(*m).is_some())
        .fold(Methods::EMPTY, Methods::with)
    }

    fn call_boxed<'a>(
        &'a self,
        method: Methods,
        req: &'a Request,
        res: &'a mut Res,
        _sealed: Token,
    ) -> BoxFuture<'a, Result> {
        match self.handler(method) {
            Some(handler) => handler.call_boxed(req, res),
            None => Box::pin(not_implemented(req, res)),
        }
    }

    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        self.call_boxed(Methods::GET, req, res, Token).await
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        self.call_boxed(Methods::POST, req, res, Token).await
    }

    async fn on_put(&self, req: &Request, res: &mut Res) -> Result {
        self.call_boxed(Methods::PUT, req, res, Token).await
    }

    async fn on_patch(&self, req: &Request, res: &mut Res) -> Result {
        self.call_boxed(Methods::PATCH, req, res, Token).await
    }

    async fn on_delete(&self, req: &Request, res: &mut Res) -> Result {
        self.call_boxed(Methods::DELETE, req, res, Token).await
    }
}
