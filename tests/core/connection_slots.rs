//! Connection slots over real sockets: when every slot is taken, connections idle
//! between requests (or silent since they opened) make room for new clients, busy ones
//! keep theirs, and a limit per client address holds.

use std::time::Duration;

use bocata::{App, Request, Res, Result, Server};
use bocata_tests::{Gate, Running, connect_http1, get, raw_exchange, read, within};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

async fn hello(_req: &Request, res: &mut Res) -> Result {
    res.text("hello");
    Ok(())
}

/// A server whose own timeouts would not close an idle or silent connection within
/// any test: only making room does.
fn patient(app: App) -> Server {
    Server::new(app)
        .header_read_timeout(Duration::from_secs(600))
        .keep_alive_timeout(Duration::from_secs(600))
}

fn app(gate: Gate) -> App {
    App::new()
        .route("/", bocata::get(hello))
        .route("/gate", gate)
}

const HELLO: &[u8] = b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";

#[tokio::test]
async fn a_busy_connection_keeps_its_slot_and_an_idle_one_makes_room() {
    let (gate, mut control) = Gate::new();
    let server = Running::start_with(patient(app(gate)).max_connections(1)).await;
    let mut first = server.http1().await;
    let in_flight = tokio::spawn(first.send_request(get("/gate")));
    control.reached().await;

    // While the first connection has a request in flight, the second waits…
    let addr = server.addr;
    let mut second = tokio::spawn(async move { raw_exchange(addr, HELLO).await });
    let waited = tokio::time::timeout(Duration::from_millis(300), &mut second).await;
    assert!(waited.is_err(), "served past the limit: {waited:?}");

    // …and once that request is done, the idle first connection makes room.
    control.release.notify_one();
    let response = within("the first", in_flight)
        .await
        .expect("no panic")
        .expect("the request in flight is answered");
    assert_eq!(read(response).await.1, "finished");
    let answer = within("the second", second).await.expect("no panic");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let again = within("the first, again", async {
        first.ready().await?;
        first.send_request(get("/")).await
    })
    .await;
    assert!(again.is_err(), "the idle connection was closed: {again:?}");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_silent_connections_cannot_lock_out_new_clients() {
    let (gate, _control) = Gate::new();
    let server = Running::start_with(patient(app(gate)).max_connections(8)).await;
    let mut held = Vec::new();
    // Four keep-alive connections, idle after a request…
    for _ in 0..4 {
        let mut conn = server.http1().await;
        let response = within("a request", conn.send_request(get("/")))
            .await
            .expect("a response");
        assert_eq!(read(response).await.1, "hello");
        held.push(conn);
    }
    // …and four that never say a word.
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(TcpStream::connect(server.addr).await.expect("connect"));
    }
    // Every slot is taken; new clients are served all the same.
    for _ in 0..8 {
        let answer = raw_exchange(server.addr, HELLO).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_silent_sockets_does_not_lock_out_a_normal_client() {
    let (gate, _control) = Gate::new();
    let server = Running::start_with(patient(app(gate)).max_connections(64)).await;
    let mut flood = Vec::new();
    for _ in 0..300 {
        flood.push(TcpStream::connect(server.addr).await.expect("connect"));
    }
    let mut conn = connect_http1(server.addr).await;
    let response = within("the normal client", conn.send_request(get("/")))
        .await
        .expect("a response");
    assert_eq!(read(response).await.1, "hello");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_limit_per_address_closes_the_connections_past_it() {
    let (gate, _control) = Gate::new();
    let server = Running::start_with(patient(app(gate)).max_connections_per_address(2)).await;
    let mut first = server.http1().await;
    let mut second = server.http1().await;
    for conn in [&mut first, &mut second] {
        let response = within("a request", conn.send_request(get("/")))
            .await
            .expect("a response");
        assert_eq!(read(response).await.1, "hello");
    }
    // A third from the same address is closed at once, unanswered.
    let mut third = TcpStream::connect(server.addr).await.expect("connect");
    let mut buffer = [0; 64];
    let read_third = within("the third to be closed", third.read(&mut buffer)).await;
    assert!(matches!(read_third, Ok(0) | Err(_)), "{read_third:?}");
    // Once one of the two is gone, the address may connect again.
    drop(first);
    within("a connection to be let in again", async {
        loop {
            let mut conn = connect_http1(server.addr).await;
            if let Ok(response) = conn.send_request(get("/")).await {
                assert_eq!(read(response).await.1, "hello");
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    server.shutdown().await.expect("clean shutdown");
}
