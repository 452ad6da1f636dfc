//! Multipart uploads: streamed fields, limits, and bad input.

use std::process::Command;

use bocata::request::multipart::MultipartLimits;
use bocata::testing::{MULTIPART_BOUNDARY, Part, TestClient};
use bocata::{App, Request, Res, Result};
use bocata_tests::{Fixture, Running, pattern};
use bytes::Bytes;

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

fn client() -> TestClient {
    TestClient::new(
        App::new()
            .debug(true)
            .route("/upload", bocata::post(describe))
            .multipart_limits(MultipartLimits {
                field: 64 * 1024,
                total: 100 * 1024,
            }),
    )
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

#[tokio::test(flavor = "multi_thread")]
async fn curl_uploads_a_file() {
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
            .expect("curl is installed (.ci/run installs it)");
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
