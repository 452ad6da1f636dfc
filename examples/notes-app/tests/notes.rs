//! The notes API, tested as its users see it: through `notes_app::app()`, in-process,
//! with bocata's `TestClient`.

// ANCHOR: client
use bocata::testing::TestClient;
use notes_app::{MAX_NOTE, Note};
use serde_json::{Value, json};

/// A client of a new app, with no notes yet, that asks for JSON: the app's errors
/// come back as problem details (RFC 9457).
fn client() -> TestClient {
    TestClient::new(notes_app::app()).with_header("accept", "application/json")
}
// ANCHOR_END: client

// ANCHOR: round_trip
#[tokio::test]
async fn a_note_is_added_read_replaced_and_deleted() {
    let client = client();

    let res = client
        .post("/notes")
        .json(&json!({ "text": "buy milk" }))
        .send()
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.header("location"), Some("/notes/1"));
    let note: Note = res.json();
    assert_eq!(note.text, "buy milk");

    let res = client
        .put("/notes/1")
        .json(&json!({ "text": "buy oat milk" }))
        .send()
        .await;
    assert_eq!(res.status(), 200);
    let notes: Vec<Note> = client.get("/notes").send().await.json();
    assert_eq!(
        notes,
        [Note {
            id: 1,
            text: "buy oat milk".into()
        }]
    );

    assert_eq!(client.delete("/notes/1").send().await.status(), 204);
    assert_eq!(client.get("/notes/1").send().await.status(), 404);
}
// ANCHOR_END: round_trip

// ANCHOR: bad_input
#[tokio::test]
async fn a_bad_note_is_refused_with_its_reason_and_nothing_is_stored() {
    let client = client();
    let too_long = format!(r#"{{"text": "{}"}}"#, "é".repeat(MAX_NOTE + 1));
    let cases = [
        (r#"{"text": ""}"#, 422, "a note needs some text"),
        (r#"{"text": "   "}"#, 422, "a note needs some text"),
        (&too_long, 422, "a note is at most 280 characters"),
        (r#"{"txt": "a typo"}"#, 422, "missing field `text`"),
        (r#"{"text": "#, 400, "malformed JSON"),
    ];
    for (body, status, reason) in cases {
        let res = client
            .post("/notes")
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await;
        assert_eq!(res.status(), status, "{body}");
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        let problem: Value = res.json();
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(reason), "{body}: {problem}");
    }
    let notes: Vec<Note> = client.get("/notes").send().await.json();
    assert_eq!(notes, [], "nothing was stored");
}
// ANCHOR_END: bad_input

#[tokio::test]
async fn the_longest_note_fits_and_spaces_around_a_note_are_left_out() {
    let client = client();
    let longest = "é".repeat(MAX_NOTE);
    let res = client
        .post("/notes")
        .json(&json!({ "text": format!("  {longest}\n") }))
        .send()
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Note>().text, longest);
}

#[tokio::test]
async fn an_unknown_note_is_404_and_an_id_that_is_not_a_number_400() {
    let client = client();
    let body = json!({ "text": "x" });
    let cases = [
        (client.get("/notes/7"), 404, "there is no note 7"),
        (
            client.put("/notes/7").json(&body),
            404,
            "there is no note 7",
        ),
        (client.delete("/notes/7"), 404, "there is no note 7"),
        (client.get("/notes/seven"), 400, "path parameter `id`"),
        (client.delete("/notes/-1"), 400, "path parameter `id`"),
    ];
    for (request, status, reason) in cases {
        let res = request.send().await;
        assert_eq!(res.status(), status, "{reason}");
        let problem: Value = res.json();
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(reason), "{problem}");
    }
}

#[tokio::test]
async fn each_app_has_its_own_notes_and_ids_are_not_reused() {
    let (first, second) = (client(), client());
    for text in ["one", "two"] {
        let res = first
            .post("/notes")
            .json(&json!({ "text": text }))
            .send()
            .await;
        assert_eq!(res.status(), 201);
    }
    assert_eq!(first.delete("/notes/2").send().await.status(), 204);
    let res = first
        .post("/notes")
        .json(&json!({ "text": "three" }))
        .send()
        .await;
    assert_eq!(res.json::<Note>().id, 3, "2 is not given again");

    let notes: Vec<Note> = second.get("/notes").send().await.json();
    assert_eq!(notes, [], "another app, other notes");
    let res = second
        .post("/notes")
        .json(&json!({ "text": "mine" }))
        .send()
        .await;
    assert_eq!(res.json::<Note>().id, 1);
}
