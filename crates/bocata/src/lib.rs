//! bocata is a web framework in the style of Python's Responder, Bocadillo and Falcon,
//! on hyper and tokio.
//!
//! A view is a struct whose `on_get`, `on_post`, … methods receive the [`Request`] and a
//! [`Res`] to fill in. Setting a body (`text`, `json`, `html`, …) fixes its
//! `Content-Type`; chained setters adjust the status, headers and cookies; bocata turns
//! the result into the HTTP response.
//!
//! ```no_run
//! use bocata::{App, Request, Res, Result};
//!
//! struct Greeter {
//!     greeting: String,
//! }
//!
//! #[bocata::view]
//! impl Greeter {
//!     async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
//!         let name: String = req.param("name")?;
//!         res.status(200)
//!             .header("x-served-by", "bocata")
//!             .text(format!("{}, {name}!", self.greeting));
//!         Ok(())
//!     }
//!
//!     async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
//!         let body: serde_json::Value = req.json().await?;
//!         res.status(201).json(&body);
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     App::new()
//!         .route("/hello/{name}", Greeter { greeting: "Hello".into() })
//!         .run("127.0.0.1:8000")
//!         .await
//! }
//! ```
//!
//! # Map
//!
//! | module | what it holds |
//! |---|---|
//! | [`view`](mod@view) | the [`View`] trait, [`#[bocata::view]`](macro@view), function views ([`get`], …) |
//! | [`routing`] | route syntax, trailing slashes, route errors |
//! | [`request`] | [`Request`]: head, parameters, query, cookies, body readers |
//! | [`extract`] | typed view-method arguments: [`Json`](extract::Json), [`Form`](extract::Form), [`Query`](extract::Query) |
//! | [`response`] | [`Res`]: body kinds and setters |
//! | [`error`] | [`Error`], [`abort`], negotiated error bodies |
//! | [`app`] | [`App`]: routes, state and settings; a `tower::Service` |
//! | [`hooks`] | before and after hooks, for the app, each [`Router`] and each view |
//! | [`server`] | [`Server`]: HTTP/1.1 + HTTP/2, graceful shutdown |
//! | [`template`] | tera templates and `url_for` |
//! | [`session`] | [`Session`]: values in a signed cookie |
//! | [`static_files`] | [`StaticFiles`]: a folder served safely |
//! | [`websocket`] | WebSockets on the view shape: `on_websocket` |
//! | [`hub`] | [`Hub`](hub::Hub): topics that views publish on and subscribe to, across processes with Redis |
//! | [`testing`] | [`TestClient`](testing::TestClient): in-process tests |
//! | [`openapi`] | the OpenAPI 3.1 document and the docs page |
//!
//! The guide (the bocata book) explains each part at length.
//!
//! # Cargo features
//!
//! The first four are on by default; `default-features = false` leaves the core (views, routing,
//! requests, responses, files, streaming, hooks, state, the server and the
//! TestClient).
//!
//! | feature | what it adds |
//! |---|---|
//! | `templates` | tera templates: `App::templates`, `Res::template`, the `template` module |
//! | `sessions` | signed-cookie sessions: `App::secret_key`, `Request::session`, the `session` module |
//! | `multipart` | uploads: `Request::multipart`, `App::multipart_limits` |
//! | `websocket` | `View::on_websocket`, `App::websocket`, the `websocket` module |
//! | `tls` (off by default) | HTTPS with rustls: `Server::tls`, `Request::tls`, the `tls` module |
//! | `openapi` (off by default) | `App::openapi`, `Router::tag`, `View::operations`, the `openapi` module |
//! | `redis` (off by default) | `Hub::redis`: the broadcast hub across processes, through Redis pub/sub; `App::session_store`: sessions kept in Redis |
//! | `openapi-check` (off by default) | `TestClient::assert_documented`; for `[dev-dependencies]` |
//!
//! On docs.rs each item that a feature adds is marked with that feature.
//!
// Without its feature a module is absent: its row in the map points to the table above.
#![cfg_attr(not(feature = "templates"), doc = "[`template`]: crate#cargo-features")]
#![cfg_attr(not(feature = "sessions"), doc = "[`session`]: crate#cargo-features")]
#![cfg_attr(not(feature = "sessions"), doc = "[`Session`]: crate#cargo-features")]
#![cfg_attr(
    not(feature = "websocket"),
    doc = "[`websocket`]: crate#cargo-features"
)]
#![cfg_attr(not(feature = "openapi"), doc = "[`openapi`]: crate#cargo-features")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

