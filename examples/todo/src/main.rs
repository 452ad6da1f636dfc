//! Run with `cargo run -p todo`, then try it with curl (a cookie jar keeps the session):
//!
//! ```text
//! curl -c jar -b jar -X POST localhost:8000/login -H 'content-type: application/json' -d '{"name":"ana"}'
//! curl -c jar -b jar -X POST localhost:8000/api/todos -H 'content-type: application/json' -d '{"title":"milk"}'
//! curl -c jar -b jar localhost:8000/api/todos
//! curl -c jar -b jar -X PATCH localhost:8000/api/todos/1 -H 'content-type: application/json' -d '{"done":true}'
//! curl -c jar -b jar -X DELETE localhost:8000/api/todos/1
//! curl -c jar -b jar -X POST localhost:8000/logout
//! ```
//!
//! A JSON API: a blueprint (`/api`) guarded by a before hook that reads the session,
//! app state shared by every request, sessions in signed cookies, login and logout.

use std::collections::HashMap;
use std::sync::Mutex;

use bocata::{App, Error, Request, Res, Result, Router, Server};
use serde::{Deserialize, Serialize};

// ANCHOR: state
/// Every user's todos, shared by all requests as app state.
#[derive(Default)]
struct Store {
    todos: Mutex<HashMap<String, Vec<Todo>>>,
}

#[derive(Clone, Serialize)]
struct Todo {
    id: u32,
    title: String,
    done: bool,
}
// ANCHOR_END: state

/// Who is logged in, attached to the request by the `/api` hook.
#[derive(Clone)]
struct User(String);

// ANCHOR: login
#[derive(Deserialize)]
struct Login {
    name: String,
}

async fn login(req: &Request, res: &mut Res) -> Result {
    let Login { name } = req.json().await?;
    if name.trim().is_empty() {
        return Err(Error::new(422, "a name is needed"));
    }
    req.session()?.insert("user", &name)?;
    res.json(&serde_json::json!({ "user": name }));
    Ok(())
}

async fn logout(req: &Request, res: &mut Res) -> Result {
    req.session()?.clear();
    res.status(204);
    Ok(())
}
// ANCHOR_END: login

// ANCHOR: guard
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
// ANCHOR_END: guard

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

// ANCHOR: todos
/// `/api/todos`: the user's list, and new todos.
struct Todos;

#[bocata::view]
impl Todos {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let user = user(req)?;
        let store = req.state::<Store>()?;
        let todos = store.todos.lock().map_err(|_| Error::from_status(500))?;
        res.json(&todos.get(&user).cloned().unwrap_or_default());
        Ok(())
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let user = user(req)?;
        let NewTodo { title } = req.json().await?;
        let store = req.state::<Store>()?;
        let mut todos = store.todos.lock().map_err(|_| Error::from_status(500))?;
        let list = todos.entry(user).or_default();
        let todo = Todo {
            id: list.iter().map(|t| t.id).max().unwrap_or(0) + 1,
            title,
            done: false,
        };
        list.push(todo.clone());
        let location = req.url_for::<OneTodo>(&[("id", &todo.id)])?;
        res.status(201).header("location", location).json(&todo);
        Ok(())
    }
}

/// `/api/todos/{id}`: change or delete one todo.
struct OneTodo;

#[bocata::view]
impl OneTodo {
    async fn on_patch(&self, req: &Request, res: &mut Res) -> Result {
        let (user, id): (String, u32) = (user(req)?, req.param("id")?);
        let change: Change = req.json().await?;
        let store = req.state::<Store>()?;
        let mut todos = store.todos.lock().map_err(|_| Error::from_status(500))?;
        let Some(todo) = todos
            .entry(user)
            .or_default()
            .iter_mut()
            .find(|t| t.id == id)
        else {
            return Err(Error::new(404, format!("there is no todo {id}")));
        };
        if let Some(title) = change.title {
            todo.title = title;
        }
        if let Some(done) = change.done {
            todo.done = done;
        }
        res.json(todo);
        Ok(())
    }

    async fn on_delete(&self, req: &Request, res: &mut Res) -> Result {
        let (user, id): (String, u32) = (user(req)?, req.param("id")?);
        let store = req.state::<Store>()?;
        let mut todos = store.todos.lock().map_err(|_| Error::from_status(500))?;
        let list = todos.entry(user).or_default();
        let before = list.len();
        list.retain(|t| t.id != id);
        if list.len() == before {
            return Err(Error::new(404, format!("there is no todo {id}")));
        }
        res.status(204);
        Ok(())
    }
}
// ANCHOR_END: todos

// ANCHOR: app
fn app(secret_key: &[u8]) -> App {
    let api = Router::new()
        .before(require_login)
        .route("/todos", Todos)
        .route("/todos/{id}", OneTodo);
    App::new()
        .secret_key(secret_key)
        .state(Store::default())
        .route("/login", bocata::post(login))
        .route("/logout", bocata::post(logout))
        .mount("/api", api)
}
// ANCHOR_END: app

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // ANCHOR: deploy
    // The key comes from the deployment, the same for every process; without one, a
    // fresh key is made, which logs everybody out on restart.
    let key = match std::env::var("SECRET_KEY") {
        Ok(key) => key.into_bytes(),
        Err(_) => bocata::cookie::Key::generate().master().to_vec(),
    };
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    // Which process answered, so a deployment check can see requests spread out.
    let pid = std::process::id().to_string();
    let app = app(&key).after(move |_req: &Request, res: &mut Res| {
        res.header("x-process", pid.as_str());
        std::future::ready(Ok(()))
    });
    Server::new(app)
        .reuse_port(std::env::var_os("REUSE_PORT").is_some())
        .run(addr)
        .await
    // ANCHOR_END: deploy
}
