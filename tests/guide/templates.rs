//! Chapter "Templates": the example site, contexts, content types, escaping, `url_for`
//! and view names, errors, debug-mode reloading, and error pages from templates.

// ANCHOR: imports
use std::path::{Path, PathBuf};

use bocata::template::Context;
use bocata::{App, Request, Res, Result};
use serde::Serialize;
// ANCHOR_END: imports

use bocata::testing::TestClient;
use bocata_tests::{Fixture, LogCapture};

/// The `templates` example's folder of templates.
fn example_templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/templates/templates")
}

/// Views with the names and contexts of the `templates` example's views, to check the
/// example's templates, which the chapter shows.
mod example {
    use bocata::error::Caught;
    use bocata::{App, Error, Request, Res, Result};
    use serde_json::{Value, json};

    fn posts() -> Value {
        json!([
            { "slug": "hello-bocata", "title": "Hello, bocata", "body": "Views are structs." },
            { "slug": "templates", "title": "Templates & links", "body": "Links from url_for." },
        ])
    }

    pub(super) struct Home;

    #[bocata::view]
    impl Home {
        async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
            res.template(
                "index.html",
                &json!({ "blog": "The bocata blog", "posts": posts() }),
            );
            Ok(())
        }
    }

    pub(super) struct ShowPost;

    #[bocata::view]
    impl ShowPost {
        async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
            let slug: String = req.param("slug")?;
            let posts = posts();
            let Some(post) = posts
                .as_array()
                .and_then(|all| all.iter().find(|p| p["slug"] == slug.as_str()))
            else {
                return Err(Error::from_status(404));
            };
            res.template("posts/show.html", &json!({ "post": post }));
            Ok(())
        }
    }

    pub(super) struct About;

    #[bocata::view]
    impl About {
        async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
            res.template("about.html", &json!({}));
            Ok(())
        }
    }

    async fn not_found(caught: &Caught<'_>, res: &mut Res) -> Result {
        res.template("404.html", &json!({ "path": caught.uri().path() }));
        Ok(())
    }

    pub(super) fn app() -> App {
        App::new()
            .templates(super::example_templates())
            .route("/", Home)
            .route("/about", About)
            .route("/posts/{slug}", ShowPost)
            .catch(404, not_found)
    }
}

// ANCHOR: context
/// `GET /welcome/{name}`: a plain-text email, with a context built key by key.
async fn welcome(req: &Request, res: &mut Res) -> Result {
    let name: String = req.param("name")?;
    let mut context = Context::new();
    context.insert("name", &name);
    context.insert("shop", "Pan & Co");
    context.insert("items", &["bread", "olive oil"]);
    res.template_with("emails/welcome.txt", context);
    Ok(())
}
// ANCHOR_END: context

/// The text template `welcome` renders.
const WELCOME_TXT: &str = "Welcome to {{ shop }}, {{ name }}!
{% for item in items %}- {{ item }}
{% endfor %}";

// ANCHOR: content_type
/// `GET /feed`: an Atom feed from `feed.xml`, sent with the feed's own type.
async fn feed(_req: &Request, res: &mut Res) -> Result {
    #[derive(Serialize)]
    struct Feed<'a> {
        title: &'a str,
        entries: &'a [&'a str],
    }
    res.template(
        "feed.xml",
        &Feed {
            title: "Tapas & more",
            entries: &["<b>Patatas</b> bravas"],
        },
    )
    .content_type("application/atom+xml");
    Ok(())
}
// ANCHOR_END: content_type

/// The XML template `feed` renders: autoescaped, like HTML.
const FEED_XML: &str = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>{{ title }}</title>{% for entry in entries %}<entry><title>{{ entry }}</title></entry>{% endfor %}</feed>"#;

