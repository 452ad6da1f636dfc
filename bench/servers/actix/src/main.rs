//! actix-web with the same endpoints as the other contenders (see the bocata server).

use std::io::Write;

use actix_web::{App, HttpResponse, HttpServer, web};
use bytes::Bytes;
use futures_util::StreamExt;

#[derive(serde::Serialize)]
struct Message {
    message: &'static str,
}

#[derive(serde::Serialize)]
struct Id {
    id: u64,
}

async fn plaintext() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("Hello, World!")
}

async fn json() -> HttpResponse {
    HttpResponse::Ok().json(Message { message: "Hello, World!" })
}

async fn params(id: web::Path<u64>) -> HttpResponse {
    HttpResponse::Ok().json(Id { id: id.into_inner() })
}

async fn echo(value: web::Json<serde_json::Value>) -> HttpResponse {
    HttpResponse::Ok().json(value.into_inner())
}

async fn file(path: web::Data<String>) -> actix_web::Result<actix_files::NamedFile> {
    Ok(actix_files::NamedFile::open_async(path.as_str()).await?)
}

async fn stream() -> HttpResponse {
    let chunks = futures_util::stream::iter(0..16u8).map(|i| Ok::<_, actix_web::Error>(Bytes::from(vec![i; 64 * 1024])));
    HttpResponse::Ok().streaming(chunks)
}

fn main() -> std::io::Result<()> {
    let workers = std::env::var("BENCH_WORKERS").ok().and_then(|w| w.parse().ok()).unwrap_or(1);
    let path = std::env::var("BENCH_FILE").unwrap_or_default();
    actix_web::rt::System::new().block_on(async move {
        let addr = std::env::var("BENCH_ADDR").unwrap_or_else(|_| "127.0.0.1:0".into());
        let listener = std::net::TcpListener::bind(addr)?;
        writeln!(std::io::stdout(), "{}", listener.local_addr()?)?;
        std::io::stdout().flush()?;
        let auto = std::env::var("BENCH_AUTO").is_ok_and(|v| v == "1");
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(path.clone()))
                .route("/plaintext", web::get().to(plaintext))
                .route("/json", web::get().to(json))
                .route("/params/{id}", web::get().to(params))
                .route("/echo", web::post().to(echo))
                .route("/file", web::get().to(file))
                .route("/stream", web::get().to(stream))
        })
        .workers(workers);
        // With `BENCH_AUTO=1`, HTTP/2 with prior knowledge (h2c) too, for the HTTP/2 rows.
        let server = if auto { server.listen_auto_h2c(listener)? } else { server.listen(listener)? };
        server.run().await
    })
}