pub mod app;
mod async_fn;
pub mod body;
mod context;
pub mod error;
pub mod extract;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod headers;
pub mod hooks;
pub mod hub;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod request;
pub mod response;
mod router;
pub mod routing;
pub mod server;
mod service;
#[cfg(feature = "sessions")]
pub mod session;
mod state;
pub mod static_files;
#[cfg(feature = "templates")]
pub mod template;
pub mod testing;
mod timer;
#[cfg(feature = "tls")]
pub mod tls;
pub mod view;
#[cfg(feature = "websocket")]
pub mod websocket;

#[doc(inline)]
pub use app::App;
#[doc(inline)]
pub use error::{Error, Result, abort};
pub use hooks::with_hooks;
#[doc(inline)]
pub use request::Request;
#[doc(inline)]
pub use response::{Event, Res, StreamWriter};
pub use router::Router;
#[doc(inline)]
pub use server::Server;
#[cfg(feature = "sessions")]
#[doc(inline)]
pub use session::{Session, SessionConfig};
#[doc(inline)]
pub use static_files::StaticFiles;
#[doc(inline)]
pub use view::{FnView, Handler, Methods, View, delete, get, patch, post, put};

/// Turns an `impl` block of `on_get`, `on_post`, `on_put`, `on_patch` and `on_delete`
/// methods into a [`View`].
///
/// The methods are `async fn(&self, &Request, &mut Res) -> Result`. The macro writes
/// [`View::methods`] from the ones present, so `405 Method Not Allowed` and `Allow` are
/// always exact, and a misspelled `on_*` method is a compile error rather than a
/// silently missing route. Other items in the block (helpers, constants) stay in an
/// inherent `impl`.
///
/// ```
/// use bocata::{Request, Res, Result};
///
/// struct Counter {
///     start: u32,
/// }
///
/// #[bocata::view]
/// impl Counter {
///     async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
///         res.json(&self.next());
///         Ok(())
///     }
///
///     fn next(&self) -> u32 {
///         self.start + 1
///     }
/// }
/// ```
///
/// A method whose body never waits (no `.await`, and no macro that could hide one:
/// std's macros such as `format!` and `panic!`, `json!` and the logging macros are
/// known not to) is called as a plain function, so that no future is made and put on
/// the heap for it; one that waits is awaited. Either way it answers, fails and panics
/// alike.
pub use bocata_macros::view;

pub use ::cookie::Cookie;

/// What `#[bocata::view]` writes for `View::operations`, kept when feature `openapi` is
/// on and dropped otherwise (so that a view's types need `JsonSchema` only then).
#[cfg(feature = "openapi")]
#[doc(hidden)]
#[macro_export]
macro_rules! __openapi_operations {
    ($($item:tt)*) => { $($item)* };
}

/// What `#[bocata::view]` writes for `View::operations`, kept when feature `openapi` is
/// on and dropped otherwise (so that a view's types need `JsonSchema` only then).
#[cfg(not(feature = "openapi"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __openapi_operations {
    ($($item:tt)*) => {};
}

/// Generator syntax for [`Res::streaming`] and [`Res::sse`]: `yield` items in an async
/// block (re-exported from async-stream).
pub use async_stream::{stream, try_stream};

/// The `cookie` crate, for [`Cookie`] builders, `SameSite` and `time`.
pub use ::cookie;
/// The `http` crate: status codes, header names and values, methods.
pub use ::http;
