//! Files over a real socket: Range and HEAD with curl, and a file that shrinks while it
//! is being sent.

use std::path::{Path, PathBuf};
use std::process::Command;

use bocata::{App, Request, Res, Result};
use bocata_tests::{Fixture, Running, get, multipart_byteranges, pattern, within};
use http_body_util::BodyExt;

struct SendFile {
    path: PathBuf,
}

#[bocata::view]
impl SendFile {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.file(&self.path);
        Ok(())
    }
}

/// Runs curl with `args` against `url`, returning (status line and headers, body).
fn curl(fixture: &Fixture, url: &str, args: &[&str]) -> (String, Vec<u8>) {
    let headers = fixture.path("curl-headers.txt");
    let body = fixture.path("curl-body.bin");
    std::fs::remove_file(&body).ok();
    let status = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--max-time",
            "30",
            "--dump-header",
        ])
        .arg(&headers)
        .arg("--output")
        .arg(&body)
        .args(args)
        .arg(url)
        .status()
        .expect("curl runs");
    assert!(status.success(), "curl {args:?} {url}: {status}");
    let headers = std::fs::read_to_string(&headers).expect("curl wrote the headers");
    let body = std::fs::read(&body).unwrap_or_default();
    (headers.to_ascii_lowercase(), body)
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

async fn serve(path: &Path) -> Running {
    Running::start(App::new().route(
        "/file",
        SendFile {
            path: path.to_owned(),
        },
    ))
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_range_requests_and_head() {
    if !bocata_tests::client("curl", bocata_tests::has_program("curl")) {
        return;
    }
    let fixture = Fixture::new("wire");
    let data = pattern(300_000);
    let path = fixture.file("data.bin", &data);
    let server = serve(&path).await;
    let url = format!("http://{}/file", server.addr);

    let (fixture, url_in_task) = (fixture, url.clone());
    let (fixture, data) = tokio::task::spawn_blocking(move || {
        let (headers, body) = curl(&fixture, &url_in_task, &["--range", "1000-1999"]);
        assert!(headers.starts_with("http/1.1 206"), "{headers}");
        assert_eq!(
            header(&headers, "content-range"),
            Some("bytes 1000-1999/300000")
        );
        assert_eq!(body, &data[1000..2000]);

        let (headers, body) = curl(&fixture, &url_in_task, &["--range", "-100"]);
        assert!(headers.starts_with("http/1.1 206"), "{headers}");
        assert_eq!(body, &data[data.len() - 100..]);

        let (headers, body) = curl(&fixture, &url_in_task, &["--range", "0-9,100-199,299990-"]);
        assert!(headers.starts_with("http/1.1 206"), "{headers}");
        let content_type = header(&headers, "content-type").expect("a Content-Type");
        let parts = multipart_byteranges(content_type, &body);
        let expected = [(0, 10), (100, 200), (299_990, 300_000)];
        assert_eq!(parts.len(), 3);
        for ((range, bytes), (start, end)) in parts.iter().zip(expected) {
            assert_eq!(range, &format!("bytes {start}-{}/300000", end - 1));
            assert_eq!(bytes.as_slice(), &data[start..end]);
        }

        let (headers, body) = curl(&fixture, &url_in_task, &["--range", "400000-"]);
        assert!(headers.starts_with("http/1.1 416"), "{headers}");
        assert_eq!(header(&headers, "content-range"), Some("bytes */300000"));
        assert!(!body.is_empty(), "a short error body");

        let (get_headers, body) = curl(&fixture, &url_in_task, &[]);
        assert_eq!(body, data);
        let (head_headers, body) = curl(&fixture, &url_in_task, &["--head"]);
        assert!(head_headers.starts_with("http/1.1 200"), "{head_headers}");
        // With --head, curl writes the head to the output too: nothing else may follow.
        assert_eq!(
            String::from_utf8_lossy(&body).to_ascii_lowercase(),
            head_headers
        );
        for name in [
            "content-length",
            "content-type",
            "etag",
            "last-modified",
            "accept-ranges",
        ] {
            assert_eq!(
                header(&head_headers, name),
                header(&get_headers, name),
                "{name}"
            );
        }
        (fixture, data)
    })
    .await
    .expect("the curl checks pass");
    drop((fixture, data));
    server.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_shrinks_while_sent_aborts_the_response() {
    let fixture = Fixture::new("shrink");
    let path = fixture.path("big.bin");
    // Far more than socket buffers hold, so most of it is still unread when it shrinks.
    const LEN: u64 = 256 * 1024 * 1024;
    std::fs::File::create(&path)
        .and_then(|f| f.set_len(LEN))
        .expect("a sparse file");
    let server = serve(&path).await;

    let mut conn = server.http1().await;
    let response = within("the response head", conn.send_request(get("/file")))
        .await
        .expect("a response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-length"], LEN.to_string());
    let mut body = response.into_body();
    let first = within("the first chunk", body.frame())
        .await
        .expect("a frame")
        .expect("no error yet");
    let mut received = first.data_ref().map_or(0, |d| d.len() as u64);

    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(1000))
        .expect("truncate the file");

    let outcome = within("the body to end", async {
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => received += frame.data_ref().map_or(0, |d| d.len() as u64),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    })
    .await;
    assert!(outcome.is_err(), "the client must see an incomplete body");
    assert!(received < LEN, "got {received} of {LEN} bytes");
    server.shutdown().await.expect("clean shutdown");
}
