//! The todo app against real databases: SQLite files and in-memory databases always,
//! and a Postgres cluster of each test's own when Postgres is installed (skipped with
//! the reason otherwise; `.ci/run` installs it and turns the skip into a failure).

use std::time::Duration;

use bocata::testing::{TestClient, TestResponse};
use bocata_tests::postgres::Postgres;
use bocata_tests::{Fixture, within};
use serde_json::json;
use todo::{Config, Db, Todo, answer, app};

const KEY: &[u8] = &[7; 64];

/// A client of a fresh app over `config`'s database; the app opens the database (and
/// migrates it) on the first request.
fn app_client(config: &Config) -> (TestClient, Db) {
    let db = Db::new(config).expect("a URL the app accepts");
    (TestClient::new(app(db.clone(), KEY)), db)
}

/// Why a server of the app over `config`'s database does not start.
async fn refused_start(config: &Config) -> String {
    let db = Db::new(config).expect("a URL the app accepts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let serve = bocata::Server::new(app(db, KEY)).serve(listener);
    within("the refused start", serve)
        .await
        .expect_err("the start fails")
        .to_string()
}

async fn log_in(client: &TestClient, name: &str) {
    let res = client
        .post("/login")
        .json(&json!({ "name": name }))
        .send()
        .await;
    assert_eq!(res.status(), 200, "{}", res.text());
}

async fn add(client: &TestClient, title: &str) -> TestResponse {
    client
        .post("/api/todos")
        .json(&json!({ "title": title }))
        .send()
        .await
}

async fn list(client: &TestClient) -> Vec<Todo> {
    let res = client.get("/api/todos").send().await;
    assert_eq!(res.status(), 200, "{}", res.text());
    res.json()
}

fn titles(todos: &[Todo]) -> Vec<&str> {
    todos.iter().map(|todo| todo.title.as_str()).collect()
}

/// A client error's body says what was wrong, and nothing the driver said.
fn assert_answer(res: &TestResponse, status: u16, says: &str) {
    assert_eq!(res.status(), status, "{}", res.text());
    assert!(res.text().contains(says), "{status} body: {}", res.text());
    for driver_words in [
        "constraint",
        "sqlite",
        "SQLSTATE",
        "violat",
        "pool",
        "error returned",
    ] {
        assert!(
            !res.text().contains(driver_words),
            "the driver's message reached the client: {}",
            res.text()
        );
    }
}

/// What every database must do the same: the API, its bad input, and its data kept
/// across a restart of the app.
async fn scenario(config: &Config) {
    let (client, _) = app_client(config);
    log_in(&client, "ana").await;
    let milk: Todo = add(&client, "milk").await.json();
    assert_eq!((milk.title.as_str(), milk.done), ("milk", false));

    // The same title twice: the UNIQUE constraint answers 409, and nothing is added.
    assert_answer(&add(&client, "milk").await, 409, "already exists");
    // A batch is one transaction: a duplicate anywhere in it stores none of it.
    let res = client
        .post("/api/todos/batch")
        .json(&json!([{ "title": "eggs" }, { "title": "milk" }]))
        .send()
        .await;
    assert_answer(&res, 409, "already exists");
    assert_eq!(titles(&list(&client).await), ["milk"]);
    let res = client
        .post("/api/todos/batch")
        .json(&json!([{ "title": "eggs" }, { "title": "bread" }]))
        .send()
        .await;
    assert_eq!(res.status(), 201, "{}", res.text());
    assert_eq!(titles(&res.json::<Vec<Todo>>()), ["eggs", "bread"]);

    // Over-long and empty fields, counted in characters: a 422 that says which.
    let long = "ñ".repeat(201);
    assert_answer(
        &add(&client, &long).await,
        422,
        "longer than 200 characters",
    );
    assert_eq!(add(&client, &"ñ".repeat(200)).await.status(), 201);
    assert_answer(&add(&client, "   ").await, 422, "the title is empty");
    let res = client
        .post("/login")
        .json(&json!({ "name": "x".repeat(101) }))
        .send()
        .await;
    assert_answer(&res, 422, "the name is longer than 100 characters");
    let res = client
        .post("/api/todos/batch")
        .json(&json!([{ "title": "ham" }, { "title": long }]))
        .send()
        .await;
    assert_answer(&res, 422, "longer than 200");
    let too_many: Vec<_> = (0..101)
        .map(|i| json!({ "title": format!("t{i}") }))
        .collect();
    let res = client.post("/api/todos/batch").json(&too_many).send().await;
    assert_answer(&res, 422, "at most 100 todos");
    assert_eq!(list(&client).await.len(), 4, "no refused todo was stored");

    // A missing row is a 404, also when the row is someone else's.
    let res = client
        .patch("/api/todos/999999")
        .json(&json!({ "done": true }))
        .send()
        .await;
    assert_answer(&res, 404, "no such record");
    assert_answer(
        &client.delete("/api/todos/999999").send().await,
        404,
        "no todo 999999",
    );
    let (bob, _) = app_client(config);
    log_in(&bob, "bob").await;
    let res = bob
        .patch(&format!("/api/todos/{}", milk.id))
        .json(&json!({ "done": true }))
        .send()
        .await;
    assert_answer(&res, 404, "no such record");
    assert!(list(&bob).await.is_empty());
    // A renaming onto a title the user has: 409.
    let res = client
        .patch(&format!("/api/todos/{}", milk.id))
        .json(&json!({ "title": "eggs" }))
        .send()
        .await;
    assert_answer(&res, 409, "already exists");

    let res = client
        .patch(&format!("/api/todos/{}", milk.id))
        .json(&json!({ "done": true }))
        .send()
        .await;
    assert_eq!(res.status(), 200, "{}", res.text());
    assert!(res.json::<Todo>().done);
    assert_eq!(
        client.delete("/api/todos/999999").send().await.status(),
        404
    );
    let before = list(&client).await;
    client.shutdown().await;
    bob.shutdown().await;

    // A new app over the same database: everything is still there, and new ids follow.
    let (client, _) = app_client(config);
    log_in(&client, "ana").await;
    assert_eq!(list(&client).await, before);
    let next: Todo = add(&client, "after the restart").await.json();
    assert!(before.iter().all(|todo| todo.id < next.id));
    client.shutdown().await;
}

#[tokio::test]
async fn sqlite_file_is_created_and_survives_a_restart() {
    let folder = Fixture::new("todo-sqlite");
    let file = folder.path("todo.db");
    scenario(&Config::new(format!("sqlite://{}", file.display()))).await;
    assert!(file.is_file());
}

// ANCHOR: memory
#[tokio::test]
async fn an_in_memory_database_serves_the_test_client() {
    let (client, _) = app_client(&Config::new("sqlite::memory:"));
    log_in(&client, "ana").await;
    assert_eq!(add(&client, "milk").await.status(), 201);
    assert_eq!(titles(&list(&client).await), ["milk"]);
    client.shutdown().await;
}
// ANCHOR_END: memory

#[tokio::test]
async fn the_api_asks_for_a_login() {
    let (client, _) = app_client(&Config::new("sqlite::memory:"));
    let res = client.get("/api/todos").send().await;
    assert_eq!(res.status(), 401);
    // Bad input is answered by bocata before the database is asked.
    let res = client
        .post("/login")
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await;
    assert_eq!(res.status(), 400, "{}", res.text());
    log_in(&client, "ana").await;
    let res = client
        .patch("/api/todos/seven")
        .json(&json!({}))
        .send()
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    client.shutdown().await;
}

#[tokio::test]
async fn a_pool_with_no_free_connection_answers_503_with_retry_after() {
    let folder = Fixture::new("todo-pool");
    let config = Config {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(200),
        ..Config::new(format!("sqlite://{}", folder.path("todo.db").display()))
    };
    let (client, db) = app_client(&config);
    log_in(&client, "ana").await;
    // The test holds the pool's only connection.
    let held = within("a connection", db.pool().acquire())
        .await
        .expect("a connection");
    let res = client.get("/api/todos").send().await;
    assert_answer(&res, 503, "the database is busy, try again");
    assert_eq!(res.header("retry-after"), Some("1"));
    drop(held);
    assert!(list(&client).await.is_empty());
    client.shutdown().await;
}

#[tokio::test]
async fn the_login_time_is_noted_by_a_background_task() {
    let (client, db) = app_client(&Config::new("sqlite::memory:"));
    log_in(&client, "ana").await;
    // The task runs after the response; wait for its write.
    within("the background task's write", async {
        loop {
            let noted: Option<i64> =
                sqlx::query_scalar("SELECT last_login FROM users WHERE name = 'ana'")
                    .fetch_one(db.pool())
                    .await
                    .expect("ana is a user");
            if noted.is_some_and(|seconds| seconds > 1_700_000_000) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    client.shutdown().await;
}

/// The mapping, on errors a real SQLite gives for statements the app never sends.
#[tokio::test]
async fn answer_turns_real_database_errors_into_statuses() {
    let db = Db::new(&Config::new("sqlite::memory:")).expect("a URL");
    db.open().await.expect("the database opens");
    let insert = |owner: &'static str, title: String| {
        sqlx::query("INSERT INTO todos (owner, title) VALUES ($1, $2)")
            .bind(owner)
            .bind(title)
            .execute(db.pool())
    };
    // A check violation (a title past the schema's limit): 422.
    sqlx::query("INSERT INTO users (name) VALUES ('ana')")
        .execute(db.pool())
        .await
        .expect("a user");
    let err = insert("ana", "x".repeat(201)).await.expect_err("too long");
    assert_eq!(answer(err).status(), 422);
    // A foreign key to no one: 409.
    let err = insert("nobody", "milk".to_owned())
        .await
        .expect_err("no such owner");
    assert_eq!(answer(err).status(), 409);
    // A statement the code got wrong: 500, with the driver's words kept for the log only.
    let err = sqlx::query("SELECT title FROM nowhere")
        .execute(db.pool())
        .await
        .expect_err("no such table");
    let err = answer(err);
    assert_eq!(err.status(), 500);
    assert_eq!(err.message(), None);
    assert!(format!("{err}").contains("nowhere"), "{err}");
    // A closed pool: 503, come back in 5 seconds.
    db.close().await;
    let err = insert("ana", "milk".to_owned()).await.expect_err("closed");
    let err = answer(err);
    assert_eq!(err.status(), 503);
    assert_eq!(
        err.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"5"[..])
    );
}

#[tokio::test]
async fn a_database_that_cannot_be_opened_stops_the_start() {
    // Not a URL the app knows.
    let err = Db::new(&Config::new("mysql://localhost/todo")).expect_err("refused");
    assert!(
        err.to_string()
            .contains("must start with sqlite: or postgres://"),
        "{err}"
    );
    // A SQLite file in a folder that does not exist: the server does not start, and
    // says why.
    let folder = Fixture::new("todo-missing");
    let url = format!(
        "sqlite://{}",
        folder.path("no/such/folder/todo.db").display()
    );
    let err = refused_start(&Config::new(url)).await;
    assert!(err.contains("could not open sqlite://"), "{err}");
}

/// The binary, as `cargo run -p todo` starts it: with no `DATABASE_URL`, it creates
/// `todo.db` where it runs, serves, and stops cleanly on SIGTERM; with a database it
/// cannot open, it says why in one line and exits with a failure code.
#[tokio::test]
async fn the_binary_creates_its_database_where_it_runs() {
    use tokio::io::AsyncBufReadExt;
    let folder = Fixture::new("todo-binary");
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_todo"))
        .current_dir(&folder.dir)
        .env("ADDR", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the todo binary starts");
    let stdout = server.stdout.take().expect("piped");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let addr = within("the listening line", async {
        while let Some(line) = lines.next_line().await.expect("its output") {
            if let Some((_, addr)) = line.split_once("listening on http://") {
                return addr.trim().to_owned();
            }
        }
        panic!("the server stopped before it listened");
    })
    .await;
    assert!(folder.path("todo.db").is_file(), "todo.db was created");
    let reply = bocata_tests::raw_exchange(
        addr.parse().expect("an address"),
        b"GET /api/todos HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
    let pid = server.id().expect("running").to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    let status = within("the server's exit", server.wait())
        .await
        .expect("it exits");
    assert!(status.success(), "{status}");
}

// ANCHOR: postgres
#[tokio::test]
async fn postgres_runs_the_same_app() {
    let Some(postgres) = Postgres::start().await else {
        return;
    };
    scenario(&Config::new(postgres.url())).await;
}
// ANCHOR_END: postgres

#[tokio::test]
async fn postgres_going_away_is_a_503_and_the_app_recovers() {
    let Some(postgres) = Postgres::start().await else {
        return;
    };
    let config = Config {
        acquire_timeout: Duration::from_secs(2),
        ..Config::new(postgres.url())
    };
    let (client, _) = app_client(&config);
    log_in(&client, "ana").await;
    assert_eq!(add(&client, "milk").await.status(), 201);

    postgres.stop().await;
    for _ in 0..3 {
        let res = client.get("/api/todos").send().await;
        assert_answer(&res, 503, "the database is");
        assert!(res.header("retry-after").is_some());
    }
    let res = add(&client, "eggs").await;
    assert_answer(&res, 503, "the database is");

    // Back: the same app answers again, with the data written before, and without
    // the todo refused while the database was away.
    postgres.start_again().await;
    assert_eq!(titles(&list(&client).await), ["milk"]);
    assert_eq!(add(&client, "eggs").await.status(), 201);
    assert_eq!(titles(&list(&client).await), ["milk", "eggs"]);
    client.shutdown().await;
}

#[tokio::test]
async fn postgres_errors_become_answers() {
    let Some(postgres) = Postgres::start().await else {
        return;
    };
    let db = Db::new(&Config::new(postgres.url())).expect("a URL");
    db.open().await.expect("the database opens");
    sqlx::query("INSERT INTO users (name) VALUES ('ana')")
        .execute(db.pool())
        .await
        .expect("a user");
    // Longer than VARCHAR(200): Postgres's own check, a 422.
    let err = sqlx::query("INSERT INTO todos (owner, title) VALUES ('ana', $1)")
        .bind("x".repeat(201))
        .execute(db.pool())
        .await
        .expect_err("too long");
    assert_eq!(answer(err).status(), 422);
    let err = sqlx::query("INSERT INTO todos (owner, title) VALUES ('nobody', 'milk')")
        .execute(db.pool())
        .await
        .expect_err("no such owner");
    assert_eq!(answer(err).status(), 409);
    db.close().await;

    // A database that is down when the app starts: the start fails, naming it without
    // its password.
    postgres.stop().await;
    let config = Config {
        acquire_timeout: Duration::from_secs(2),
        ..Config::new(postgres.url().replace("postgres@", "postgres:secret@"))
    };
    let message = refused_start(&config).await;
    assert!(
        message.contains("could not open postgres://…@127.0.0.1:"),
        "{message}"
    );
    assert!(message.contains("refused"), "says why: {message}");
    assert!(!message.contains("secret"), "{message}");
}
