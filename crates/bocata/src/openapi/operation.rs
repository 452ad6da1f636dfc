//! What one view method declares: its documentation, parameters, body and responses.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};

use crate::Methods;
use crate::extract::{Form, Json, Query};

/// Makes a type's schema, as the document is built.
pub(crate) type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema of a type that does not implement `JsonSchema`: anything, said so.
fn undescribed(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({
        "description": "Not described: the Rust type does not implement `JsonSchema`."
    })
}

/// `T`'s schema, by reference to `components/schemas` when `T` is a named type.
fn schema_of<T: JsonSchema + ?Sized>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// `T`'s own schema, never a reference: what a query type's properties are read from.
fn inline_schema_of<T: JsonSchema + ?Sized>(generator: &mut SchemaGenerator) -> Schema {
    T::json_schema(generator)
}

/// One operation of the OpenAPI document: a view method, as `#[bocata::view]` reads it
/// from the method's doc comment, its [`Json`], [`Form`] and [`Query`] arguments, and
/// its `#[param]` and `#[response]` attributes. See the [module documentation](super).
///
/// A hand-written [`View::operations`](crate::View::operations) builds them itself:
///
/// ```
/// use bocata::Methods;
/// use bocata::openapi::Operation;
///
/// let op = Operation::new(Methods::GET)
///     .doc("One user.\n\nBy id; 404 when there is none.")
///     .param::<u32>("id", "the user's id")
///     .response::<String>(200, "application/json", "the user's name")
///     .response_problem(404, "no user has that id");
/// ```
#[derive(Clone, Debug)]
pub struct Operation {
    pub(crate) method: Methods,
    pub(crate) summary: Option<Cow<'static, str>>,
    pub(crate) description: Option<Cow<'static, str>>,
    pub(crate) params: Vec<Param>,
    pub(crate) query: Option<SchemaFn>,
    pub(crate) body: Option<Content>,
    pub(crate) responses: Vec<Response>,
}

/// A path parameter's declared type.
#[derive(Clone, Debug)]
pub(crate) struct Param {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) schema: SchemaFn,
}

/// A body: its content type and schema.
#[derive(Clone, Debug)]
pub(crate) struct Content {
    pub(crate) content_type: &'static str,
    pub(crate) schema: SchemaFn,
}

/// One declared response.
#[derive(Clone, Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) description: &'static str,
    pub(crate) body: ResponseBody,
}

/// What a declared response carries.
#[derive(Clone, Debug)]
pub(crate) enum ResponseBody {
    /// Nothing (a 204, a redirect).
    Empty,
    /// RFC 9457 problem details, as bocata renders an [`Error`](crate::Error).
    Problem,
    /// A body of this content type and schema.
    Content(Content),
}

impl Operation {
    /// An operation for `method` that declares nothing yet.
    pub fn new(method: Methods) -> Self {
        Self {
            method,
            summary: None,
            description: None,
            params: Vec::new(),
            query: None,
            body: None,
            responses: Vec::new(),
        }
    }

    /// The method's documentation: its first paragraph is the summary, the rest the
    /// description (Markdown, which OpenAPI allows).
    #[must_use]
    pub fn doc(mut self, text: &str) -> Self {
        let text = text.trim();
        let (summary, rest) = match text.split_once("\n\n") {
            Some((summary, rest)) => (summary, rest.trim()),
            None => (text, ""),
        };
        let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
        self.summary = (!summary.is_empty()).then_some(Cow::Owned(summary));
        self.description = (!rest.is_empty()).then(|| Cow::Owned(rest.to_owned()));
        self
    }

    /// Path parameter `name` (from the route's `{name}`) is a `T`. Undeclared path
    /// parameters are strings.
    #[must_use]
    pub fn param<T: JsonSchema>(self, name: &'static str, description: &'static str) -> Self {
        self.param_schema(name, description, schema_of::<T>)
    }

    fn param_schema(
        mut self,
        name: &'static str,
        description: &'static str,
        schema: SchemaFn,
    ) -> Self {
        self.params.push(Param {
            name,
            description,
            schema,
        });
        self
    }

    /// The query string is a `T` (a struct: each field is a query parameter).
    #[must_use]
    pub fn query<T: JsonSchema>(mut self) -> Self {
        self.query = Some(inline_schema_of::<T>);
        self
    }

    /// The request body is a `T`, sent as `content_type`.
    #[must_use]
    pub fn body<T: JsonSchema>(self, content_type: &'static str) -> Self {
        self.body_schema(content_type, schema_of::<T>)
    }

    fn body_schema(mut self, content_type: &'static str, schema: SchemaFn) -> Self {
        self.body = Some(Content {
            content_type,
            schema,
        });
        self
    }

    /// Answers `status` with a `T` sent as `content_type` (`application/json` for
    /// `res.json`).
    #[must_use]
    pub fn response<T: JsonSchema + ?Sized>(
        self,
        status: u16,
        content_type: &'static str,
        description: &'static str,
    ) -> Self {
        self.response_schema(status, content_type, description, schema_of::<T>)
    }

    fn response_schema(
        mut self,
        status: u16,
        content_type: &'static str,
        description: &'static str,
        schema: SchemaFn,
    ) -> Self {
        self.responses.push(Response {
            status,
            description,
            body: ResponseBody::Content(Content {
                content_type,
                schema,
            }),
        });
        self
    }

