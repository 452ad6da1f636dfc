//! Typed inputs for view methods: a method of a `#[bocata::view]` may take, after `req`
//! and `res`, a [`Json<T>`] or [`Form<T>`] body and a [`Query<T>`], which bocata reads
//! before calling it. A body or query that does not fit `T` is answered with the same
//! 400, 413, 415 or 422 that [`Request::json`], [`Request::form`] and
//! [`Request::query_as`] give, and the method is not called.
//!
//! ```
//! use bocata::extract::{Json, Query};
//! use bocata::{Request, Res, Result};
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct NewTodo {
//!     title: String,
//! }
//!
//! #[derive(Deserialize)]
//! struct Options {
//!     notify: Option<bool>,
//! }
//!
//! struct Todos;
//!
//! #[bocata::view]
//! impl Todos {
//!     async fn on_post(
//!         &self,
//!         _req: &Request,
//!         res: &mut Res,
//!         Json(todo): Json<NewTodo>,
//!         Query(options): Query<Options>,
//!     ) -> Result {
//!         let notify = options.notify.unwrap_or(false);
//!         res.status(201).text(format!("{} (notify: {notify})", todo.title));
//!         Ok(())
//!     }
//! }
//! ```
//!
//! The type a method reads is the type its OpenAPI operation declares (feature
//! `openapi`): the two cannot drift apart.

use std::future::Future;

use serde::de::DeserializeOwned;

use crate::{Request, Result};

/// A value a view method can take as an argument: read from the request before the
/// method runs. Implemented by [`Json`], [`Form`] and [`Query`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not read from the request by bocata",
    label = "a view method's arguments after `req` and `res` are Json<T>, Form<T> or Query<T>",
    note = "read other values inside the method, from `req`"
)]
pub trait Extract: Sized {
    /// Reads the value, or fails with the error the client gets.
    fn extract(req: &Request) -> impl Future<Output = Result<Self>> + Send;
}

/// A JSON request body (`Content-Type: application/json`), parsed into `T`: see
/// [`Request::json`] for the errors it gives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

/// An HTML form body (`application/x-www-form-urlencoded`), parsed into `T`: see
/// [`Request::form`] for the errors it gives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

/// The query string, parsed into `T`: see [`Request::query_as`] for the error it gives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + Send> Extract for Json<T> {
    async fn extract(req: &Request) -> Result<Self> {
        req.json().await.map(Json)
    }
}

impl<T: DeserializeOwned + Send> Extract for Form<T> {
    async fn extract(req: &Request) -> Result<Self> {
        req.form().await.map(Form)
    }
}

impl<T: DeserializeOwned + Send> Extract for Query<T> {
    async fn extract(req: &Request) -> Result<Self> {
        req.query_as().map(Query)
    }
}
