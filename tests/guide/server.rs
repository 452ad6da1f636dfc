//! Chapter "Running a server": `Server` and its settings, HTTP/1.1 and HTTP/2 on one
//! port, graceful shutdown, and the access log.

// ANCHOR: imports
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bocata::{App, Request, Res, Result, Server};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
// ANCHOR_END: imports

use bocata_tests::{Gate, LogCapture, connect_http1, connect_http2, get, read, within};
use tokio::net::TcpStream;

// ANCHOR: start
/// Serves `app` on a port the OS picks until `stop` fires. Returns the address and
/// the server's task, which ends with the server's result.
pub(crate) async fn start(
    app: App,
    stop: oneshot::Receiver<()>,
) -> io::Result<(SocketAddr, JoinHandle<io::Result<()>>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = Server::new(app)
        .grace_period(Duration::from_secs(5))
        .shutdown_signal(async {
            stop.await.ok();
        });
    Ok((addr, tokio::spawn(server.serve(listener))))
}
// ANCHOR_END: start

// ANCHOR: run
/// Serves on `addr` until Ctrl-C or SIGTERM, then gives the requests in flight
/// 10 seconds to finish.
async fn serve_forever(app: App, addr: &str) -> io::Result<()> {
    Server::new(app)
        .grace_period(Duration::from_secs(10))
        .run(addr)
        .await
}
// ANCHOR_END: run

// ANCHOR: peer
/// Says who is asking, and over which protocol.
async fn peer(req: &Request, res: &mut Res) -> Result {
    let addr = req
        .client_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.to_string());
    res.text(format!("{addr} over {:?}", req.version()));
    Ok(())
}
// ANCHOR_END: peer

#[tokio::test]
async fn http1_keep_alive_and_http2_on_one_port() {
    let (stop, stopped) = oneshot::channel();
    let app = App::new().route("/peer", bocata::get(peer));
    let (addr, server) = start(app, stopped).await.expect("a server");

    let mut conn = connect_http1(addr).await;
    let mut answers = Vec::new();
    for _ in 0..2 {
        within("ready", conn.ready()).await.expect("reusable");
        let response = within("a response", conn.send_request(get("/peer")))
            .await
            .expect("a response");
        let (head, body) = read(response).await;
        assert_eq!(head.status, 200);
        answers.push(body);
    }
    assert_eq!(
        answers[0], answers[1],
        "the same client port: one connection"
    );
    let first = String::from_utf8_lossy(&answers[0]).into_owned();
    assert!(first.starts_with("127.0.0.1:"), "{first}");
    assert!(first.ends_with(" over HTTP/1.1"), "{first}");

    let mut h2 = connect_http2(addr).await;
    let response = within(
        "an HTTP/2 response",
        h2.send_request(get(&format!("http://{addr}/peer"))),
    )
    .await
    .expect("a response");
    let (head, body) = read(response).await;
    assert_eq!(head.status, 200);
    assert!(body.ends_with(b" over HTTP/2.0"), "{body:?}");

    drop((conn, h2));
    stop.send(()).ok();
    within("shutdown", server)
        .await
        .expect("the server task")
        .expect("a clean shutdown");
}

#[tokio::test]
async fn graceful_shutdown_lets_requests_in_flight_finish() {
    let (gate, mut control) = Gate::new();
    let (stop, stopped) = oneshot::channel();
    let (addr, server) = start(App::new().route("/slow", gate), stopped)
        .await
        .expect("a server");

    let mut conn = connect_http1(addr).await;
    let in_flight = conn.send_request(get("/slow"));
    let steps = async {
        control.reached().await;
        stop.send(()).ok();
        control.release.notify_one();
    };
    let (response, ()) = tokio::join!(in_flight, steps);
    let (head, body) = read(response.expect("a response")).await;
    assert_eq!(head.status, 200);
    assert_eq!(body, "finished");

    within("shutdown", server)
        .await
        .expect("the server task")
        .expect("a clean shutdown");
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn run_reports_an_address_it_cannot_bind() {
    let taken = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let err = serve_forever(App::new(), &addr)
        .await
        .expect_err("the port is taken");
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    assert!(
        err.to_string()
            .contains(&format!("bocata could not bind {addr}")),
        "{err}"
    );
}

/// On the default current-thread test runtime the server's tasks run on this thread,
/// so a thread-local subscriber sees their events.
#[tokio::test]
async fn every_request_gets_an_access_line() {
    let captured = LogCapture::start();

    let (stop, stopped) = oneshot::channel();
    let app = App::new().route("/peer", bocata::get(peer));
    let (addr, server) = start(app, stopped).await.expect("a server");
    let mut conn = connect_http1(addr).await;
    let response = within("a response", conn.send_request(get("/peer?x=1")))
        .await
        .expect("a response");
    read(response).await;
    within("ready", conn.ready()).await.expect("reusable");
    let response = within("a response", conn.send_request(get("/missing")))
        .await
        .expect("a response");
    read(response).await;
    drop(conn);
    stop.send(()).ok();
    within("shutdown", server)
        .await
        .expect("the server task")
        .expect("a clean shutdown");

    let log = captured.text();
    assert!(
        log.contains(&format!("bocata::server: listening on http://{addr}")),
        "{log}"
    );
    let access: Vec<&str> = log
        .lines()
        .filter(|l| l.contains(" INFO bocata::access: "))
        .collect();
    assert_eq!(access.len(), 2, "{log}");
    assert!(
        access[0].contains(r#"method=GET path="/peer" status=200 micros="#),
        "{log}"
    );
    assert!(
        access[1].contains(r#"method=GET path="/missing" status=404 micros="#),
        "{log}"
    );
}
