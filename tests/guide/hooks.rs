//! Chapter "Hooks and middleware": before and after hooks, answering from a hook with
//! `complete()`, the order hooks run in, and background tasks.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bocata::http::HeaderValue;
use bocata::response::BodyKind;
use bocata::testing::TestClient;
use bocata::{App, Error, Methods, Request, Res, Result, Router, abort, with_hooks};
use bocata_tests::{LogCapture, Running, get, read, within};
use tokio::sync::{Notify, mpsc, oneshot};

// ANCHOR: before
/// Who is asking, as `authenticate` found out: Flask's `g.user`.
#[derive(Clone, Debug)]
struct User(String);

/// Before every view: identifies the caller by their API key, or stops the request.
async fn authenticate(req: &mut Request, _res: &mut Res) -> Result {
    let name = match req.header("x-api-key") {
        Some("key-of-ana") => "ana",
        Some("key-of-luis") => "luis",
        _ => return Err(Error::new(401, "send your key in X-Api-Key")),
    };
    req.extensions_mut().insert(User(name.to_owned()));
    Ok(())
}

/// `GET /me`: the view finds the user the hook attached.
async fn me(req: &Request, res: &mut Res) -> Result {
    let Some(User(name)) = req.extensions().get::<User>() else {
        return Err(Error::internal(
            "no User: is the authenticate hook installed?",
        ));
    };
    res.text(format!("you are {name}"));
    Ok(())
}
// ANCHOR_END: before

// ANCHOR: after
/// When the request reached the first hook.
#[derive(Clone, Copy, Debug)]
struct Started(Instant);

/// Before every view: notes the time.
async fn start_timer(req: &mut Request, _res: &mut Res) -> Result {
    req.extensions_mut().insert(Started(Instant::now()));
    Ok(())
}

/// After every view: says how long the app took, in milliseconds.
async fn server_timing(req: &Request, res: &mut Res) -> Result {
    if let Some(Started(at)) = req.extensions().get::<Started>() {
        let ms = at.elapsed().as_secs_f64() * 1000.0;
        res.header("server-timing", format!("app;dur={ms:.2}"));
    }
    Ok(())
}
// ANCHOR_END: after

// ANCHOR: complete
/// Switched on while the database is being migrated.
#[derive(Debug, Default)]
struct Maintenance(AtomicBool);

/// Before every view: during maintenance, answer at once and skip the view.
async fn maintenance(req: &mut Request, res: &mut Res) -> Result {
    if req.state::<Maintenance>()?.0.load(Ordering::Relaxed) {
        res.status(503)
            .header("retry-after", "120")
            .text("down for maintenance, back in two minutes")
            .complete();
    }
    Ok(())
}
// ANCHOR_END: complete

// ANCHOR: app
/// The app of the first examples.
fn app(maintenance_on: bool) -> App {
    App::new()
        .state(Maintenance(AtomicBool::new(maintenance_on)))
        .before(start_timer)
        .before(maintenance)
        .before(authenticate)
        .after(server_timing)
        .route("/me", bocata::get(me))
}
// ANCHOR_END: app

// ANCHOR: order
/// Before every view of the app. Each hook, and the view, add a line to `x-trail`.
async fn app_before(_req: &mut Request, res: &mut Res) -> Result {
    res.append_header("x-trail", "app before");
    Ok(())
}

/// After every view of the app.
async fn app_after(_req: &Request, res: &mut Res) -> Result {
    res.append_header("x-trail", "app after");
    Ok(())
}

/// Before every view of the admin router.
async fn admin_before(_req: &mut Request, res: &mut Res) -> Result {
    res.append_header("x-trail", "admin before");
    Ok(())
}

/// After every view of the admin router.
async fn admin_after(_req: &Request, res: &mut Res) -> Result {
    res.append_header("x-trail", "admin after");
    Ok(())
}

/// `GET /admin/stats`
async fn stats(_req: &Request, res: &mut Res) -> Result {
    res.append_header("x-trail", "view").text("42 users");
    Ok(())
}

/// Hooks on the app, and on a router mounted in it.
fn layered_hooks() -> App {
    let admin = Router::new()
        .before(admin_before)
        .after(admin_after)
        .route("/stats", bocata::get(stats));
    App::new()
        .before(app_before)
        .after(app_after)
        .mount("/admin", admin)
}
// ANCHOR_END: order

