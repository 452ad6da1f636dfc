//! The route table: paths to views, with `{name}` parameters and `{*rest}` catch-alls.
//!
//! Matching is done by [`matchit`] on the raw (still percent-encoded) path; parameter
//! values are percent-decoded when read with [`Request::param`](crate::Request::param).
//!
//! Trailing slashes are significant: `/users` and `/users/` are different routes. A
//! request for the other spelling of a registered route is redirected to it with
//! `308 Permanent Redirect` (which keeps the method and body), so links written either
//! way keep working.

pub(crate) mod paths;
pub(crate) mod reverse;

use std::sync::Arc;

use http::HeaderValue;
use smallvec::SmallVec;

use self::paths::{Paths, ViewId};
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

/// One registered route, as the router dispatches to it (what a request sees of it is
/// in [`Paths`]).
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) target: Target,
    pub(crate) methods: Methods,
    /// The `Allow` header value, computed once.
    pub(crate) allow: HeaderValue,
    /// The hooks of the routers the route was mounted through.
    pub(crate) hooks: Hooks,
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
    /// The routes without parameters, sorted by length and then by path (see
    /// [`search`](Self::search)): a request for one of them is
    /// found by a binary search, without walking the router. The router has them
    /// too, and finds the same route for the same path.
    statics: Vec<(Box<str>, usize)>,
    endpoints: Vec<Endpoint>,
}

