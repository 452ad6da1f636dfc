//! Serving a folder of static files.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use http::{HeaderMap, HeaderValue, StatusCode, header};
use percent_encoding::percent_decode_str;

use crate::headers::{accepted, guess_type};
use crate::{Error, Methods, Request, Res, Result, View};

/// The name of the catch-all parameter static routes use.
pub(crate) const PATH_PARAM: &str = "path";

const VARY_ENCODING: HeaderValue = HeaderValue::from_static("accept-encoding");

/// A view that serves the files under a folder, with everything [`Res::file`] does
/// (validators, conditional requests, ranges) and none of the ways out of the folder.
///
/// Mount it with [`App::static_files`](crate::App::static_files):
///
/// ```
/// use bocata::{App, StaticFiles};
///
/// let app = App::new()
///     .static_files("/static", "public")
///     .static_files(
///         "/docs",
///         StaticFiles::new("site")
///             .cache_control("public, max-age=3600")
///             .precompressed(true),
///     );
/// ```
///
/// A request path cannot leave the folder: `..` and `.` segments, empty segments,
/// percent-encoded slashes and backslashes (`%2f`, `%5c`), backslashes, NUL bytes, and
/// symbolic links that resolve outside the folder are all answered with 404, as are
/// hidden files (names starting with `.`) unless [`hidden_files`](Self::hidden_files)
/// allows them. A file asked for with a trailing slash (`/static/a.txt/`) is a 404
/// too: only a directory's path may end in `/`.
#[derive(Clone, Debug)]
pub struct StaticFiles {
    root: PathBuf,
    index: Option<String>,
    cache_control: Option<HeaderValue>,
    precompressed: bool,
    hidden_files: bool,
    canonical_root: Arc<OnceLock<PathBuf>>,
}

impl StaticFiles {
    /// Serves the files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            index: Some("index.html".to_owned()),
            cache_control: None,
            precompressed: false,
            hidden_files: false,
            canonical_root: Arc::default(),
        }
    }

    /// The file served for a directory's path (`/docs/` serves `docs/index.html`; `/docs`
    /// redirects to `/docs/` first, so relative links work). Default: `index.html`.
    #[must_use]
    pub fn index(mut self, name: &str) -> Self {
        self.index = Some(name.to_owned());
        self
    }

    /// Directories get a 404 instead of an index file.
    #[must_use]
    pub fn no_index(mut self) -> Self {
        self.index = None;
        self
    }

    /// A `Cache-Control` value for every file served (for example
    /// `"public, max-age=31536000, immutable"` for fingerprinted assets). Default: none.
    ///
    /// # Panics
    ///
    /// If `value` is not a valid header value.
    #[must_use]
    #[track_caller]
    pub fn cache_control(mut self, value: &str) -> Self {
        match HeaderValue::try_from(value) {
            Ok(value) => self.cache_control = Some(value),
            Err(_) => panic!("bocata: invalid Cache-Control value {value:?}"),
        }
        self
    }

    /// Serves `app.js.br` or `app.js.gz` in place of `app.js` when they exist and the
    /// client's `Accept-Encoding` allows (Brotli first), with `Content-Encoding` and
    /// `Vary: Accept-Encoding`. Default: off.
    #[must_use]
    pub fn precompressed(mut self, on: bool) -> Self {
        self.precompressed = on;
        self
    }

    /// Serves files and folders whose names start with `.` (`.well-known`). Default: off,
    /// so `.env` or `.git` left in the folder stay private.
    #[must_use]
    pub fn hidden_files(mut self, on: bool) -> Self {
        self.hidden_files = on;
        self
    }

    /// The folder's canonical path, resolved once it exists.
    async fn canonical_root(&self) -> Option<&Path> {
        if let Some(root) = self.canonical_root.get() {
            return Some(root);
        }
        let root = tokio::fs::canonicalize(&self.root).await.ok()?;
        Some(self.canonical_root.get_or_init(|| root))
    }

    /// The file `raw` (the still percent-encoded rest of the URL path) names under the
    /// root, or why there is none.
    async fn resolve(&self, raw: &str) -> Lookup {
        let Some(relative) = safe_relative_path(raw, self.hidden_files) else {
            return Lookup::NotFound;
        };
        let Some(root) = self.canonical_root().await else {
            tracing::warn!(target: "bocata::static", root = %self.root.display(), "the static folder does not exist");
            return Lookup::NotFound;
        };
        let Some(path) = inside(root, &root.join(&relative)).await else {
            return Lookup::NotFound;
        };
        let Ok(metadata) = tokio::fs::metadata(&path).await else {
            return Lookup::NotFound;
        };
        if !metadata.is_dir() {
            // A trailing slash names a directory: `a.txt/` is nothing, as a file system
            // (and nginx) would answer, rather than `a.txt` under a second URL.
            if raw.ends_with('/') {
                return Lookup::NotFound;
            }
            return Lookup::File(path);
        }
        let Some(index) = &self.index else {
            return Lookup::NotFound;
        };
        if !raw.is_empty() && !raw.ends_with('/') {
            return Lookup::AddSlash;
        }
        match inside(root, &path.join(index)).await {
            Some(index) => Lookup::File(index),
            None => Lookup::NotFound,
        }
    }

    /// The precompressed sibling of `path` the client accepts, if any.
    async fn precompressed_sibling(
        &self,
        path: &Path,
        request_headers: &HeaderMap,
    ) -> Option<(PathBuf, &'static str)> {
        let root = self.canonical_root.get()?;
        for (encoding, extension) in [("br", "br"), ("gzip", "gz")] {
            if !accepts_encoding(request_headers, encoding) {
                continue;
            }
            let mut sibling = path.as_os_str().to_owned();
            sibling.push(".");
            sibling.push(extension);
            if let Some(sibling) = inside(root, Path::new(&sibling)).await
                && tokio::fs::metadata(&sibling)
                    .await
                    .is_ok_and(|m| m.is_file())
            {
                return Some((sibling, encoding));
            }
        }
        None
    }
}

