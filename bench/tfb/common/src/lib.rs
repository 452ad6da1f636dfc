//! What the three TechEmpower servers share, so that they differ in the framework alone:
//!
//! - the database: tokio-postgres over TCP, a fixed set of connections per worker, each
//!   with its three statements prepared once when it opens; a request takes the next
//!   connection round the set, and all its queries go on that one, sent together
//!   (tokio-postgres pipelines the queries that are in flight on a connection);
//! - the rows as they go out ([`World`], [`Fortune`]) and the fortunes page's context;
//! - the rule for the `queries` parameter ([`queries`]) and the random numbers;
//! - the fortunes template, `templates/fortunes.html`, rendered by tera in every server;
//! - for the two tokio servers, how they run ([`run`]): by default as actix-web runs its
//!   workers, each worker a thread with a single-threaded runtime of its own.

use std::borrow::Cow;
use std::future::Future;
use std::io::Write;
use std::num::IntErrorKind;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_postgres::{Client, NoTls, Statement};

pub use tokio_postgres::Error;

/// The name of the fortunes template, in [`TEMPLATE_DIR`].
pub const TEMPLATE: &str = "fortunes.html";

/// The folder of the fortunes template.
pub const TEMPLATE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");

/// The body of `/plaintext`.
pub const HELLO: &str = "Hello, World!";

/// The fortune every `/fortunes` response adds to the database's.
pub const ADDED_FORTUNE: &str = "Additional fortune added at request time.";

/// The body of `/json`.
#[derive(serde::Serialize)]
pub struct Message {
    /// Always [`HELLO`].
    pub message: &'static str,
}

/// A row of the `World` table, as `/db`, `/queries` and `/updates` send it.
#[derive(serde::Serialize, Clone, Copy)]
pub struct World {
    /// 1 to 10,000.
    pub id: i32,
    /// 1 to 10,000.
    #[serde(rename = "randomNumber")]
    pub random_number: i32,
}

/// A row of the `Fortune` table, or the one added at request time.
#[derive(serde::Serialize)]
pub struct Fortune {
    /// 0 for the added fortune.
    pub id: i32,
    /// The text, escaped by the template.
    pub message: Cow<'static, str>,
}

/// The context of the fortunes template.
#[derive(serde::Serialize)]
pub struct FortunesPage {
    /// Sorted by message.
    pub fortunes: Vec<Fortune>,
}

/// The number of rows a `queries` parameter asks for: missing, empty or not an integer
/// is 1, below 1 is 1, above 500 is 500 (an integer too large for an `i64` included).
pub fn queries(value: Option<&str>) -> usize {
    match value.map(str::parse::<i64>) {
        Some(Ok(n)) => n.clamp(1, 500) as usize,
        Some(Err(e)) if *e.kind() == IntErrorKind::PosOverflow => 500,
        _ => 1,
    }
}

/// A random World id, or a random number for a World: 1 to 10,000.
pub fn random_number() -> i32 {
    fastrand::i32(1..=10_000)
}

