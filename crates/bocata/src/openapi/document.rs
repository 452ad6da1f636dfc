//! The OpenAPI document: built from the routes the app registered, once, on the first
//! request that asks for it.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::OpenApi;
use super::operation::{Content, Operation, ResponseBody};
use crate::Methods;

/// The statuses bocata itself answers when a view's typed body does not fit, added to
/// an operation with a body unless the view declares them.
const BODY_PROBLEMS: [(u16, &str); 4] = [
    (
        400,
        "the body is not valid JSON, or the request is malformed",
    ),
    (413, "the body is larger than the limit"),
    (415, "the body is not of the declared content type"),
    (422, "the body does not have the expected fields"),
];

/// What the app knows to write its document: its routes' operations, and the
/// settings given to [`App::openapi`](crate::App::openapi).
#[derive(Clone, Debug, Default)]
pub(crate) struct Registry {
    pub(crate) config: Option<Arc<OpenApi>>,
    routes: Vec<RouteDoc>,
    /// The document, made on first use; an app changed after that (a clone with more
    /// routes) starts with an empty one.
    cache: Cache,
}

/// One route, as the document describes it.
#[derive(Clone, Debug)]
struct RouteDoc {
    pattern: String,
    view: Cow<'static, str>,
    methods: Methods,
    operations: Vec<Operation>,
    tags: Vec<Cow<'static, str>>,
}

#[derive(Debug, Default)]
struct Cache(OnceLock<Bytes>);

impl Clone for Cache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl Registry {
    /// Notes a view route: its pattern, the view's name, methods and operations, and
    /// the tags of the routers it was mounted through.
    pub(crate) fn add(
        &mut self,
        pattern: &str,
        view: Cow<'static, str>,
        methods: Methods,
        operations: Vec<Operation>,
        tags: Vec<Cow<'static, str>>,
    ) {
        self.routes.push(RouteDoc {
            pattern: pattern.to_owned(),
            view,
            methods,
            operations,
            tags,
        });
    }

    /// The document as JSON bytes, made on the first call.
    pub(crate) fn document(&self) -> Bytes {
        self.cache
            .0
            .get_or_init(|| {
                // A `Value` always serializes.
                Bytes::from(serde_json::to_vec_pretty(&self.build()).unwrap_or_default())
            })
            .clone()
    }

    /// The document as a JSON value.
    pub(crate) fn build(&self) -> Value {
        let default_config = OpenApi::default();
        let config = self.config.as_deref().unwrap_or(&default_config);
        let mut generator = SchemaSettings::draft2020_12()
            .with(|settings| {
                settings.definitions_path = "/components/schemas".into();
                settings.meta_schema = None;
            })
            .into_generator();
        let mut paths = Map::new();
        let mut ids = HashSet::new();
        for route in &self.routes {
            let item = paths
                .entry(openapi_path(&route.pattern))
                .or_insert_with(|| Value::Object(Map::new()));
            for (method, name) in METHODS {
                if !route.methods.contains(method) {
                    continue;
                }
                let declared = route.operations.iter().find(|op| op.method == method);
                let bare = Operation::new(method);
                let op = declared.unwrap_or(&bare);
                let id = unique_id(&mut ids, &format!("{}_{name}", route.view));
                item[name] = operation(&mut generator, route, op, &id);
            }
        }
        let mut schemas = generator.take_definitions(true);
        schemas.insert("Problem".to_owned(), problem_schema());
        let mut info = Map::new();
        info.insert("title".to_owned(), json!(config.title));
        info.insert("version".to_owned(), json!(config.version));
        if let Some(description) = &config.description {
            info.insert("description".to_owned(), json!(description));
        }
        json!({
            "openapi": "3.1.0",
            "info": info,
            "paths": paths,
            "components": { "schemas": schemas },
        })
    }
}

/// The methods OpenAPI describes, with their keys in a path item: all of bocata's but
/// WebSockets.
const METHODS: [(Methods, &str); 5] = [
    (Methods::GET, "get"),
    (Methods::POST, "post"),
    (Methods::PUT, "put"),
    (Methods::PATCH, "patch"),
    (Methods::DELETE, "delete"),
];

/// `id`, or `id_2`, `id_3`, … when taken: the same view routed twice.
fn unique_id(ids: &mut HashSet<String>, id: &str) -> String {
    let mut candidate = id.to_owned();
    let mut n = 1;
    while !ids.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{id}_{n}");
    }
    candidate
}