// ANCHOR: background
/// Sends mail. Here it hands each message to a channel; a real one talks to a server.
#[derive(Clone, Debug)]
struct Mailer {
    outbox: mpsc::UnboundedSender<(String, String)>,
}

impl Mailer {
    /// Sends `text` to `to`.
    async fn send(&self, to: String, text: &str) -> std::result::Result<(), String> {
        self.outbox
            .send((to, text.to_owned()))
            .map_err(|_| "the mail server is gone".to_owned())
    }
}

/// `POST /signup`: answers at once; the welcome mail goes out after the response.
async fn signup(req: &Request, res: &mut Res) -> Result {
    let email = req.text().await?.trim().to_owned();
    let mailer = req.state::<Mailer>()?.clone();
    res.status(202)
        .text("welcome! check your mail")
        .background(async move { mailer.send(email, "Welcome aboard").await });
    Ok(())
}
// ANCHOR_END: background

// ANCHOR: per_view
/// Before writing to `/notes`: the caller must hold the API key.
async fn require_api_key(req: &mut Request, _res: &mut Res) -> Result {
    match req.header("x-api-key") {
        Some("key-of-ana") => Ok(()),
        _ => Err(Error::new(401, "send your key in X-Api-Key")),
    }
}

/// After every answer of `/notes`: the list changes, so no cache may keep it.
async fn no_store(_req: &Request, res: &mut Res) -> Result {
    res.header("cache-control", "no-store");
    Ok(())
}

/// `GET /notes`
async fn list_notes(_req: &Request, res: &mut Res) -> Result {
    res.json(&["buy bread"]);
    Ok(())
}

/// `POST /notes`
async fn add_note(req: &Request, res: &mut Res) -> Result {
    let note = req.text().await?;
    res.status(201).json(&note);
    Ok(())
}

/// `GET /`: open to everyone, with no hooks of its own.
async fn home(_req: &Request, res: &mut Res) -> Result {
    res.text("welcome");
    Ok(())
}

fn notes_app() -> App {
    let notes = with_hooks(bocata::get(list_notes).post(add_note))
        .before_on(Methods::POST, require_api_key)
        .after(no_store);
    App::new()
        .route("/", bocata::get(home))
        .route("/notes", notes)
}
// ANCHOR_END: per_view

// ANCHOR: read_back
/// After every view: successful pages may be cached for a minute, unless the view
/// chose otherwise. JSON, streams and errors are left alone.
async fn cache_pages(_req: &Request, res: &mut Res) -> Result {
    let page = matches!(res.body_kind(), BodyKind::Text | BodyKind::Template);
    if page && res.status_code() == 200 && !res.headers().contains_key("cache-control") {
        res.header("cache-control", "public, max-age=60");
    }
    Ok(())
}
// ANCHOR_END: read_back

#[tokio::test]
async fn a_hook_on_one_view_and_one_method() {
    let client = TestClient::new(notes_app());
    let res = client.get("/").send().await;
    assert_eq!(res.text(), "welcome");
    assert_eq!(
        res.header("cache-control"),
        None,
        "other routes have no hooks"
    );

    let res = client.get("/notes").send().await;
    assert_eq!(res.status(), 200, "reading needs no key");
    assert_eq!(res.header("cache-control"), Some("no-store"));

    let res = client.post("/notes").body("call mum").send().await;
    assert_eq!(res.status(), 401, "writing does");
    let res = client
        .post("/notes")
        .header("x-api-key", "key-of-ana")
        .body("call mum")
        .send()
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<String>(), "call mum");
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn an_after_hook_reads_what_the_view_set() {
    async fn teapot(_req: &Request, res: &mut Res) -> Result {
        res.status(418).text("short and stout");
        Ok(())
    }

    let client = TestClient::new(
        App::new()
            .after(cache_pages)
            .route("/", bocata::get(home))
            .route("/notes", bocata::get(list_notes))
            .route("/teapot", bocata::get(teapot)),
    );
    let cached =
        |res: &bocata::testing::TestResponse| res.header("cache-control").map(str::to_owned);
    assert_eq!(
        cached(&client.get("/").send().await).as_deref(),
        Some("public, max-age=60")
    );
    assert_eq!(cached(&client.get("/notes").send().await), None, "JSON");
    assert_eq!(
        cached(&client.get("/teapot").send().await),
        None,
        "not a 200"
    );
}

