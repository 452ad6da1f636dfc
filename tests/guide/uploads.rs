//! Chapter "Uploads": streaming `multipart/form-data` fields, saving files to disk chunk
//! by chunk, limits, bad input, and curl.

// ANCHOR: imports
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bocata::request::multipart::{DEFAULT_MULTIPART_LIMITS, Field, MultipartLimits};
use bocata::{App, Request, Res, Result};
use serde_json::json;
use tokio::io::AsyncWriteExt;
// ANCHOR_END: imports

// ANCHOR: test_imports
use bocata::testing::{Part, TestClient};
// ANCHOR_END: test_imports

use std::convert::Infallible;
use std::process::Command;
use std::time::Duration;

use bocata::testing::MULTIPART_BOUNDARY;
use bocata_tests::{Fixture, Running, pattern, within};
use bytes::Bytes;
use tokio::sync::mpsc;
use tower::ServiceExt;

// ANCHOR: inspect
/// `POST /inspect`: describes each field as it arrives, keeping none of the files.
async fn inspect(req: &Request, res: &mut Res) -> Result {
    let mut form = req.multipart()?;
    let mut report = Vec::new();
    while let Some(mut field) = form.next_field().await? {
        let name = field.name().unwrap_or("").to_owned();
        match field.file_name().map(str::to_owned) {
            // A file: read it chunk by chunk, as it comes off the network.
            Some(file_name) => {
                let kind = field.content_type().unwrap_or("no type").to_owned();
                let mut size = 0;
                while let Some(chunk) = field.chunk().await? {
                    size += chunk.len();
                }
                report.push(format!("{name}: {file_name:?} ({kind}), {size} bytes"));
            }
            // A plain form value: small, so read it whole.
            None => {
                let value = field.text().await?;
                report.push(format!("{name} = {value:?}"));
            }
        }
    }
    res.text(report.join("\n"));
    Ok(())
}
// ANCHOR_END: inspect

// ANCHOR: save
/// `POST /photos`: a form with a `title` and one or more `photo` files, saved to `dir`.
struct Photos {
    dir: PathBuf,
    /// Numbers the stored files. A real app would use a database id or a random UUID.
    next: AtomicU64,
}

#[bocata::view]
impl Photos {
    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let mut form = req.multipart()?;
        let mut title = String::new();
        let mut saved = Vec::new();
        while let Some(mut field) = form.next_field().await? {
            match field.name() {
                Some("title") => title = field.text().await?,
                Some("photo") => {
                    // The client's file name is a label to show, never a path.
                    let label = field.file_name().unwrap_or("unnamed").to_owned();
                    let stored = format!("photo-{}", self.next.fetch_add(1, Ordering::Relaxed));
                    let bytes = save(&mut field, &self.dir.join(&stored)).await?;
                    saved.push(json!({ "name": label, "stored": stored, "bytes": bytes }));
                }
                // Any other field is skipped: the next `next_field` passes over its data.
                _ => {}
            }
        }
        res.status(201)
            .json(&json!({ "title": title, "photos": saved }));
        Ok(())
    }
}

/// Writes `field` to a new file at `path`, one chunk at a time. However the upload
/// stops before the file is complete (over a limit, the client gone, the view's future
/// dropped by a timeout or a shutdown), the partial file is removed.
async fn save(field: &mut Field, path: &Path) -> Result<u64> {
    // `create_new` refuses to replace a file that is already there. The file is created
    // with no `.await` between it and its guard: if the future were dropped while an
    // asynchronous create was under way, the file would appear with no guard to remove
    // it. Creating a file is one short system call, like removing one below.
    let file = std::fs::File::create_new(path)?;
    let partial = PartialFile::new(path);
    let mut file = tokio::fs::File::from_std(file);
    let mut size = 0;
    while let Some(chunk) = field.chunk().await? {
        file.write_all(&chunk).await?;
        size += chunk.len() as u64;
    }
    file.flush().await?;
    partial.keep();
    Ok(size)
}

/// A file being written: removed when dropped, unless it was kept. It is dropped on
/// every way out of `save`: an error returned by `?`, and the future itself dropped.
struct PartialFile {
    path: Option<PathBuf>,
}

impl PartialFile {
    fn new(path: &Path) -> Self {
        Self {
            path: Some(path.to_owned()),
        }
    }

    /// The file is complete: leave it.
    fn keep(mut self) {
        self.path = None;
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if let Some(path) = &self.path {
            // `drop` cannot await, and a removal handed to a task may never run (a
            // shutdown is one of the reasons we are here). Removing a file is one short
            // system call that only touches the folder's entry, on the failure path
            // only, so doing it right here, blocking the thread for that moment, is
            // acceptable and sure to happen.
            std::fs::remove_file(path).ok();
        }
    }
}
// ANCHOR_END: save