    /// Answers `status` with no body.
    #[must_use]
    pub fn response_empty(mut self, status: u16, description: &'static str) -> Self {
        self.responses.push(Response {
            status,
            description,
            body: ResponseBody::Empty,
        });
        self
    }

    /// Answers `status` with an [`Error`](crate::Error): RFC 9457 problem details for
    /// clients that accept JSON, plain text for the others.
    #[must_use]
    pub fn response_problem(mut self, status: u16, description: &'static str) -> Self {
        self.responses.push(Response {
            status,
            description,
            body: ResponseBody::Problem,
        });
        self
    }
}

/// What a typed view-method argument adds to its operation: [`Json`] and [`Form`] a
/// request body, [`Query`] the query parameters. `#[bocata::view]` calls it for each
/// such argument whose type implements it; an argument whose inner type has no
/// `JsonSchema` is still listed (a body of its content type, its schema "not
/// described"), so turning the feature on never stops a view from compiling.
pub trait Describe {
    /// `op`, with what this argument reads declared.
    fn describe(op: Operation) -> Operation;
}

impl<T: JsonSchema> Describe for Json<T> {
    fn describe(op: Operation) -> Operation {
        op.body::<T>("application/json")
    }
}

impl<T: JsonSchema> Describe for Form<T> {
    fn describe(op: Operation) -> Operation {
        op.body::<T>("application/x-www-form-urlencoded")
    }
}

impl<T: JsonSchema> Describe for Query<T> {
    fn describe(op: Operation) -> Operation {
        op.query::<T>()
    }
}

/// What `#[bocata::view]` calls to describe an argument or a declared type, whether or
/// not the type implements [`Describe`] or `JsonSchema`: each probe picks the most
/// precise description that applies (autoref specialization), so that the `openapi`
/// feature stays additive.
#[doc(hidden)]
pub mod __private {
    use std::marker::PhantomData;

    use schemars::JsonSchema;

    use super::{Describe, Operation, SchemaFn, schema_of, undescribed};
    use crate::extract::{Form, Json};

    /// Stands for the type `T` in method calls.
    pub struct Probe<T: ?Sized>(PhantomData<T>);

    impl<T: ?Sized> Clone for Probe<T> {
        fn clone(&self) -> Self {
            *self
        }
    }

    impl<T: ?Sized> Copy for Probe<T> {}

    impl<T: ?Sized> std::fmt::Debug for Probe<T> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(std::any::type_name::<T>())
        }
    }

    impl<T: ?Sized> Probe<T> {
        /// The probe for `T`.
        pub const fn new() -> Self {
            Self(PhantomData)
        }
    }

    impl<T: ?Sized> Default for Probe<T> {
        fn default() -> Self {
            Self::new()
        }
    }

    /// `T`'s schema, for a type that implements `JsonSchema`.
    pub trait Described {
        /// The schema function.
        fn schema_fn(self) -> SchemaFn;
    }

    impl<T: JsonSchema + ?Sized> Described for &Probe<T> {
        fn schema_fn(self) -> SchemaFn {
            schema_of::<T>
        }
    }

    /// "Not described", for any other type.
    pub trait Undescribed {
        /// The schema function.
        fn schema_fn(self) -> SchemaFn;
    }

    impl<T: ?Sized> Undescribed for Probe<T> {
        fn schema_fn(self) -> SchemaFn {
            undescribed
        }
    }

    /// An argument that describes itself fully.
    pub trait ArgDescribed {
        /// `op` with the argument declared.
        fn describe_arg(self, op: Operation) -> Operation;
    }

    impl<A: Describe> ArgDescribed for &&Probe<A> {
        fn describe_arg(self, op: Operation) -> Operation {
            A::describe(op)
        }
    }

    /// A body argument whose type has no schema: its content type, schema "not
    /// described".
    pub trait ArgShaped {
        /// `op` with the argument declared.
        fn describe_arg(self, op: Operation) -> Operation;
    }

    impl<T> ArgShaped for &Probe<Json<T>> {
        fn describe_arg(self, op: Operation) -> Operation {
            op.body_schema("application/json", undescribed)
        }
    }

    impl<T> ArgShaped for &Probe<Form<T>> {
        fn describe_arg(self, op: Operation) -> Operation {
            op.body_schema("application/x-www-form-urlencoded", undescribed)
        }
    }

    /// Any other argument (a query without a schema, an extractor of the app's own):
    /// nothing to declare.
    pub trait ArgUnknown {
        /// `op`, unchanged.
        fn describe_arg(self, op: Operation) -> Operation;
    }

    impl<A> ArgUnknown for Probe<A> {
        fn describe_arg(self, op: Operation) -> Operation {
            op
        }
    }

    /// The builder steps that take a schema function, for the macro.
    impl Operation {
        /// [`Operation::param`], with the schema from a probe.
        #[doc(hidden)]
        pub fn __param(
            self,
            name: &'static str,
            description: &'static str,
            schema: SchemaFn,
        ) -> Self {
            self.param_schema(name, description, schema)
        }

        /// [`Operation::response`], with the schema from a probe.
        #[doc(hidden)]
        pub fn __response(
            self,
            status: u16,
            content_type: &'static str,
            description: &'static str,
            schema: SchemaFn,
        ) -> Self {
            self.response_schema(status, content_type, description, schema)
        }
    }
}