#[tokio::test]
async fn a_before_hook_attaches_data_or_stops_the_request() {
    let client = TestClient::new(app(false));
    let res = client
        .get("/me")
        .header("x-api-key", "key-of-ana")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "you are ana");

    let res = client.get("/me").send().await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.text(), "401 Unauthorized: send your key in X-Api-Key\n");
    assert_eq!(
        res.header("server-timing"),
        None,
        "after hooks do not run for errors"
    );
}

#[tokio::test]
async fn an_after_hook_changes_every_response() {
    let client = TestClient::new(app(false));
    let res = client
        .get("/me")
        .header("x-api-key", "key-of-luis")
        .send()
        .await;
    let timing = res.header("server-timing").expect("a Server-Timing header");
    let ms: f64 = timing
        .strip_prefix("app;dur=")
        .expect("app;dur=…")
        .parse()
        .expect("a number of milliseconds");
    assert!(ms >= 0.0, "{timing}");
}

#[tokio::test]
async fn complete_answers_from_the_hook() {
    let client = TestClient::new(app(true));
    // No API key: `authenticate` would refuse, but it never runs.
    let res = client.get("/me").send().await;
    assert_eq!(res.status(), 503);
    assert_eq!(res.header("retry-after"), Some("120"));
    assert_eq!(res.text(), "down for maintenance, back in two minutes");
    assert!(
        res.header("server-timing").is_some(),
        "after hooks still run for a completed response"
    );
}

#[tokio::test]
async fn hooks_run_outside_in_then_inside_out() {
    let res = TestClient::new(layered_hooks())
        .get("/admin/stats")
        .send()
        .await;
    assert_eq!(res.text(), "42 users");
    let trail: Vec<&str> = res
        .headers()
        .get_all("x-trail")
        .iter()
        .map(|v| v.to_str().expect("ASCII"))
        .collect();
    assert_eq!(
        trail,
        [
            "app before",
            "admin before",
            "view",
            "admin after",
            "app after"
        ]
    );
}

/// Counts the requests its hooks see.
#[derive(Debug, Default)]
struct Seen(AtomicUsize);

/// Counts a request.
async fn count(req: &mut Request, _res: &mut Res) -> Result {
    req.state::<Arc<Seen>>()?.0.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// `GET /docs/`
async fn docs(_req: &Request, res: &mut Res) -> Result {
    res.text("docs");
    Ok(())
}

/// `GET /hello` in a small axum app.
async fn axum_hello() -> &'static str {
    "hello from axum"
}

#[tokio::test]
async fn what_hooks_do_not_run_for() {
    let seen = Arc::new(Seen::default());
    let client = TestClient::new(
        App::new()
            .state(Arc::clone(&seen))
            .before(count)
            .route("/docs/", bocata::get(docs))
            .mount_service(
                "/legacy",
                axum::Router::new().route("/hello", axum::routing::get(axum_hello)),
            ),
    );
    assert_eq!(client.get("/docs/").send().await.text(), "docs");
    assert_eq!(seen.0.load(Ordering::Relaxed), 1);

    assert_eq!(client.get("/nowhere").send().await.status(), 404);
    assert_eq!(client.post("/docs/").send().await.status(), 405);
    assert_eq!(client.options("/docs/").send().await.status(), 204);
    assert_eq!(client.get("/docs").send().await.status(), 308);
    assert_eq!(
        client.get("/legacy/hello").send().await.text(),
        "hello from axum"
    );
    assert_eq!(
        seen.0.load(Ordering::Relaxed),
        1,
        "none of those ran a hook"
    );
}

/// Panics before every view.
async fn buggy_hook(_req: &mut Request, _res: &mut Res) -> Result {
    let keys: Vec<&str> = Vec::new();
    assert!(!keys.is_empty(), "no keys configured");
    Ok(())
}

