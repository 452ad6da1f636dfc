//! Templates: rendering, escaping, content types, url_for, errors and reloading.

use bocata::template::Context;
use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result};
use bocata_tests::Fixture;
use serde::Serialize;

#[derive(Serialize)]
struct Page {
    title: String,
    items: Vec<String>,
}

async fn list(req: &Request, res: &mut Res) -> Result {
    let title = req.query("title").unwrap_or_else(|| "Groceries".into());
    res.template(
        "list.html",
        &Page {
            title,
            items: vec!["milk".into(), "<b>bread</b>".into()],
        },
    );
    Ok(())
}

async fn plain(_req: &Request, res: &mut Res) -> Result {
    let mut context = Context::new();
    context.insert("name", "Ana");
    res.template_with("emails/welcome.txt", context);
    Ok(())
}

async fn post(req: &Request, res: &mut Res) -> Result {
    let slug: String = req.param("slug")?;
    res.text(slug);
    Ok(())
}

async fn broken(req: &Request, res: &mut Res) -> Result {
    match req.query("case").as_deref() {
        Some("missing") => res.template("nope.html", &serde_json::json!({})),
        Some("not-a-map") => res.template("list.html", &42),
        _ => res.template("list.html", &serde_json::json!({ "items": [] })),
    };
    Ok(())
}

fn site() -> Fixture {
    let fixture = Fixture::new("templates");
    fixture.file(
        "templates/base.html",
        "<title>{% block title %}{% endblock %}</title><main>{% block body %}{% endblock %}</main>",
    );
    fixture.file(
        "templates/list.html",
        concat!(
            "{% extends \"base.html\" %}{% block title %}{{ title }}{% endblock %}",
            "{% block body %}<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>",
            "<a href=\"{{ url_for(view=\"post\", slug=\"hello world\") }}\">post</a>{% endblock %}"
        ),
    );
    fixture.file("templates/emails/welcome.txt", "Welcome, {{ name }} & co!");
    fixture
}

fn app(fixture: &Fixture) -> App {
    App::new()
        .templates(fixture.path("templates"))
        .route("/list", bocata::get(list))
        .route("/plain", bocata::get(plain))
        .route("/posts/{slug}", bocata::get(post))
        .route("/broken", bocata::get(broken))
}

#[tokio::test]
async fn html_templates_render_escaped_with_links_to_views() {
    let fixture = site();
    let client = TestClient::new(app(&fixture).debug(true));
    let res = client
        .get("/list")
        .query(&[("title", "A & <B>")])
        .send()
        .await;
    assert_eq!(res.status(), 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        res.text(),
        concat!(
            "<title>A &amp; &lt;B&gt;</title><main><ul><li>milk</li>",
            "<li>&lt;b&gt;bread&lt;&#x2F;b&gt;</li></ul>",
            "<a href=\"&#x2F;posts&#x2F;hello%20world\">post</a></main>"
        )
    );
}

#[tokio::test]
async fn text_templates_are_text_and_not_escaped() {
    let fixture = site();
    let res = TestClient::new(app(&fixture)).get("/plain").send().await;
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(res.text(), "Welcome, Ana & co!");
}

#[tokio::test]
async fn template_problems_are_500s_with_tera_s_explanation() {
    let fixture = site();
    let client = TestClient::new(app(&fixture).debug(true));
    let cases = [
        ("missing", "Template 'nope.html' not found"),
        ("not-a-map", "is not a map of values"),
        ("undefined", "Variable `title` not found"),
    ];
    for (case, message) in cases {
        let res = client.get("/broken").query(&[("case", case)]).send().await;
        assert_eq!(res.status(), 500, "{case}");
        assert!(res.text().contains(message), "{case}: {}", res.text());
    }
    let quiet = TestClient::new(app(&fixture));
    let res = quiet.get("/broken").send().await;
    assert_eq!(
        res.text(),
        "500 Internal Server Error\n",
        "details only in debug mode"
    );
}

#[test]
fn a_template_that_does_not_parse_fails_when_the_app_is_built() {
    let fixture = site();
    fixture.file("templates/bad.html", "{% if %}");
    let panic = std::panic::catch_unwind(|| App::new().templates(fixture.path("templates")))
        .expect_err("a broken template is refused");
    let message = panic.downcast_ref::<String>().expect("a message");
    assert!(message.contains("could not be loaded"), "{message}");
    assert!(message.contains("bad.html"), "{message}");
}

#[tokio::test]
async fn debug_mode_reloads_edited_templates() {
    let fixture = site();
    let debug = TestClient::new(app(&fixture).debug(true));
    let release = TestClient::new(app(&fixture));
    assert_eq!(
        debug.get("/plain").send().await.text(),
        "Welcome, Ana & co!"
    );
    assert_eq!(
        release.get("/plain").send().await.text(),
        "Welcome, Ana & co!"
    );
    fixture.file("templates/emails/welcome.txt", "Hello again, {{ name }}");
    assert_eq!(debug.get("/plain").send().await.text(), "Hello again, Ana");
    assert_eq!(
        release.get("/plain").send().await.text(),
        "Welcome, Ana & co!",
        "outside debug mode templates are loaded once"
    );
}
