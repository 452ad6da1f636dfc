//! The server over real sockets: HTTP/1.1 keep-alive, HTTP/2 prior knowledge (also
//! when its preface comes in pieces), HEAD,
//! 405, a panicking view beside a healthy request, body limits on the wire, and
//! graceful shutdown.

use std::time::Duration;

use bocata::{App, Request, Res, Result, Server};
use bocata_tests::{Gate, Running, get, raw_exchange, read, request, within};
use http::{StatusCode, Version};
use tokio::net::TcpStream;

async fn peer(req: &Request, res: &mut Res) -> Result {
    let addr = req.client_addr().map(|a| a.to_string()).unwrap_or_default();
    res.text(addr);
    Ok(())
}

async fn version(req: &Request, res: &mut Res) -> Result {
    res.text(format!("{:?}", req.version()));
    Ok(())
}

async fn panics(_req: &Request, _res: &mut Res) -> Result {
    panic!("this view always panics")
}

async fn echo(req: &Request, res: &mut Res) -> Result {
    let body = req.bytes().await?;
    res.content(body);
    Ok(())
}

fn app() -> App {
    App::new()
        .route("/peer", bocata::get(peer))
        .route("/version", bocata::get(version))
        .route("/panic", bocata::get(panics))
        .route("/echo", bocata::post(echo))
}

#[tokio::test]
async fn http1_keep_alive_reuses_the_connection() {
    let server = Running::start(app()).await;
    let mut conn = server.http1().await;
    let mut peers = Vec::new();
    for _ in 0..3 {
        within("ready", conn.ready())
            .await
            .expect("connection usable");
        let response = within("response", conn.send_request(get("/peer")))
            .await
            .expect("a response");
        let (parts, body) = read(response).await;
        assert_eq!(parts.status, 200);
        assert_eq!(parts.version, Version::HTTP_11);
        peers.push(body);
    }
    assert!(!peers[0].is_empty(), "the view sees the client's address");
    assert_eq!(peers[0], peers[1], "same client port: one connection");
    assert_eq!(peers[1], peers[2]);
    let answer =
        bocata_tests::raw_exchange(server.addr, b"GET /peer HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(
        !answer.to_ascii_lowercase().contains("\r\nserver:"),
        "no Server banner: {answer}"
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn http2_with_prior_knowledge_on_the_same_port() {
    let server = Running::start(app()).await;
    let mut conn = server.http2().await;
    let mut request = get("/version");
    *request.uri_mut() = format!("http://{}/version", server.addr)
        .parse()
        .expect("a URI");
    let response = within("response", conn.send_request(request))
        .await
        .expect("a response");
    let (parts, body) = read(response).await;
    assert_eq!(parts.status, 200);
    assert_eq!(parts.version, Version::HTTP_2);
    assert_eq!(body, "HTTP/2.0");
    assert_eq!(
        parts.headers["content-length"], "8",
        "from the body's exact size"
    );

    let mut http1 = server.http1().await;
    let response = within("response", http1.send_request(get("/version")))
        .await
        .expect("a response");
    assert_eq!(read(response).await.1, "HTTP/1.1");
    server.shutdown().await.expect("clean shutdown");
}

/// Writes `pieces` one at a time, pausing between them so that they are likely to reach
/// the server apart (the answer must be the same if they do not), and returns the
/// first bytes of the answer.
async fn written_in_pieces(addr: std::net::SocketAddr, pieces: &[&[u8]]) -> Vec<u8> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        stream.write_all(piece).await.expect("write");
    }
    let mut answer = vec![0; 512];
    let n = within("the answer", stream.read(&mut answer))
        .await
        .expect("read");
    answer.truncate(n);
    answer
}

#[tokio::test]
async fn first_bytes_that_could_be_either_protocol_are_read_until_they_tell() {
    let server = Running::start(app()).await;

    // "P" could begin the HTTP/2 preface or a POST.
    let answer = written_in_pieces(
        server.addr,
        &[
            b"P",
            b"OST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello",
        ],
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nhello"), "{answer}");

    // The preface in two pieces, then an empty SETTINGS frame: the server answers
    // with its own SETTINGS frame (type 4), as HTTP/2 does.
    let settings: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];
    let answer = written_in_pieces(
        server.addr,
        &[b"PRI * HTTP/2.0\r\n", b"\r\nSM\r\n\r\n", settings],
    )
    .await;
    assert!(answer.len() >= 9, "a whole frame header: {answer:?}");
    assert_eq!(answer[3], 4, "a SETTINGS frame first: {answer:?}");
    server.shutdown().await.expect("clean shutdown");
}

async fn wrong_length(_req: &Request, res: &mut Res) -> Result {
    res.header("content-length", "5").text("hello world");
    Ok(())
}

