//! Files through the TestClient: `res.file`, HEAD, Range, conditional requests.

use std::path::PathBuf;

use bocata::testing::{TestClient, TestResponse};
use bocata::{App, Request, Res, Result};
use bocata_tests::{Fixture, multipart_byteranges, pattern};

/// How a test view sends its file.
enum How {
    Download,
    Inline,
    Renamed(&'static str),
    WithStatus(u16),
}

struct SendFile {
    path: PathBuf,
    how: How,
}

#[bocata::view]
impl SendFile {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.file(&self.path);
        match self.how {
            How::Download => {}
            How::Inline => {
                res.inline();
            }
            How::Renamed(name) => {
                res.attachment(name);
            }
            How::WithStatus(status) => {
                res.status(status);
            }
        }
        Ok(())
    }

    async fn on_put(&self, _req: &Request, res: &mut Res) -> Result {
        res.file(&self.path);
        Ok(())
    }
}

const LEN: usize = 200_000;

struct Files {
    client: TestClient,
    data: Vec<u8>,
    _fixture: Fixture,
}

fn files() -> Files {
    let fixture = Fixture::new("files");
    let data = pattern(LEN);
    let report = fixture.file("report.bin", &data);
    let text = fixture.file("notes file.txt", "some notes\n");
    let unicode = fixture.file("résumé.pdf", "%PDF");
    let empty = fixture.file("empty.txt", "");
    std::fs::create_dir_all(fixture.path("folder")).expect("a folder");
    let send = |path: PathBuf, how| SendFile { path, how };
    let client = TestClient::new(
        App::new()
            .route("/report", send(report, How::Download))
            .route("/inline", send(text.clone(), How::Inline))
            .route(
                "/renamed",
                send(text.clone(), How::Renamed("notes-2024.txt")),
            )
            .route("/unicode", send(unicode, How::Download))
            .route("/empty", send(empty, How::Download))
            .route("/missing", send(fixture.path("nope.txt"), How::Download))
            .route("/folder", send(fixture.path("folder"), How::Download))
            .route("/not-found-page", send(text, How::WithStatus(404))),
    );
    Files {
        client,
        data,
        _fixture: fixture,
    }
}

fn etag(res: &TestResponse) -> String {
    res.header("etag").expect("an ETag").to_owned()
}

#[tokio::test]
async fn a_file_is_a_download_with_validators() {
    let f = files();
    let res = f.client.get("/report").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().as_ref(), f.data.as_slice());
    assert_eq!(res.header("content-type"), Some("application/octet-stream"));
    assert_eq!(res.header("content-length"), Some(LEN.to_string().as_str()));
    assert_eq!(
        res.header("content-disposition"),
        Some("attachment; filename=\"report.bin\"")
    );
    assert_eq!(res.header("accept-ranges"), Some("bytes"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    let tag = etag(&res);
    assert!(
        tag.starts_with('"') && tag.ends_with('"') && !tag.starts_with("W/"),
        "{tag}"
    );
    let modified = res.header("last-modified").expect("Last-Modified");
    assert!(modified.ends_with(" GMT"), "{modified}");
}

#[tokio::test]
async fn inline_rename_unicode_and_text_types() {
    let f = files();
    let res = f.client.get("/inline").send().await;
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        res.header("content-disposition"),
        Some("inline; filename=\"notes file.txt\"")
    );
    let res = f.client.get("/renamed").send().await;
    assert_eq!(
        res.header("content-disposition"),
        Some("attachment; filename=\"notes-2024.txt\"")
    );
    let res = f.client.get("/unicode").send().await;
    assert_eq!(res.header("content-type"), Some("application/pdf"));
    assert_eq!(
        res.header("content-disposition"),
        Some("attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf")
    );
}

#[tokio::test]
async fn missing_files_and_directories_are_404() {
    let f = files();
    for path in ["/missing", "/folder"] {
        let res = f.client.get(path).send().await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(res.text(), "404 Not Found\n", "{path}");
    }
}

#[tokio::test]
async fn empty_files() {
    let f = files();
    let res = f.client.get("/empty").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-length"), Some("0"));
    assert!(res.bytes().is_empty());
    let res = f
        .client
        .get("/empty")
        .header("range", "bytes=0-")
        .send()
        .await;
    assert_eq!(res.status(), 416);
    assert_eq!(res.header("content-range"), Some("bytes */0"));
}

#[tokio::test]
async fn head_has_the_headers_of_get_and_no_body() {
    let f = files();
    let get = f.client.get("/report").send().await;
    let head = f.client.head("/report").send().await;
    assert_eq!(head.status(), 200);
    assert!(head.bytes().is_empty());
    for name in [
        "content-type",
        "content-length",
        "content-disposition",
        "etag",
        "last-modified",
        "accept-ranges",
    ] {
        assert_eq!(head.header(name), get.header(name), "{name}");
    }
}