// ANCHOR: limits
fn app(upload_dir: PathBuf) -> App {
    App::new()
        .route("/inspect", bocata::post(inspect))
        .route(
            "/photos",
            Photos {
                dir: upload_dir,
                next: AtomicU64::new(1),
            },
        )
        // Uploads: up to 2 MiB a file, 5 MiB a request, and the default 8 KiB for
        // the headers of each part.
        .multipart_limits(MultipartLimits {
            field: 2 * 1024 * 1024,
            total: 5 * 1024 * 1024,
            ..DEFAULT_MULTIPART_LIMITS
        })
        // JSON and form bodies: up to 64 KiB. It does not apply to uploads.
        .body_limit(64 * 1024)
}
// ANCHOR_END: limits

/// The files in `dir`, sorted, with their contents.
fn stored(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the upload folder")
        .map(|entry| {
            let path = entry.expect("an entry").path();
            let name = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("a readable file"))
        })
        .collect();
    files.sort();
    files
}

fn uploads() -> (Fixture, TestClient) {
    let fixture = Fixture::new("guide-uploads");
    std::fs::create_dir_all(fixture.path("uploads")).expect("the upload folder");
    let client = TestClient::new(app(fixture.path("uploads")));
    (fixture, client)
}

// ANCHOR: test_upload
#[tokio::test]
async fn fields_arrive_in_order_and_files_are_streamed() {
    let client = TestClient::new(App::new().route("/inspect", bocata::post(inspect)));
    let photo = vec![0xd8; 300_000];
    let res = client
        .post("/inspect")
        .multipart([
            Part::text("title", "Día de playa"),
            Part::file("photo", "beach.jpg", photo),
            Part::text("tags", "sea,sun"),
        ])
        .send()
        .await;
    assert_eq!(res.status(), 200, "{}", res.text());
    assert_eq!(
        res.text(),
        "title = \"Día de playa\"\nphoto: \"beach.jpg\" (image/jpeg), 300000 bytes\ntags = \"sea,sun\""
    );
}
// ANCHOR_END: test_upload

#[tokio::test]
async fn photos_are_saved_under_names_the_server_chooses() {
    let (fixture, client) = uploads();
    let beach = pattern(1_500_000);
    let sneaky = b"not where you think".to_vec();
    let res = client
        .post("/photos")
        .multipart([
            Part::text("title", "Holiday"),
            Part::text("comment", "skipped"),
            Part::file("photo", "beach.jpg", beach.clone()),
            Part::file("photo", "../../escape.jpg", sneaky.clone()),
        ])
        .send()
        .await;
    assert_eq!(res.status(), 201, "{}", res.text());
    assert_eq!(
        res.json::<serde_json::Value>(),
        json!({
            "title": "Holiday",
            "photos": [
                { "name": "beach.jpg", "stored": "photo-1", "bytes": 1_500_000 },
                { "name": "../../escape.jpg", "stored": "photo-2", "bytes": sneaky.len() },
            ]
        })
    );
    assert_eq!(
        stored(&fixture.path("uploads")),
        vec![
            ("photo-1".to_owned(), beach),
            ("photo-2".to_owned(), sneaky)
        ]
    );
    assert!(!fixture.path("escape.jpg").exists());
    assert!(!fixture.dir.join("../escape.jpg").exists());
}

