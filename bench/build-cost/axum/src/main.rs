//! examples/hello, written with axum: the same three routes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

#[derive(Clone)]
struct Greeter {
    greeting: String,
}

#[derive(Deserialize)]
struct Mood {
    mood: String,
}

async fn hello(State(greeter): State<Greeter>, Path(name): Path<String>) -> impl IntoResponse {
    ([("x-served-by", "axum")], format!("{}, {name}!", greeter.greeting))
}

async fn mood(
    State(greeter): State<Greeter>,
    Path(name): Path<String>,
    Json(Mood { mood }): Json<Mood>,
) -> impl IntoResponse {
    let body = serde_json::json!({ "greeting": format!("{}, {name}!", greeter.greeting), "mood": mood });
    (StatusCode::CREATED, Json(body))
}

async fn index() -> Html<&'static str> {
    Html(r#"<h1>axum</h1><p>Try <a href="/hello/World">/hello/World</a>.</p>"#)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let app = Router::new()
        .route("/", get(index))
        .route("/hello/{name}", get(hello).post(mood))
        .with_state(Greeter { greeting: "Hello".into() });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await
}
