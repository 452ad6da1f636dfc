//! Chapter "Responses": body kinds and their content types, status, headers, cookies,
//! attachments, redirects, and what happens to invalid input.

// ANCHOR: imports
use bocata::http::StatusCode;
use bocata::{App, Request, Res, Result, abort};
// ANCHOR_END: imports

use bocata::testing::TestClient;

// ANCHOR: bodies
/// `GET /kinds/{kind}`: one body of each kind.
async fn kinds(req: &Request, res: &mut Res) -> Result {
    match req.param::<String>("kind")?.as_str() {
        "text" => res.text("plain words"),
        "html" => res.html("<h1>A title</h1>"),
        "json" => res.json(&serde_json::json!({ "title": "My awesome post" })),
        "content" => res.content(&b"\x89PNG\r\n"[..]),
        _ => return abort(404),
    };
    Ok(())
}
// ANCHOR_END: bodies

// ANCHOR: status
/// `POST /posts`: a status as a number or as a named constant.
async fn create_post(_req: &Request, res: &mut Res) -> Result {
    res.status(StatusCode::CREATED) // or .status(201)
        .header("location", "/posts/7")
        .json(&serde_json::json!({ "id": 7 }));
    Ok(())
}
// ANCHOR_END: status

// ANCHOR: last_wins
/// Sets a body, then changes its mind: the last body setter wins, with its type.
async fn changed_mind(_req: &Request, res: &mut Res) -> Result {
    res.text("a draft");
    res.json(&serde_json::json!({ "final": true }));
    Ok(())
}
// ANCHOR_END: last_wins

// ANCHOR: content_type
/// An explicit type, set before the body: it is kept.
async fn stylesheet(_req: &Request, res: &mut Res) -> Result {
    res.content_type("text/css; charset=utf-8")
        .text("h1 { color: gold }");
    Ok(())
}

/// An explicit type, set after the body: it is kept too.
async fn spreadsheet(_req: &Request, res: &mut Res) -> Result {
    res.text("id,value\n1,0.5\n")
        .header("content-type", "text/csv");
    Ok(())
}
// ANCHOR_END: content_type

// ANCHOR: json_mut
/// Builds the JSON body one field at a time.
async fn summary(req: &Request, res: &mut Res) -> Result {
    res.json_mut()["hello"] = "world".into();
    res.json_mut()["count"] = 3.into();
    if let Some(tag) = req.query("tag") {
        res.json_mut()["tags"] = serde_json::json!([tag]);
    }
    Ok(())
}
// ANCHOR_END: json_mut

// ANCHOR: no_content
/// `DELETE /posts/{id}`: nothing to say.
async fn delete_post(_req: &Request, res: &mut Res) -> Result {
    res.status(204);
    Ok(())
}
// ANCHOR_END: no_content

/// A 304 with a body set by mistake: the body is dropped.
async fn not_modified(_req: &Request, res: &mut Res) -> Result {
    res.text("stale").status(304);
    Ok(())
}

// ANCHOR: headers
/// `header` replaces, `append_header` adds another value.
async fn cached(_req: &Request, res: &mut Res) -> Result {
    res.header("cache-control", "no-cache")
        .header("Cache-Control", "max-age=60")
        .append_header("vary", "accept")
        .append_header("vary", "cookie")
        .text("fresh for a minute");
    Ok(())
}
// ANCHOR_END: headers

// ANCHOR: cookies
/// Sets two cookies: one with bocata's defaults, one with every attribute chosen.
async fn login(_req: &Request, res: &mut Res) -> Result {
    res.cookie(("theme", "dark")).cookie(
        bocata::Cookie::build(("session", "s3cr3t"))
            .secure(true)
            .same_site(bocata::cookie::SameSite::Strict)
            .max_age(bocata::cookie::time::Duration::hours(8)),
    );
    res.text("logged in");
    Ok(())
}
// ANCHOR_END: cookies

// ANCHOR: remove_cookie
/// Deletes the session cookie, and one that was set on a narrower path.
async fn logout(_req: &Request, res: &mut Res) -> Result {
    res.remove_cookie("session")
        .remove_cookie(bocata::Cookie::build(("admin", "")).path("/admin"))
        .text("logged out");
    Ok(())
}
// ANCHOR_END: remove_cookie