#[tokio::test]
async fn body_limit_does_not_apply_to_uploads() {
    let (_fixture, client) = uploads();
    // 1.5 MiB, far over the 64 KiB body limit, within the upload limits.
    let photo = pattern(1_500_000);
    let res = client
        .post("/inspect")
        .multipart([Part::file("photo", "big.jpg", photo)])
        .send()
        .await;
    assert_eq!(res.status(), 200, "{}", res.text());

    // A JSON body of 100 KiB is over it.
    #[derive(serde::Deserialize)]
    struct Anything {}
    async fn json_view(req: &Request, res: &mut Res) -> Result {
        let _: Anything = req.json().await?;
        res.text("read");
        Ok(())
    }
    let fixture = Fixture::new("guide-uploads-json");
    let client =
        TestClient::new(app(fixture.path("uploads")).route("/json", bocata::post(json_view)));
    let res = client
        .post("/json")
        .json(&json!({ "padding": "x".repeat(100 * 1024) }))
        .send()
        .await;
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn over_a_limit_is_a_413_and_the_partial_file_is_removed() {
    let (fixture, client) = uploads();
    let too_big = pattern(2 * 1024 * 1024 + 1);
    let res = client
        .post("/photos")
        .multipart([
            Part::text("title", "One"),
            Part::file("photo", "huge.jpg", too_big),
        ])
        .send()
        .await;
    assert_eq!(res.status(), 413, "{}", res.text());
    assert_eq!(
        res.text(),
        "413 Payload Too Large: invalid upload: field \"photo\" exceeded the size limit: 2097152 bytes\n"
    );
    assert_eq!(
        stored(&fixture.path("uploads")),
        vec![],
        "nothing half-written"
    );

    // Three photos of 1.9 MiB: each is under the field limit, together over the total.
    let photo = pattern(1_900_000);
    let res = client
        .post("/photos")
        .multipart([
            Part::file("photo", "a.jpg", photo.clone()),
            Part::file("photo", "b.jpg", photo.clone()),
            Part::file("photo", "c.jpg", photo.clone()),
        ])
        .send()
        .await;
    assert_eq!(res.status(), 413, "{}", res.text());
    assert_eq!(
        res.text(),
        "413 Payload Too Large: invalid upload: stream size exceeded limit: 5242880 bytes\n"
    );
    // The limit is noticed as the body arrives, so how many photos were saved before it
    // depends on how the body was cut into chunks. None is left half-written.
    let files = stored(&fixture.path("uploads"));
    assert!(files.len() < 3, "{} files", files.len());
    assert!(files.iter().all(|(_, data)| data == &photo));
}

/// The files in `dir` and their sizes, sorted; a file removed while it is listed is
/// left out.
fn sizes(dir: &Path) -> Vec<(String, u64)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("the upload folder")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let size = entry.metadata().ok()?.len();
            Some((entry.file_name().to_string_lossy().into_owned(), size))
        })
        .collect();
    files.sort();
    files
}

/// The start of a form with a title and a photo: the photo's first `len` bytes, and
/// the rest of the body never sent.
fn start_of_a_photo_upload(len: usize) -> Bytes {
    let mut body = format!(
        "--{MULTIPART_BOUNDARY}\r\ncontent-disposition: form-data; name=\"title\"\r\n\r\nCut short\r\n\
         --{MULTIPART_BOUNDARY}\r\ncontent-disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\r\n"
    )
    .into_bytes();
    body.extend(pattern(len));
    body.into()
}

/// A `POST /photos` whose body is whatever is sent on the returned sender, as it is
/// sent: the request waits for more until the sender is dropped.
fn upload_fed_by_hand() -> (mpsc::Sender<Bytes>, http::Request<axum::body::Body>) {
    let (sender, receiver) = mpsc::channel::<Bytes>(4);
    let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((Ok::<_, Infallible>(chunk), receiver))
    });
    let request = http::Request::post("/photos")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
        )
        .body(axum::body::Body::from_stream(chunks))
        .expect("a request");
    (sender, request)
}

#[tokio::test]
async fn an_upload_whose_view_is_dropped_midway_leaves_no_file() {
    let (fixture, _) = uploads();
    let folder = fixture.path("uploads");
    let app = app(folder.clone());
    let (sender, request) = upload_fed_by_hand();
    sender
        .send(start_of_a_photo_upload(100_000))
        .await
        .expect("the view reads the body");
    let mut upload = Box::pin(app.clone().oneshot(request));
    // Run the view until part of the photo is on disk; it then waits for the rest.
    within("part of the photo to be written", async {
        loop {
            tokio::select! {
                response = &mut upload => panic!("the upload ended: {:?}", response.map(|r| r.status())),
                () = tokio::time::sleep(Duration::from_millis(5)) => {}
            }
            if sizes(&folder).iter().any(|(_, size)| *size > 0) {
                break;
            }
        }
    })
    .await;
    // What a tower `TimeoutLayer` does when its time is up, and a shutdown or a
    // vanished connection may do: drop the view's future where it stands.
    drop(upload);
    assert!(sender.is_closed(), "the view and its body are gone");
    assert_eq!(sizes(&folder), vec![], "the partial photo is removed");

    // A complete upload still lands.
    let photo = pattern(100_000);
    let res = TestClient::new(app)
        .post("/photos")
        .multipart([Part::file("photo", "a.jpg", photo.clone())])
        .send()
        .await;
    assert_eq!(res.status(), 201, "{}", res.text());
    let files = stored(&folder);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1, photo);
}

