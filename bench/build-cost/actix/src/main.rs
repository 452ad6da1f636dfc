//! examples/hello, written with actix-web: the same three routes.

use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Deserialize;

struct Greeter {
    greeting: String,
}

#[derive(Deserialize)]
struct Mood {
    mood: String,
}

async fn hello(greeter: web::Data<Greeter>, name: web::Path<String>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("x-served-by", "actix-web"))
        .body(format!("{}, {name}!", greeter.greeting))
}

async fn mood(
    greeter: web::Data<Greeter>,
    name: web::Path<String>,
    body: web::Json<Mood>,
) -> HttpResponse {
    HttpResponse::Created().json(serde_json::json!({
        "greeting": format!("{}, {name}!", greeter.greeting),
        "mood": body.mood,
    }))
}

async fn index() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(r#"<h1>actix-web</h1><p>Try <a href="/hello/World">/hello/World</a>.</p>"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let greeter = web::Data::new(Greeter { greeting: "Hello".into() });
    HttpServer::new(move || {
        App::new()
            .app_data(greeter.clone())
            .route("/", web::get().to(index))
            .route("/hello/{name}", web::get().to(hello))
            .route("/hello/{name}", web::post().to(mood))
    })
    .bind(addr)?
    .run()
    .await
}
