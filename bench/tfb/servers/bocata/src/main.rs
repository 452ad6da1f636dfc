//! The TechEmpower test types in bocata, each a struct view as the guide writes them.
//! It binds `BENCH_ADDR` (default `127.0.0.1:0`), prints the address it got on the
//! first line of stdout and runs `BENCH_WORKERS` workers (default 1), each with
//! `TFB_DB_CONNECTIONS` connections (default 4) to `TFB_DATABASE_URL` (see
//! `tfb_common::run`, which also says how `TFB_RUNTIME` picks the runtime):
//!
//! - `GET /json`: `{"message":"Hello, World!"}`, serialized per request;
//! - `GET /db`: one random World;
//! - `GET /queries?queries=N`: N random Worlds, one query each;
//! - `GET /fortunes`: the fortunes and one added per request, sorted, through the tera
//!   template `fortunes.html` (`res.template`);
//! - `GET /updates?queries=N`: N random Worlds given new random numbers, written back;
//! - `GET /plaintext`: `Hello, World!`.
//!
//! Every response names its server in `Server`; hyper adds `Date`.

use bocata::http::HeaderValue;
use bocata::http::header::SERVER;
use bocata::{App, Request, Res, Result};
use tfb_common::{Db, HELLO, Message, TEMPLATE, TEMPLATE_DIR};

const NAME: HeaderValue = HeaderValue::from_static("bocata");

/// `GET /json`
struct Json;

#[bocata::view]
impl Json {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.header(SERVER, NAME).json(&Message { message: HELLO });
        Ok(())
    }
}

/// `GET /db`
struct SingleQuery {
    db: Db,
}

#[bocata::view]
impl SingleQuery {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let world = self.db.world().await?;
        res.header(SERVER, NAME).json(&world);
        Ok(())
    }
}

/// `GET /queries?queries=N`
struct Queries {
    db: Db,
}

#[bocata::view]
impl Queries {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let count = tfb_common::queries(req.query("queries").as_deref());
        let worlds = self.db.worlds(count).await?;
        res.header(SERVER, NAME).json(&worlds);
        Ok(())
    }
}

/// `GET /fortunes`
struct Fortunes {
    db: Db,
}

#[bocata::view]
impl Fortunes {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let page = self.db.fortunes().await?;
        res.header(SERVER, NAME).template(TEMPLATE, &page);
        Ok(())
    }
}

/// `GET /updates?queries=N`
struct Updates {
    db: Db,
}

#[bocata::view]
impl Updates {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let count = tfb_common::queries(req.query("queries").as_deref());
        let worlds = self.db.update(count).await?;
        res.header(SERVER, NAME).json(&worlds);
        Ok(())
    }
}

/// `GET /plaintext`
struct Plaintext;

#[bocata::view]
impl Plaintext {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.header(SERVER, NAME).text(HELLO);
        Ok(())
    }
}

fn main() -> std::io::Result<()> {
    tfb_common::run(|listener, db| {
        let app = App::new()
            .templates(TEMPLATE_DIR)
            .route("/json", Json)
            .route("/db", SingleQuery { db: db.clone() })
            .route("/queries", Queries { db: db.clone() })
            .route("/fortunes", Fortunes { db: db.clone() })
            .route("/updates", Updates { db })
            .route("/plaintext", Plaintext);
        app.serve(listener)
    })
}
