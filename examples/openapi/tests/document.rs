//! The catalogue's OpenAPI document: what it says, that it is valid OpenAPI 3.1 (by
//! Python's openapi-spec-validator, when installed), that it matches the reviewed
//! snapshot `openapi.json`, and that the app's answers are the ones it declares.

use bocata::extract::Json;
use bocata::openapi::OpenApi;
use bocata::testing::{TestClient, TestResponse};
use bocata::{App, Request, Res, Result};
use bocata_tests::{Fixture, client, has_python_module};
use openapi::{Book, app};
use serde_json::{Value, json};

const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

async fn document(client: &TestClient) -> Value {
    let res = client.get("/openapi.json").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-type"), Some("application/json"));
    res.json()
}

#[tokio::test]
async fn the_document_describes_every_route() {
    let client = TestClient::new(app());
    let doc = document(&client).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Book catalogue");
    let paths = doc["paths"].as_object().expect("paths");
    let mut listed: Vec<&str> = paths.keys().map(String::as_str).collect();
    listed.sort_unstable();
    // The document's own routes are not in it; the catch-all is a plain parameter.
    assert_eq!(
        listed,
        [
            "/books",
            "/books/{id}",
            "/books/{id}/reviews",
            "/export.csv",
            "/files/{path}",
            "/health"
        ]
    );

    // From the doc comment: the first paragraph, then the rest.
    let list = &doc["paths"]["/books"]["get"];
    assert_eq!(list["summary"], "Lists the books.");
    assert!(
        list["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("In the order"))
    );
    assert_eq!(list["tags"], json!(["books"]));
    assert_eq!(list["operationId"], "Books_get");
    // The query type's fields, each a parameter, none required.
    let query: Vec<(&str, bool)> = list["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| (p["name"].as_str().unwrap_or(""), p["required"] == true))
        .collect();
    assert_eq!(query, [("limit", false), ("q", false)]);
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"],
        json!({ "type": "array", "items": { "$ref": "#/components/schemas/Book" } })
    );

    // The JSON body argument is the request body; bocata's own body errors are added.
    let create = &doc["paths"]["/books"]["post"];
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/NewBook"
    );
    for status in ["201", "400", "409", "413", "415", "422"] {
        assert!(
            create["responses"].get(status).is_some(),
            "POST /books declares {status}"
        );
    }
    assert_eq!(
        create["responses"]["409"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );

    // A typed path parameter, and an untyped one (a string).
    let one = &doc["paths"]["/books/{id}"]["get"]["parameters"][0];
    assert_eq!(one["in"], "path");
    assert_eq!(one["required"], true);
    assert_eq!(one["schema"]["type"], "integer");
    assert_eq!(one["description"], "the book's id");
    assert_eq!(
        doc["paths"]["/files/{path}"]["get"]["parameters"][0]["schema"]["type"],
        "string"
    );
    assert!(
        doc["paths"]["/books/{id}"]["delete"]["responses"]["204"]
            .get("content")
            .is_none()
    );

    // A form body, and another content type.
    let review = &doc["paths"]["/books/{id}/reviews"]["post"]["requestBody"]["content"];
    assert!(review.get("application/x-www-form-urlencoded").is_some());
    let export = &doc["paths"]["/export.csv"]["get"]["responses"]["200"]["content"];
    assert_eq!(export["text/csv"]["schema"]["type"], "string");

    // A function view declares nothing and is still there.
    let health = &doc["paths"]["/health"]["get"];
    assert!(health["responses"].get("default").is_some());
    assert!(health.get("tags").is_none());

    // The schemas, from the Rust types and their doc comments.
    let book = &doc["components"]["schemas"]["Book"];
    assert_eq!(book["required"], json!(["id", "title", "author"]));
    assert_eq!(
        book["properties"]["year"]["type"],
        json!(["integer", "null"])
    );
    assert_eq!(
        doc["components"]["schemas"]["Review"]["properties"]["stars"]["maximum"],
        5
    );
}

/// The reviewed snapshot: a change to the document shows in the diff of
/// `examples/openapi/openapi.json`. `BOCATA_UPDATE_SNAPSHOTS=1` rewrites it.
#[tokio::test]
async fn the_document_matches_the_reviewed_snapshot() {
    let client = TestClient::new(app());
    let text = client.get("/openapi.json").send().await.text().to_owned();
    if std::env::var_os("BOCATA_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, format!("{text}\n")).expect("write the snapshot");
    }
    let reviewed = std::fs::read_to_string(SNAPSHOT).expect("the snapshot is committed");
    assert!(
        reviewed.trim_end() == text,
        "the document differs from {SNAPSHOT}; review the change and rerun with \
         BOCATA_UPDATE_SNAPSHOTS=1 to accept it. The document now:\n{text}"
    );
}

#[tokio::test]
async fn the_document_is_valid_openapi_3_1() {
    let python = bocata_tests::has_program("python3");
    if !client(
        "Python's openapi-spec-validator",
        python && has_python_module("openapi_spec_validator"),
    ) {
        return;
    }
    let client = TestClient::new(app());
    let folder = Fixture::new("openapi");
    let file = folder.file(
        "openapi.json",
        client.get("/openapi.json").send().await.bytes(),
    );
    let output = std::process::Command::new("python3")
        .args([
            "-c",
            "import json, sys\n\
             from openapi_spec_validator import validate\n\
             from openapi_spec_validator.validation import OpenAPIV31SpecValidator\n\
             validate(json.load(open(sys.argv[1])), cls=OpenAPIV31SpecValidator)\n\
             print('valid')",
        ])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success() && output.stdout.starts_with(b"valid"),
        "openapi-spec-validator refused the document: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// ANCHOR: documented
#[tokio::test]
async fn every_answer_is_one_the_document_declares() {
    let client = TestClient::new(app());
    let dune = json!({ "title": "Dune", "author": "Frank Herbert", "year": 1965 });
    let created = client.post("/books").json(&dune).send().await;
    assert_eq!(created.status(), 201);
    client.assert_documented(&created);
    let id = created.json::<Book>().id;

    let answers = [
        client.get("/books").query(&[("q", "dune")]).send().await,
        client.post("/books").json(&dune).send().await, // 409
        client
            .post("/books")
            .json(&json!({ "title": "Dune" }))
            .send()
            .await, // 422
        client
            .post("/books")
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await,
        client.post("/books").body("title=Dune").send().await, // 415
        client.get(&format!("/books/{id}")).send().await,
        client.get("/books/999").send().await, // 404
        client.put(&format!("/books/{id}")).json(&dune).send().await,
        client
            .post(&format!("/books/{id}/reviews"))
            .form(&[("stars", "5"), ("text", "vast")])
            .send()
            .await,
        client
            .post(&format!("/books/{id}/reviews"))
            .form(&[("stars", "9"), ("text", "")])
            .send()
            .await,
        client.get("/export.csv").send().await,
        client.get("/health").send().await,
        client.delete(&format!("/books/{id}")).send().await, // 204
        client.delete(&format!("/books/{id}")).send().await, // 404
    ];
    for res in &answers {
        client.assert_documented(res);
    }
    let statuses: Vec<u16> = answers.iter().map(|res| res.status().as_u16()).collect();
    assert_eq!(
        statuses,
        [
            200, 409, 422, 400, 415, 200, 404, 200, 201, 422, 200, 200, 204, 404
        ]
    );
}
// ANCHOR_END: documented

/// A view whose answer drifted from its declaration.
struct Drifted;

#[bocata::view]
impl Drifted {
    /// Claims a book, answers something else.
    #[response(200, Book)]
    async fn on_post(&self, _req: &Request, res: &mut Res, Json(kind): Json<String>) -> Result {
        match kind.as_str() {
            "wrong-shape" => res.json(&json!({ "id": "seven", "title": "Dune" })),
            "teapot" => res.status(418).text("short and stout"),
            _ => res.text("not JSON at all"),
        };
        Ok(())
    }
}

#[tokio::test]
async fn a_drifted_answer_is_caught_with_the_reason() {
    let drift = App::new()
        .route("/drift", Drifted)
        .openapi(OpenApi::new("Drift", "1"));
    let client = TestClient::new(drift);
    let check =
        |res: &TestResponse| -> String { client.documented(res).expect_err("the answer drifted") };

    let res = client.post("/drift").json("wrong-shape").send().await;
    let why = check(&res);
    assert!(why.contains("does not fit the declared schema"), "{why}");
    assert!(why.contains("/id"), "names where: {why}");
    assert!(why.contains("author"), "names the missing field: {why}");

    let why = check(&client.post("/drift").json("teapot").send().await);
    assert!(why.contains("answered 418"), "{why}");
    let why = check(&client.post("/drift").json("text").send().await);
    assert!(why.contains("text/plain"), "{why}");
    // A path nothing serves.
    let why = check(&client.get("/nowhere").send().await);
    assert!(why.contains("no route"), "{why}");
    // A parameter that does not parse gives a 400 the view never declared.
    let catalogue = TestClient::new(app());
    let res = catalogue.get("/books/abc").send().await;
    assert_eq!(res.status(), 400);
    let why = catalogue.documented(&res).expect_err("not declared");
    assert!(why.contains("does not declare"), "{why}");
}

#[tokio::test]
async fn the_docs_page_is_served_by_the_app() {
    let app = App::new()
        .route("/drift", Drifted)
        .openapi(OpenApi::new("<Tools> & \"more\"", "1").document_path("/api/spec.json"));
    let client = TestClient::new(app);
    let res = client.get("/docs").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    let page = res.text();
    assert!(
        page.contains("&lt;Tools&gt; &amp; &quot;more&quot;"),
        "the title, escaped"
    );
    assert!(!page.contains("<Tools>"));
    assert!(
        page.contains(r#""/api/spec.json""#),
        "the document's path, as a JS string"
    );
    assert!(!page.contains("__BOCATA_"), "every placeholder filled");
    for outside in ["http://", "https://", "//cdn"] {
        assert!(
            !page.contains(&format!("src=\"{outside}")),
            "nothing loaded from elsewhere"
        );
    }
    assert_eq!(client.get("/api/spec.json").send().await.status(), 200);
    assert_eq!(client.get("/openapi.json").send().await.status(), 404);
    // Without a docs path, no page.
    let app = App::new().openapi(OpenApi::new("Quiet", "1").docs_path(None::<&str>));
    assert_eq!(TestClient::new(app).get("/docs").send().await.status(), 404);
}