#[tokio::test]
async fn a_panicking_hook_is_a_500() {
    let client = TestClient::new(App::new().before(buggy_hook).route("/me", bocata::get(me)));
    let res = client.get("/me").send().await;
    assert_eq!(res.status(), 500);
}

#[tokio::test]
async fn background_tasks_run_after_the_response() {
    let (outbox, mut sent) = mpsc::unbounded_channel();
    let client = TestClient::new(
        App::new()
            .state(Mailer { outbox })
            .route("/signup", bocata::post(signup)),
    );
    let res = client.post("/signup").body("ana@example.com").send().await;
    assert_eq!(res.status(), 202);
    assert_eq!(res.text(), "welcome! check your mail");
    let mail = within("the welcome mail", sent.recv()).await;
    assert_eq!(
        mail,
        Some(("ana@example.com".to_owned(), "Welcome aboard".to_owned()))
    );
}

/// Schedules a task that waits for a release the test sends only once it holds the
/// response.
#[derive(Debug)]
struct Waits {
    release: Arc<Notify>,
    done: mpsc::UnboundedSender<&'static str>,
}

#[bocata::view]
impl Waits {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let (release, done) = (Arc::clone(&self.release), self.done.clone());
        res.text("accepted").background(async move {
            release.notified().await;
            done.send("ran").ok();
        });
        Ok(())
    }
}

/// Schedules a task, then fails.
#[derive(Debug)]
struct FailsAfterScheduling {
    ran: Mutex<Option<oneshot::Sender<()>>>,
}

#[bocata::view]
impl FailsAfterScheduling {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        let ran = self.ran.lock().expect("not poisoned").take();
        res.text("accepted").background(async move {
            if let Some(ran) = ran {
                ran.send(()).ok();
            }
        });
        abort(503)
    }
}

#[tokio::test]
async fn a_task_never_delays_the_response() {
    let release = Arc::new(Notify::new());
    let (done, mut finished) = mpsc::unbounded_channel();
    let client = TestClient::new(App::new().route(
        "/",
        Waits {
            release: Arc::clone(&release),
            done,
        },
    ));
    // The task waits for a release that comes only after the response has arrived.
    let res = within("the response", client.get("/").send()).await;
    assert_eq!(res.text(), "accepted");
    release.notify_one();
    assert_eq!(within("the task", finished.recv()).await, Some("ran"));
}

#[tokio::test]
async fn a_task_is_dropped_unrun_if_the_view_fails() {
    let (ran, dropped) = oneshot::channel();
    let client = TestClient::new(App::new().route(
        "/",
        FailsAfterScheduling {
            ran: Mutex::new(Some(ran)),
        },
    ));
    assert_eq!(client.get("/").send().await.status(), 503);
    assert!(
        within("the task to be dropped", dropped).await.is_err(),
        "the sender was dropped without being used: the task never ran"
    );
}

/// `GET /panics`: schedules a task that panics.
async fn panics_later(_req: &Request, res: &mut Res) -> Result {
    res.text("accepted").background(async {
        let jobs: Vec<u32> = Vec::new();
        assert!(!jobs.is_empty(), "no jobs to run");
    });
    Ok(())
}

