//! A JSON API whose data lives in a database: SQLite by default, Postgres when
//! `DATABASE_URL` says so. A blueprint (`/api`) guarded by a before hook that reads the
//! session, a pool in app state opened at startup and closed at shutdown, a transaction
//! for a request that writes several rows, a background task, and database errors
//! turned into answers.
//!
//! `src/main.rs` serves it; the tests in `tests/` drive it through the `TestClient`.

mod db;

pub use db::{Config, Db, answer};

use bocata::{App, Error, Request, Res, Result, Router};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

/// The longest name and title the app accepts (the schema holds the same limits).
const MAX_NAME: usize = 100;
const MAX_TITLE: usize = 200;
/// The most todos one batch may add.
const MAX_BATCH: usize = 100;

/// One todo, as stored and as sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    /// Chosen by the database.
    pub id: i64,
    /// What to do; unique among its owner's todos.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
}

impl sqlx::FromRow<'_, AnyRow> for Todo {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
        // `done` is a BOOLEAN in Postgres and a 0-or-1 INTEGER in SQLite, which has no
        // boolean type.
        let done = match row.try_get::<bool, _>("done") {
            Ok(done) => done,
            Err(_) => row.try_get::<i64, _>("done")? != 0,
        };
        Ok(Self {
            id: row.try_get("id")?,
            title: row.try_get("title")?,
            done,
        })
    }
}

/// Who is logged in, attached to the request by the `/api` hook.
#[derive(Clone)]
struct User(String);

/// A name or title that is empty or longer than `max` characters gets a 422 that says
/// which.
fn checked<'a>(what: &str, value: &'a str, max: usize) -> Result<&'a str> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::new(422, format!("the {what} is empty")));
    }
    if value.chars().count() > max {
        return Err(Error::new(
            422,
            format!("the {what} is longer than {max} characters"),
        ));
    }
    Ok(value)
}

#[derive(Deserialize)]
struct Login {
    name: String,
}

// ANCHOR: login
async fn login(req: &Request, res: &mut Res) -> Result {
    let Login { name } = req.json().await?;
    let name = checked("name", &name, MAX_NAME)?.to_owned();
    let db = req.state::<Db>()?;
    sqlx::query("INSERT INTO users (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
        .bind(&name)
        .execute(db.pool())
        .await
        .map_err(db::answer)?;
    // Noting the time of the login need not hold up the answer: a background task
    // runs once the response is sent, with its own handle on the pool.
    let (db, user) = (db.clone(), name.clone());
    res.background(async move {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        sqlx::query("UPDATE users SET last_login = $1 WHERE name = $2")
            .bind(i64::try_from(now).unwrap_or(i64::MAX))
            .bind(user)
            .execute(db.pool())
            .await
            .map(drop)
    });
    req.session()?.insert("user", &name)?;
    res.json(&serde_json::json!({ "user": name }));
    Ok(())
}
// ANCHOR_END: login

async fn logout(req: &Request, res: &mut Res) -> Result {
    req.session()?.clear();
    res.status(204);
    Ok(())
}

/// Lets logged-in users through, with their name attached; answers 401 otherwise.
async fn require_login(req: &mut Request, res: &mut Res) -> Result {
    let user: Option<String> = req.session()?.get("user");
    match user {
        Some(name) => {
            req.extensions_mut().insert(User(name));
        }
        None => {
            res.status(401)
                .json(&serde_json::json!({ "error": "log in first" }))
                .complete();
        }
    }
    Ok(())
}

fn user(req: &Request) -> Result<String> {
    match req.extensions().get::<User>() {
        Some(User(name)) => Ok(name.clone()),
        None => Err(Error::from_status(401)),
    }
}

#[derive(Deserialize)]
struct NewTodo {
    title: String,
}

#[derive(Deserialize)]
struct Change {
    title: Option<String>,
    done: Option<bool>,
}

const INSERT: &str = "INSERT INTO todos (owner, title) VALUES ($1, $2) RETURNING id, title, done";

// ANCHOR: todos
/// `/api/todos`: the user's list, and new todos.
struct Todos;

#[bocata::view]
impl Todos {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let user = user(req)?;
        let todos: Vec<Todo> =
            sqlx::query_as("SELECT id, title, done FROM todos WHERE owner = $1 ORDER BY id")
                .bind(user)
                .fetch_all(req.state::<Db>()?.pool())
                .await
                .map_err(db::answer)?;
        res.json(&todos);
        Ok(())
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let user = user(req)?;
        let NewTodo { title } = req.json().await?;
        let title = checked("title", &title, MAX_TITLE)?;
        // A title the user already has breaks the UNIQUE constraint: a 409.
        let todo: Todo = sqlx::query_as(INSERT)
            .bind(user)
            .bind(title)
            .fetch_one(req.state::<Db>()?.pool())
            .await
            .map_err(db::answer)?;
        let location = req.url_for::<OneTodo>(&[("id", &todo.id)])?;
        res.status(201).header("location", location).json(&todo);
        Ok(())
    }
}
// ANCHOR_END: todos