/// Binds `BENCH_ADDR` (default `127.0.0.1:0`), prints the address it got on stdout,
/// and serves it with `serve` on `BENCH_WORKERS` workers (default 1), each given its
/// own `TFB_DB_CONNECTIONS` connections (default 4) to `TFB_DATABASE_URL`.
///
/// `TFB_RUNTIME` says how the workers run:
///
/// - `current-thread` (the default): each worker is a thread with a single-threaded
///   tokio runtime, its connections' tasks on it, all accepting on the one listener, as
///   actix-web runs its workers;
/// - `multi-thread`: one multi-threaded runtime with `BENCH_WORKERS` worker threads and
///   all the connections, as the servers of `bench/run` run.
pub fn run<F, Fut>(serve: F) -> std::io::Result<()>
where
    F: Fn(tokio::net::TcpListener, Db) -> Fut + Sync,
    Fut: Future<Output = std::io::Result<()>>,
{
    let var = |name: &str| std::env::var(name).ok();
    let workers = var("BENCH_WORKERS")
        .and_then(|w| w.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let connections = var("TFB_DB_CONNECTIONS")
        .and_then(|c| c.parse().ok())
        .unwrap_or(4usize);
    let url = var("TFB_DATABASE_URL").unwrap_or_default();
    let addr = var("BENCH_ADDR").unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    writeln!(std::io::stdout(), "{}", listener.local_addr()?)?;
    std::io::stdout().flush()?;
    let (url, serve) = (&url, &serve);
    let serve_on = |listener: std::net::TcpListener, connections: usize| async move {
        let db = Db::connect(url, connections)
            .await
            .map_err(std::io::Error::other)?;
        serve(tokio::net::TcpListener::from_std(listener)?, db).await
    };
    match var("TFB_RUNTIME").as_deref().unwrap_or("current-thread") {
        "current-thread" => std::thread::scope(|scope| {
            let threads = (0..workers)
                .map(|_| {
                    let listener = listener.try_clone()?;
                    let serve_on = &serve_on;
                    Ok(scope.spawn(move || {
                        tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()?
                            .block_on(serve_on(listener, connections))
                    }))
                })
                .collect::<std::io::Result<Vec<_>>>()?;
            for thread in threads {
                thread
                    .join()
                    .map_err(|_| std::io::Error::other("a worker panicked"))??;
            }
            Ok(())
        }),
        "multi-thread" => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()?
            .block_on(serve_on(listener, connections * workers)),
        other => Err(std::io::Error::other(format!(
            "TFB_RUNTIME is current-thread or multi-thread, not {other}"
        ))),
    }
}

/// The connections of one server, shared by its handlers (a cheap clone).
#[derive(Clone)]
pub struct Db(Arc<Connections>);

struct Connections {
    all: Vec<Connection>,
    next: AtomicUsize,
}

/// One connection and its prepared statements.
struct Connection {
    client: Client,
    world: Statement,
    fortunes: Statement,
    update: Statement,
}

impl Db {
    /// Opens `count` connections (at least one) to `url`; each is driven by a task spawned
    /// on the current tokio runtime, so it runs on the worker that opened it.
    pub async fn connect(url: &str, count: usize) -> Result<Self, Error> {
        let mut all = Vec::with_capacity(count.max(1));
        for _ in 0..count.max(1) {
            let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
            tokio::spawn(async move {
                // The connection ends with an error only when the server goes away; the
                // queries in flight then fail, and their requests with a 500.
                let _ = connection.await;
            });
            let world = client
                .prepare("SELECT id, randomnumber FROM world WHERE id = $1")
                .await?;
            let fortunes = client.prepare("SELECT id, message FROM fortune").await?;
            // One statement writes every row of a request (batching is allowed by the
            // rules); the ids come sorted, so that concurrent updates lock rows in the
            // same order.
            let update = client
                .prepare(
                    "UPDATE world SET randomnumber = new.rn \
                     FROM UNNEST($1::int[], $2::int[]) AS new(id, rn) WHERE world.id = new.id",
                )
                .await?;
            all.push(Connection {
                client,
                world,
                fortunes,
                update,
            });
        }
        Ok(Self(Arc::new(Connections {
            all,
            next: AtomicUsize::new(0),
        })))
    }

    /// The next connection round the set.
    fn connection(&self) -> &Connection {
        let i = self.0.next.fetch_add(1, Ordering::Relaxed) % self.0.all.len();
        &self.0.all[i]
    }

    /// One random World (`/db`).
    pub async fn world(&self) -> Result<World, Error> {
        self.connection().world(random_number()).await
    }

    /// `count` random Worlds, each read by a query of its own (`/queries`).
    pub async fn worlds(&self, count: usize) -> Result<Vec<World>, Error> {
        self.connection().worlds(count).await
    }

    /// `count` random Worlds, each given a new random number that is written back
    /// (`/updates`). The Worlds are sent with their new numbers.
    pub async fn update(&self, count: usize) -> Result<Vec<World>, Error> {
        let connection = self.connection();
        let mut worlds = connection.worlds(count).await?;
        for world in &mut worlds {
            world.random_number = random_number();
        }
        // Sorted by id; a World drawn twice is written once, with its last number.
        let mut rows: Vec<(i32, i32)> = worlds.iter().map(|w| (w.id, w.random_number)).collect();
        rows.sort_by_key(|&(id, _)| id);
        rows.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                kept.1 = later.1;
            }
            same
        });
        let (ids, numbers): (Vec<i32>, Vec<i32>) = rows.into_iter().unzip();
        connection
            .client
            .execute(&connection.update, &[&ids, &numbers])
            .await?;
        Ok(worlds)
    }

    /// Every fortune in the database and the one added at request time, sorted by
    /// message (`/fortunes`).
    pub async fn fortunes(&self) -> Result<FortunesPage, Error> {
        let connection = self.connection();
        let rows = connection.client.query(&connection.fortunes, &[]).await?;
        let mut fortunes = Vec::with_capacity(rows.len() + 1);
        for row in &rows {
            fortunes.push(Fortune {
                id: row.try_get(0)?,
                message: Cow::Owned(row.try_get(1)?),
            });
        }
        fortunes.push(Fortune {
            id: 0,
            message: Cow::Borrowed(ADDED_FORTUNE),
        });
        fortunes.sort_unstable_by(|a, b| a.message.cmp(&b.message));
        Ok(FortunesPage { fortunes })
    }
}

impl Connection {
    async fn world(&self, id: i32) -> Result<World, Error> {
        let row = self.client.query_one(&self.world, &[&id]).await?;
        Ok(World {
            id: row.try_get(0)?,
            random_number: row.try_get(1)?,
        })
    }

    /// `count` queries, in flight together on this connection.
    async fn worlds(&self, count: usize) -> Result<Vec<World>, Error> {
        futures_util::future::try_join_all((0..count).map(|_| self.world(random_number()))).await
    }
}

#[cfg(test)]
mod tests {
    use super::queries;

    #[test]
    fn the_queries_parameter_is_clamped_to_1_through_500() {
        for (value, expected) in [
            (None, 1),
            (Some(""), 1),
            (Some("foo"), 1),
            (Some("0"), 1),
            (Some("-3"), 1),
            (Some("1"), 1),
            (Some("20"), 20),
            (Some("500"), 500),
            (Some("501"), 500),
            (Some("1000"), 500),
            (Some("99999999999999999999"), 500),
            (Some("-99999999999999999999"), 1),
            (Some("2.5"), 1),
        ] {
            assert_eq!(queries(value), expected, "queries={value:?}");
        }
    }
}