// ANCHOR: attachment
/// A CSV download with a name that is not plain ASCII.
async fn export(_req: &Request, res: &mut Res) -> Result {
    res.text("id,value\n1,0.5\n")
        .content_type("text/csv")
        .attachment("données.csv");
    Ok(())
}
// ANCHOR_END: attachment

// ANCHOR: redirect
/// `GET /old`: a temporary redirect, `302 Found`.
async fn old(_req: &Request, res: &mut Res) -> Result {
    res.redirect("/");
    Ok(())
}

/// `GET /home`: moved for good, and the method must be kept.
async fn moved(_req: &Request, res: &mut Res) -> Result {
    res.redirect("/new-home").status(308);
    Ok(())
}

/// `POST /comments`: after a form post, send the browser to a page it can `GET`.
async fn comment(_req: &Request, res: &mut Res) -> Result {
    res.status(303).redirect("/comments/7");
    Ok(())
}
// ANCHOR_END: redirect

// ANCHOR: invalid_header
/// Copies a query parameter into a header. A CR or LF in it makes the response a 500.
async fn echo_header(req: &Request, res: &mut Res) -> Result {
    let value = req.query("v").unwrap_or_default();
    res.header("x-echo", value).text("echoed");
    Ok(())
}
// ANCHOR_END: invalid_header

/// Every view of the chapter.
fn app() -> App {
    App::new()
        .route("/kinds/{kind}", bocata::get(kinds))
        .route("/posts", bocata::post(create_post))
        .route("/posts/{id}", bocata::delete(delete_post))
        .route("/changed-mind", bocata::get(changed_mind))
        .route("/style.css", bocata::get(stylesheet))
        .route("/sheet", bocata::get(spreadsheet))
        .route("/summary", bocata::get(summary))
        .route("/not-modified", bocata::get(not_modified))
        .route("/cached", bocata::get(cached))
        .route("/login", bocata::post(login))
        .route("/logout", bocata::post(logout))
        .route("/export", bocata::get(export))
        .route("/old", bocata::get(old))
        .route("/home", bocata::get(moved))
        .route("/comments", bocata::post(comment))
        .route("/echo-header", bocata::get(echo_header))
}

