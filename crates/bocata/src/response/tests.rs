use http::Method;
use http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, SET_COOKIE};
use http_body_util::BodyExt;

use super::*;
use crate::Error;
use crate::context::AppContext;

/// A change a test makes to a `Res`.
type Setter = fn(&mut Res);

/// A GET with no headers, for a default app, with no connection.
fn context(app: &AppContext) -> Finalize<'_> {
    Finalize {
        method: &Method::GET,
        headers: &NO_HEADERS,
        app,
        connection: None,
    }
}

static NO_HEADERS: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(HeaderMap::new);

struct Finished {
    status: StatusCode,
    headers: HeaderMap,
    /// The exact size the body declares, which the server writes as `Content-Length`.
    length: Option<u64>,
    body: Bytes,
}

/// What a client gets for `res`: finalized, then settled as every response is.
async fn finish(mut res: Res) -> Finished {
    let mut response = res
        .take_response(&context(&AppContext::default()))
        .await
        .expect("a valid response");
    settle(&mut response, false);
    let (parts, body) = response.into_parts();
    Finished {
        status: parts.status,
        headers: parts.headers,
        length: http_body::Body::size_hint(&body).exact(),
        body: body.collect().await.expect("body").to_bytes(),
    }
}

async fn build(f: impl FnOnce(&mut Res)) -> Finished {
    let mut res = Res::new();
    f(&mut res);
    finish(res).await
}

async fn failure(f: impl FnOnce(&mut Res)) -> Error {
    let mut res = Res::new();
    f(&mut res);
    res.take_response(&context(&AppContext::default()))
        .await
        .expect_err("the setter should fail")
}

#[tokio::test]
async fn body_kinds_fix_body_and_type() {
    let cases: [(&str, Setter, &str, &str); 5] = [
        (
            "text",
            |r| {
                r.text("hi");
            },
            "text/plain; charset=utf-8",
            "hi",
        ),
        (
            "html",
            |r| {
                r.html("<b>hi</b>");
            },
            "text/html; charset=utf-8",
            "<b>hi</b>",
        ),
        (
            "json",
            |r| {
                r.json(&serde_json::json!({"a": 1}));
            },
            "application/json",
            r#"{"a":1}"#,
        ),
        (
            "content",
            |r| {
                r.content(&b"\x00\x01"[..]);
            },
            "application/octet-stream",
            "\u{0}\u{1}",
        ),
        (
            "json_mut",
            |r| {
                r.json_mut()["hello"] = "world".into();
            },
            "application/json",
            r#"{"hello":"world"}"#,
        ),
    ];
    for (name, set, content_type, body) in cases {
        let done = build(set).await;
        assert_eq!(done.status, 200, "{name}");
        assert_eq!(done.headers[CONTENT_TYPE], content_type, "{name}");
        assert_eq!(done.body, body.as_bytes(), "{name}");
        assert_eq!(done.length, Some(body.len() as u64), "{name}");
    }
}

#[tokio::test]
async fn last_body_setter_wins() {
    let done = build(|r| {
        r.json(&1).html("<p>").text("plain");
    })
    .await;
    assert_eq!(done.headers[CONTENT_TYPE], "text/plain; charset=utf-8");
    assert_eq!(done.body, "plain");

    let done = build(|r| {
        r.json_mut()["a"] = 1.into();
        r.text("replaced");
    })
    .await;
    assert_eq!(done.body, "replaced");
}