impl<P: Into<PathBuf>> From<P> for StaticFiles {
    fn from(root: P) -> Self {
        Self::new(root)
    }
}

/// Where a request path leads.
#[derive(Debug, PartialEq, Eq)]
enum Lookup {
    File(PathBuf),
    /// A directory asked for without its trailing slash.
    AddSlash,
    NotFound,
}

impl View for StaticFiles {
    fn methods(&self) -> Methods {
        Methods::GET
    }

    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let raw = req.raw_param(PATH_PARAM).unwrap_or("");
        let path = match self.resolve(raw).await {
            Lookup::File(path) => path,
            Lookup::AddSlash => {
                let mut location = format!("{}/", req.path());
                if let Some(query) = req.query_string() {
                    location.push('?');
                    location.push_str(query);
                }
                res.redirect(&location)
                    .status(StatusCode::PERMANENT_REDIRECT);
                return Ok(());
            }
            Lookup::NotFound => return Err(Error::from_status(StatusCode::NOT_FOUND)),
        };
        if let Some(cache_control) = &self.cache_control {
            res.header(header::CACHE_CONTROL, cache_control.clone());
        }
        if self.precompressed {
            res.append_header(header::VARY, VARY_ENCODING);
            if let Some((sibling, encoding)) =
                self.precompressed_sibling(&path, req.headers()).await
            {
                res.content_type(guess_type(&path))
                    .header(header::CONTENT_ENCODING, encoding)
                    .static_file(sibling);
                return Ok(());
            }
        }
        res.static_file(path);
        Ok(())
    }
}

/// `raw` as a relative path, if every segment is a plain name: percent-decoded UTF-8
/// with no `/`, `\` or NUL, not `.` or `..`, not empty (except a final slash), and not
/// hidden unless allowed.
pub(crate) fn safe_relative_path(raw: &str, hidden_files: bool) -> Option<PathBuf> {
    let mut path = PathBuf::new();
    if raw.is_empty() {
        return Some(path);
    }
    let trimmed = raw.strip_suffix('/').unwrap_or(raw);
    for segment in trimmed.split('/') {
        let name = percent_decode_str(segment).decode_utf8().ok()?;
        let forbidden = name.is_empty()
            || name == "."
            || name == ".."
            || name.contains(['/', '\\', '\0'])
            || (name.starts_with('.') && !hidden_files)
            || (cfg!(windows) && name.contains(':'));
        if forbidden {
            return None;
        }
        path.push(&*name);
    }
    Some(path)
}

/// `path` with symbolic links resolved, if it exists and stays under `root`.
async fn inside(root: &Path, path: &Path) -> Option<PathBuf> {
    let resolved = tokio::fs::canonicalize(path).await.ok()?;
    resolved.starts_with(root).then_some(resolved)
}

/// Whether `Accept-Encoding` allows `coding` (by name or `*`) with a non-zero quality.
fn accepts_encoding(headers: &HeaderMap, coding: &str) -> bool {
    accepted(headers, header::ACCEPT_ENCODING)
        .any(|name| name.eq_ignore_ascii_case(coding) || name == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("", Some("")),
            ("a.txt", Some("a.txt")),
            ("css/site.css", Some("css/site.css")),
            ("docs/", Some("docs")),
            ("my%20file.txt", Some("my file.txt")),
            ("caf%C3%A9.txt", Some("café.txt")),
            ("/", None),
            ("..", None),
            ("../secret", None),
            ("a/../../secret", None),
            ("%2e%2e/secret", None),
            ("%2E%2E%2Fsecret", None),
            ("a%2fb", None),
            ("a%5cb", None),
            ("..%5csecret", None),
            ("a\\b", None),
            ("./a.txt", None),
            ("a//b", None),
            ("/etc/passwd", None),
            ("a%00.txt", None),
            ("%ff", None),
            (".env", None),
            ("a/.git/config", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                safe_relative_path(raw, false),
                expected.map(PathBuf::from),
                "{raw:?}"
            );
        }
        assert_eq!(
            safe_relative_path(".well-known/x", true),
            Some(PathBuf::from(".well-known/x"))
        );
        assert_eq!(safe_relative_path("..", true), None);
    }

    #[test]
    fn accept_encoding_table() {
        let cases = [
            ("gzip, br", "br", true),
            ("gzip", "br", false),
            ("br;q=0", "br", false),
            ("br;q=0.5", "br", true),
            ("*", "gzip", true),
            ("GZIP", "gzip", true),
            ("identity", "gzip", false),
        ];
        for (value, coding, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            assert_eq!(
                accepts_encoding(&headers, coding),
                expected,
                "{value} {coding}"
            );
        }
    }
}
