//! The TechEmpower test types in actix-web 4, with the same endpoints, database and
//! template as the bocata server (see there). actix-web runs `BENCH_WORKERS` workers,
//! each a thread with a runtime of its own; each worker opens its own
//! `TFB_DB_CONNECTIONS` connections (default 4) when it starts, so its database
//! traffic is driven on its own thread, as a tokio worker drives the connections of
//! the other two. actix-web adds `Date` itself.

use std::io::Write;

use actix_web::http::header::{HeaderValue, SERVER};
use actix_web::{App, HttpResponse, HttpServer, web};
use tfb_common::{Db, HELLO, Message, TEMPLATE, TEMPLATE_DIR};

const NAME: HeaderValue = HeaderValue::from_static("actix");

#[derive(serde::Deserialize)]
struct QueriesParam {
    queries: Option<String>,
}

/// A database or template error, as a 500.
fn failure(e: impl std::fmt::Debug + std::fmt::Display + 'static) -> actix_web::Error {
    actix_web::error::ErrorInternalServerError(e)
}

async fn json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((SERVER, NAME))
        .json(Message { message: HELLO })
}

async fn db(db: web::Data<Db>) -> actix_web::Result<HttpResponse> {
    let world = db.world().await.map_err(failure)?;
    Ok(HttpResponse::Ok().insert_header((SERVER, NAME)).json(world))
}

async fn queries(
    db: web::Data<Db>,
    q: web::Query<QueriesParam>,
) -> actix_web::Result<HttpResponse> {
    let worlds = db
        .worlds(tfb_common::queries(q.queries.as_deref()))
        .await
        .map_err(failure)?;
    Ok(HttpResponse::Ok()
        .insert_header((SERVER, NAME))
        .json(worlds))
}

async fn fortunes(
    db: web::Data<Db>,
    tera: web::Data<tera::Tera>,
) -> actix_web::Result<HttpResponse> {
    let page = db.fortunes().await.map_err(failure)?;
    let context = tera::Context::from_serialize(&page).map_err(failure)?;
    let html = tera.render(TEMPLATE, &context).map_err(failure)?;
    Ok(HttpResponse::Ok()
        .insert_header((SERVER, NAME))
        .content_type("text/html; charset=utf-8")
        .body(html))
}

async fn updates(
    db: web::Data<Db>,
    q: web::Query<QueriesParam>,
) -> actix_web::Result<HttpResponse> {
    let worlds = db
        .update(tfb_common::queries(q.queries.as_deref()))
        .await
        .map_err(failure)?;
    Ok(HttpResponse::Ok()
        .insert_header((SERVER, NAME))
        .json(worlds))
}

async fn plaintext() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((SERVER, NAME))
        .content_type("text/plain; charset=utf-8")
        .body(HELLO)
}

fn main() -> std::io::Result<()> {
    let workers = std::env::var("BENCH_WORKERS")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    let connections = std::env::var("TFB_DB_CONNECTIONS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(4);
    let url = std::env::var("TFB_DATABASE_URL").unwrap_or_default();
    let tera = web::Data::new(
        tera::Tera::new(&format!("{TEMPLATE_DIR}/**/*")).map_err(std::io::Error::other)?,
    );
    actix_web::rt::System::new().block_on(async move {
        let addr = std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
        let listener = std::net::TcpListener::bind(addr)?;
        let server = HttpServer::new(move || {
            let url = url.clone();
            App::new()
                .data_factory(move || {
                    let url = url.clone();
                    async move { Db::connect(&url, connections).await }
                })
                .app_data(tera.clone())
                .route("/json", web::get().to(json))
                .route("/db", web::get().to(db))
                .route("/queries", web::get().to(queries))
                .route("/fortunes", web::get().to(fortunes))
                .route("/updates", web::get().to(updates))
                .route("/plaintext", web::get().to(plaintext))
        })
        .workers(workers)
        .listen(listener)?;
        writeln!(std::io::stdout(), "{}", server.addrs()[0])?;
        std::io::stdout().flush()?;
        server.run().await
    })
}