impl Routes {
    /// Adds a route to `target` at `pattern`, and what requests know of it to `paths`,
    /// at the same index.
    pub(crate) fn insert(
        &mut self,
        paths: &mut Paths,
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
        let (methods, view, body_limit) = match &target {
            Target::View(view) => {
                let id = ViewId {
                    type_id: view.view_type(),
                    name: view.name(),
                };
                (view.methods(), Some(id), view.body_limit())
            }
            Target::Service { .. } => (Methods::EMPTY, None, None),
        };
        paths.push(pattern, view, body_limit);
        if !pattern.contains(['{', '}'])
            && let Err(at) = self.search(pattern)
        {
            self.statics.insert(at, (pattern.into(), index));
        }
        self.endpoints.push(Endpoint {
            allow: methods.allow_header(),
            methods,
            target,
            hooks,
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

    /// Where `path` is among the routes without parameters, or where it would go. They
    /// are in order of length first, so that most steps of the search compare two
    /// numbers, and only paths of the same length are compared byte by byte.
    fn search(&self, path: &str) -> Result<usize, usize> {
        self.statics.binary_search_by(|(pattern, _)| {
            pattern
                .len()
                .cmp(&path.len())
                .then_with(|| pattern.as_bytes().cmp(path.as_bytes()))
        })
    }

    /// The index of the route without parameters at `path`: among a few, by looking
    /// at each in turn (their lengths, until one is longer), which costs less than the
    /// steps of a binary search; among more, by the binary search.
    fn find_static(&self, path: &str) -> Option<usize> {
        const FEW: usize = 8;
        if self.statics.len() <= FEW {
            return self
                .statics
                .iter()
                .take_while(|(pattern, _)| pattern.len() <= path.len())
                .find(|(pattern, _)| **pattern == *path)
                .map(|&(_, index)| index);
        }
        self.search(path).ok().map(|at| self.statics[at].1)
    }

    /// The endpoint index and parameter ranges for `path`.
    fn find(&self, path: &str) -> Option<(usize, ParamRanges)> {
        if let Some(index) = self.find_static(path) {
            return Some((index, ParamRanges::new()));
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Request, Res, Result};

    async fn noop(_: &Request, _: &mut Res) -> Result {
        Ok(())
    }

    fn routes(patterns: &[&str]) -> (Routes, Paths) {
        let (mut routes, mut paths) = (Routes::default(), Paths::default());
        for p in patterns {
            let view = Target::View(Arc::new(crate::get(noop)));
            routes
                .insert(&mut paths, p, view, Hooks::default())
                .unwrap();
        }
        (routes, paths)
    }

    #[test]
    fn static_routes_and_the_router_agree() {
        let (routes, _) = routes(&["/users/{id}", "/users/new", "/users/", "/a{{b}}", "/"]);
        let found = |path| match routes.lookup(path) {
            Lookup::Found(index, params) => Some((index, params.len())),
            _ => None,
        };
        assert_eq!(found("/users/new"), Some((1, 0)), "the static route wins");
        assert_eq!(found("/users/7"), Some((0, 1)));
        assert_eq!(found("/users/"), Some((2, 0)));
        assert_eq!(found("/"), Some((4, 0)));
        assert_eq!(
            found("/a{b}"),
            Some((3, 0)),
            "escaped braces go through the router"
        );
        assert_eq!(found("/a{{b}}"), None);
        assert!(matches!(routes.lookup("/users"), Lookup::RedirectTo(p) if p == "/users/"));
    }

    #[test]
    fn few_and_many_static_routes_are_each_found_and_nothing_else() {
        for count in [1, 3, 8, 9, 40] {
            let patterns: Vec<String> = (0..count)
                .map(|i| format!("/r{}", "x".repeat(i % 7) + &i.to_string()))
                .collect();
            let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
            let (routes, _) = routes(&refs);
            for (index, pattern) in patterns.iter().enumerate() {
                assert_eq!(
                    routes.find_static(pattern),
                    Some(index),
                    "{count} routes: {pattern}"
                );
            }
            for missing in ["/", "/r", "/rz0", "/r0/", "/rxxxxxxxxxxxxxx99"] {
                assert_eq!(
                    routes.find_static(missing),
                    None,
                    "{count} routes: {missing}"
                );
            }
        }
    }

    #[test]
    fn parameters_are_ranges_of_the_path() {
        let (routes, paths) = routes(&["/users/{id}/posts/{post}"]);
        let path = "/users/42/posts/hello%20world";
        let Lookup::Found(index, ranges) = routes.lookup(path) else {
            panic!("no match");
        };
        assert_eq!(paths.route(index).pattern(), "/users/{id}/posts/{post}");
        let values: Vec<&str> = ranges.iter().map(|&(s, e)| &path[s..e]).collect();
        assert_eq!(values, ["42", "hello%20world"]);
    }

    #[test]
    fn trailing_slash_redirects_to_the_registered_spelling() {
        let (routes, _) = routes(&["/users", "/posts/"]);
        assert!(matches!(routes.lookup("/users/"), Lookup::RedirectTo(p) if p == "/users"));
        assert!(matches!(routes.lookup("/posts"), Lookup::RedirectTo(p) if p == "/posts/"));
        assert!(matches!(routes.lookup("/nothing/"), Lookup::NotFound));
        assert!(matches!(routes.lookup("/"), Lookup::NotFound));
    }

    #[test]
    fn never_redirects_to_another_host() {
        let (routes, _) = routes(&["/{a}/{b}"]);
        assert!(matches!(routes.lookup("//evil.example/"), Lookup::NotFound));
    }

    #[test]
    fn conflicts_and_bad_patterns_are_errors() {
        let (mut routes, mut paths) = routes(&["/users/{id}"]);
        let view = || Target::View(Arc::new(crate::get(noop)));
        let mut insert = |pattern| routes.insert(&mut paths, pattern, view(), Hooks::default());
        let err = insert("/users/{name}").unwrap_err();
        assert!(matches!(err, RouteError::Conflict { .. }), "{err}");
        assert!(err.to_string().contains("/users/{id}"), "{err}");
        let err = insert("/users/{id}").unwrap_err();
        assert!(matches!(err, RouteError::Conflict { .. }), "{err}");
        let err = insert("no-slash").unwrap_err();
        assert!(matches!(err, RouteError::NoLeadingSlash(_)), "{err}");
        let err = insert("/files/{*rest}/more").unwrap_err();
        assert!(matches!(err, RouteError::Invalid { .. }), "{err}");
    }
}
