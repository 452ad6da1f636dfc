//! Testing an [`App`] in-process, with no socket.
//!
//! [`TestClient`] sends requests straight into the app and returns the finished
//! response. Cookies the app sets are kept and sent back on later requests of the same
//! client, as a browser would.
//!
//! ```
//! use bocata::testing::TestClient;
//! use bocata::{App, Request, Res, Result};
//!
//! async fn hello(req: &Request, res: &mut Res) -> Result {
//!     let name: String = req.param("name")?;
//!     res.text(format!("Hello, {name}!"));
//!     Ok(())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let client = TestClient::new(App::new().route("/hello/{name}", bocata::get(hello)));
//! let res = client.get("/hello/Ana").send().await;
//! assert_eq!(res.status(), 200);
//! assert_eq!(res.text(), "Hello, Ana!");
//! # }
//! ```
//!
//! Headers and cookies that every request needs (a token, a session cookie made
//! elsewhere) are set once on the client, with [`with_header`](TestClient::with_header)
//! and [`with_cookie`](TestClient::with_cookie).
//!
//! The request builder and response accessors panic on misuse (an invalid header name
//! in the test, asking for JSON from a body that is not JSON), with a message saying
//! what went wrong: in a test, that is a failure to report, not an error to handle.

#[cfg(feature = "openapi-check")]
mod check;
mod jar;
mod multipart;
#[cfg(feature = "websocket")]
mod websocket;

use std::sync::Mutex;

use crate::body::Body;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use http_body_util::BodyExt;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::App;
use jar::Jar;
pub use multipart::{MULTIPART_BOUNDARY, Part};
#[cfg(feature = "websocket")]
pub use websocket::TestWebSocket;

/// Drives an [`App`] in-process. See the [module documentation](self).
#[derive(Debug)]
pub struct TestClient {
    app: App,
    jar: Mutex<Jar>,
    /// Sent with every request that does not set its own.
    headers: HeaderMap,
    /// How the app's startup hooks went, once the first request has run them.
    started: tokio::sync::OnceCell<Result<(), String>>,
}

impl TestClient {
    /// A client for `app`, with an empty cookie jar and no headers of its own.
    pub fn new(app: App) -> Self {
        Self {
            app,
            jar: Mutex::new(Jar::default()),
            headers: HeaderMap::new(),
            started: tokio::sync::OnceCell::new(),
        }
    }

    /// Runs the app's shutdown hooks ([`App::on_shutdown`]), as a server does after its
    /// last request: a test of what they close calls it once it has sent its requests.
    /// A client dropped without it does not run them.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use std::sync::atomic::{AtomicBool, Ordering};
    /// # use bocata::{App, testing::TestClient};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let closed = Arc::new(AtomicBool::new(false));
    /// let flag = Arc::clone(&closed);
    /// let app = App::new().on_shutdown(move || {
    ///     let flag = Arc::clone(&flag);
    ///     async move {
    ///         flag.store(true, Ordering::Release);
    ///         Ok(())
    ///     }
    /// });
    /// let client = TestClient::new(app);
    /// assert_eq!(client.get("/").send().await.status(), 404);
    /// client.shutdown().await;
    /// assert!(closed.load(Ordering::Acquire));
    /// # }
    /// ```
    pub async fn shutdown(self) {
        self.app.shared.lifecycle.stop().await;
    }

