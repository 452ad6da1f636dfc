//! Multipart uploads: streamed fields, limits, and bad input.

use std::convert::Infallible;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bocata::request::multipart::{DEFAULT_MULTIPART_LIMITS, MultipartLimits};
use bocata::testing::{MULTIPART_BOUNDARY, Part, TestClient};
use bocata::{App, Request, Res, Result};
use bocata_tests::{Fixture, Running, pattern, within};
use bytes::Bytes;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// Describes every field: name, file name, type, size, and (for text) the value.
async fn describe(req: &Request, res: &mut Res) -> Result {
    let mut form = req.multipart()?;
    let mut lines = Vec::new();
    while let Some(mut field) = form.next_field().await? {
        let name = field.name().unwrap_or("?").to_owned();
        let file = field.file_name().map(str::to_owned);
        let kind = field.content_type().unwrap_or("-").to_owned();
        let mut size = 0;
        let mut first = Vec::new();
        while let Some(chunk) = field.chunk().await? {
            if first.len() < 16 {
                first.extend_from_slice(&chunk[..chunk.len().min(16 - first.len())]);
            }
            size += chunk.len();
        }
        let preview = if file.is_some() {
            String::new()
        } else {
            String::from_utf8_lossy(&first).into_owned()
        };
        lines.push(format!(
            "{name} {} {kind} {size} {preview}",
            file.unwrap_or_else(|| "-".into())
        ));
    }
    res.text(lines.join("\n"));
    Ok(())
}

const HEAD_LIMIT: usize = 1024;

fn app() -> App {
    App::new()
        .debug(true)
        .route("/upload", bocata::post(describe))
        .multipart_limits(MultipartLimits {
            field: 64 * 1024,
            total: 100 * 1024,
            part_headers: HEAD_LIMIT,
        })
}

fn client() -> TestClient {
    TestClient::new(app())
}

/// Sends `body` as an upload to `app`'s `/upload`, arriving in `chunks`, and returns
/// the status and the text of the answer.
async fn upload_in_chunks(
    app: App,
    chunks: impl Iterator<Item = Bytes> + Send + 'static,
) -> (u16, String) {
    let request = http::Request::post("/upload")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
        )
        .body(axum::body::Body::from_stream(futures_util::stream::iter(
            chunks.map(Ok::<_, Infallible>),
        )))
        .expect("a request");
    let response = within("the upload", app.oneshot(request))
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.expect("a body");
    (
        status,
        String::from_utf8_lossy(&body.to_bytes()).into_owned(),
    )
}

/// `body` cut into chunks of the sizes in `cut`, taken in turn.
fn cut_into(body: &[u8], cut: &[usize]) -> Vec<Bytes> {
    let mut chunks = Vec::new();
    let mut rest = body;
    for size in cut.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, after) = rest.split_at((*size).min(rest.len()));
        chunks.push(Bytes::copy_from_slice(chunk));
        rest = after;
    }
    chunks
}

