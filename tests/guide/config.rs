//! Chapter "Configuration and limits": every setting in one place.

// ANCHOR: imports
use std::time::Duration;

use bocata::websocket::WebSocketSettings;
use bocata::{App, Server};
// ANCHOR_END: imports

use bocata::{Request, Res, Result};
use bocata_tests::{get, read, within};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

async fn hello(_req: &Request, res: &mut Res) -> Result {
    res.text("hello");
    Ok(())
}

// ANCHOR: app
/// The app-wide limits: request bodies, streams, WebSockets.
fn app() -> App {
    App::new()
        .route("/", bocata::get(hello))
        .body_limit(2 * 1024 * 1024)
        .body_timeout(Duration::from_secs(15))
        .body_min_rate(4 * 1024)
        .chunk_timeout(Duration::from_secs(20))
        .complete_timeout(None)
        .websocket(WebSocketSettings::new().max_message_size(256 * 1024))
}
// ANCHOR_END: app

// ANCHOR: server
/// The connection limits, set on the server that serves the app.
fn server(app: App) -> Server {
    Server::new(app)
        .header_read_timeout(Duration::from_secs(5))
        .keep_alive_timeout(Duration::from_secs(30))
        .max_header_size(32 * 1024)
        .max_headers(64)
        .max_connections(5_000)
        .max_connections_per_address(100)
        .http2_max_concurrent_streams(128)
        .grace_period(Duration::from_secs(20))
}
// ANCHOR_END: server

#[tokio::test]
async fn a_configured_server_serves() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = listener.local_addr().expect("its address");
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(
        server(app())
            .shutdown_signal(async {
                stopped.await.ok();
            })
            .serve(listener),
    );
    let mut conn = bocata_tests::connect_http1(addr).await;
    let response = within("a response", conn.send_request(get("/")))
        .await
        .expect("a response");
    assert_eq!(read(response).await.1, "hello");
    drop(conn);
    stop.send(()).ok();
    within("shutdown", running)
        .await
        .expect("no panic")
        .expect("a clean shutdown");
}
