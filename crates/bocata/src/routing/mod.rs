//! The route table: paths to views, with `{name}` parameters and `{*rest}` catch-alls.
//!
//! Matching is done by [`matchit`] on the raw (still percent-encoded) path; parameter
//! values are percent-decoded when read with [`Request::param`](crate::Request::param).
//!
//! Trailing slashes are significant: `/users` and `/users/` are different routes. A
//! request for the other spelling of a registered route is redirected to it with
//! `308 Permanent Redirect` (which keeps the method and body), so links written either
//! way keep working.

mod reverse;

use std::any::TypeId;
use std::fmt::Display;
use std::sync::Arc;

use http::HeaderValue;
use smallvec::SmallVec;

use crate::hooks::Hooks;
use crate::service::HttpService;
use crate::view::{ErasedView, Methods};

/// A problem with a route, found when the app is built.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    /// The path does not start with `/`.
    #[error("route `{0}` must start with `/`")]
    NoLeadingSlash(String),
    /// The path is registered already, or overlaps another route ambiguously.
    #[error("route `{path}` conflicts with `{existing}`, which is already registered")]
    Conflict {
        /// The route being added.
        path: String,
        /// The route it conflicts with.
        existing: String,
    },
    /// The path's parameter syntax is wrong (an empty or unclosed `{}`, a catch-all that
    /// is not last, two parameters in one segment, …).
    #[error("route `{path}` is invalid: {reason}")]
    Invalid {
        /// The route being added.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// What a route leads to.
#[derive(Clone)]
pub(crate) enum Target {
    /// A bocata view.
    View(Arc<dyn ErasedView>),
    /// A tower service mounted under `prefix`, which it sees taken off the path.
    Service {
        service: HttpService,
        prefix: Box<str>,
    },
}

/// One registered route.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) pattern: Box<str>,
    pub(crate) target: Target,
    pub(crate) methods: Methods,
    /// The `Allow` header value, computed once.
    pub(crate) allow: HeaderValue,
    /// Parameter names in the order they appear in the pattern.
    param_names: Box<[Box<str>]>,
    /// The hooks of the routers the route was mounted through.
    pub(crate) hooks: Hooks,
    /// The view's own body limit, if it has one.
    pub(crate) body_limit: Option<usize>,
}

/// The byte ranges of a matched path's parameter values, in pattern order.
pub(crate) type ParamRanges = SmallVec<[(usize, usize); 4]>;

/// The outcome of looking a path up.
pub(crate) enum Lookup {
    /// The route at this index matched; its parameters are byte ranges of the path.
    Found(usize, ParamRanges),
    /// No route matched, but the path with its trailing slash toggled does.
    RedirectTo(String),
    /// No route matched.
    NotFound,
}

#[derive(Clone, Default)]
pub(crate) struct Routes {
    router: matchit::Router<usize>,
    endpoints: Vec<Endpoint>,
}

impl Routes {
    pub(crate) fn insert(
        &mut self,
        pattern: &str,
        target: Target,
        hooks: Hooks,
    ) -> Result<(), RouteError> {
        if !pattern.starts_with('/') {
            return Err(RouteError::NoLeadingSlash(pattern.to_owned()));
        }
        let index = self.endpoints.len();
        self.router
            .insert(pattern, index)
            .map_err(|err| match err {
                matchit::InsertError::Conflict { with } => RouteError::Conflict {
                    path: pattern.to_owned(),
                    existing: with,
                },
                other => RouteError::Invalid {
                    path: pattern.to_owned(),
                    reason: other.to_string(),
                },
            })?;
        let (methods, body_limit) = match &target {
            Target::View(view) => (view.methods(), view.body_limit()),
            Target::Service { .. } => (Methods::EMPTY, None),
        };
        self.endpoints.push(Endpoint {
            pattern: pattern.into(),
            allow: methods.allow_header(),
            methods,
            target,
            param_names: param_names(pattern),
            hooks,
            body_limit,
        });
        Ok(())
    }

    pub(crate) fn endpoint(&self, index: usize) -> &Endpoint {
        &self.endpoints[index]
    }

    pub(crate) fn lookup(&self, path: &str) -> Lookup {
        if let Some((index, params)) = self.find(path) {
            return Lookup::Found(index, params);
        }
        let toggled = match path.strip_suffix('/') {
            Some("") => return Lookup::NotFound,
            Some(stripped) => stripped.to_owned(),
            None => format!("{path}/"),
        };
        // Never redirect to `//host`, which a browser reads as another site.
        if toggled.starts_with("//") || toggled.starts_with("/\\") {
            return Lookup::NotFound;
        }
        match self.find(&toggled) {
            Some(_) => Lookup::RedirectTo(toggled),
            None => Lookup::NotFound,
        }
    }

    /// The endpoint index and parameter ranges for `path`.
    fn find(&self, path: &str) -> Option<(usize, ParamRanges)> {
        let matched = self.router.at(path).ok()?;
        let base = path.as_ptr() as usize;
        let ranges = matched
            .params
            .iter()
            .map(|(_, value)| {
                // matchit hands out slices of `path`, so the offset is exact.
                let start = value.as_ptr() as usize - base;
                (start, start + value.len())
            })
            .collect();
        Some((*matched.value, ranges))
    }
}

