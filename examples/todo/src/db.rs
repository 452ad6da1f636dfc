//! The database: a pool of SQLite or Postgres connections (the URL decides), its
//! migrations, and what its errors mean to a client.

use std::time::Duration;

use bocata::Error;
use bocata::http::{HeaderValue, header};
use sqlx::error::ErrorKind;
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::{AnyConnection, AnyPool, Connection, Sqlite};

// ANCHOR: config
/// Where the database is, and how the pool uses it.
#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite://path/to/file.db` (the file is created on first run),
    /// `sqlite::memory:` (a database that lives as long as the pool), or
    /// `postgres://user:password@host/database`.
    pub url: String,
    /// The most connections the pool opens. Default: 5.
    pub max_connections: u32,
    /// How long a request waits for a connection (a free one, or a new one to a
    /// database that is down) before it is answered 503. Default: 3 s.
    pub acquire_timeout: Duration,
}

impl Config {
    /// The defaults, for the database at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 5,
            acquire_timeout: Duration::from_secs(3),
        }
    }

    /// `DATABASE_URL`, `sqlite://todo.db` when it is not set.
    pub fn from_env() -> Self {
        Self::new(std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://todo.db".to_owned()))
    }
}
// ANCHOR_END: config

/// The two databases the app speaks; each has its own migrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

// ANCHOR: db
/// The app's connection pool, shared by every request as app state.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    url: String,
    backend: Backend,
}

impl Db {
    /// A pool for `config.url` that connects when it is first used, in [`Db::open`]:
    /// building the app never waits on the database.
    pub fn new(config: &Config) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = if config.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if config.url.starts_with("postgres://") || config.url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(sqlx::Error::Configuration(
                "the database URL must start with sqlite: or postgres://".into(),
            ));
        };
        let mut options = sqlx::any::AnyPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout);
        if config.url.contains(":memory:") || config.url.contains("mode=memory") {
            // An in-memory database lives in its one connection: keep it open.
            options = options
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        Ok(Self {
            pool: options.connect_lazy(&config.url)?,
            url: config.url.clone(),
            backend,
        })
    }

    /// Connects, creating the SQLite file if there is none yet, and applies the
    /// migrations that have not run: the app's startup hook. A database that cannot be
    /// reached fails here, and stops the start with the reason.
    pub async fn open(&self) -> Result<(), sqlx::Error> {
        let migrations = match self.backend {
            Backend::Sqlite => {
                if !Sqlite::database_exists(&self.url).await? {
                    Sqlite::create_database(&self.url).await?;
                }
                &SQLITE_MIGRATIONS
            }
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        // One connection outside the pool first: a pool that cannot connect only says
        // that it timed out, a connection says why (refused, unknown host, password).
        AnyConnection::connect(&self.url).await?.close().await?;
        migrations.run(&self.pool).await?;
        Ok(())
    }

    /// Waits for the connections in use to come back, then closes them all: the app's
    /// shutdown hook.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The database, for messages: its URL without the password.
    pub fn name(&self) -> String {
        match self.url.split_once('@') {
            Some((credentials, place)) => {
                let scheme = credentials
                    .split_once("://")
                    .map_or("", |(scheme, _)| scheme);
                format!("{scheme}://…@{place}")
            }
            None => self.url.clone(),
        }
    }

    /// The pool, for queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}
// ANCHOR_END: db

// ANCHOR: answer
/// What a database error means to the client. The driver's own message goes to the
/// log (as the error's source), never into the response.
///
/// - a missing row: 404;
/// - a unique or foreign-key violation: 409;
/// - a check or not-null violation, or a value too long for its column: 422;
/// - no connection free within the pool's acquire timeout: 503 with `Retry-After: 1`;
/// - the database unreachable or gone mid-query: 503 with `Retry-After: 5`;
/// - anything else (a query or schema the code got wrong): 500.
pub fn answer(err: sqlx::Error) -> Error {
    let (status, message, retry_after) = match &err {
        sqlx::Error::RowNotFound => (404, "there is no such record", None),
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => (409, "that already exists", None),
            ErrorKind::ForeignKeyViolation => {
                (409, "that refers to a record that does not exist", None)
            }
            ErrorKind::CheckViolation | ErrorKind::NotNullViolation => {
                (422, "a value is missing, empty or too long", None)
            }
            // Postgres's string_data_right_truncation: longer than a VARCHAR(n).
            _ if db.code().as_deref() == Some("22001") => (422, "a value is too long", None),
            _ => return Error::internal(err),
        },
        sqlx::Error::PoolTimedOut => (503, "the database is busy, try again", Some("1")),
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => (503, "the database is unavailable, try again", Some("5")),
        _ => return Error::internal(err),
    };
    let answer = Error::new(status, message).with_source(err);
    match retry_after {
        Some(seconds) => answer.with_header(header::RETRY_AFTER, HeaderValue::from_static(seconds)),
        None => answer,
    }
}
// ANCHOR_END: answer