    /// Sends header `name` with every request of this client, as Falcon's
    /// `TestClient(app, headers=…)` does, unless a request sets that header itself with
    /// [`TestRequest::header`] (or a body setter such as [`json`](TestRequest::json)
    /// sets its `Content-Type`): then the request's value is sent instead, for that
    /// request only. A second call for the same name replaces the first. Default:
    /// none.
    ///
    /// ```
    /// # use bocata::{App, Request, Res, Result, abort, testing::TestClient};
    /// async fn me(req: &Request, res: &mut Res) -> Result {
    ///     match req.header("authorization") {
    ///         Some("Bearer ana-token") => res.text("ana"),
    ///         _ => return abort(401),
    ///     };
    ///     Ok(())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let client = TestClient::new(App::new().route("/me", bocata::get(me)))
    ///     .with_header("authorization", "Bearer ana-token");
    /// assert_eq!(client.get("/me").send().await.text(), "ana");
    /// let res = client.get("/me").header("authorization", "Bearer nobody").send().await;
    /// assert_eq!(res.status(), 401);
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// If the name or value is not a valid header.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        let (name, value) = header_pair(name, value);
        self.headers.insert(name, value);
        self
    }

    /// Puts cookie `name` in the client's jar, as if the app had set it: it is sent
    /// with every request until the app replaces or removes it, and a request's own
    /// [`cookie`](TestRequest::cookie) of that name wins for that request. For a
    /// session or a login made outside the app under test. Default: the jar starts
    /// empty.
    #[must_use]
    pub fn with_cookie(self, name: &str, value: &str) -> Self {
        self.jar().set(name, value);
        self
    }

    /// A request with any method.
    pub fn request(&self, method: Method, path: &str) -> TestRequest<'_> {
        TestRequest {
            client: self,
            method,
            path: path.to_owned(),
            query: String::new(),
            headers: HeaderMap::new(),
            cookies: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// A `GET` request.
    pub fn get(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::GET, path)
    }

    /// A `HEAD` request.
    pub fn head(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::HEAD, path)
    }

    /// A `POST` request.
    pub fn post(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::POST, path)
    }

    /// A `PUT` request.
    pub fn put(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PUT, path)
    }

    /// A `PATCH` request.
    pub fn patch(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::PATCH, path)
    }

    /// A `DELETE` request.
    pub fn delete(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::DELETE, path)
    }

    /// An `OPTIONS` request.
    pub fn options(&self, path: &str) -> TestRequest<'_> {
        self.request(Method::OPTIONS, path)
    }

    /// The value of cookie `name` in the jar, as the app last set it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar().get(name)
    }

    fn jar(&self) -> std::sync::MutexGuard<'_, Jar> {
        self.jar
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A request under construction; finish it with [`send`](TestRequest::send).
#[must_use = "a test request does nothing until it is sent"]
#[derive(Debug)]
pub struct TestRequest<'c> {
    client: &'c TestClient,
    method: Method,
    path: String,
    query: String,
    headers: HeaderMap,
    cookies: Vec<(String, String)>,
    body: Bytes,
}