/// `GET /comment`: text from a user, and HTML the app made itself and trusts.
async fn comment(_req: &Request, res: &mut Res) -> Result {
    res.template(
        "comment.html",
        &serde_json::json!({
            "author": "<script>alert(1)</script>",
            "body_html": "<p>Great <em>tortilla</em>.</p>",
        }),
    );
    Ok(())
}

/// The template `comment` renders.
const COMMENT_HTML: &str = "<p>{{ author }} wrote:</p>\n<div>{{ body_html | safe }}</div>";

/// `GET /page/{name}`: renders the template named in the path, with a small context.
async fn page(req: &Request, res: &mut Res) -> Result {
    let name: String = req.param("name")?;
    res.template(&name, &serde_json::json!({ "title": "Menu & prices" }));
    Ok(())
}

// ANCHOR: names
/// `GET /archive/{year}`: a struct view, named `Archive` after its type.
struct Archive;

#[bocata::view]
impl Archive {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let year: u16 = req.param("year")?;
        res.text(format!("posts of {year}"));
        Ok(())
    }
}

/// A function view, named `latest` after its (first) function.
async fn latest(_req: &Request, res: &mut Res) -> Result {
    res.text("the latest post");
    Ok(())
}

async fn list_tags(_req: &Request, res: &mut Res) -> Result {
    res.text("all tags");
    Ok(())
}

async fn create_tag(_req: &Request, res: &mut Res) -> Result {
    res.status(201).text("tag created");
    Ok(())
}

fn blog(templates: &Path) -> App {
    App::new()
        .templates(templates)
        .route("/archive/{year}", Archive)
        .route("/latest", bocata::get(latest))
        // Without `.name("tags")`, this view would be named `list_tags`.
        .route(
            "/tags",
            bocata::get(list_tags).post(create_tag).name("tags"),
        )
}
// ANCHOR_END: names

/// The blog, and `/page/{name}` to render any template.
fn site(templates: &Path) -> App {
    blog(templates).route("/page/{name}", bocata::get(page))
}

/// The template that links to the views of `blog`.
const LINKS_HTML: &str = r#"<a href="{{ url_for(view="Archive", year=2024) }}">2024</a>
<a href="{{ url_for(view="latest") }}">Latest</a>
<a href="{{ url_for(view="tags") }}">Tags</a>"#;

/// Values that may be missing: `if` and `default` keep them from being errors.
const OPTIONAL_HTML: &str = r#"<h1>{{ title }}</h1>
{% if subtitle %}<h2>{{ subtitle }}</h2>
{% endif %}<p>{{ note | default(value="No notes.") }}</p>"#;

/// A folder with every template these tests render.
fn templates() -> Fixture {
    let fixture = Fixture::new("guide-templates");
    fixture.file("templates/emails/welcome.txt", WELCOME_TXT);
    fixture.file("templates/feed.xml", FEED_XML);
    fixture.file("templates/comment.html", COMMENT_HTML);
    fixture.file("templates/links.html", LINKS_HTML);
    fixture.file("templates/menu.html", "<h1>{{ title }}</h1>");
    fixture.file("templates/menu.htm", "<h1>{{ title }}</h1>");
    fixture.file("templates/menu.xml", "<menu>{{ title }}</menu>");
    fixture.file("templates/menu.txt", "{{ title }}");
    fixture.file(
        "templates/menu.json",
        r#"{"title": {{ title | json_encode() }}}"#,
    );
    fixture.file("templates/menu.css", "/* {{ title }} */");
    fixture.file(
        "templates/menu.svg",
        "<svg><title>{{ title }}</title></svg>",
    );
    fixture.file("templates/menu", "{{ title }}");
    fixture.file("templates/optional.html", OPTIONAL_HTML);
    fixture.file("templates/untitled.html", "<h1>{{ heading }}</h1>");
    fixture.file(
        "templates/to-nowhere.html",
        r#"<a href="{{ url_for(view="Drafts") }}">drafts</a>"#,
    );
    fixture.file(
        "templates/too-many.html",
        r#"<a href="{{ url_for(view="latest", page=2) }}">page 2</a>"#,
    );
    fixture.file(
        "templates/too-few.html",
        r#"<a href="{{ url_for(view="Archive") }}">archive</a>"#,
    );
    fixture.file("templates/date.html", "{{ 0 | date }}");
    fixture.file("templates/slugify.html", "{{ title | slugify }}");
    fixture.file(
        "templates/filesizeformat.html",
        "{{ 1024 | filesizeformat }}",
    );
    fixture.file("templates/now.html", "{{ now() }}");
    fixture.file("templates/get_random.html", "{{ get_random(end=10) }}");
    fixture
}

