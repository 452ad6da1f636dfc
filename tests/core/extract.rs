//! Typed view-method arguments: bocata reads them before the method runs, answers a
//! body or query that does not fit with the same 4xx the `Request` readers give, and
//! does not call the method then.

use std::sync::atomic::{AtomicUsize, Ordering};

use bocata::extract::{Form, Json, Query};
use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result};
use serde::Deserialize;

#[derive(Deserialize)]
struct Note {
    text: String,
}

#[derive(Deserialize)]
struct Options {
    copies: u32,
}

/// The calls that got through to `Notes`.
static CALLS: AtomicUsize = AtomicUsize::new(0);

// ANCHOR: typed
struct Notes;

#[bocata::view]
impl Notes {
    async fn on_post(
        &self,
        _req: &Request,
        res: &mut Res,
        Json(note): Json<Note>,
        Query(options): Query<Options>,
    ) -> Result {
        CALLS.fetch_add(1, Ordering::Relaxed);
        res.status(201)
            .text(note.text.repeat(options.copies as usize));
        Ok(())
    }

    async fn on_put(&self, req: &Request, res: &mut Res, Form(note): Form<Note>) -> Result {
        CALLS.fetch_add(1, Ordering::Relaxed);
        // The body has been read; reading it again gives the same bytes.
        let raw = req.text().await?;
        res.text(format!("{} ({raw})", note.text));
        Ok(())
    }
}
// ANCHOR_END: typed

#[tokio::test]
async fn typed_arguments_are_read_before_the_method() {
    let client = TestClient::new(App::new().route("/notes", Notes));
    let res = client
        .post("/notes?copies=2")
        .json(&serde_json::json!({ "text": "hi" }))
        .send()
        .await;
    assert_eq!((res.status().as_u16(), res.text()), (201, "hihi"));
    let res = client.put("/notes").form(&[("text", "form")]).send().await;
    assert_eq!(
        (res.status().as_u16(), res.text()),
        (200, "form (text=form)")
    );
    assert_eq!(CALLS.load(Ordering::Relaxed), 2);

    // What does not fit is answered by bocata, and the method is not called.
    let cases = [
        client.post("/notes?copies=2").body("text=hi").send().await, // not JSON: 415
        client
            .post("/notes?copies=2")
            .header("content-type", "application/json")
            .body("{")
            .send()
            .await, // malformed: 400
        client
            .post("/notes?copies=2")
            .json(&serde_json::json!({ "txt": 1 }))
            .send()
            .await, // 422
        client
            .post("/notes?copies=many")
            .json(&serde_json::json!({ "text": "hi" }))
            .send()
            .await, // 400
        client
            .post("/notes")
            .json(&serde_json::json!({ "text": "hi" }))
            .send()
            .await, // no copies: 400
        client
            .put("/notes")
            .json(&serde_json::json!({ "text": "hi" }))
            .send()
            .await, // not a form: 415
    ];
    let statuses: Vec<u16> = cases.iter().map(|res| res.status().as_u16()).collect();
    assert_eq!(statuses, [415, 400, 422, 400, 400, 415]);
    assert!(
        cases[3].text().contains("invalid query string"),
        "{}",
        cases[3].text()
    );
    assert!(
        cases[2].text().contains("text"),
        "names the field: {}",
        cases[2].text()
    );
    assert_eq!(
        CALLS.load(Ordering::Relaxed),
        2,
        "no bad request reached the method"
    );
}
