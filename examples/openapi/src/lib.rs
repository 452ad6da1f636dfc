//! A small book catalogue that describes itself: its views declare what they read and
//! answer, and the app serves the OpenAPI 3.1 document at `/openapi.json` and a page
//! to read and try it at `/docs`. Every kind of input is here: path parameters (typed,
//! and a catch-all), a query, a JSON body and a form body; and every kind of answer:
//! JSON, CSV, no body, and errors as problem details.
//!
//! `src/main.rs` serves it; `tests/document.rs` checks the document.

use std::sync::Mutex;

use bocata::extract::{Form, Json, Query};
use bocata::openapi::OpenApi;
use bocata::{App, Error, Request, Res, Result, Router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

// ANCHOR: types
/// A book in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Book {
    /// Given by the catalogue.
    pub id: u32,
    /// The title, as printed.
    pub title: String,
    /// Who wrote it.
    pub author: String,
    /// The year it came out, when known.
    pub year: Option<i32>,
}

/// A book as a client sends it: everything but the id.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct NewBook {
    /// The title, as printed: 1 to 200 characters.
    pub title: String,
    /// Who wrote it.
    pub author: String,
    /// The year it came out, when known.
    pub year: Option<i32>,
}

/// What to look for in the catalogue.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Search {
    /// Words to find in the title or the author's name.
    pub q: Option<String>,
    /// How many books at most. Default: 20.
    pub limit: Option<u32>,
}

/// A reader's review, sent from an HTML form.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Review {
    /// From 1 to 5.
    #[schemars(range(min = 1, max = 5))]
    pub stars: u8,
    /// What the reader thought.
    pub text: String,
}
// ANCHOR_END: types

/// The catalogue, as app state.
#[derive(Default)]
struct Catalogue {
    books: Mutex<Vec<Book>>,
}

impl Catalogue {
    fn books(&self) -> Result<std::sync::MutexGuard<'_, Vec<Book>>> {
        self.books.lock().map_err(|_| Error::from_status(500))
    }
}

fn checked(book: NewBook) -> Result<NewBook> {
    let length = book.title.trim().chars().count();
    if !(1..=200).contains(&length) {
        return Err(Error::new(422, "a title has 1 to 200 characters"));
    }
    Ok(book)
}

// ANCHOR: books
/// `/books`: the catalogue.
struct Books;

#[bocata::view]
impl Books {
    /// Lists the books.
    ///
    /// In the order they were added; `q` keeps the books whose title or author
    /// contains it, ignoring case.
    #[response(200, Vec<Book>, "the books found")]
    async fn on_get(&self, req: &Request, res: &mut Res, Query(search): Query<Search>) -> Result {
        let books = req.state::<Catalogue>()?.books()?;
        let q = search.q.unwrap_or_default().to_lowercase();
        let found: Vec<&Book> = books
            .iter()
            .filter(|book| {
                book.title.to_lowercase().contains(&q) || book.author.to_lowercase().contains(&q)
            })
            .take(search.limit.unwrap_or(20) as usize)
            .collect();
        res.json(&found);
        Ok(())
    }

    /// Adds a book.
    #[response(201, Book, "the book, with its id")]
    #[response(409, "the catalogue has a book with that title by that author")]
    async fn on_post(&self, req: &Request, res: &mut Res, Json(new): Json<NewBook>) -> Result {
        let new = checked(new)?;
        let mut books = req.state::<Catalogue>()?.books()?;
        if books
            .iter()
            .any(|b| b.title == new.title && b.author == new.author)
        {
            return Err(Error::new(409, "that book is in the catalogue already"));
        }
        let book = Book {
            id: books.iter().map(|b| b.id).max().unwrap_or(0) + 1,
            title: new.title,
            author: new.author,
            year: new.year,
        };
        books.push(book.clone());
        let location = req.url_for::<OneBook>(&[("id", &book.id)])?;
        res.status(201).header("location", location).json(&book);
        Ok(())
    }
}
// ANCHOR_END: books

/// `/books/{id}`: one book.
struct OneBook;

