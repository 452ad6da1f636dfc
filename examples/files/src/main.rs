//! Run with `cargo run -p files`, then open <http://127.0.0.1:8000>.
//!
//! Files and downloads: a page whose `<video>` seeks through Range requests, a report
//! sent as a download (renamed, or shown inline, on request), and a static folder with
//! precompressed siblings.
//!
//! ```text
//! curl -i http://127.0.0.1:8000/reports/latest
//! curl -i -H 'range: bytes=0-99' http://127.0.0.1:8000/static/clock.webm
//! curl -i -H 'accept-encoding: gzip' http://127.0.0.1:8000/static/style.css
//! ```

use std::path::{Path, PathBuf};

use bocata::{App, Request, Res, Result, StaticFiles};

/// The folder this example serves, wherever `cargo run` is started from.
const PUBLIC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/public");

async fn page(_req: &Request, res: &mut Res) -> Result {
    res.html(include_str!("page.html"));
    Ok(())
}

// ANCHOR: report
/// Sends the report as a download; `?as=name.csv` renames it, `?inline=1` shows it.
struct Report {
    path: PathBuf,
}

#[bocata::view]
impl Report {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        res.file(&self.path);
        if let Some(name) = req.query("as") {
            res.attachment(&name);
        } else if req.query("inline").is_some() {
            res.inline();
        }
        Ok(())
    }
}
// ANCHOR_END: report

// ANCHOR: app
fn app(public: &Path) -> App {
    App::new()
        .route("/", bocata::get(page))
        .route(
            "/reports/latest",
            Report {
                path: public.join("report.csv"),
            },
        )
        .static_files(
            "/static",
            StaticFiles::new(public)
                .cache_control("public, max-age=60")
                .precompressed(true),
        )
}
// ANCHOR_END: app

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    // `ADDR=127.0.0.1:0` picks a free port (the log says which).
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:8000".to_owned());
    app(Path::new(PUBLIC)).run(addr).await
}
