//! A bocata server for the tests that need a process of its own: stopped with a real
//! signal, or run with few file descriptors. It prints its address on the first line
//! of stdout, and a line when a slow request has started; bocata's log goes to
//! stderr.

use std::io::Write;
use std::time::Duration;

use bocata::websocket::WebSocket;
use bocata::{App, Event, Request, Res, Result, Server};

async fn hello(_req: &Request, res: &mut Res) -> Result {
    res.text("hello");
    Ok(())
}

/// Takes two seconds, like a real request that must not be cut off by a restart.
async fn slow(_req: &Request, res: &mut Res) -> Result {
    let mut stdout = std::io::stdout();
    writeln!(stdout, "slow started")
        .and_then(|()| stdout.flush())
        .ok();
    tokio::time::sleep(Duration::from_secs(2)).await;
    res.text("finished");
    Ok(())
}

/// A finite stream that takes a second: ten lines, one every 100 ms.
async fn lines(_req: &Request, res: &mut Res) -> Result {
    res.streaming(bocata::stream! {
        for n in 1..=10 {
            yield format!("line {n}\n");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    Ok(())
}

/// An event stream that never ends by itself.
async fn events(_req: &Request, res: &mut Res) -> Result {
    res.sse(bocata::stream! {
        let mut clock = tokio::time::interval(Duration::from_millis(100));
        for n in 0.. {
            clock.tick().await;
            yield Event::new().id(n.to_string()).data("tick");
        }
    });
    Ok(())
}

/// A socket that stays open until the peer or the server closes it.
struct Socket;

#[bocata::view]
impl Socket {
    async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
        ws.send_text("ready").await?;
        while let Some(message) = ws.recv().await {
            ws.send(message?).await?;
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter("bocata=info")
        .init();
    let mut app = App::new();
    if std::env::var_os("FAIL_STARTUP").is_some() {
        // What an app whose database cannot be reached does.
        app = app.on_startup(|| async {
            Err(bocata::Error::new(503, "the database cannot be reached"))
        });
    }
    let app = app
        .route("/", bocata::get(hello))
        .route("/slow", bocata::get(slow))
        .route("/lines", bocata::get(lines))
        .route("/events", bocata::get(events))
        .route("/ws", Socket);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", listener.local_addr()?)?;
    stdout.flush()?;
    Server::new(app)
        .grace_period(Duration::from_secs(10))
        .serve(listener)
        .await
}