#[tokio::test]
async fn task_failures_and_panics_are_logged() {
    let log = LogCapture::start();
    let (outbox, sent) = mpsc::unbounded_channel();
    drop(sent); // the mail server is gone
    let client = TestClient::new(
        App::new()
            .state(Mailer { outbox })
            .route("/signup", bocata::post(signup))
            .route("/panics", bocata::get(panics_later)),
    );
    let res = client.post("/signup").body("luis@example.com").send().await;
    assert_eq!(res.status(), 202, "the response is unaffected");
    let res = client.get("/panics").send().await;
    assert_eq!(res.status(), 200, "the response is unaffected");
    within("the failures to be logged", async {
        while !(log
            .text()
            .contains("a background task failed: the mail server is gone")
            && log
                .text()
                .contains("a background task panicked: no jobs to run"))
        {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(
        log.text().contains("ERROR bocata::background"),
        "{}",
        log.text()
    );
    assert_eq!(
        client.get("/panics").send().await.status(),
        200,
        "still serving"
    );
}

#[tokio::test]
async fn static_files_go_through_hooks() {
    let files = bocata_tests::Fixture::new("hooks-static");
    files.file("site.css", "body { color: gold }");
    let client = TestClient::new(
        App::new()
            .before(authenticate)
            .static_files("/static", &files.dir),
    );
    assert_eq!(client.get("/static/site.css").send().await.status(), 401);
    let res = client
        .get("/static/site.css")
        .header("x-api-key", "key-of-ana")
        .send()
        .await;
    assert_eq!(res.text(), "body { color: gold }");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_me_exchanges_on_the_wire() {
    let server = Running::start(app(false)).await;
    let mut conn = server.http1().await;
    let mut request = get("/me");
    request
        .headers_mut()
        .insert("x-api-key", HeaderValue::from_static("key-of-ana"));
    let response = within("a response", conn.send_request(request))
        .await
        .expect("a response");
    let (head, body) = read(response).await;
    let names: Vec<&str> = head.headers.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        ["server-timing", "content-type", "content-length", "date"]
    );
    assert_eq!(head.headers["content-length"], "11");
    assert_eq!(body, "you are ana");

    within("ready", conn.ready()).await.expect("usable");
    let response = within("a response", conn.send_request(get("/me")))
        .await
        .expect("a response");
    let (head, body) = read(response).await;
    assert_eq!(head.status, 401);
    let names: Vec<&str> = head.headers.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "content-type",
            "x-content-type-options",
            "content-length",
            "date"
        ]
    );
    assert_eq!(head.headers["content-length"], "45");
    assert_eq!(body, "401 Unauthorized: send your key in X-Api-Key\n");
    server.shutdown().await.expect("clean shutdown");
}

/// Where the tasks scheduled below report.
#[derive(Debug)]
struct Reports(mpsc::UnboundedSender<&'static str>);

/// After every view: schedules an audit line.
async fn audit(req: &Request, res: &mut Res) -> Result {
    let reports = req.state::<Reports>()?.0.clone();
    res.background(async move {
        reports.send("audited").ok();
    });
    Ok(())
}

/// Before every view: schedules a note too.
async fn early(req: &mut Request, res: &mut Res) -> Result {
    let reports = req.state::<Reports>()?.0.clone();
    res.background(async move {
        reports.send("before hook").ok();
    });
    Ok(())
}

/// The 404 page: schedules a note.
async fn noted_404(_caught: &bocata::error::Caught<'_>, res: &mut Res) -> Result {
    let reports = NOTES.get().expect("set by the test").clone();
    res.text("no such page").background(async move {
        reports.send("404 noted").ok();
    });
    Ok(())
}

/// Where `noted_404` reports: an error page has no state.
static NOTES: std::sync::OnceLock<mpsc::UnboundedSender<&'static str>> = std::sync::OnceLock::new();

/// `GET /numbers`: a stream whose end sets a flag the task reads.
async fn numbers(req: &Request, res: &mut Res) -> Result {
    let reports = req.state::<Reports>()?.0.clone();
    let ended = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&ended);
    res.streaming(bocata::stream! {
        yield "1\n";
        yield "2\n";
        flag.store(true, Ordering::SeqCst);
    })
    .background(async move {
        let when = if ended.load(Ordering::SeqCst) {
            "after the stream"
        } else {
            "too early"
        };
        reports.send(when).ok();
    });
    Ok(())
}

#[tokio::test]
async fn tasks_from_after_hooks_error_pages_and_streams() {
    let (tx, mut reports) = mpsc::unbounded_channel();
    NOTES.set(tx.clone()).expect("set once");
    let client = TestClient::new(
        App::new()
            .state(Reports(tx))
            .before(early)
            .after(audit)
            .route("/numbers", bocata::get(numbers))
            .catch(404, noted_404),
    );
    let res = client.get("/numbers").send().await;
    assert_eq!(res.text(), "1\n2\n");
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(within("a report", reports.recv()).await.expect("a report"));
    }
    got.sort_unstable();
    assert_eq!(got, ["after the stream", "audited", "before hook"]);

    assert_eq!(client.get("/nowhere").send().await.text(), "no such page");
    assert_eq!(within("a report", reports.recv()).await, Some("404 noted"));
}