fn app(fixture: &Fixture) -> App {
    site(&fixture.path("templates"))
        .route("/welcome/{name}", bocata::get(welcome))
        .route("/feed", bocata::get(feed))
        .route("/comment", bocata::get(comment))
}

#[tokio::test]
async fn the_example_site_extends_its_base_and_links_with_url_for() {
    let client = TestClient::new(example::app());

    let home = client.get("/").send().await;
    assert_eq!(home.status(), 200);
    assert_eq!(
        home.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = home.text();
    assert!(
        html.starts_with("<!doctype html>"),
        "from base.html: {html}"
    );
    assert!(html.contains("<title>Home · bocata blog</title>"), "{html}");
    assert!(html.contains("<h1>The bocata blog</h1>"), "{html}");
    assert!(
        html.contains(r#"<a href="&#x2F;posts&#x2F;hello-bocata">Hello, bocata</a>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<a href="&#x2F;posts&#x2F;templates">Templates &amp; links</a>"#),
        "titles are escaped: {html}"
    );
    assert!(
        html.contains(r#"<a href="&#x2F;about">About</a>"#),
        "{html}"
    );

    let post = client.get("/posts/templates").send().await;
    assert_eq!(post.status(), 200);
    assert!(
        post.text()
            .contains("<title>Templates &amp; links · bocata blog</title>"),
        "{}",
        post.text()
    );

    let about = client.get("/about").send().await;
    assert!(
        about
            .text()
            .contains(r#"href="&#x2F;posts&#x2F;%3Cscript%3E""#),
        "url_for percent-encodes, the template escapes: {}",
        about.text()
    );
}

#[tokio::test]
async fn the_example_s_404_page_is_a_template() {
    let client = TestClient::new(example::app());
    for path in ["/nowhere", "/posts/no-such-post"] {
        let res = client.get(path).send().await;
        assert_eq!(res.status(), 404, "{path}");
        assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
        assert!(
            res.text()
                .contains("<title>Not found · bocata blog</title>"),
            "{}",
            res.text()
        );
        assert!(res.text().contains("There is no page at <code>"));
    }
    let res = client.get("/nowhere/%3Cb%3E").send().await;
    assert!(
        res.text()
            .contains("<code>&#x2F;nowhere&#x2F;%3Cb%3E</code>"),
        "{}",
        res.text()
    );
}

#[tokio::test]
async fn an_error_page_whose_template_fails_falls_back_to_the_default_page() {
    async fn broken_page(_caught: &bocata::error::Caught<'_>, res: &mut Res) -> Result {
        res.template("missing-404.html", &serde_json::json!({}));
        Ok(())
    }
    let fixture = templates();
    let client = TestClient::new(app(&fixture).catch(404, broken_page));
    let res = client.get("/nowhere").send().await;
    assert_eq!(res.status(), 404);
    assert_eq!(res.text(), "404 Not Found\n");
}

#[tokio::test]
async fn a_context_built_key_by_key_renders_a_text_template() {
    let fixture = templates();
    let res = TestClient::new(app(&fixture))
        .get("/welcome/Ana")
        .send()
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        res.text(),
        "Welcome to Pan & Co, Ana!\n- bread\n- olive oil\n",
        "text templates are not escaped"
    );
}

#[tokio::test]
async fn the_content_type_comes_from_the_extension() {
    let fixture = templates();
    let client = TestClient::new(app(&fixture));
    let cases = [
        (
            "menu.html",
            "text/html; charset=utf-8",
            "<h1>Menu &amp; prices</h1>",
        ),
        (
            "menu.htm",
            "text/html; charset=utf-8",
            "<h1>Menu &amp; prices</h1>",
        ),
        (
            "menu.xml",
            "text/xml; charset=utf-8",
            "<menu>Menu &amp; prices</menu>",
        ),
        ("menu.txt", "text/plain; charset=utf-8", "Menu & prices"),
        (
            "menu.json",
            "application/json",
            r#"{"title": "Menu & prices"}"#,
        ),
        ("menu.css", "text/css; charset=utf-8", "/* Menu & prices */"),
        (
            "menu.svg",
            "image/svg+xml",
            "<svg><title>Menu & prices</title></svg>",
        ),
        ("menu", "application/octet-stream", "Menu & prices"),
    ];
    for (name, content_type, body) in cases {
        let res = client.get(&format!("/page/{name}")).send().await;
        assert_eq!(res.status(), 200, "{name}: {}", res.text());
        assert_eq!(res.header("content-type"), Some(content_type), "{name}");
        assert_eq!(res.text(), body, "{name}");
    }
}

#[tokio::test]
async fn an_explicit_content_type_wins_and_xml_is_escaped() {
    let fixture = templates();
    let res = TestClient::new(app(&fixture)).get("/feed").send().await;
    assert_eq!(res.header("content-type"), Some("application/atom+xml"));
    assert_eq!(
        res.text(),
        concat!(
            r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>Tapas &amp; more</title>"#,
            "<entry><title>&lt;b&gt;Patatas&lt;&#x2F;b&gt; bravas</title></entry></feed>"
        )
    );
}

#[tokio::test]
async fn html_is_escaped_unless_marked_safe() {
    let fixture = templates();
    let res = TestClient::new(app(&fixture)).get("/comment").send().await;
    assert_eq!(
        res.text(),
        concat!(
            "<p>&lt;script&gt;alert(1)&lt;&#x2F;script&gt; wrote:</p>\n",
            "<div><p>Great <em>tortilla</em>.</p></div>"
        )
    );
}

#[tokio::test]
async fn url_for_finds_views_by_name() {
    let fixture = templates();
    let client = TestClient::new(app(&fixture));
    let res = client.get("/page/links.html").send().await;
    assert_eq!(res.status(), 200, "{}", res.text());
    assert_eq!(
        res.text(),
        concat!(
            "<a href=\"&#x2F;archive&#x2F;2024\">2024</a>\n",
            "<a href=\"&#x2F;latest\">Latest</a>\n",
            "<a href=\"&#x2F;tags\">Tags</a>"
        )
    );
    for path in ["/archive/2024", "/latest", "/tags"] {
        assert_eq!(client.get(path).send().await.status(), 200, "{path}");
    }

    // A view routed twice is linked to by its first route.
    let twice = TestClient::new(app(&fixture).route("/newest", bocata::get(latest)));
    let res = twice.get("/page/links.html").send().await;
    assert!(
        res.text().contains("<a href=\"&#x2F;latest\">Latest</a>"),
        "{}",
        res.text()
    );
}

#[tokio::test]
async fn url_for_problems_are_render_errors() {
    let fixture = templates();
    let client = TestClient::new(app(&fixture).debug(true));
    let cases = [
        ("to-nowhere.html", "no route serves view `Drafts`"),
        ("too-many.html", "route `/latest` has no parameter `page`"),
        (
            "too-few.html",
            "route `/archive/{year}` needs a value for parameter `year`",
        ),
    ];
    for (name, message) in cases {
        let res = client.get(&format!("/page/{name}")).send().await;
        assert_eq!(res.status(), 500, "{name}");
        assert!(res.text().contains(message), "{name}: {}", res.text());
    }
}

/// `GET /broken?case=…`: each way a template can fail.
async fn broken(req: &Request, res: &mut Res) -> Result {
    match req.query("case").as_deref() {
        Some("missing") => res.template("nope.html", &serde_json::json!({})),
        Some("not-a-map") => res.template("menu.html", &["a", "list"]),
        _ => res.template("untitled.html", &serde_json::json!({ "title": "x" })),
    };
    Ok(())
}

#[tokio::test(flavor = "current_thread")]
async fn template_problems_are_logged_500s_shown_in_debug_mode() {
    let fixture = templates();
    let cases = [
        ("missing", "Template 'nope.html' not found"),
        (
            "not-a-map",
            "the context of template `menu.html` is not a map of values",
        ),
        ("undefined", "Variable `heading` not found in context"),
    ];

    let log = LogCapture::start();
    let quiet = TestClient::new(app(&fixture).route("/broken", bocata::get(broken)));
    for (case, message) in cases {
        let res = quiet.get("/broken").query(&[("case", case)]).send().await;
        assert_eq!(res.status(), 500, "{case}");
        assert_eq!(res.text(), "500 Internal Server Error\n", "{case}");
        assert!(log.text().contains(message), "{case}: {}", log.text());
    }

    let debug = TestClient::new(
        app(&fixture)
            .route("/broken", bocata::get(broken))
            .debug(true),
    );
    for (case, message) in cases {
        let res = debug.get("/broken").query(&[("case", case)]).send().await;
        assert_eq!(res.status(), 500, "{case}");
        assert!(res.text().contains(message), "{case}: {}", res.text());
    }
}

#[tokio::test]
async fn rendering_without_a_template_folder_is_a_500() {
    let client = TestClient::new(
        App::new()
            .debug(true)
            .route("/page/{name}", bocata::get(page)),
    );
    let res = client.get("/page/menu.html").send().await;
    assert_eq!(res.status(), 500);
    assert!(
        res.text().contains("needs a template folder"),
        "{}",
        res.text()
    );
}

#[test]
fn a_folder_that_does_not_exist_stops_the_app_when_it_is_built() {
    let fixture = Fixture::new("guide-templates-nowhere");
    let missing = fixture.path("not-there");
    let panic = std::panic::catch_unwind(|| App::new().templates(&missing))
        .expect_err("a missing folder is refused");
    let message = panic.downcast_ref::<String>().expect("a message");
    assert!(message.contains("it is not a folder"), "{message}");
}

#[tokio::test]
async fn tera_s_optional_builtins_are_not_included() {
    let fixture = templates();
    let client = TestClient::new(app(&fixture).debug(true));
    let cases = [
        ("date", "Filter 'date' not found"),
        ("slugify", "Filter 'slugify' not found"),
        ("filesizeformat", "Filter 'filesizeformat' not found"),
        ("now", "Function 'now' not found"),
        ("get_random", "Function 'get_random' not found"),
    ];
    for (name, message) in cases {
        let res = client.get(&format!("/page/{name}.html")).send().await;
        assert_eq!(res.status(), 500, "{name}");
        assert!(res.text().contains(message), "{name}: {}", res.text());
    }
}

#[tokio::test]
async fn optional_values_need_if_or_default() {
    let fixture = templates();
    let res = TestClient::new(app(&fixture))
        .get("/page/optional.html")
        .send()
        .await;
    assert_eq!(res.status(), 200, "{}", res.text());
    assert_eq!(res.text(), "<h1>Menu &amp; prices</h1>\n<p>No notes.</p>");
}

#[tokio::test]
async fn a_route_parameter_called_name_is_filled_like_any_other() {
    async fn person(_req: &Request, res: &mut Res) -> Result {
        res.text("a person");
        Ok(())
    }
    let fixture = templates();
    fixture.file(
        "templates/person.html",
        r#"{{ url_for(view="person", name="ana") }}"#,
    );
    let client = TestClient::new(
        app(&fixture)
            .route("/people/{name}", bocata::get(person))
            .debug(true),
    );
    let res = client.get("/page/person.html").send().await;
    assert_eq!(res.status(), 200, "{}", res.text());
    assert_eq!(
        res.text(),
        "&#x2F;people&#x2F;ana",
        "escaped as any HTML output"
    );
}

#[test]
fn a_template_that_does_not_parse_stops_the_app_when_it_is_built() {
    let fixture = templates();
    fixture.file("templates/broken.html", "{% if %}oops{% endif %}");
    let panic = std::panic::catch_unwind(|| blog(&fixture.path("templates")))
        .expect_err("a template that does not parse is refused");
    let message = panic.downcast_ref::<String>().expect("a message");
    assert!(
        message.starts_with("bocata: the templates in "),
        "{message}"
    );
    assert!(message.contains("could not be loaded"), "{message}");
    assert!(message.contains("Failed to parse"), "{message}");
    assert!(message.contains("broken.html"), "{message}");
    assert!(message.contains("1 | {% if %}oops{% endif %}"), "{message}");
}

// ANCHOR: debug
/// Debug mode when `BOCATA_DEBUG` is set: templates are reread before each render,
/// and error pages show causes. Never set it in production.
fn configured(templates: &Path) -> App {
    let debug = std::env::var_os("BOCATA_DEBUG").is_some();
    App::new().templates(templates).debug(debug)
}
// ANCHOR_END: debug

/// Renders `/page/{name}` with `client`: the status and the body.
async fn render(client: &TestClient, name: &str) -> (u16, String) {
    let res = client.get(&format!("/page/{name}")).send().await;
    (res.status().as_u16(), res.text().to_owned())
}

#[tokio::test]
async fn debug_mode_rereads_templates_before_each_render() {
    let fixture = templates();
    let dir = fixture.path("templates");
    let debug = TestClient::new(site(&dir).debug(true));
    let release = TestClient::new(site(&dir));
    let from_env = TestClient::new(configured(&dir).route("/page/{name}", bocata::get(page)));
    let env_debug = std::env::var_os("BOCATA_DEBUG").is_some();
    let menu = (200, "Menu & prices".to_owned());
    assert_eq!(render(&debug, "menu.txt").await, menu);
    assert_eq!(render(&release, "menu.txt").await, menu);
    assert_eq!(render(&from_env, "menu.txt").await, menu);

    // An edit shows at once in debug mode; otherwise templates are loaded once.
    fixture.file("templates/menu.txt", "Today: {{ title }}");
    let edited = (200, "Today: Menu & prices".to_owned());
    assert_eq!(render(&debug, "menu.txt").await, edited);
    assert_eq!(render(&release, "menu.txt").await, menu);
    let expected = if env_debug { &edited } else { &menu };
    assert_eq!(&render(&from_env, "menu.txt").await, expected);

    // A new template is found too.
    fixture.file("templates/specials.txt", "Specials: {{ title }}");
    assert_eq!(
        render(&debug, "specials.txt").await,
        (200, "Specials: Menu & prices".to_owned())
    );
    assert_eq!(render(&release, "specials.txt").await.0, 500);

    // An edit that breaks a template is a 500 that explains it; the app keeps running.
    fixture.file("templates/menu.txt", "{% if %}");
    let (status, body) = render(&debug, "menu.txt").await;
    assert_eq!(status, 500);
    assert!(body.contains("could not be loaded"), "{body}");
    assert!(body.contains("Failed to parse"), "{body}");
    fixture.file("templates/menu.txt", "Fixed: {{ title }}");
    assert_eq!(
        render(&debug, "menu.txt").await,
        (200, "Fixed: Menu & prices".to_owned())
    );
}