#[tokio::test]
async fn single_ranges() {
    let f = files();
    let last = LEN - 1;
    let cases: Vec<(String, usize, usize)> = vec![
        ("bytes=0-99".into(), 0, 100),
        ("bytes=1000-".into(), 1000, LEN),
        ("bytes=-500".into(), LEN - 500, LEN),
        (format!("bytes=150000-{}", LEN * 2), 150_000, LEN),
        (format!("bytes={last}-{last}"), last, LEN),
        ("bytes=-999999999".into(), 0, LEN),
    ];
    for (range, start, end) in cases {
        let res = f.client.get("/report").header("range", &range).send().await;
        assert_eq!(res.status(), 206, "{range}");
        assert_eq!(
            res.header("content-range"),
            Some(format!("bytes {start}-{}/{LEN}", end - 1).as_str()),
            "{range}"
        );
        assert_eq!(
            res.header("content-length"),
            Some((end - start).to_string().as_str()),
            "{range}"
        );
        assert_eq!(res.bytes().as_ref(), &f.data[start..end], "{range}");
        assert_eq!(res.header("content-type"), Some("application/octet-stream"));
    }
}

#[tokio::test]
async fn unsatisfiable_malformed_and_foreign_ranges() {
    let f = files();
    for range in [
        format!("bytes={LEN}-"),
        format!("bytes={LEN}-{}", LEN + 10),
        "bytes=-0".into(),
    ] {
        let res = f.client.get("/report").header("range", &range).send().await;
        assert_eq!(res.status(), 416, "{range}");
        assert_eq!(
            res.header("content-range"),
            Some(format!("bytes */{LEN}").as_str()),
            "{range}"
        );
    }
    for range in [
        "bytes=abc",
        "bytes=5-1",
        "items=0-10",
        "bytes 0-10",
        "bytes=0-1,x",
    ] {
        let res = f.client.get("/report").header("range", range).send().await;
        assert_eq!(res.status(), 200, "{range}");
        assert_eq!(res.bytes().len(), LEN, "{range}");
    }
}

fn parts(res: &TestResponse) -> Vec<(String, Vec<u8>)> {
    let content_type = res.header("content-type").expect("a Content-Type");
    multipart_byteranges(content_type, res.bytes())
}

#[tokio::test]
async fn several_ranges_are_multipart_byteranges() {
    let f = files();
    let res = f
        .client
        .get("/report")
        .header("range", "bytes=500-599, 0-9, -10")
        .send()
        .await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.header("content-range"), None);
    assert_eq!(
        res.header("content-length"),
        Some(res.bytes().len().to_string().as_str())
    );
    let parts = parts(&res);
    let expected = [(0, 10), (500, 600), (LEN - 10, LEN)];
    assert_eq!(parts.len(), expected.len());
    for ((content_range, bytes), (start, end)) in parts.iter().zip(expected) {
        assert_eq!(content_range, &format!("bytes {start}-{}/{LEN}", end - 1));
        assert_eq!(bytes.as_slice(), &f.data[start..end]);
    }
}