#[tokio::test]
async fn json_mut_builds_on_itself_and_restarts_after_another_body() {
    let done = build(|r| {
        r.json_mut()["a"] = 1.into();
        r.json_mut()["b"] = serde_json::json!([true]);
    })
    .await;
    assert_eq!(done.body, r#"{"a":1,"b":[true]}"#);

    let done = build(|r| {
        r.json(&[1, 2]);
        r.json_mut()["fresh"] = true.into();
    })
    .await;
    assert_eq!(done.body, r#"{"fresh":true}"#);
}

#[tokio::test]
async fn explicit_content_type_wins_in_either_order() {
    let before = build(|r| {
        r.content_type("text/css").content("h1{}");
    })
    .await;
    let after = build(|r| {
        r.content("h1{}").content_type("text/css");
    })
    .await;
    let by_header = build(|r| {
        r.header("Content-Type", "text/css").text("h1{}");
    })
    .await;
    for done in [before, after, by_header] {
        assert_eq!(done.headers[CONTENT_TYPE], "text/css");
        assert_eq!(done.headers.get_all(CONTENT_TYPE).iter().count(), 1);
    }
}

#[tokio::test]
async fn no_body_statuses_carry_neither_body_nor_type() {
    for status in [204, 304, 101] {
        let done = build(|r| {
            r.text("ignored").status(status);
        })
        .await;
        assert_eq!(done.status, status);
        assert!(done.body.is_empty(), "{status}");
        assert!(done.headers.get(CONTENT_TYPE).is_none(), "{status}");
        assert!(done.headers.get(CONTENT_LENGTH).is_none(), "{status}");
    }
}

#[tokio::test]
async fn empty_body_has_zero_length_and_no_type() {
    let done = build(|_| {}).await;
    assert_eq!(done.length, Some(0));
    assert!(done.headers.get(CONTENT_TYPE).is_none());
}

#[tokio::test]
async fn headers_replace_and_append() {
    let done = build(|r| {
        r.header("x-one", "a")
            .header("X-One", "b")
            .append_header("link", "<a>")
            .append_header("link", "<b>");
    })
    .await;
    let ones: Vec<_> = done.headers.get_all("x-one").iter().collect();
    assert_eq!(ones, ["b"]);
    let links: Vec<_> = done.headers.get_all("link").iter().collect();
    assert_eq!(links, ["<a>", "<b>"]);
}

#[tokio::test]
async fn several_cookies_give_several_headers() {
    let done = build(|r| {
        r.cookie(("a", "1")).cookie(("b", "2")).remove_cookie("c");
    })
    .await;
    let cookies: Vec<_> = done
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(cookies.len(), 3);
    assert!(cookies[0].starts_with("a=1;"));
    assert!(cookies[1].starts_with("b=2;"));
    assert!(cookies[2].starts_with("c=;"), "{}", cookies[2]);
    assert!(cookies[2].contains("Max-Age=0"), "{}", cookies[2]);
    assert!(cookies[2].contains("Expires="), "{}", cookies[2]);
    assert!(cookies[2].contains("Path=/"), "{}", cookies[2]);
}

#[tokio::test]
async fn redirect_defaults_to_302_and_keeps_a_chosen_3xx() {
    let done = build(|r| {
        r.text("gone").redirect("/login");
    })
    .await;
    assert_eq!(done.status, 302);
    assert_eq!(done.headers[LOCATION], "/login");
    assert!(done.body.is_empty());
    assert!(done.headers.get(CONTENT_TYPE).is_none());

    for status in [301, 303, 307, 308] {
        let before = build(|r| {
            r.status(status).redirect("/x");
        })
        .await;
        let after = build(|r| {
            r.redirect("/x").status(status);
        })
        .await;
        assert_eq!(before.status, status);
        assert_eq!(after.status, status);
    }
}

#[tokio::test]
async fn attachment_sets_a_safe_disposition_on_any_body() {
    let done = build(|r| {
        r.text("a,b").attachment("naïve \"quote\".csv");
    })
    .await;
    assert_eq!(
        done.headers[CONTENT_DISPOSITION],
        "attachment; filename=\"na_ve _quote_.csv\"; filename*=UTF-8''na%C3%AFve%20%22quote%22.csv"
    );
    assert_eq!(done.headers[CONTENT_TYPE], "text/plain; charset=utf-8");
}

#[tokio::test]
async fn invalid_setters_become_a_500_with_the_cause() {
    let cases: [(&str, Setter); 7] = [
        ("status", |r| {
            r.status(1000);
        }),
        ("header", |r| {
            r.header("x-evil", "a\r\nSet-Cookie: x=1");
        }),
        ("header", |r| {
            r.header("bad name", "v");
        }),
        ("append_header", |r| {
            r.append_header("x", "\n");
        }),
        ("content_type", |r| {
            r.content_type("text/\nhtml");
        }),
        ("json", |r| {
            let map: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
            r.json(&map);
        }),
        ("cookie", |r| {
            r.cookie(::cookie::Cookie::build(("a", "b")).domain("x;y"));
        }),
    ];
    for (setter, set) in cases {
        let err = failure(|r| {
            set(r);
            r.text("still 500");
        })
        .await;
        assert_eq!(err.status(), 500, "{setter}");
        let cause = err.cause_chain().unwrap_or_default();
        assert!(cause.contains(setter), "{setter}: {cause}");
    }
}

#[tokio::test]
async fn the_first_failure_is_the_one_reported() {
    let err = failure(|r| {
        r.status(1000).header("bad name", "v");
    })
    .await;
    assert!(err.cause_chain().unwrap_or_default().contains("status"));
}
