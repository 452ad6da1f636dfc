//! Run with `cargo run -p notes-app`; test with `cargo test -p notes-app`.
//!
//! A JSON notes API laid out as an app that has tests: this library builds the whole
//! app in [`app`], `src/main.rs` serves it, and `tests/notes.rs` drives it in-process
//! with bocata's `TestClient`, as any user of the library would.

// ANCHOR: lib
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use bocata::{App, Error, Request, Res, Result};
use serde::{Deserialize, Serialize};

/// The longest note, in characters.
pub const MAX_NOTE: usize = 280;

/// A note, as the API sends it.
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct Note {
    /// Its number, given by the app.
    pub id: u64,
    /// What it says.
    pub text: String,
}

/// The body of `POST /notes` and `PUT /notes/{id}`.
#[derive(Debug, Deserialize, Serialize)]
pub struct NoteText {
    /// What the note says: 1 to [`MAX_NOTE`] characters, spaces around it left out.
    pub text: String,
}

/// Every note, in the app's state.
#[derive(Default)]
struct Notes {
    last_id: u64,
    by_id: BTreeMap<u64, String>,
}

/// `/notes`: every note, oldest first; `POST` adds one.
struct NoteList;

#[bocata::view]
impl NoteList {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let notes = notes(req)?;
        let list: Vec<Note> = notes
            .by_id
            .iter()
            .map(|(&id, text)| Note {
                id,
                text: text.clone(),
            })
            .collect();
        res.json(&list);
        Ok(())
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let text = checked(req.json().await?)?;
        let mut notes = notes(req)?;
        notes.last_id += 1;
        let note = Note {
            id: notes.last_id,
            text,
        };
        notes.by_id.insert(note.id, note.text.clone());
        res.status(201)
            .header("location", format!("/notes/{}", note.id))
            .json(&note);
        Ok(())
    }
}

/// `/notes/{id}`: one note, to read, replace or delete.
struct OneNote;

#[bocata::view]
impl OneNote {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let id: u64 = req.param("id")?;
        let notes = notes(req)?;
        let text = notes.by_id.get(&id).ok_or_else(|| not_found(id))?;
        res.json(&Note {
            id,
            text: text.clone(),
        });
        Ok(())
    }

    async fn on_put(&self, req: &Request, res: &mut Res) -> Result {
        let id: u64 = req.param("id")?;
        let text = checked(req.json().await?)?;
        let mut notes = notes(req)?;
        let slot = notes.by_id.get_mut(&id).ok_or_else(|| not_found(id))?;
        slot.clone_from(&text);
        res.json(&Note { id, text });
        Ok(())
    }

    async fn on_delete(&self, req: &Request, res: &mut Res) -> Result {
        let id: u64 = req.param("id")?;
        notes(req)?.by_id.remove(&id).ok_or_else(|| not_found(id))?;
        res.status(204);
        Ok(())
    }
}

/// The notes, locked for this request.
fn notes(req: &Request) -> Result<MutexGuard<'_, Notes>> {
    req.state::<Mutex<Notes>>()?
        .lock()
        .map_err(|_| Error::internal("a view panicked while holding the notes"))
}

/// The text of a note, if it is one: a 422 says what is wrong with it otherwise.
fn checked(NoteText { text }: NoteText) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::new(422, "a note needs some text"));
    }
    if text.chars().count() > MAX_NOTE {
        return Err(Error::new(
            422,
            format!("a note is at most {MAX_NOTE} characters"),
        ));
    }
    Ok(text.to_owned())
}

fn not_found(id: u64) -> Error {
    Error::new(404, format!("there is no note {id}"))
}

/// The whole app: its routes and its state, with no notes yet. `src/main.rs` serves
/// it; each test builds one of its own.
pub fn app() -> App {
    App::new()
        .state(Mutex::new(Notes::default()))
        .route("/notes", NoteList)
        .route("/notes/{id}", OneNote)
}
// ANCHOR_END: lib