#[tokio::test]
async fn a_content_length_set_by_the_view_cannot_disagree_with_the_body() {
    let server = Running::start(app().route("/wrong-length", bocata::get(wrong_length))).await;
    let mut conn = server.http1().await;
    for _ in 0..2 {
        within("ready", conn.ready())
            .await
            .expect("connection usable");
        let response = within("response", conn.send_request(get("/wrong-length")))
            .await
            .expect("a response");
        let (parts, body) = read(response).await;
        assert_eq!(parts.headers["content-length"], "11");
        assert_eq!(
            body, "hello world",
            "the whole body, and the connection stays in step"
        );
    }
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn head_and_405_on_the_wire() {
    let server = Running::start(app()).await;
    let mut conn = server.http1().await;
    let response = within("HEAD", conn.send_request(request("HEAD", "/peer", "")))
        .await
        .expect("a response");
    let (parts, body) = read(response).await;
    assert_eq!(parts.status, 200);
    let length: usize = parts.headers["content-length"]
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("a number");
    assert!(length > 0, "HEAD announces the GET body's length");
    assert!(body.is_empty());

    within("ready", conn.ready())
        .await
        .expect("still usable after HEAD");
    // The server writes GET's Content-Length from the body's exact size: the same
    // length HEAD announced.
    let response = within("GET", conn.send_request(get("/peer")))
        .await
        .expect("a response");
    let (parts, body) = read(response).await;
    assert_eq!(parts.headers["content-length"], length.to_string());
    assert_eq!(body.len(), length);

    within("ready", conn.ready())
        .await
        .expect("still usable after GET");
    let response = within("DELETE", conn.send_request(request("DELETE", "/peer", "")))
        .await
        .expect("a response");
    let (parts, _) = read(response).await;
    assert_eq!(parts.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(parts.headers["allow"], "GET, HEAD, OPTIONS");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_panicking_view_does_not_disturb_a_request_in_flight() {
    let (gate, mut control) = Gate::new();
    let server = Running::start(app().route("/slow", gate)).await;

    let mut slow_conn = server.http1().await;
    let slow = tokio::spawn(slow_conn.send_request(get("/slow")));
    control.reached().await;

    let mut conn = server.http1().await;
    for _ in 0..3 {
        let response = within("panic", conn.send_request(get("/panic")))
            .await
            .expect("a 500, not a dropped connection");
        assert_eq!(read(response).await.0.status, 500);
        within("ready", conn.ready())
            .await
            .expect("connection still usable");
    }

    control.release.notify_one();
    let response = within("the slow view", slow)
        .await
        .expect("no panic in the task")
        .expect("a response");
    let (parts, body) = read(response).await;
    assert_eq!(parts.status, 200);
    assert_eq!(body, "finished");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_oversized_body_is_refused_without_waiting_for_it() {
    let server = Running::start(app().body_limit(1024)).await;
    // Announce 100 MB and send none of it: the 413 must come back anyway.
    let head = raw_exchange(
        server.addr,
        b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 100000000\r\n\r\n",
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 413 Payload Too Large"), "{head}");
    assert!(
        head.contains("larger than the limit of 1024 bytes"),
        "{head}"
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_chunked_body_is_cut_at_the_limit() {
    let server = Running::start(app().body_limit(1024)).await;
    let chunk = format!("400\r\n{}\r\n", "x".repeat(0x400));
    let mut request =
        String::from("POST /echo HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n");
    for _ in 0..3 {
        request.push_str(&chunk);
    }
    let head = raw_exchange(server.addr, request.as_bytes()).await;
    assert!(head.starts_with("HTTP/1.1 413 Payload Too Large"), "{head}");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn graceful_shutdown_finishes_requests_in_flight_and_refuses_new_ones() {
    let (gate, mut control) = Gate::new();
    let mut server = Running::start(app().route("/slow", gate)).await;

    let mut busy = server.http1().await;
    let in_flight = tokio::spawn(busy.send_request(get("/slow")));
    control.reached().await;

    // An idle keep-alive connection is closed by the shutdown.
    let idle_stream = TcpStream::connect(server.addr).await.expect("connect");
    let (mut idle, idle_conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(idle_stream))
            .await
            .expect("handshake");
    let idle_conn = tokio::spawn(idle_conn);
    let response = within("idle", idle.send_request(get("/peer")))
        .await
        .expect("a response");
    assert_eq!(read(response).await.0.status, 200);

    server.stop();

    // New connections are refused once the listener is closed.
    within("new connections to be refused", async {
        while let Ok(stream) = TcpStream::connect(server.addr).await {
            drop(stream);
            tokio::task::yield_now().await;
        }
    })
    .await;
    within("the idle connection to be closed", idle_conn)
        .await
        .expect("no panic")
        .expect("a clean close");

    control.release.notify_one();
    let response = within("the in-flight request", in_flight)
        .await
        .expect("no panic")
        .expect("the in-flight request completes");
    let (parts, body) = read(response).await;
    assert_eq!(parts.status, 200);
    assert_eq!(body, "finished");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_shutdown_closes_a_connection_that_never_sent_a_request() {
    use tokio::io::AsyncReadExt;
    // Limits far beyond the test's patience: only the shutdown can close it in time.
    let mut server = Running::start_with(
        Server::new(app())
            .header_read_timeout(Duration::from_secs(600))
            .grace_period(Duration::from_secs(600)),
    )
    .await;
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    // A request on another connection shows the server has taken the silent one up.
    let answer = raw_exchange(server.addr, b"GET /peer HTTP/1.1\r\nhost: x\r\n\r\n").await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    server.stop();
    let mut byte = [0; 1];
    let read = within("the silent connection to be closed", silent.read(&mut byte)).await;
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "closed, not answered: {read:?}"
    );
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_grace_period_bounds_the_wait_for_requests_that_never_end() {
    let (gate, mut control) = Gate::new();
    let server = Running::start_with(
        Server::new(app().route("/stuck", gate)).grace_period(Duration::from_millis(100)),
    )
    .await;
    let mut conn = server.http1().await;
    let stuck = tokio::spawn(conn.send_request(get("/stuck")));
    control.reached().await;

    server
        .shutdown()
        .await
        .expect("returns after the grace period");
    let outcome = within("the stuck request to be cut off", stuck)
        .await
        .expect("no panic");
    assert!(outcome.is_err(), "the connection was closed, not answered");
}

#[tokio::test]
async fn pipelined_requests_are_all_answered_in_order() {
    let server = Running::start(app()).await;
    // Fifteen GETs, a POST with a body, and a closing GET, in one write.
    let mut requests = b"GET /version HTTP/1.1\r\nhost: x\r\n\r\n".repeat(15);
    requests.extend_from_slice(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello");
    requests.extend_from_slice(b"GET /version HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    let mut stream = within("connect", TcpStream::connect(server.addr))
        .await
        .expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut stream, &requests)
        .await
        .expect("write");
    let mut answer = String::new();
    within(
        "every answer, then the close",
        tokio::io::AsyncReadExt::read_to_string(&mut stream, &mut answer),
    )
    .await
    .expect("read");
    let starts: Vec<usize> = answer
        .match_indices("HTTP/1.1 200 OK")
        .map(|(at, _)| at)
        .collect();
    assert_eq!(starts.len(), 17, "{answer}");
    let hello = answer.find("hello").expect("the POST's answer");
    assert!(
        starts[15] < hello && hello < starts[16],
        "answered in order: {answer}"
    );
}

/// The answers to pipelined requests that are ready go out while a view is still
/// working on the next one (the server joins pipelined answers, but never waits on a
/// view to do it).
#[tokio::test]
async fn pipelined_answers_are_not_held_for_a_view_still_working() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (gate, mut control) = Gate::new();
    let server = Running::start(app().route("/stuck", gate)).await;
    let mut stream = within("connect", TcpStream::connect(server.addr))
        .await
        .expect("connect");
    let mut requests = b"GET /version HTTP/1.1\r\nhost: x\r\n\r\n".repeat(3);
    requests.extend_from_slice(b"GET /stuck HTTP/1.1\r\nhost: x\r\n\r\n");
    requests.extend_from_slice(b"GET /version HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    stream.write_all(&requests).await.expect("write");
    control.reached().await;
    let mut arrived = String::new();
    while arrived.matches("HTTP/1.1 200 OK").count() < 3 || !arrived.ends_with("HTTP/1.1") {
        let mut chunk = [0; 1024];
        let n = within(
            "the three answers before the stuck view's",
            stream.read(&mut chunk),
        )
        .await
        .expect("read");
        assert!(n > 0, "closed early: {arrived}");
        arrived.push_str(&String::from_utf8_lossy(&chunk[..n]));
    }
    assert!(!arrived.contains("finished"), "{arrived}");
    control.release.notify_one();
    let mut rest = String::new();
    within("the rest", stream.read_to_string(&mut rest))
        .await
        .expect("read");
    let finished = rest.find("finished").expect("the stuck view's answer");
    let last = rest.rfind("HTTP/1.1 200 OK").expect("the last answer");
    assert!(finished < last, "answered in order: {rest}");
}

/// A response is not held back for a pipelined request that has only half arrived:
/// the client gets the first answer before it sends the rest of the second request.
#[tokio::test]
async fn a_response_is_not_held_for_a_request_still_arriving() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = Running::start(app()).await;
    let mut stream = within("connect", TcpStream::connect(server.addr))
        .await
        .expect("connect");
    stream
        .write_all(b"GET /version HTTP/1.1\r\nhost: x\r\n\r\nGET /version HTTP/1.1\r\nho")
        .await
        .expect("write");
    let mut first = vec![0; 1024];
    let n = within(
        "the first answer, with the second request incomplete",
        stream.read(&mut first),
    )
    .await
    .expect("read");
    let first = String::from_utf8_lossy(&first[..n]).into_owned();
    assert!(
        first.starts_with("HTTP/1.1 200 OK") && first.ends_with("HTTP/1.1"),
        "{first}"
    );
    stream
        .write_all(b"st: x\r\nconnection: close\r\n\r\n")
        .await
        .expect("write the rest");
    let mut rest = String::new();
    within("the second answer", stream.read_to_string(&mut rest))
        .await
        .expect("read");
    assert!(rest.starts_with("HTTP/1.1 200 OK"), "{rest}");
}
