//! Request bodies read as a stream (`Request::stream`, multipart uploads) under
//! `body_timeout` and `body_min_rate`, over real sockets: a body that stops or
//! trickles is a 408 and, on HTTP/1, the end of the connection; one at a sound pace is
//! read whole, however long it takes.

use std::convert::Infallible;
use std::time::Duration;

use bocata::{App, Request, Res, Result};
use bocata_tests::{Running, within};
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn count(req: &Request, res: &mut Res) -> Result {
    let mut body = req.stream()?;
    let mut total = 0;
    while let Some(chunk) = body.next().await {
        total += chunk?.len();
    }
    res.text(format!("{total} bytes"));
    Ok(())
}

async fn upload(req: &Request, res: &mut Res) -> Result {
    let mut form = req.multipart()?;
    let mut total = 0;
    while let Some(mut field) = form.next_field().await? {
        while let Some(chunk) = field.chunk().await? {
            total += chunk.len();
        }
    }
    res.text(format!("{total} bytes"));
    Ok(())
}

fn app() -> App {
    App::new()
        .route("/count", bocata::post(count))
        .route("/upload", bocata::post(upload))
        .body_timeout(Duration::from_secs(2))
        .body_min_rate(1024)
}

const BOUNDARY: &str = "XyZ";

/// Sends `head`, then (unless it is empty) `piece` every `every` as a chunk of a
/// chunked body, until the server answers; returns the answer, and whether the server
/// then closed the connection.
async fn trickle(server: &Running, head: &str, piece: &[u8], every: Duration) -> (String, bool) {
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    writer.write_all(head.as_bytes()).await.expect("the head");
    let piece = piece.to_vec();
    let sender = tokio::spawn(async move {
        if piece.is_empty() {
            // Silent, but not gone: dropping the writer would end the body.
            std::future::pending::<()>().await;
        }
        loop {
            let chunk = [format!("{:x}\r\n", piece.len()).as_bytes(), &piece, b"\r\n"].concat();
            if writer.write_all(&chunk).await.is_err() {
                break;
            }
            tokio::time::sleep(every).await;
        }
    });
    let mut seen = Vec::new();
    let mut buffer = [0; 4096];
    let closed = within("the answer and the end of the connection", async {
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) => break true,
                Err(_) => break true,
                Ok(n) => seen.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    sender.abort();
    (String::from_utf8_lossy(&seen).into_owned(), closed)
}

fn head(path: &str, content_type: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n\r\n"
    )
}

#[tokio::test]
async fn a_trickling_stream_is_a_408_and_the_connection_ends() {
    let server = Running::start(app()).await;
    // A byte every half second: never a wait of 2 s, far below 1 KiB/s.
    let (answer, closed) = trickle(
        &server,
        &head("/count", "application/octet-stream"),
        b"x",
        Duration::from_millis(500),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("slower than 1024 bytes a second"),
        "{answer}"
    );
    assert!(closed);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_trickling_upload_is_a_408_and_the_connection_ends() {
    let server = Running::start(app()).await;
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let first = format!(
        "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n"
    );
    let (answer, closed) = trickle(
        &server,
        &format!(
            "{}{:x}\r\n{first}\r\n",
            head("/upload", &content_type),
            first.len()
        ),
        b"x",
        Duration::from_millis(500),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(closed);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_stream_that_stops_is_a_408_after_the_timeout() {
    let server = Running::start(app()).await;
    let (answer, closed) = trickle(
        &server,
        &head("/count", "application/octet-stream"),
        b"",
        Duration::ZERO,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("longer than 2s"), "{answer}");
    assert!(closed);
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_body_at_a_sound_pace_is_read_whole_however_long_it_takes() {
    let server = Running::start(app()).await;
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(head("/count", "application/octet-stream").as_bytes())
        .await
        .expect("the head");
    // 4 KiB every 250 ms for 3 s: longer than the timeout, well above the pace.
    let piece = vec![b'p'; 4096];
    for _ in 0..12 {
        let chunk = [b"1000\r\n".as_slice(), &piece, b"\r\n"].concat();
        writer.write_all(&chunk).await.expect("a piece");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    writer.write_all(b"0\r\n\r\n").await.expect("the end");
    let mut answer = vec![0; 4096];
    let n = within("the answer", reader.read(&mut answer))
        .await
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("49152 bytes"), "{answer}");
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn on_http2_a_body_that_never_comes_is_a_408() {
    let server = Running::start(app()).await;
    let stream = TcpStream::connect(server.addr).await.expect("connect");
    type Silent =
        StreamBody<futures_util::stream::Pending<std::result::Result<Frame<Bytes>, Infallible>>>;
    let (mut conn, connection) = hyper::client::conn::http2::handshake::<_, _, Silent>(
        TokioExecutor::new(),
        TokioIo::new(stream),
    )
    .await
    .expect("an HTTP/2 handshake");
    tokio::spawn(connection);
    // HEADERS without END_STREAM, then nothing.
    let request = http::Request::post(format!("http://{}/count", server.addr))
        .body(StreamBody::new(futures_util::stream::pending()))
        .expect("a request");
    let response = within("the answer", conn.send_request(request))
        .await
        .expect("a response");
    assert_eq!(response.status(), 408);
    let body = within("the body", response.into_body().collect())
        .await
        .expect("a body")
        .to_bytes();
    assert!(
        String::from_utf8_lossy(&body).contains("longer than 2s"),
        "{body:?}"
    );
    server.shutdown().await.expect("clean shutdown");
}