/// An upload of a text field whose part head (from just after its `--boundary` to the
/// end of the blank line) is `head_len` bytes, followed by a small file.
fn upload_with_head(head_len: usize) -> Vec<u8> {
    let start = "\r\ncontent-disposition: form-data; name=\"pad\"\r\nx-padding: ";
    let end = "\r\n\r\n";
    let padding = "p".repeat(head_len - start.len() - end.len());
    format!(
        "--{MULTIPART_BOUNDARY}{start}{padding}{end}value\r\n\
         --{MULTIPART_BOUNDARY}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n\
         contents\r\n--{MULTIPART_BOUNDARY}--\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn fields_and_files_are_read_in_order() {
    let photo = pattern(50_000);
    let res = client()
        .post("/upload")
        .multipart([
            Part::text("title", "holiday"),
            Part::file("photo", "beach.jpg", photo).content_type("application/octet-stream"),
            Part::text("note", "café"),
        ])
        .send()
        .await;
    assert_eq!(res.status(), 200, "{}", res.text());
    assert_eq!(
        res.text(),
        "title - - 7 holiday\nphoto beach.jpg application/octet-stream 50000 \nnote - - 5 café"
    );
}

#[tokio::test]
async fn limits_and_bad_input_are_clear_4xx() {
    let big = Bytes::from(pattern(70_000));
    let client = client();
    let upload = || client.post("/upload");
    let cases = [
        (
            upload().multipart([Part::file("file", "big.bin", big.clone())]),
            413,
            "invalid upload",
        ),
        (
            upload().multipart([
                Part::file("a", "a.bin", big.slice(..60_000)),
                Part::file("b", "b.bin", big.slice(..60_000)),
            ]),
            413,
            "invalid upload",
        ),
        (
            upload().header("content-type", "text/plain").body("hello"),
            415,
            "multipart/form-data",
        ),
        (
            upload()
                .header("content-type", "multipart/form-data")
                .body("hello"),
            400,
            "invalid multipart request",
        ),
        (
            upload()
                .header(
                    "content-type",
                    &format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
                )
                .body(format!(
                    "--{MULTIPART_BOUNDARY}\r\ncontent-disposition: form-data; name=\"x\"\r\n\r\ntruncated"
                )),
            400,
            "invalid upload",
        ),
    ];
    for (i, (request, status, message)) in cases.into_iter().enumerate() {
        let res = request.send().await;
        assert_eq!(res.status(), status, "case {i}: {}", res.text());
        assert!(res.text().contains(message), "case {i}: {}", res.text());
    }
}

#[tokio::test]
async fn a_part_head_at_the_limit_is_read_and_one_byte_more_is_a_413() {
    let read = "pad - - 5 value\nfile a.txt - 8 ";
    let refused = "413 Payload Too Large: invalid upload: a part's headers are larger than the limit of 1024 bytes";
    // Whole, and in chunks so small that the boundary and the blank line straddle
    // their edges; the last cut puts an edge in the middle of the blank line.
    let mid_blank = HEAD_LIMIT + "--".len() + MULTIPART_BOUNDARY.len() - 2;
    let cuts: [&[usize]; 5] = [&[usize::MAX], &[1], &[2], &[7, 1, 3], &[mid_blank, 1]];
    for (head_len, status, text) in [
        (HEAD_LIMIT - 1, 200, read),
        (HEAD_LIMIT, 200, read),
        (HEAD_LIMIT + 1, 413, refused),
        (HEAD_LIMIT + 2, 413, refused),
    ] {
        let body = upload_with_head(head_len);
        let res = client()
            .post("/upload")
            .header(
                "content-type",
                &format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
            )
            .body(body.clone())
            .send()
            .await;
        assert_eq!(res.status(), status, "{head_len}: {}", res.text());
        assert!(res.text().starts_with(text), "{head_len}: {}", res.text());
        for cut in cuts {
            let (got_status, got_text) =
                upload_in_chunks(app(), cut_into(&body, cut).into_iter()).await;
            assert_eq!(got_status, status, "{head_len} {cut:?}: {got_text}");
            assert!(got_text.starts_with(text), "{head_len} {cut:?}: {got_text}");
        }
    }
}

#[tokio::test]
async fn a_30_mib_part_head_is_refused_without_reading_the_rest() {
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 30 * 16; // 30 MiB of padding, under the 32 MiB total.
    let app = || App::new().route("/upload", bocata::post(describe));
    let refused = "413 Payload Too Large: invalid upload: a part's headers are larger than the limit of 8192 bytes";
    assert_eq!(DEFAULT_MULTIPART_LIMITS.part_headers, 8192);

    // Arriving in chunks, as from a socket: the stream is pulled no further than the
    // chunk that crosses the limit.
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let start = format!(
        "--{MULTIPART_BOUNDARY}\r\ncontent-disposition: form-data; name=\"a\"\r\nx-padding: "
    );
    let end = format!("\r\n\r\nvalue\r\n--{MULTIPART_BOUNDARY}--\r\n");
    let chunks = (0..CHUNKS + 2).map(move |i| {
        counter.fetch_add(1, Ordering::SeqCst);
        match i {
            0 => Bytes::from(start.clone()),
            i if i <= CHUNKS => Bytes::from(vec![b'p'; CHUNK]),
            _ => Bytes::from(end.clone()),
        }
    });
    let (status, text) = upload_in_chunks(app(), chunks).await;
    assert_eq!(status, 413, "{text}");
    assert!(text.starts_with(refused), "{text}");
    let pulled = pulled.load(Ordering::SeqCst);
    assert!(pulled <= 2, "{pulled} chunks of the body were read");

    // Whole, in one piece of 30 MiB.
    let mut body = Vec::with_capacity(CHUNKS * CHUNK + 200);
    body.extend_from_slice(
        format!(
            "--{MULTIPART_BOUNDARY}\r\ncontent-disposition: form-data; name=\"a\"\r\nx-padding: "
        )
        .as_bytes(),
    );
    body.resize(body.len() + CHUNKS * CHUNK, b'p');
    body.extend_from_slice(format!("\r\n\r\nvalue\r\n--{MULTIPART_BOUNDARY}--\r\n").as_bytes());
    let res = TestClient::new(app())
        .post("/upload")
        .header(
            "content-type",
            &format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
        )
        .body(body)
        .send()
        .await;
    assert_eq!(res.status(), 413, "{}", res.text());
    assert!(res.text().starts_with(refused), "{}", res.text());
}

#[tokio::test]
async fn several_parts_in_small_chunks_read_as_when_whole() {
    let photo = pattern(20_000);
    let mut body = Vec::new();
    for (head, data) in [
        ("name=\"title\"", &b"holiday"[..]),
        (
            "name=\"photo\"; filename=\"beach.jpg\"\r\ncontent-type: image/jpeg",
            &photo,
        ),
        ("name=\"empty\"", b""),
        (
            "name=\"notes\"; filename=\"notes.txt\"",
            b"day one\r\n--not-the-boundary\r\n",
        ),
        ("name=\"note\"", "café".as_bytes()),
    ] {
        body.extend_from_slice(
            format!("--{MULTIPART_BOUNDARY}\r\ncontent-disposition: form-data; {head}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{MULTIPART_BOUNDARY}--\r\n").as_bytes());
    let expected = "title - - 7 holiday\nphoto beach.jpg image/jpeg 20000 \nempty - - 0 \n\
                    notes notes.txt - 29 \nnote - - 5 café";
    // Whole, then as the server gets it from a slow or fragmented connection.
    for cut in [&[usize::MAX][..], &[1], &[2], &[7, 1, 3], &[1000, 1]] {
        let (status, text) = upload_in_chunks(app(), cut_into(&body, cut).into_iter()).await;
        assert_eq!(status, 200, "{cut:?}: {text}");
        assert_eq!(text, expected, "{cut:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_uploads_a_file() {
    if !bocata_tests::client("curl", bocata_tests::has_program("curl")) {
        return;
    }
    let server = Running::start(App::new().route("/upload", bocata::post(describe))).await;
    let fixture = Fixture::new("uploads");
    let data = pattern(3 * 1024 * 1024);
    let path = fixture.file("report final.pdf", &data);
    let url = format!("http://{}/upload", server.addr);
    let output = tokio::task::spawn_blocking(move || {
        let output = Command::new("curl")
            .args([
                "--silent",
                "--show-error",
                "--max-time",
                "60",
                "-F",
                "title=Q3",
            ])
            .arg("-F")
            .arg(format!("report=@{};type=application/pdf", path.display()))
            .arg(&url)
            .output()
            .expect("curl runs");
        drop(fixture);
        output
    })
    .await
    .expect("curl ran");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!(
            "title - - 2 Q3\nreport report final.pdf application/pdf {} ",
            3 * 1024 * 1024
        )
    );
    server.shutdown().await.expect("clean shutdown");
}
