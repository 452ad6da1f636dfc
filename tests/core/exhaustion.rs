//! A server out of file descriptors, as a real process under a low `ulimit -n`: its
//! `accept` fails, it backs off without flooding its log, closes connections that sit
//! idle to free descriptors, keeps serving the connections it has, and serves new
//! clients again.

#![cfg(unix)]

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bocata_tests::{connect_http1, get, read, serve_process, within};
use http_body_util::BodyExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_server_keeps_serving_and_recovers() {
    // The server binary, with 48 descriptors: a dozen for the runtime and the
    // listener, the rest for connections.
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -n 48 && exec \"$0\"")
        .arg(env!("CARGO_BIN_EXE_serve"))
        .stderr(Stdio::piped());
    let (mut server, addr, _stdout) = serve_process(command).await;
    let log = Arc::new(Mutex::new(String::new()));
    let mut stderr = BufReader::new(server.stderr.take().expect("stderr")).lines();
    let collected = Arc::clone(&log);
    tokio::spawn(async move {
        while let Ok(Some(line)) = stderr.next_line().await {
            let mut log = collected.lock().expect("not poisoned");
            log.push_str(&line);
            log.push('\n');
        }
    });
    let logged = |what: &'static str| {
        let log = Arc::clone(&log);
        async move {
            within(what, async {
                while !log.lock().expect("not poisoned").contains(what) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await;
        }
    };

    // A client with a stream under way, and one kept alive between requests.
    let mut streaming = connect_http1(addr).await;
    let events = within("the stream", streaming.send_request(get("/events")))
        .await
        .expect("a response");
    let mut events = events.into_body();
    let mut kept = connect_http1(addr).await;
    let response = within("a request", kept.send_request(get("/")))
        .await
        .expect("a response");
    assert_eq!(read(response).await.1, "hello");

    // More silent connections than the server has descriptors left.
    let mut flood = Vec::new();
    for _ in 0..100 {
        flood.push(TcpStream::connect(addr).await.expect("connect"));
    }
    logged("accept failed").await;

    // The stream goes on, the kept connection is served…
    for _ in 0..3 {
        within("an event", events.frame())
            .await
            .expect("a frame")
            .expect("data");
    }
    let response = within("the kept connection", kept.send_request(get("/")))
        .await
        .expect("a response");
    assert_eq!(read(response).await.1, "hello");
    // …and a new client gets in, as silent connections are closed to make room.
    let mut fresh = connect_http1(addr).await;
    let response = within("a new client", fresh.send_request(get("/")))
        .await
        .expect("a response");
    assert_eq!(read(response).await.1, "hello");

    drop(flood);
    let mut later = connect_http1(addr).await;
    let response = within("a client after the flood", later.send_request(get("/")))
        .await
        .expect("a response");
    assert_eq!(read(response).await.1, "hello");

    server.start_kill().expect("the server can be stopped");
    within("the server to exit", server.wait())
        .await
        .expect("an exit status");
    let log = log.lock().expect("not poisoned").clone();
    let reports = log.matches("accept failed").count();
    assert!(
        (1..=2).contains(&reports),
        "failures reported at most once every ten seconds, not each time: {log}"
    );
}
