//! What `#[bocata::view]` declares for the OpenAPI document when a type has no
//! `JsonSchema`: the view still compiles (the feature is additive) and its operation is
//! listed, its schema "not described"; a type with one is referenced by name.

use bocata::extract::{Json, Query};
use bocata::openapi::OpenApi;
use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Has no schema.
#[derive(Deserialize, Serialize)]
struct Plain {
    text: String,
}

/// Has one.
#[derive(Deserialize, Serialize, schemars::JsonSchema)]
struct Shaped {
    text: String,
}

struct Mixed;

#[bocata::view]
impl Mixed {
    #[response(200, Plain)]
    #[param(id: Plain)]
    async fn on_post(
        &self,
        _req: &Request,
        res: &mut Res,
        Json(p): Json<Plain>,
        Query(q): Query<Plain>,
    ) -> Result {
        res.json(&Plain {
            text: p.text + &q.text,
        });
        Ok(())
    }

    #[response(200, Shaped)]
    async fn on_put(&self, _req: &Request, res: &mut Res, Json(s): Json<Shaped>) -> Result {
        res.json(&s);
        Ok(())
    }
}

#[tokio::test]
async fn types_without_a_schema_are_listed_as_not_described() {
    let app = App::new()
        .route("/mixed/{id}", Mixed)
        .openapi(OpenApi::new("Mixed", "1"));
    let client = TestClient::new(app);
    let doc: Value = client.get("/openapi.json").send().await.json();
    let post = &doc["paths"]["/mixed/{id}"]["post"];
    let not_described = |schema: &Value| {
        schema["description"]
            .as_str()
            .is_some_and(|d| d.contains("does not implement `JsonSchema`"))
    };
    assert!(not_described(
        &post["requestBody"]["content"]["application/json"]["schema"]
    ));
    assert!(not_described(
        &post["responses"]["200"]["content"]["application/json"]["schema"]
    ));
    assert!(not_described(&post["parameters"][0]["schema"]), "{post}");
    // A query without a schema adds no parameters beyond the path's.
    assert_eq!(post["parameters"].as_array().map(Vec::len), Some(1));
    let put = &doc["paths"]["/mixed/{id}"]["put"];
    assert_eq!(
        put["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Shaped"
    );
    // The view works as before, and its answers fit what is declared.
    let res = client
        .post("/mixed/1?text=b")
        .json(&serde_json::json!({ "text": "a" }))
        .send()
        .await;
    assert_eq!(res.text(), r#"{"text":"ab"}"#);
    client.assert_documented(&res);
}