impl TestRequest<'_> {
    /// Sets header `name`, replacing earlier values and the client's own
    /// ([`TestClient::with_header`]). A `Cookie` header set here is sent first, as
    /// written; the jar's cookies and [`cookie`](Self::cookie)'s follow it, except
    /// those it names.
    ///
    /// # Panics
    ///
    /// If the name or value is not a valid header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let (name, value) = header_pair(name, value);
        self.headers.insert(name, value);
        self
    }

    /// Adds `params` to the query string, encoded (`&[("q", "a b")]` or any
    /// `Serialize` struct).
    ///
    /// # Panics
    ///
    /// If `params` cannot be encoded as a query string.
    pub fn query<T: Serialize + ?Sized>(mut self, params: &T) -> Self {
        let encoded = serde_urlencoded::to_string(params).expect("encodable query parameters");
        if !self.query.is_empty() && !encoded.is_empty() {
            self.query.push('&');
        }
        self.query.push_str(&encoded);
        self
    }

    /// Sends cookie `name` with this request, in addition to the jar's.
    pub fn cookie(mut self, name: &str, value: &str) -> Self {
        self.cookies.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends `value` as a JSON body with `Content-Type: application/json`.
    ///
    /// # Panics
    ///
    /// If `value` fails to serialize.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_json::to_vec(value).expect("a serializable JSON body");
        self.body(body).header("content-type", "application/json")
    }

    /// Sends `value` as an HTML form (`application/x-www-form-urlencoded`).
    ///
    /// # Panics
    ///
    /// If `value` cannot be encoded as a form.
    pub fn form<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let body = serde_urlencoded::to_string(value).expect("an encodable form");
        self.body(body)
            .header("content-type", "application/x-www-form-urlencoded")
    }

    /// Sends `parts` as a `multipart/form-data` upload, as a browser submits a form with
    /// `enctype="multipart/form-data"`.
    ///
    /// ```
    /// # use bocata::{App, Request, Res, Result};
    /// use bocata::testing::{Part, TestClient};
    ///
    /// async fn count(req: &Request, res: &mut Res) -> Result {
    ///     let mut form = req.multipart()?;
    ///     let mut fields = 0;
    ///     while let Some(field) = form.next_field().await? {
    ///         fields += 1;
    ///         field.bytes().await?;
    ///     }
    ///     res.text(format!("{fields} fields"));
    ///     Ok(())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let client = TestClient::new(App::new().route("/upload", bocata::post(count)));
    /// let res = client
    ///     .post("/upload")
    ///     .multipart([
    ///         Part::text("title", "Holiday"),
    ///         Part::file("photo", "beach.jpg", vec![0xff, 0xd8, 0xff]),
    ///     ])
    ///     .send()
    ///     .await;
    /// assert_eq!(res.text(), "2 fields");
    /// # }
    /// ```
    pub fn multipart(self, parts: impl IntoIterator<Item = Part>) -> Self {
        let content_type = format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}");
        self.body(multipart::encode(parts))
            .header("content-type", &content_type)
    }

    /// Sends `body` as it is, with its `Content-Length` as a real client would. Set its
    /// type with [`header`](Self::header).
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sends the request through the app and waits for the whole response.
    ///
    /// # Panics
    ///
    /// If the path and query do not form a valid URI, or the response body fails.
    pub async fn send(self) -> TestResponse {
        self.send_streamed().await.collect().await
    }

    /// Sends the request and returns as soon as the head is ready, with the body to read
    /// chunk by chunk: for streams, server-sent events, and bodies that fail midway.
    ///
    /// ```
    /// # use bocata::{App, Request, Res, Result, testing::TestClient};
    /// async fn numbers(_req: &Request, res: &mut Res) -> Result {
    ///     res.streaming(bocata::stream! {
    ///         yield "one\n";
    ///         yield "two\n";
    ///     });
    ///     Ok(())
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let client = TestClient::new(App::new().route("/", bocata::get(numbers)));
    /// let mut res = client.get("/").send_streamed().await;
    /// assert_eq!(res.chunk().await.unwrap().unwrap(), "one\n");
    /// assert_eq!(res.chunk().await.unwrap().unwrap(), "two\n");
    /// assert!(res.chunk().await.is_none());
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// If the path and query do not form a valid URI.
    pub async fn send_streamed(self) -> StreamedResponse {
        let client = self.client;
        let request = self.into_request();
        client.exchange(request).await
    }

    /// Opens a WebSocket on this request's path, in-process: the handshake goes through
    /// the app (before hooks included) and, when it is accepted, the view's
    /// `on_websocket` runs against the returned [`TestWebSocket`].
    ///
    /// ```
    /// # use bocata::websocket::{Message, WebSocket};
    /// # use bocata::{App, Request, Res, Result, testing::TestClient};
    /// struct Echo;
    ///
    /// #[bocata::view]
    /// impl Echo {
    ///     async fn on_websocket(&self, _req: &Request, mut ws: WebSocket) -> Result {
    ///         while let Some(Ok(message)) = ws.recv().await {
    ///             ws.send(message).await?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let client = TestClient::new(App::new().route("/echo", Echo));
    /// let mut ws = client.get("/echo").websocket().await.expect("accepted");
    /// ws.send_text("hi").await;
    /// assert_eq!(ws.recv_text().await.as_deref(), Some("hi"));
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// The response, when the app refuses the WebSocket (a hook's 401, a 426 from a
    /// view without `on_websocket`, …).
    #[cfg(feature = "websocket")]
    pub async fn websocket(self) -> Result<TestWebSocket, TestResponse> {
        let client = self.client;
        let mut request = self
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .into_request();
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let pipe: Box<dyn crate::websocket::socket::Io> = Box::new(theirs);
        request
            .extensions_mut()
            .insert(crate::websocket::handshake::InProcess(std::sync::Arc::new(
                Mutex::new(Some(pipe)),
            )));
        let response = client.exchange(request).await;
        if response.status != StatusCode::SWITCHING_PROTOCOLS {
            return Err(response.collect().await);
        }
        Ok(TestWebSocket::new(ours, response.headers).await)
    }

    /// The request as built so far.
    fn into_request(self) -> http::Request<Body> {
        let mut uri = self.path;
        if !self.query.is_empty() {
            uri.push(if uri.contains('?') { '&' } else { '?' });
            uri.push_str(&self.query);
        }
        let mut headers = self.headers;
        for name in self.client.headers.keys() {
            if !headers.contains_key(name) {
                for value in self.client.headers.get_all(name) {
                    headers.append(name, value.clone());
                }
            }
        }
        if !self.body.is_empty() && !headers.contains_key(header::CONTENT_LENGTH) {
            // As real clients do, unless the test set its own.
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(self.body.len()));
        }
        let mut request = http::Request::new(Body::from(self.body));
        *request.method_mut() = self.method;
        *request.uri_mut() = uri.parse().expect("a valid request URI");
        *request.headers_mut() = headers;

        let explicit = request.headers().get(header::COOKIE);
        let cookie_header = self.client.jar().header_value(explicit, &self.cookies);
        if let Some(value) = cookie_header {
            request.headers_mut().insert(header::COOKIE, value);
        }
        request
    }
}