#[tokio::test]
async fn overlapping_ranges_are_merged_and_too_many_are_ignored() {
    let f = files();
    let res = f
        .client
        .get("/report")
        .header("range", "bytes=0-99,50-149,150-199")
        .send()
        .await;
    assert_eq!(res.status(), 206);
    assert_eq!(
        res.header("content-range"),
        Some(format!("bytes 0-199/{LEN}").as_str())
    );
    assert_eq!(res.bytes().as_ref(), &f.data[..200]);

    let many = (0..5000)
        .map(|i| format!("{i}-{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let res = f
        .client
        .get("/report")
        .header("range", &format!("bytes={many}"))
        .send()
        .await;
    assert_eq!(res.status(), 200, "thousands of ranges: the whole file");
    assert_eq!(res.bytes().len(), LEN);
}

#[tokio::test]
async fn if_range_honors_a_current_validator_only() {
    let f = files();
    let first = f.client.get("/report").send().await;
    let tag = etag(&first);
    let modified = first
        .header("last-modified")
        .expect("Last-Modified")
        .to_owned();
    let cases = [
        (tag.clone(), 206),
        (modified, 206),
        ("\"stale\"".to_owned(), 200),
        (format!("W/{tag}"), 200),
        ("Mon, 01 Jan 2001 00:00:00 GMT".to_owned(), 200),
    ];
    for (if_range, status) in cases {
        let res = f
            .client
            .get("/report")
            .header("range", "bytes=0-9")
            .header("if-range", &if_range)
            .send()
            .await;
        assert_eq!(res.status(), status, "If-Range: {if_range}");
        let expected_len = if status == 206 { 10 } else { LEN };
        assert_eq!(res.bytes().len(), expected_len, "If-Range: {if_range}");
    }
}

/// Request headers of a table row.
type Headers = Vec<(&'static str, String)>;

#[tokio::test]
async fn a_cache_revalidates() {
    let f = files();
    // ANCHOR: revalidate
    let first = f.client.get("/report").send().await;
    let etag = first.header("etag").expect("an ETag").to_owned();

    let again = f
        .client
        .get("/report")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(again.status(), 304);
    assert!(again.bytes().is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));
    // ANCHOR_END: revalidate
}

#[tokio::test]
async fn conditional_requests() {
    let f = files();
    let first = f.client.get("/report").send().await;
    let tag = etag(&first);
    let modified = first
        .header("last-modified")
        .expect("Last-Modified")
        .to_owned();
    let past = "Mon, 01 Jan 2001 00:00:00 GMT".to_owned();
    let cases: Vec<(&str, Headers, u16)> = vec![
        ("GET", vec![("if-none-match", tag.clone())], 304),
        ("HEAD", vec![("if-none-match", tag.clone())], 304),
        (
            "GET",
            vec![("if-none-match", format!("\"a\", W/{tag}"))],
            304,
        ),
        ("GET", vec![("if-none-match", "*".into())], 304),
        ("GET", vec![("if-none-match", "\"other\"".into())], 200),
        ("GET", vec![("if-modified-since", modified.clone())], 304),
        ("GET", vec![("if-modified-since", past.clone())], 200),
        (
            "GET",
            vec![
                ("if-none-match", "\"other\"".into()),
                ("if-modified-since", modified.clone()),
            ],
            200,
        ),
        ("GET", vec![("if-match", tag.clone())], 200),
        ("GET", vec![("if-match", "\"other\"".into())], 412),
        ("GET", vec![("if-unmodified-since", past)], 412),
        ("GET", vec![("if-unmodified-since", modified)], 200),
        ("PUT", vec![("if-none-match", tag.clone())], 412),
    ];
    for (method, headers, status) in cases {
        let method = bocata::http::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = f.client.request(method.clone(), "/report");
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        let res = request.send().await;
        assert_eq!(res.status(), status, "{method} {headers:?}");
        if status == 304 {
            assert!(res.bytes().is_empty());
            assert_eq!(res.header("etag"), Some(tag.as_str()));
            assert!(res.header("last-modified").is_some());
            assert_eq!(res.header("content-length"), None);
            assert_eq!(res.header("content-type"), None);
        }
    }
}

#[tokio::test]
async fn a_file_with_another_status_is_sent_whole() {
    let f = files();
    let res = f
        .client
        .get("/not-found-page")
        .header("range", "bytes=0-1")
        .send()
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.text(), "some notes\n");
}

/// A file of up to one chunk (64 KiB) is read whole when it is opened; a larger one is
/// read chunk by chunk. Both send the same headers, ranges and validators.
#[tokio::test]
async fn files_either_side_of_one_chunk_answer_alike() {
    const CHUNK: usize = 64 * 1024;
    let fixture = Fixture::new("chunk-sizes");
    for len in [1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK] {
        let data = pattern(len);
        let path = fixture.file(&format!("{len}.bin"), &data);
        let client = TestClient::new(App::new().route(
            "/f",
            SendFile {
                path,
                how: How::Download,
            },
        ));
        let res = client.get("/f").send().await;
        assert_eq!(res.status(), 200, "{len}");
        assert_eq!(res.bytes().as_ref(), data.as_slice(), "{len}");
        assert_eq!(res.header("content-length"), Some(len.to_string().as_str()));
        assert_eq!(res.header("accept-ranges"), Some("bytes"));
        let tag = etag(&res);

        let res = client.head("/f").send().await;
        assert_eq!(res.header("content-length"), Some(len.to_string().as_str()));
        assert!(res.bytes().is_empty(), "{len}");

        let res = client.get("/f").header("if-none-match", &tag).send().await;
        assert_eq!(res.status(), 304, "{len}");
        assert!(res.bytes().is_empty());

        let last = len - 1;
        let res = client
            .get("/f")
            .header("range", &format!("bytes={last}-"))
            .send()
            .await;
        assert_eq!(res.status(), 206, "{len}");
        assert_eq!(res.bytes().as_ref(), &data[last..]);
        assert_eq!(
            res.header("content-range"),
            Some(format!("bytes {last}-{last}/{len}").as_str())
        );

        if len >= 20 {
            let res = client
                .get("/f")
                .header("range", "bytes=0-9, -10")
                .send()
                .await;
            assert_eq!(res.status(), 206, "{len}");
            let parts = parts(&res);
            assert_eq!(parts.len(), 2, "{len}");
            assert_eq!(parts[0].1, &data[..10]);
            assert_eq!(parts[1].1, &data[len - 10..]);
        }
    }
}
