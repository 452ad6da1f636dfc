//! The TechEmpower test types in axum 0.8, with the same endpoints, database, template
//! and runtime as the bocata server (see there). The fortunes page is rendered by tera
//! with the template folder loaded once at start.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header::{CONTENT_TYPE, SERVER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tfb_common::{Db, HELLO, Message, TEMPLATE, TEMPLATE_DIR};

const NAME: HeaderValue = HeaderValue::from_static("axum");
const HTML: HeaderValue = HeaderValue::from_static("text/html; charset=utf-8");

#[derive(Clone)]
struct AppState {
    db: Db,
    tera: Arc<tera::Tera>,
}

#[derive(serde::Deserialize)]
struct QueriesParam {
    queries: Option<String>,
}

/// A database or template error, as a 500.
struct Failure(String);

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, [(SERVER, NAME)], self.0).into_response()
    }
}

async fn json() -> impl IntoResponse {
    ([(SERVER, NAME)], Json(Message { message: HELLO }))
}

async fn single_query(State(state): State<AppState>) -> Result<impl IntoResponse, Failure> {
    let world = state.db.world().await?;
    Ok(([(SERVER, NAME)], Json(world)))
}

async fn queries(
    State(state): State<AppState>,
    Query(q): Query<QueriesParam>,
) -> Result<impl IntoResponse, Failure> {
    let worlds = state
        .db
        .worlds(tfb_common::queries(q.queries.as_deref()))
        .await?;
    Ok(([(SERVER, NAME)], Json(worlds)))
}

async fn fortunes(State(state): State<AppState>) -> Result<impl IntoResponse, Failure> {
    let page = state.db.fortunes().await?;
    let html = state
        .tera
        .render(TEMPLATE, &tera::Context::from_serialize(&page)?)?;
    Ok(([(SERVER, NAME), (CONTENT_TYPE, HTML)], html))
}

async fn updates(
    State(state): State<AppState>,
    Query(q): Query<QueriesParam>,
) -> Result<impl IntoResponse, Failure> {
    let worlds = state
        .db
        .update(tfb_common::queries(q.queries.as_deref()))
        .await?;
    Ok(([(SERVER, NAME)], Json(worlds)))
}

async fn plaintext() -> impl IntoResponse {
    ([(SERVER, NAME)], HELLO)
}

fn main() -> std::io::Result<()> {
    let tera =
        Arc::new(tera::Tera::new(&format!("{TEMPLATE_DIR}/**/*")).map_err(std::io::Error::other)?);
    tfb_common::run(|listener, db| {
        let app = Router::new()
            .route("/json", get(json))
            .route("/db", get(single_query))
            .route("/queries", get(queries))
            .route("/fortunes", get(fortunes))
            .route("/updates", get(updates))
            .route("/plaintext", get(plaintext))
            .with_state(AppState {
                db,
                tera: Arc::clone(&tera),
            });
        // Small responses go out at once, as with the other contenders.
        use axum::serve::ListenerExt;
        let listener = listener.tap_io(|tcp| {
            tcp.set_nodelay(true).ok();
        });
        async move { axum::serve(listener, app).await }
    })
}