impl TestClient {
    /// Sends `request` through the app and keeps the cookies it sets; the first
    /// request runs the app's startup hooks first.
    ///
    /// # Panics
    ///
    /// If a startup hook failed, with its error: the app would not have started.
    async fn exchange(&self, request: http::Request<Body>) -> StreamedResponse {
        let started = self
            .started
            .get_or_init(|| self.app.shared.lifecycle.start())
            .await;
        if let Err(why) = started {
            panic!("the app did not start: {why}");
        }
        let is_head = request.method() == http::Method::HEAD;
        #[cfg(feature = "openapi-check")]
        let asked = check::Asked {
            method: request.method().clone(),
            path: request.uri().path().to_owned(),
        };
        let mut response = self.app.handle(request, None).await;
        if !is_head {
            crate::response::declare_length(&mut response);
        }
        let (parts, body) = response.into_parts();
        self.jar().store(&parts.headers);
        StreamedResponse {
            status: parts.status,
            headers: parts.headers,
            body,
            #[cfg(feature = "openapi-check")]
            asked,
        }
    }
}

/// A header for a test request.
///
/// # Panics
///
/// If the name or value is not a valid header: a mistake in the test.
fn header_pair(name: &str, value: &str) -> (HeaderName, HeaderValue) {
    let name = HeaderName::try_from(name)
        .unwrap_or_else(|e| panic!("{name:?} is not a valid header name: {e}"));
    let value = HeaderValue::try_from(value)
        .unwrap_or_else(|e| panic!("{value:?} is not a valid value for {name}: {e}"));
    (name, value)
}

/// The accessors of a response's head, the same for a whole one and a streamed one.
macro_rules! head_accessors {
    () => {
        /// The status code.
        pub fn status(&self) -> StatusCode {
            self.status
        }

        /// All response headers.
        pub fn headers(&self) -> &HeaderMap {
            &self.headers
        }

        /// The first value of header `name`, if present and visible ASCII.
        pub fn header(&self, name: &str) -> Option<&str> {
            crate::headers::text(&self.headers, name)
        }
    };
}

/// A response whose body is read as it arrives; see
/// [`TestRequest::send_streamed`].
#[derive(Debug)]
pub struct StreamedResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Body,
    #[cfg(feature = "openapi-check")]
    asked: check::Asked,
}

impl StreamedResponse {
    /// The whole response, once the body has ended.
    async fn collect(self) -> TestResponse {
        let body = self
            .body
            .collect()
            .await
            .expect("the response body to complete")
            .to_bytes();
        TestResponse {
            status: self.status,
            headers: self.headers,
            body,
            #[cfg(feature = "openapi-check")]
            asked: self.asked,
        }
    }

    head_accessors!();

    /// The next chunk of the body: `None` at its end, `Some(Err(_))` when the body
    /// fails (a stream that yielded an error, a timeout).
    pub async fn chunk(&mut self) -> Option<Result<Bytes, crate::body::Error>> {
        loop {
            match self.body.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some(Ok(data)),
                    Err(_trailers) => {}
                },
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// A finished response: status, headers and the whole body.
#[derive(Debug)]
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    #[cfg(feature = "openapi-check")]
    asked: check::Asked,
}

impl TestResponse {
    head_accessors!();

    /// The body's bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as text.
    ///
    /// # Panics
    ///
    /// If the body is not UTF-8.
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 response body")
    }

    /// The body parsed as JSON.
    ///
    /// # Panics
    ///
    /// If the body is not JSON of type `T`; the message shows the body.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the response body is not the expected JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}