#[tokio::test]
async fn each_body_kind_fixes_its_content_type() {
    let client = TestClient::new(app());
    let table = [
        ("text", "text/plain; charset=utf-8", "11"),
        ("html", "text/html; charset=utf-8", "16"),
        ("json", "application/json", "27"),
        ("content", "application/octet-stream", "6"),
    ];
    for (kind, content_type, length) in table {
        let res = client.get(&format!("/kinds/{kind}")).send().await;
        assert_eq!(res.status(), 200, "{kind}");
        assert_eq!(res.header("content-type"), Some(content_type), "{kind}");
        assert_eq!(res.header("content-length"), Some(length), "{kind}");
    }
    let res = client.get("/kinds/json").send().await;
    assert_eq!(res.text(), r#"{"title":"My awesome post"}"#);
}

#[tokio::test]
async fn status_and_headers_chain() {
    let res = TestClient::new(app()).post("/posts").send().await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.header("location"), Some("/posts/7"));
    assert_eq!(res.text(), r#"{"id":7}"#);
}

#[tokio::test]
async fn the_last_body_setter_wins() {
    let res = TestClient::new(app()).get("/changed-mind").send().await;
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.text(), r#"{"final":true}"#);
}

#[tokio::test]
async fn an_explicit_content_type_wins_in_any_order() {
    let client = TestClient::new(app());
    let res = client.get("/style.css").send().await;
    assert_eq!(res.header("content-type"), Some("text/css; charset=utf-8"));
    let res = client.get("/sheet").send().await;
    assert_eq!(res.header("content-type"), Some("text/csv"));
}

#[tokio::test]
async fn json_built_field_by_field() {
    let client = TestClient::new(app());
    let res = client.get("/summary").send().await;
    assert_eq!(res.header("content-type"), Some("application/json"));
    assert_eq!(res.text(), r#"{"count":3,"hello":"world"}"#);
    let res = client.get("/summary?tag=new").send().await;
    assert_eq!(
        res.json::<serde_json::Value>(),
        serde_json::json!({ "hello": "world", "count": 3, "tags": ["new"] })
    );
}

#[tokio::test]
async fn no_content_and_not_modified_carry_no_body() {
    let client = TestClient::new(app());
    for res in [
        client.delete("/posts/7").send().await,
        client.get("/not-modified").send().await,
    ] {
        assert!(res.status() == 204 || res.status() == 304);
        assert!(res.bytes().is_empty());
        assert_eq!(res.header("content-type"), None);
        assert_eq!(res.header("content-length"), None);
    }
}

#[tokio::test]
async fn header_replaces_and_append_header_adds() {
    let res = TestClient::new(app()).get("/cached").send().await;
    assert_eq!(res.header("cache-control"), Some("max-age=60"));
    let vary: Vec<_> = res.headers().get_all("vary").iter().collect();
    assert_eq!(vary, ["accept", "cookie"]);
    let names: Vec<&str> = res.headers().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        ["cache-control", "vary", "content-type", "content-length"]
    );
    assert_eq!(res.header("content-length"), Some("18"));
}

#[tokio::test]
async fn cookies_get_safe_defaults() {
    let client = TestClient::new(app());
    let res = client.post("/login").send().await;
    let cookies: Vec<_> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ASCII"))
        .collect();
    assert_eq!(
        cookies,
        [
            "theme=dark; HttpOnly; SameSite=Lax; Path=/",
            "session=s3cr3t; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=28800",
        ]
    );
    assert_eq!(client.cookie("session").as_deref(), Some("s3cr3t"));

    let res = client.post("/logout").send().await;
    let cookies: Vec<_> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("ASCII"))
        .collect();
    assert_eq!(cookies.len(), 2);
    assert!(cookies[0].starts_with("session=; "), "{}", cookies[0]);
    assert!(cookies[0].contains("Max-Age=0"), "{}", cookies[0]);
    assert!(cookies[1].contains("Path=/admin"), "{}", cookies[1]);
    assert_eq!(client.cookie("session"), None, "the client forgot it");
}

#[tokio::test]
async fn attachments_name_the_file_safely() {
    let res = TestClient::new(app()).get("/export").send().await;
    assert_eq!(res.header("content-type"), Some("text/csv"));
    assert_eq!(
        res.header("content-disposition"),
        Some(r#"attachment; filename="donn_es.csv"; filename*=UTF-8''donn%C3%A9es.csv"#)
    );
}

#[tokio::test]
async fn redirects_default_to_302_and_keep_a_chosen_3xx() {
    let client = TestClient::new(app());
    let cases = [
        (client.get("/old").send().await, 302, "/"),
        (client.get("/home").send().await, 308, "/new-home"),
        (client.post("/comments").send().await, 303, "/comments/7"),
    ];
    for (res, status, location) in cases {
        assert_eq!(res.status(), status);
        assert_eq!(res.header("location"), Some(location));
        assert!(res.bytes().is_empty());
        assert_eq!(res.header("content-type"), None);
    }
}

#[tokio::test]
async fn invalid_setter_input_is_a_500_not_a_panic() {
    let client = TestClient::new(app());
    let res = client.get("/echo-header?v=fine").send().await;
    assert_eq!(res.header("x-echo"), Some("fine"));

    let res = client
        .get("/echo-header")
        .query(&[("v", "x\r\nset-cookie: admin=1")])
        .send()
        .await;
    assert_eq!(res.status(), 500);
    assert_eq!(res.text(), "500 Internal Server Error\n");
    assert_eq!(res.header("x-echo"), None);
    assert_eq!(res.header("set-cookie"), None);

    let debug = TestClient::new(app().debug(true));
    let res = debug
        .get("/echo-header")
        .query(&[("v", "x\ny")])
        .send()
        .await;
    assert!(
        res.text()
            .starts_with("500 Internal Server Error: res.header() was given an invalid header"),
        "{}",
        res.text()
    );
}
