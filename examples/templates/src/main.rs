//! Run with `cargo run -p templates`, then open <http://127.0.0.1:8000>.
//!
//! A small HTML site with tera templates: a base layout the pages extend, links built
//! with `url_for` from the routes, autoescaped output, a static stylesheet, and a 404
//! page rendered from a template.

use std::path::Path;

use bocata::error::Caught;
use bocata::{App, Error, Request, Res, Result};
use serde::Serialize;

/// Where the templates and the stylesheet live, wherever `cargo run` starts from.
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[derive(Clone, Serialize)]
struct Post {
    slug: &'static str,
    title: &'static str,
    body: &'static str,
}

const POSTS: [Post; 2] = [
    Post {
        slug: "hello-bocata",
        title: "Hello, bocata",
        body: "Views are structs; responses are built by mutating res.",
    },
    Post {
        slug: "templates",
        title: "Templates & links",
        body: "Links come from url_for, so they follow the routes.",
    },
];

// ANCHOR: views
/// The list of posts.
struct Home;

#[bocata::view]
impl Home {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        #[derive(Serialize)]
        struct Page<'a> {
            blog: &'a str,
            posts: &'a [Post],
        }
        res.template(
            "index.html",
            &Page {
                blog: "The bocata blog",
                posts: &POSTS,
            },
        );
        Ok(())
    }
}

/// One post, by its slug.
struct ShowPost;

#[bocata::view]
impl ShowPost {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let slug: String = req.param("slug")?;
        let Some(post) = POSTS.iter().find(|p| p.slug == slug) else {
            return Err(Error::from_status(404));
        };
        res.template("posts/show.html", &serde_json::json!({ "post": post }));
        Ok(())
    }
}
// ANCHOR_END: views

/// A page with no data of its own.
struct About;

#[bocata::view]
impl About {
    async fn on_get(&self, _req: &Request, res: &mut Res) -> Result {
        res.template("about.html", &serde_json::json!({}));
        Ok(())
    }
}

// ANCHOR: not_found
async fn not_found(caught: &Caught<'_>, res: &mut Res) -> Result {
    res.template(
        "404.html",
        &serde_json::json!({ "path": caught.uri().path() }),
    );
    Ok(())
}
// ANCHOR_END: not_found

// ANCHOR: app
fn app(root: &Path) -> App {
    App::new()
        .templates(root.join("templates"))
        .route("/", Home)
        .route("/about", About)
        .route("/posts/{slug}", ShowPost)
        .static_files("/static", root.join("public"))
        .catch(404, not_found)
}
// ANCHOR_END: app

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // `ADDR=127.0.0.1:0` picks a free port (the log says which).
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    let debug = std::env::var_os("BOCATA_DEBUG").is_some();
    app(Path::new(ROOT)).debug(debug).run(addr).await
}
