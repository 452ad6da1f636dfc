//! Templates, rendered with [tera](https://keats.github.io/tera/) (Jinja2-like).
//!
//! [`App::templates`](crate::App::templates) loads a folder of templates; views render
//! one with [`Res::template`](crate::Res::template). HTML templates (`.html`, `.htm`,
//! `.xml`) escape what they print unless told otherwise (`{{ x | safe }}`). In debug
//! mode templates are reloaded from disk before each render, so edits show at once.
//!
//! Templates can link to views with `url_for`, which knows the routes:
//! `{{ url_for(view="Post", slug=post.slug) }}` is the path of the view named `Post`
//! (see [`View::name`](crate::View::name)) with its parameters filled in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, RwLock};

use http::HeaderValue;
use tera::Tera;

use crate::error::chain;
use crate::routing::paths::{Paths, ViewKey};
use crate::{Error, Result};
/// tera's own context type, for building a context key by key.
pub use tera::Context;

/// A folder of templates, loaded when the app is built.
pub(crate) struct Templates {
    dir: PathBuf,
    /// The templates as loaded, until the first render adds `url_for`.
    loaded: Tera,
    engine: OnceLock<RwLock<Tera>>,
}

impl Clone for Templates {
    fn clone(&self) -> Self {
        Self {
            dir: self.dir.clone(),
            loaded: self.loaded.clone(),
            engine: OnceLock::new(),
        }
    }
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A problem loading or rendering templates, with tera's explanation.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TemplateError {
    #[error("the templates in {dir} could not be loaded: {error}")]
    Load { dir: String, error: String },
    #[error("template `{name}` could not be rendered: {error}")]
    Render { name: String, error: String },
    #[error("the context of template `{name}` is not a map of values: {error}")]
    Context { name: String, error: String },
    #[error("res.template(\"{0}\") needs a template folder: add one with App::templates")]
    NotConfigured(String),
}

impl Templates {
    /// Loads every file under `dir` (any depth) as a template named by its path
    /// relative to `dir` (`emails/welcome.html`).
    pub(crate) fn load(dir: &Path) -> std::result::Result<Self, TemplateError> {
        if !dir.is_dir() {
            return Err(TemplateError::Load {
                dir: dir.display().to_string(),
                error: "it is not a folder".to_owned(),
            });
        }
        let glob = format!("{}/**/*", dir.display());
        let loaded = Tera::new(&glob).map_err(|e| TemplateError::Load {
            dir: dir.display().to_string(),
            error: chain(&e),
        })?;
        Ok(Self {
            dir: dir.to_owned(),
            loaded,
            engine: OnceLock::new(),
        })
    }

    /// Renders `name` with `context`; `reload` (debug mode) rereads the folder first.
    pub(crate) fn render(
        &self,
        paths: &Paths,
        name: &str,
        context: &tera::Context,
        reload: bool,
    ) -> Result<String> {
        let engine = self.engine.get_or_init(|| {
            let mut tera = self.loaded.clone();
            tera.register_function("url_for", url_for(paths.clone()));
            RwLock::new(tera)
        });
        if reload {
            let mut tera = engine.write().unwrap_or_else(|p| p.into_inner());
            tera.full_reload().map_err(|e| {
                Error::internal(TemplateError::Load {
                    dir: self.dir.display().to_string(),
                    error: chain(&e),
                })
            })?;
        }
        let tera = engine.read().unwrap_or_else(|p| p.into_inner());
        tera.render(name, context).map_err(|e| {
            Error::internal(TemplateError::Render {
                name: name.to_owned(),
                error: chain(&e),
            })
        })
    }
}

/// The context for `value`, which must serialize to a map.
pub(crate) fn context<T: serde::Serialize + ?Sized>(
    name: &str,
    value: &T,
) -> std::result::Result<tera::Context, TemplateError> {
    tera::Context::from_serialize(value).map_err(|e| TemplateError::Context {
        name: name.to_owned(),
        error: chain(&e),
    })
}

/// The `Content-Type` of a rendered template, from its extension.
pub(crate) fn content_type(name: &str) -> HeaderValue {
    crate::headers::guess_type(Path::new(name))
}

/// The `url_for(view=…, param=…)` function of templates.
fn url_for(paths: Paths) -> impl tera::Function {
    move |args: &HashMap<String, tera::Value>| -> tera::Result<tera::Value> {
        let name = match args.get("view") {
            Some(tera::Value::String(name)) => name.clone(),
            _ => return Err("url_for needs a `view` argument: url_for(view=\"View\", …)".into()),
        };
        let values: Vec<(&str, String)> = args
            .iter()
            .filter(|(k, _)| k.as_str() != "view")
            .map(|(k, v)| {
                let text = match v {
                    tera::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.as_str(), text)
            })
            .collect();
        let params: Vec<(&str, &dyn std::fmt::Display)> = values
            .iter()
            .map(|(k, v)| (*k, v as &dyn std::fmt::Display))
            .collect();
        paths
            .url_for(ViewKey::Name(&name), &params)
            .map(tera::Value::String)
            .map_err(|e| tera::Error::msg(e.cause_chain().unwrap_or_else(|| e.to_string())))
    }
}