/// Sends the head of a `POST /photos` and the start of its body to `server`, and
/// waits until part of the photo is on disk.
async fn send_half_an_upload(server: &Running, folder: &Path) -> tokio::net::TcpStream {
    let mut client = within("connect", tokio::net::TcpStream::connect(server.addr))
        .await
        .expect("a connection");
    let start = start_of_a_photo_upload(100_000);
    let head = format!(
        "POST /photos HTTP/1.1\r\nhost: localhost\r\n\
         content-type: multipart/form-data; boundary={MULTIPART_BOUNDARY}\r\n\
         content-length: {}\r\n\r\n",
        start.len() + 1_000_000
    );
    client
        .write_all(head.as_bytes())
        .await
        .expect("send the head");
    client.write_all(&start).await.expect("send half the body");
    within("part of the photo to be written", async {
        while !sizes(folder).iter().any(|(_, size)| *size > 0) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    client
}

async fn until_empty(folder: &Path) {
    within("the partial photo to be removed", async {
        while !sizes(folder).is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_gone_midway_leaves_no_file() {
    let (fixture, _) = uploads();
    let folder = fixture.path("uploads");
    let server = Running::start(app(folder.clone())).await;
    let client = send_half_an_upload(&server, &folder).await;
    drop(client);
    until_empty(&folder).await;
    server.shutdown().await.expect("a clean shutdown");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shutdown_midway_leaves_no_file() {
    let (fixture, _) = uploads();
    let folder = fixture.path("uploads");
    // The server waits a moment for the upload, then closes its connection, dropping
    // the view where it stands.
    let server = Running::start_with(
        bocata::Server::new(app(folder.clone())).grace_period(Duration::from_millis(50)),
    )
    .await;
    let _client = send_half_an_upload(&server, &folder).await;
    server.shutdown().await.expect("a shutdown");
    until_empty(&folder).await;
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx() {
    let (_fixture, client) = uploads();
    let inspect = || client.post("/inspect");
    let cases = [
        (
            inspect().json(&json!({})),
            415,
            "415 Unsupported Media Type: expected a request with `Content-Type: multipart/form-data`",
        ),
        (
            inspect()
                .multipart([Part::text("title", "x")])
                .header("content-type", "multipart/form-data"),
            400,
            "400 Bad Request: invalid multipart request: ",
        ),
        (
            inspect()
                .header(
                    "content-type",
                    &format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
                )
                .body(format!(
                    "--{MULTIPART_BOUNDARY}\r\ncontent-disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\r\nhalf a pho"
                )),
            400,
            "400 Bad Request: invalid upload: ",
        ),
        (
            inspect().multipart([Part::text("title", &b"\xff\xfe"[..])]),
            400,
            "400 Bad Request: a multipart field is not valid UTF-8",
        ),
        (
            // A field name of 9000 bytes: its part's head is over the 8 KiB default.
            inspect().multipart([Part::text(&"n".repeat(9000), "x")]),
            413,
            "413 Payload Too Large: invalid upload: a part's headers are larger than the limit of 8192 bytes\n",
        ),
    ];
    for (i, (request, status, message)) in cases.into_iter().enumerate() {
        let res = request.send().await;
        assert_eq!(res.status(), status, "case {i}: {}", res.text());
        assert!(res.text().starts_with(message), "case {i}: {}", res.text());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_uploads_a_photo() {
    if !bocata_tests::client("curl", bocata_tests::has_program("curl")) {
        return;
    }
    let fixture = Fixture::new("guide-uploads-curl");
    std::fs::create_dir_all(fixture.path("uploads")).expect("the upload folder");
    let photo = pattern(1_048_576);
    fixture.file("beach.jpg", &photo);
    let server = Running::start(app(fixture.path("uploads"))).await;
    let curl = |path: &str| {
        let url = format!("http://{}{path}", server.addr);
        let dir = fixture.dir.clone();
        tokio::task::spawn_blocking(move || {
            Command::new("curl")
                .args(["--silent", "--show-error", "--max-time", "60"])
                .args(["-F", "title=Holiday", "-F", "photo=@beach.jpg"])
                .arg(url)
                .current_dir(dir)
                .output()
                .expect("curl runs")
        })
    };
    let output = curl("/photos").await.expect("curl ran");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        r#"{"photos":[{"bytes":1048576,"name":"beach.jpg","stored":"photo-1"}],"title":"Holiday"}"#
    );
    // curl gives the file the type of its extension.
    let output = curl("/inspect").await.expect("curl ran");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "title = \"Holiday\"\nphoto: \"beach.jpg\" (image/jpeg), 1048576 bytes"
    );
    assert_eq!(
        stored(&fixture.path("uploads")),
        vec![("photo-1".to_owned(), photo)]
    );
    server.shutdown().await.expect("a clean shutdown");
}