/// Which view a URL is wanted for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ViewKey<'a> {
    Type(TypeId, &'static str),
    Name(&'a str),
}

impl Routes {
    /// The path of the first route serving the view `key` names, with `params`.
    pub(crate) fn url_for(
        &self,
        key: ViewKey<'_>,
        params: &[(&str, &dyn Display)],
    ) -> Result<String, crate::Error> {
        let found = self.endpoints.iter().find(|e| match (&e.target, key) {
            (Target::View(view), ViewKey::Type(id, _)) => view.view_type() == id,
            (Target::View(view), ViewKey::Name(name)) => view.name() == name,
            (Target::Service { .. }, _) => false,
        });
        let Some(endpoint) = found else {
            let wanted = match key {
                ViewKey::Type(_, name) | ViewKey::Name(name) => name,
            };
            return Err(crate::Error::internal(format!(
                "url_for: no route serves view `{wanted}`"
            )));
        };
        reverse::build(&endpoint.pattern, params)
            .map_err(|e| crate::Error::internal(format!("url_for: {e}")))
    }
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.endpoints.iter().map(|e| &e.pattern))
            .finish()
    }
}

impl Endpoint {
    /// The position of parameter `name` in this route's pattern.
    pub(crate) fn param_position(&self, name: &str) -> Option<usize> {
        self.param_names.iter().position(|n| &**n == name)
    }
}

pub(crate) use reverse::short_type_name;

/// The names of a pattern's `{name}` and `{*name}` parameters, in order. `{{` and `}}`
/// are matchit's escapes for literal braces.
fn param_names(pattern: &str) -> Box<[Box<str>]> {
    let mut names = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        if rest[open + 1..].starts_with('{') {
            rest = &rest[open + 2..];
            continue;
        }
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        names.push(name.trim_start_matches('*').into());
        rest = &rest[open + close + 1..];
    }
    names.into_boxed_slice()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Request, Res, Result};

    async fn noop(_: &Request, _: &mut Res) -> Result {
        Ok(())
    }

    fn routes(patterns: &[&str]) -> Routes {
        let mut routes = Routes::default();
        for p in patterns {
            routes
                .insert(
                    p,
                    Target::View(Arc::new(crate::get(noop))),
                    Hooks::default(),
                )
                .unwrap();
        }
        routes
    }

    #[test]
    fn param_names_follow_the_pattern() {
        assert_eq!(
            &*param_names("/a/{x}/b/{y}/{*rest}"),
            &["x".into(), "y".into(), "rest".into()] as &[Box<str>]
        );
        assert!(param_names("/{{literal}}").is_empty());
    }

    #[test]
    fn parameters_are_ranges_of_the_path() {
        let routes = routes(&["/users/{id}/posts/{post}"]);
        let path = "/users/42/posts/hello%20world";
        let Lookup::Found(index, ranges) = routes.lookup(path) else {
            panic!("no match");
        };
        assert_eq!(&*routes.endpoint(index).pattern, "/users/{id}/posts/{post}");
        let values: Vec<&str> = ranges.iter().map(|&(s, e)| &path[s..e]).collect();
        assert_eq!(values, ["42", "hello%20world"]);
    }

    #[test]
    fn trailing_slash_redirects_to_the_registered_spelling() {
        let routes = routes(&["/users", "/posts/"]);
        assert!(matches!(routes.lookup("/users/"), Lookup::RedirectTo(p) if p == "/users"));
        assert!(matches!(routes.lookup("/posts"), Lookup::RedirectTo(p) if p == "/posts/"));
        assert!(matches!(routes.lookup("/nothing/"), Lookup::NotFound));
        assert!(matches!(routes.lookup("/"), Lookup::NotFound));
    }

    #[test]
    fn never_redirects_to_another_host() {
        let routes = routes(&["/{a}/{b}"]);
        assert!(matches!(routes.lookup("//evil.example/"), Lookup::NotFound));
    }

    #[test]
    fn conflicts_and_bad_patterns_are_errors() {
        let mut routes = routes(&["/users/{id}"]);
        let view = || Target::View(Arc::new(crate::get(noop)));
        let err = routes
            .insert("/users/{name}", view(), Hooks::default())
            .unwrap_err();
        assert!(matches!(err, RouteError::Conflict { .. }), "{err}");
        assert!(err.to_string().contains("/users/{id}"), "{err}");
        let err = routes
            .insert("/users/{id}", view(), Hooks::default())
            .unwrap_err();
        assert!(matches!(err, RouteError::Conflict { .. }), "{err}");
        let err = routes
            .insert("no-slash", view(), Hooks::default())
            .unwrap_err();
        assert!(matches!(err, RouteError::NoLeadingSlash(_)), "{err}");
        let err = routes
            .insert("/files/{*rest}/more", view(), Hooks::default())
            .unwrap_err();
        assert!(matches!(err, RouteError::Invalid { .. }), "{err}");
    }
}