// ANCHOR: batch
/// `/api/todos/batch`: several todos at once, all or none.
struct Batch;

#[bocata::view]
impl Batch {
    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let user = user(req)?;
        let batch: Vec<NewTodo> = req.json().await?;
        if batch.len() > MAX_BATCH {
            return Err(Error::new(
                422,
                format!("at most {MAX_BATCH} todos at once"),
            ));
        }
        let mut tx = req
            .state::<Db>()?
            .pool()
            .begin()
            .await
            .map_err(db::answer)?;
        let mut added = Vec::with_capacity(batch.len());
        for NewTodo { title } in &batch {
            let title = checked("title", title, MAX_TITLE)?;
            let todo: Todo = sqlx::query_as(INSERT)
                .bind(&user)
                .bind(title)
                .fetch_one(&mut *tx)
                .await
                .map_err(db::answer)?;
            added.push(todo);
        }
        // Any `?` above drops `tx`, which rolls back what the batch had added.
        tx.commit().await.map_err(db::answer)?;
        res.status(201).json(&added);
        Ok(())
    }
}
// ANCHOR_END: batch

/// `/api/todos/{id}`: change or delete one todo.
struct OneTodo;

#[bocata::view]
impl OneTodo {
    async fn on_patch(&self, req: &Request, res: &mut Res) -> Result {
        let (user, id): (String, i64) = (user(req)?, req.param("id")?);
        let change: Change = req.json().await?;
        let title = match &change.title {
            Some(title) => Some(checked("title", title, MAX_TITLE)?),
            None => None,
        };
        // No row (another user's todo, or none with that id): a 404.
        let todo: Todo = sqlx::query_as(
            "UPDATE todos SET title = COALESCE($1, title), done = COALESCE($2, done) \
             WHERE id = $3 AND owner = $4 RETURNING id, title, done",
        )
        .bind(title)
        .bind(change.done)
        .bind(id)
        .bind(user)
        .fetch_one(req.state::<Db>()?.pool())
        .await
        .map_err(db::answer)?;
        res.json(&todo);
        Ok(())
    }

    async fn on_delete(&self, req: &Request, res: &mut Res) -> Result {
        let (user, id): (String, i64) = (user(req)?, req.param("id")?);
        let deleted = sqlx::query("DELETE FROM todos WHERE id = $1 AND owner = $2")
            .bind(id)
            .bind(user)
            .execute(req.state::<Db>()?.pool())
            .await
            .map_err(db::answer)?;
        if deleted.rows_affected() == 0 {
            return Err(Error::new(404, format!("there is no todo {id}")));
        }
        res.status(204);
        Ok(())
    }
}

// ANCHOR: app
/// The app over `db`, which it opens (connects and migrates) at startup and closes at
/// shutdown.
pub fn app(db: Db, secret_key: &[u8]) -> App {
    let api = Router::new()
        .before(require_login)
        .route("/todos", Todos)
        .route("/todos/batch", Batch)
        .route("/todos/{id}", OneTodo);
    let (opened, closed) = (db.clone(), db.clone());
    App::new()
        .secret_key(secret_key)
        .state(db)
        .on_startup(move || {
            let db = opened.clone();
            async move {
                db.open().await.map_err(|e| {
                    Error::new(500, format!("could not open {}", db.name())).with_source(e)
                })
            }
        })
        .on_shutdown(move || {
            let db = closed.clone();
            async move {
                db.close().await;
                Ok(())
            }
        })
        .route("/login", bocata::post(login))
        .route("/logout", bocata::post(logout))
        .mount("/api", api)
}
// ANCHOR_END: app
