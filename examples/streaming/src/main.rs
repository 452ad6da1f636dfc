//! Run with `cargo run -p streaming`, then open <http://127.0.0.1:8000>.
//!
//! Streaming responses: a live page fed by server-sent events (resuming after the last
//! event id when the browser reconnects), and a large CSV generated row by row as it is
//! downloaded.
//!
//! ```text
//! curl -N http://127.0.0.1:8000/events
//! curl -N -H 'last-event-id: 10' http://127.0.0.1:8000/events
//! curl -o report.csv 'http://127.0.0.1:8000/report.csv?rows=1000000'
//! ```

use std::time::Duration;

use bocata::{App, Event, Request, Res, Result};

async fn page(_req: &Request, res: &mut Res) -> Result {
    res.html(include_str!("page.html"));
    Ok(())
}

// ANCHOR: events
/// A `tick` event every second, numbered; a reconnecting browser resumes after the
/// id it last saw (`Last-Event-ID`).
async fn events(req: &Request, res: &mut Res) -> Result {
    let after: u64 = req
        .last_event_id()
        .and_then(|id| id.parse().ok())
        .unwrap_or(0);
    res.sse(bocata::stream! {
        let mut clock = tokio::time::interval(Duration::from_secs(1));
        for n in after + 1.. {
            clock.tick().await;
            yield Event::new()
                .event("tick")
                .id(n.to_string())
                .data(format!("tick number {n}"));
        }
    })
    .sse_keep_alive(Duration::from_secs(15));
    Ok(())
}
// ANCHOR_END: events

// ANCHOR: csv
/// A CSV of `?rows=` rows (default 1000, at most ten million), generated as it is
/// downloaded: only the rows in flight are ever in memory.
async fn report(req: &Request, res: &mut Res) -> Result {
    let rows: u64 = req
        .query("rows")
        .and_then(|r| r.parse().ok())
        .unwrap_or(1000)
        .min(10_000_000);
    res.content_type("text/csv; charset=utf-8")
        .attachment("report.csv")
        .streaming(bocata::stream! {
            yield "id,square,label\n".to_owned();
            let mut batch = String::with_capacity(64 * 1024);
            for id in 1..=rows {
                batch.push_str(&format!("{id},{},row {id}\n", id * id));
                if batch.len() >= 60 * 1024 {
                    yield std::mem::take(&mut batch);
                }
            }
            yield batch;
        });
    Ok(())
}
// ANCHOR_END: csv

// ANCHOR: app
fn app() -> App {
    App::new()
        .route("/", bocata::get(page))
        .route("/events", bocata::get(events))
        .route("/report.csv", bocata::get(report))
}
// ANCHOR_END: app

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // `ADDR=127.0.0.1:0` picks a free port (the log says which).
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    app().run(addr).await
}