/// A route pattern as an OpenAPI path template: `{*rest}` becomes `{rest}`.
fn openapi_path(pattern: &str) -> String {
    pattern.replace("{*", "{")
}

/// The names of the pattern's parameters, in order.
fn path_params(pattern: &str) -> impl Iterator<Item = &str> {
    pattern.split('{').skip(1).filter_map(|rest| {
        let name = rest.split('}').next()?;
        Some(name.trim_start_matches('*'))
    })
}

fn operation(generator: &mut SchemaGenerator, route: &RouteDoc, op: &Operation, id: &str) -> Value {
    let mut out = Map::new();
    out.insert("operationId".to_owned(), json!(id));
    if !route.tags.is_empty() {
        out.insert("tags".to_owned(), json!(route.tags));
    }
    if let Some(summary) = &op.summary {
        out.insert("summary".to_owned(), json!(summary));
    }
    if let Some(description) = &op.description {
        out.insert("description".to_owned(), json!(description));
    }

    let mut parameters = Vec::new();
    for name in path_params(&route.pattern) {
        let declared = op.params.iter().find(|param| param.name == name);
        let schema = match declared {
            Some(param) => (param.schema)(generator).to_value(),
            None => json!({ "type": "string" }),
        };
        let mut param = json!({ "name": name, "in": "path", "required": true, "schema": schema });
        if let Some(description) = declared
            .map(|param| param.description)
            .filter(|d| !d.is_empty())
        {
            param["description"] = json!(description);
        }
        parameters.push(param);
    }
    if let Some(query) = op.query {
        parameters.extend(query_parameters(&query(generator)));
    }
    if !parameters.is_empty() {
        out.insert("parameters".to_owned(), Value::Array(parameters));
    }

    if let Some(body) = &op.body {
        out.insert(
            "requestBody".to_owned(),
            json!({ "required": true, "content": content(generator, body) }),
        );
    }

    let mut responses = Map::new();
    for response in &op.responses {
        let description = if response.description.is_empty() {
            reason(response.status)
        } else {
            response.description
        };
        let mut value = json!({ "description": description });
        match &response.body {
            ResponseBody::Empty => {}
            ResponseBody::Problem => value["content"] = problem_content(),
            ResponseBody::Content(body) => value["content"] = content(generator, body),
        }
        responses.insert(response.status.to_string(), value);
    }
    if op.body.is_some() {
        for (status, description) in BODY_PROBLEMS {
            responses.entry(status.to_string()).or_insert_with(
                || json!({ "description": description, "content": problem_content() }),
            );
        }
    }
    if !op.responses.iter().any(|r| (200..400).contains(&r.status)) {
        responses.insert(
            "default".to_owned(),
            json!({ "description": "what the view answers (not declared)" }),
        );
    }
    out.insert("responses".to_owned(), Value::Object(responses));
    Value::Object(out)
}

/// One query parameter per property of the query type's (object) schema.
fn query_parameters(schema: &Schema) -> Vec<Value> {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| {
            let mut property = property.clone();
            let description = property
                .as_object_mut()
                .and_then(|object| object.remove("description"));
            let mut param = json!({
                "name": name,
                "in": "query",
                "required": required.contains(&name.as_str()),
                "schema": property,
            });
            if let Some(description) = description {
                param["description"] = description;
            }
            param
        })
        .collect()
}

fn content(generator: &mut SchemaGenerator, body: &Content) -> Value {
    json!({ body.content_type: { "schema": (body.schema)(generator).to_value() } })
}

fn problem_content() -> Value {
    json!({
        "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } },
        "text/plain": { "schema": { "type": "string" } },
    })
}

/// RFC 9457 problem details, as bocata renders an error for a client that accepts JSON.
fn problem_schema() -> Value {
    json!({
        "description": "An error, as RFC 9457 problem details.",
        "type": "object",
        "properties": {
            "type": { "type": "string", "description": "`about:blank`: the status says it all." },
            "title": { "type": "string", "description": "The status's reason phrase." },
            "status": { "type": "integer", "description": "The HTTP status." },
            "detail": { "type": "string", "description": "What went wrong, when the app says." },
        },
        "required": ["type", "title", "status"],
    })
}

fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("response")
}
