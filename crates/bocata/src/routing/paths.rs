//! What requests and templates know of the routes: each route's pattern, the names of
//! its parameters, its view's type and name (for reverse routing) and its view's own
//! body limit. The views themselves stay with the router, which requests never see.

use std::any::TypeId;
use std::borrow::Cow;
use std::fmt::Display;

use super::reverse;
use crate::Error;

/// The routes, in the order they were added; a route's index is the router's.
#[derive(Clone, Debug, Default)]
pub(crate) struct Paths {
    routes: Vec<RoutePath>,
}

/// One route, as a request sees it.
#[derive(Clone, Debug)]
pub(crate) struct RoutePath {
    pattern: Box<str>,
    /// Parameter names in the order they appear in the pattern.
    params: Box<[Box<str>]>,
    /// The view it serves, for reverse routing; `None` for a mounted service.
    view: Option<ViewId>,
    /// The view's own body limit, if it has one.
    pub(crate) body_limit: Option<usize>,
}

/// A view's type and name, which reverse routing looks a view up by.
#[derive(Clone, Debug)]
pub(crate) struct ViewId {
    pub(super) type_id: TypeId,
    pub(super) name: Cow<'static, str>,
}

/// Which view a URL is wanted for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ViewKey<'a> {
    /// By type; the name is for messages.
    Type(TypeId, &'static str),
    /// By [`View::name`](crate::View::name).
    Name(&'a str),
}

impl Paths {
    /// Adds the route at the next index.
    pub(crate) fn push(&mut self, pattern: &str, view: Option<ViewId>, body_limit: Option<usize>) {
        self.routes.push(RoutePath {
            pattern: pattern.into(),
            params: param_names(pattern),
            view,
            body_limit,
        });
    }

    /// The route at `index`, as the router matched it.
    pub(crate) fn route(&self, index: usize) -> &RoutePath {
        &self.routes[index]
    }

    /// The patterns, in order.
    pub(crate) fn patterns(&self) -> impl Iterator<Item = &str> {
        self.routes.iter().map(|route| &*route.pattern)
    }

    /// The path of the first route serving the view `key` names, with `params` filled
    /// in and percent-encoded.
    ///
    /// # Errors
    ///
    /// A 500 naming the problem (a view not routed, a parameter missing or unknown):
    /// a mistake in the app.
    pub(crate) fn url_for(
        &self,
        key: ViewKey<'_>,
        params: &[(&str, &dyn Display)],
    ) -> Result<String, Error> {
        let found = self.routes.iter().find(|route| match (&route.view, key) {
            (Some(view), ViewKey::Type(id, _)) => view.type_id == id,
            (Some(view), ViewKey::Name(name)) => view.name == name,
            (None, _) => false,
        });
        let Some(route) = found else {
            let wanted = match key {
                ViewKey::Type(_, name) | ViewKey::Name(name) => name,
            };
            return Err(Error::internal(format!(
                "url_for: no route serves view `{wanted}`"
            )));
        };
        reverse::build(&route.pattern, params).map_err(|e| Error::internal(format!("url_for: {e}")))
    }
}

impl RoutePath {
    /// The pattern, as registered.
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The position of parameter `name` in the pattern.
    pub(crate) fn param_position(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|n| &**n == name)
    }
}

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

    #[test]
    fn param_names_follow_the_pattern() {
        assert_eq!(
            &*param_names("/a/{x}/b/{y}/{*rest}"),
            &["x".into(), "y".into(), "rest".into()] as &[Box<str>]
        );
        assert!(param_names("/{{literal}}").is_empty());
    }

    #[test]
    fn urls_for_views_by_type_and_by_name() {
        struct Users;
        let mut paths = Paths::default();
        paths.push("/legacy/{*rest}", None, None);
        let users = ViewId {
            type_id: TypeId::of::<Users>(),
            name: "users".into(),
        };
        paths.push("/users/{id}", Some(users), Some(10));
        let by_type = paths.url_for(ViewKey::Type(TypeId::of::<Users>(), "Users"), &[("id", &7)]);
        assert_eq!(by_type.as_deref().ok(), Some("/users/7"));
        let by_name = paths.url_for(ViewKey::Name("users"), &[("id", &"a b")]);
        assert_eq!(by_name.as_deref().ok(), Some("/users/a%20b"));
        let missing = paths.url_for(ViewKey::Name("posts"), &[]);
        assert_eq!(missing.map_err(|e| e.status().as_u16()), Err(500));
        assert_eq!(paths.route(1).param_position("id"), Some(0));
        assert_eq!(paths.route(1).body_limit, Some(10));
        assert_eq!(
            paths.patterns().collect::<Vec<_>>(),
            ["/legacy/{*rest}", "/users/{id}"]
        );
    }
}
