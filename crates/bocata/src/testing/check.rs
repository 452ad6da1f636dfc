//! Checking a response against the app's OpenAPI document (feature `openapi-check`):
//! the status is one the operation declares, and the body has the declared content
//! type and fits the declared schema.

use http::{Method, header};
use serde_json::Value;

use super::{TestClient, TestResponse};
use crate::routing::Lookup;

/// The request a response answered, as the check needs it.
#[derive(Clone, Debug)]
pub(crate) struct Asked {
    pub(crate) method: Method,
    pub(crate) path: String,
}

impl TestClient {
    /// Panics, saying why, unless `res` is a response the app's OpenAPI document
    /// declares for its request: see [`documented`](Self::documented).
    ///
    /// ```
    /// use bocata::extract::Json;
    /// use bocata::openapi::OpenApi;
    /// use bocata::testing::TestClient;
    /// use bocata::{App, Request, Res, Result};
    ///
    /// struct Echo;
    ///
    /// #[bocata::view]
    /// impl Echo {
    ///     #[response(200, Vec<u32>)]
    ///     async fn on_post(&self, _req: &Request, res: &mut Res, Json(n): Json<Vec<u32>>) -> Result {
    ///         res.json(&n);
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let app = App::new().route("/echo", Echo).openapi(OpenApi::new("Echo", "1"));
    /// let client = TestClient::new(app);
    /// let res = client.post("/echo").json(&[1, 2]).send().await;
    /// client.assert_documented(&res);
    /// // A body that is not JSON: the 400 bocata answers is declared too.
    /// let res = client.post("/echo").header("content-type", "application/json").body("[").send().await;
    /// client.assert_documented(&res);
    /// # }
    /// ```
    #[track_caller]
    pub fn assert_documented(&self, res: &TestResponse) {
        if let Err(why) = self.documented(res) {
            panic!("{why}");
        }
    }

    /// Whether `res` is a response the app's OpenAPI document declares for its
    /// request: the route and method are in the document, the status is declared
    /// (exactly, as a range such as `4XX`, or as `default`), a status declared
    /// without content has an empty body, and a declared body has a declared content
    /// type and, when it is JSON, fits that content type's schema. The error says what
    /// does not fit, and where.
    pub fn documented(&self, res: &TestResponse) -> Result<(), String> {
        let Asked { method, path } = &res.asked;
        let asked = format!("{method} {path}");
        let shared = &self.app.shared;
        let Lookup::Found(index, _) = shared.routes.lookup(path) else {
            return Err(format!("{asked}: no route serves this path"));
        };
        let Some(pattern) = shared.context.paths.patterns().nth(index) else {
            return Err(format!("{asked}: no route serves this path"));
        };
        let template = pattern.replace("{*", "{");
        let document = shared.context.openapi.build();
        let key = method.as_str().to_ascii_lowercase();
        let Some(operation) = document["paths"][&template].get(&key) else {
            return Err(format!(
                "{asked}: the document has no `{key}` under `{template}`"
            ));
        };
        let status = res.status().as_u16();
        let responses = &operation["responses"];
        let range = format!("{}XX", status / 100);
        let Some((matched, declared)) = [status.to_string(), range, "default".to_owned()]
            .into_iter()
            .find_map(|name| responses.get(&name).map(|declared| (name, declared)))
        else {
            let listed: Vec<&String> = responses
                .as_object()
                .map(|r| r.keys().collect())
                .unwrap_or_default();
            return Err(format!(
                "{asked} answered {status}, which `{key} {template}` does not declare (it declares {listed:?})"
            ));
        };
        let Some(content) = declared.get("content").and_then(Value::as_object) else {
            // A `default` without content is a view that declared nothing: any body.
            return if res.bytes().is_empty() || matched == "default" {
                Ok(())
            } else {
                Err(format!(
                    "{asked} answered {status} with a body, which the document declares without content"
                ))
            };
        };
        let content_type = res
            .header(header::CONTENT_TYPE.as_str())
            .and_then(|value| value.split(';').next())
            .unwrap_or("")
            .trim();
        let Some(media) = content.get(content_type) else {
            let listed: Vec<&String> = content.keys().collect();
            return Err(format!(
                "{asked} answered {status} as `{content_type}`, not one of the declared {listed:?}"
            ));
        };
        let is_json = content_type == "application/json" || content_type.ends_with("+json");
        let Some(schema) = media.get("schema").filter(|_| is_json) else {
            return Ok(());
        };
        let body: Value = serde_json::from_slice(res.bytes())
            .map_err(|e| format!("{asked} answered {status} with a body that is not JSON: {e}"))?;
        // The schema, with the document's components beside it for its `$ref`s.
        let mut root = schema.clone();
        if let Some(object) = root.as_object_mut() {
            object.insert("components".to_owned(), document["components"].clone());
        }
        let validator = jsonschema::draft202012::new(&root).map_err(|e| {
            format!("`{key} {template}` {status}: the declared schema is invalid: {e}")
        })?;
        let problems: Vec<String> = validator
            .iter_errors(&body)
            .map(|error| format!("at `{}`: {error}", error.instance_path()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{asked} answered {status} with a body that does not fit the declared schema: {}",
                problems.join("; ")
            ))
        }
    }
}
