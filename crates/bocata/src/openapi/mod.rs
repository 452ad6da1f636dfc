//! OpenAPI 3.1 documents written from the views, and a docs page to try them (feature
//! `openapi`).
//!
//! [`App::openapi`](crate::App::openapi) serves the document (`/openapi.json`) and an interactive page
//! (`/docs`) whose script and styles the app serves itself. The document lists every
//! route and method. What a view method declares comes from the method itself:
//!
//! - its doc comment: the first paragraph is the summary, the rest the description;
//! - its typed arguments ([`Json`](crate::extract::Json),
//!   [`Form`](crate::extract::Form), [`Query`](crate::extract::Query)): the request
//!   body and the query parameters, with JSON Schemas (2020-12, as OpenAPI 3.1 uses)
//!   from the very types bocata parses the request into, by [schemars];
//! - `#[param(name: Type, "description")]`: a path parameter's type (the parameters
//!   themselves come from the route pattern);
//! - `#[response(status, Type, "description")]`: a response and its JSON body;
//!   `#[response(status, Type, content = "text/csv")]` another content type;
//!   `#[response(status, "description")]` a response without a body, which for an
//!   error status (4xx, 5xx) is the RFC 9457 problem details bocata sends for an
//!   [`Error`](crate::Error).
//!
//! ```
//! use bocata::extract::Json;
//! use bocata::openapi::OpenApi;
//! use bocata::{App, Error, Request, Res, Result};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize, Serialize, JsonSchema)]
//! struct Todo {
//!     title: String,
//!     done: bool,
//! }
//!
//! struct Todos;
//!
//! #[bocata::view]
//! impl Todos {
//!     /// Adds a todo.
//!     ///
//!     /// Titles are unique.
//!     #[response(201, Todo, "the todo as stored")]
//!     #[response(409, "a todo has that title")]
//!     async fn on_post(&self, _req: &Request, res: &mut Res, Json(todo): Json<Todo>) -> Result {
//!         if todo.title == "milk" {
//!             return Err(Error::new(409, "you have milk on the list"));
//!         }
//!         res.status(201).json(&todo);
//!         Ok(())
//!     }
//! }
//!
//! let app = App::new()
//!     .route("/todos", Todos)
//!     .openapi(OpenApi::new("Todos", "1.0.0"));
//! ```
//!
//! A view that declares nothing still appears, with its methods and path parameters;
//! [`Router::tag`](crate::Router::tag) tags the operations of a router's routes. With
//! feature `openapi-check`, `TestClient::assert_documented` checks that a response is
//! one the document declares, body included.
//!
//! See the book's "OpenAPI and docs" chapter.

mod document;
mod operation;

use std::borrow::Cow;

pub(crate) use document::Registry;
#[doc(hidden)]
pub use operation::__private;
pub use operation::{Describe, Operation};
pub use schemars;

/// The page [`App::openapi`] serves at its docs path; the placeholders are filled in
/// by [`docs_page`].
const DOCS_PAGE: &str = include_str!("docs.html");

/// What the app says about its API, and where it serves the document and the docs
/// page. See [`App::openapi`](crate::App::openapi).
///
/// ```
/// use bocata::openapi::OpenApi;
///
/// let api = OpenApi::new("Todos", "1.2.0")
///     .description("Lists of things to do.")
///     .document_path("/api/openapi.json")
///     .docs_path(Some("/api/docs"));
/// ```
#[derive(Clone, Debug)]
pub struct OpenApi {
    pub(crate) title: Cow<'static, str>,
    pub(crate) version: Cow<'static, str>,
    pub(crate) description: Option<Cow<'static, str>>,
    pub(crate) document_path: Cow<'static, str>,
    pub(crate) docs_path: Option<Cow<'static, str>>,
}

impl Default for OpenApi {
    fn default() -> Self {
        Self::new("API", "0.0.0")
    }
}

impl OpenApi {
    /// The API's title and version (the document's `info`; the version is the API's,
    /// not bocata's or OpenAPI's).
    pub fn new(title: impl Into<Cow<'static, str>>, version: impl Into<Cow<'static, str>>) -> Self {
        Self {
            title: title.into(),
            version: version.into(),
            description: None,
            document_path: Cow::Borrowed("/openapi.json"),
            docs_path: Some(Cow::Borrowed("/docs")),
        }
    }

    /// A longer description of the API (Markdown). Default: none.
    #[must_use]
    pub fn description(mut self, description: impl Into<Cow<'static, str>>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Where the document is served. Default: `/openapi.json`.
    #[must_use]
    pub fn document_path(mut self, path: impl Into<Cow<'static, str>>) -> Self {
        self.document_path = path.into();
        self
    }

    /// Where the docs page is served; `None` serves none. Default: `/docs`.
    #[must_use]
    pub fn docs_path(mut self, path: Option<impl Into<Cow<'static, str>>>) -> Self {
        self.docs_path = path.map(Into::into);
        self
    }
}

/// The docs page for `config`: its title HTML-escaped, the document's path as a JSON
/// string for the page's script.
pub(crate) fn docs_page(config: &OpenApi) -> String {
    let title: String = config
        .title
        .chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    // A JSON string, with `<` escaped so that no `</script>` can close the script.
    let url = serde_json::Value::from(config.document_path.as_ref())
        .to_string()
        .replace('<', "\\u003c");
    DOCS_PAGE
        .replace("__BOCATA_TITLE__", &title)
        .replace("__BOCATA_OPENAPI_URL__", &url)
}
