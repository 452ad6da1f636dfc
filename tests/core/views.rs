//! Views: struct views, function views, method dispatch, 405, HEAD and OPTIONS.

use std::sync::atomic::{AtomicUsize, Ordering};

use bocata::http::Method;
use bocata::testing::TestClient;
use bocata::{App, Methods, Request, Res, Result, View};

/// A view with state in its fields, shared by every request.
struct Counter {
    hits: AtomicUsize,
    label: &'static str,
}

#[bocata::view]
impl Counter {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text(format!("{} {}", self.label, self.next()));
        Ok(())
    }

    async fn on_delete(&self, _req: &Request, res: &mut Res) -> Result {
        self.hits.store(0, Ordering::SeqCst);
        res.status(204);
        Ok(())
    }

    /// A helper in the same impl block stays an ordinary method.
    fn next(&self) -> usize {
        self.hits.fetch_add(1, Ordering::SeqCst) + 1
    }
}

fn counter() -> Counter {
    Counter {
        hits: AtomicUsize::new(0),
        label: "hits",
    }
}

#[tokio::test]
async fn a_view_is_shared_by_all_requests_and_keeps_its_state() {
    let client = TestClient::new(App::new().route("/count", counter()));
    assert_eq!(client.get("/count").send().await.text(), "hits 1");
    assert_eq!(client.get("/count").send().await.text(), "hits 2");
    assert_eq!(client.delete("/count").send().await.status(), 204);
    assert_eq!(client.get("/count").send().await.text(), "hits 1");
}

#[tokio::test]
async fn unimplemented_methods_get_405_with_the_exact_allow_list() {
    let client = TestClient::new(App::new().route("/count", counter()));
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::TRACE] {
        let res = client.request(method.clone(), "/count").send().await;
        assert_eq!(res.status(), 405, "{method}");
        assert_eq!(
            res.header("allow"),
            Some("GET, HEAD, DELETE, OPTIONS"),
            "{method}"
        );
    }
    let propfind = Method::from_bytes(b"PROPFIND").expect("an extension method");
    let res = client.request(propfind, "/count").send().await;
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn head_is_answered_from_get_without_a_body() {
    let client = TestClient::new(App::new().route("/count", counter()));
    let head = client.head("/count").send().await;
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.header("content-length"),
        Some("6"),
        "length of `hits 1`"
    );
    assert_eq!(
        head.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(head.bytes().is_empty());
    assert_eq!(client.get("/count").send().await.text(), "hits 2");
}

#[tokio::test]
async fn options_lists_the_allowed_methods() {
    let client = TestClient::new(App::new().route("/count", counter()));
    let res = client.options("/count").send().await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.header("allow"), Some("GET, HEAD, DELETE, OPTIONS"));
    assert!(res.bytes().is_empty());
}

async fn list(_req: &Request, res: &mut Res) -> Result {
    res.json(&["a", "b"]);
    Ok(())
}

async fn create(req: &Request, res: &mut Res) -> Result {
    let item: String = req.json().await?;
    res.status(201).json(&item);
    Ok(())
}

#[tokio::test]
async fn function_views_answer_the_methods_they_are_registered_for() {
    let client = TestClient::new(App::new().route("/items", bocata::get(list).post(create)));
    assert_eq!(client.get("/items").send().await.text(), r#"["a","b"]"#);
    let res = client.post("/items").json("c").send().await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<String>(), "c");
    let res = client.put("/items").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD, POST, OPTIONS"));

    let post_only = TestClient::new(App::new().route("/items", bocata::post(create)));
    let res = post_only.get("/items").send().await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("allow"), Some("POST, OPTIONS"));
}

/// A view written without the macro.
struct HandWritten;

impl View for HandWritten {
    fn methods(&self) -> Methods {
        Methods::GET.with(Methods::PUT)
    }

    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("by hand");
        Ok(())
    }
}

#[tokio::test]
async fn hand_written_views_work_and_a_false_claim_is_a_500_not_a_hang() {
    let client = TestClient::new(App::new().route("/", HandWritten));
    assert_eq!(client.get("/").send().await.text(), "by hand");
    assert_eq!(
        client.options("/").send().await.header("allow"),
        Some("GET, HEAD, PUT, OPTIONS")
    );
    let res = client.put("/").send().await;
    assert_eq!(res.status(), 500, "claims PUT without implementing it");
}

/// Views may be generic; the macro carries the generics over.
struct Echo<T> {
    value: T,
}

#[bocata::view]
impl<T> Echo<T>
where
    T: serde::Serialize + Send + Sync + 'static,
{
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.json(&self.value);
        Ok(())
    }
}

#[tokio::test]
async fn generic_views() {
    let client = TestClient::new(App::new().route("/", Echo { value: [1, 2, 3] }));
    assert_eq!(client.get("/").send().await.text(), "[1,2,3]");
}

/// A view with a method that never waits (called as a plain function) beside one whose
/// only wait is inside a macro (awaited as a future).
struct Shout;

#[bocata::view]
impl Shout {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let times: usize = req.param("times")?;
        if times == 0 {
            return Err(bocata::Error::new(400, "say it at least once"));
        }
        if times == 13 {
            panic!("unlucky");
        }
        let words = (0..times).map(|_| "hey").collect::<Vec<_>>();
        res.text(words.join(" "));
        Ok(())
    }

    async fn on_post(&self, req: &Request, res: &mut Res) -> Result {
        let (body,) = tokio::join!(req.text());
        res.text(body?.to_uppercase());
        Ok(())
    }
}

#[tokio::test]
async fn methods_that_never_wait_answer_fail_and_panic_like_the_others() {
    let client = TestClient::new(App::new().route("/shout/{times}", Shout));
    assert_eq!(client.get("/shout/2").send().await.text(), "hey hey");
    let res = client.get("/shout/0").send().await;
    assert_eq!(res.status(), 400, "an early return with an error");
    let res = client.get("/shout/x").send().await;
    assert_eq!(res.status(), 400, "`?` on a bad parameter");
    let res = client.get("/shout/13").send().await;
    assert_eq!(res.status(), 500, "a panic is caught");
    assert_eq!(client.get("/shout/1").send().await.text(), "hey");
    let res = client.post("/shout/1").body("quiet").send().await;
    assert_eq!(res.text(), "QUIET", "the method that waits is awaited");
    let res = client.head("/shout/3").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-length"), Some("11"));
}

/// The macro on `impl View for …`, with a method that never waits and one that does.
struct Spelled;

#[bocata::view]
impl View for Spelled {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.text("spelled out");
        Ok(())
    }

    async fn on_put(&self, req: &Request, res: &mut Res) -> Result {
        let body = req.text().await?;
        res.text(body.len().to_string());
        Ok(())
    }
}

#[tokio::test]
async fn the_macro_on_impl_view_for_makes_the_same_view() {
    let client = TestClient::new(App::new().route("/", Spelled));
    assert_eq!(client.get("/").send().await.text(), "spelled out");
    assert_eq!(client.put("/").body("four").send().await.text(), "4");
    assert_eq!(
        client.options("/").send().await.header("allow"),
        Some("GET, HEAD, PUT, OPTIONS")
    );
}