#[bocata::view]
impl OneBook {
    /// One book.
    #[param(id: u32, "the book's id")]
    #[response(200, Book)]
    #[response(404, "no book has that id")]
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let id: u32 = req.param("id")?;
        let books = req.state::<Catalogue>()?.books()?;
        match books.iter().find(|b| b.id == id) {
            Some(book) => res.json(book),
            None => return Err(Error::new(404, format!("there is no book {id}"))),
        };
        Ok(())
    }

    /// Replaces a book.
    #[param(id: u32, "the book's id")]
    #[response(200, Book, "the book as stored")]
    #[response(404, "no book has that id")]
    async fn on_put(&self, req: &Request, res: &mut Res, Json(new): Json<NewBook>) -> Result {
        let id: u32 = req.param("id")?;
        let new = checked(new)?;
        let mut books = req.state::<Catalogue>()?.books()?;
        let Some(book) = books.iter_mut().find(|b| b.id == id) else {
            return Err(Error::new(404, format!("there is no book {id}")));
        };
        *book = Book {
            id,
            title: new.title,
            author: new.author,
            year: new.year,
        };
        res.json(book);
        Ok(())
    }

    /// Removes a book.
    #[param(id: u32, "the book's id")]
    #[response(204, "removed")]
    #[response(404, "no book has that id")]
    async fn on_delete(&self, req: &Request, res: &mut Res) -> Result {
        let id: u32 = req.param("id")?;
        let mut books = req.state::<Catalogue>()?.books()?;
        let before = books.len();
        books.retain(|b| b.id != id);
        if books.len() == before {
            return Err(Error::new(404, format!("there is no book {id}")));
        }
        res.status(204);
        Ok(())
    }
}

// ANCHOR: reviews
/// `/books/{id}/reviews`: what readers thought.
struct Reviews;

#[bocata::view]
impl Reviews {
    /// Reviews a book, from an HTML form.
    #[param(id: u32, "the book's id")]
    #[response(201, Review, "the review as stored")]
    #[response(404, "no book has that id")]
    async fn on_post(&self, req: &Request, res: &mut Res, Form(review): Form<Review>) -> Result {
        let id: u32 = req.param("id")?;
        if !(1..=5).contains(&review.stars) {
            return Err(Error::new(422, "stars go from 1 to 5"));
        }
        let books = req.state::<Catalogue>()?.books()?;
        if !books.iter().any(|b| b.id == id) {
            return Err(Error::new(404, format!("there is no book {id}")));
        }
        res.status(201).json(&review);
        Ok(())
    }
}
// ANCHOR_END: reviews

/// `/export.csv`: the catalogue as CSV.
struct Export;

#[bocata::view]
impl Export {
    /// The whole catalogue as CSV.
    #[response(
        200,
        String,
        content = "text/csv",
        "one line per book: id, title, author, year"
    )]
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let books = req.state::<Catalogue>()?.books()?;
        let mut csv = String::from("id,title,author,year\n");
        for book in books.iter() {
            let year = book.year.map(|y| y.to_string()).unwrap_or_default();
            let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            csv.push_str(&format!(
                "{},{},{},{year}\n",
                book.id,
                quote(&book.title),
                quote(&book.author)
            ));
        }
        res.content(csv).content_type("text/csv");
        Ok(())
    }
}

/// `/health`: a function view, which declares nothing and is still listed.
async fn health(_req: &Request, res: &mut Res) -> Result {
    res.text("ok");
    Ok(())
}

/// `/files/{*path}`: a catch-all parameter, listed as a path parameter.
async fn file(req: &Request, _res: &mut Res) -> Result {
    let path: String = req.param("path")?;
    Err(Error::new(404, format!("there is no file {path}")))
}

// ANCHOR: app
/// The app, with its document and docs page.
pub fn app() -> App {
    let books = Router::new()
        .tag("books")
        .route("", Books)
        .route("/{id}", OneBook)
        .route("/{id}/reviews", Reviews);
    App::new()
        .state(Catalogue::default())
        .mount("/books", books)
        .route("/export.csv", Export)
        .route("/health", bocata::get(health))
        .route("/files/{*path}", bocata::get(file))
        .openapi(
            OpenApi::new("Book catalogue", "1.0.0")
                .description("Books, their readers' reviews, and a CSV export."),
        )
}
// ANCHOR_END: app
