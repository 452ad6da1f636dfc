//! Routers: groups of routes with their own hooks, mounted under a prefix (Flask's and
//! BustAPI's blueprints).

#[cfg(feature = "openapi")]
use std::borrow::Cow;
use std::sync::Arc;

use crate::Handler;
use crate::hooks::{BeforeHook, Hooks, IntoRoute, route};
use crate::routing::RouteError;
use crate::view::{ErasedView, Methods};

/// A group of routes with their own before and after hooks, mounted under a prefix with
/// [`App::mount`](crate::App::mount) or inside another router with
/// [`Router::mount`].
///
/// ```
/// use bocata::{App, Request, Res, Result, Router};
///
/// async fn list(_req: &Request, res: &mut Res) -> Result {
///     res.json(&["ana", "luis"]);
///     Ok(())
/// }
///
/// async fn audit(req: &mut Request, _res: &mut Res) -> Result {
///     tracing::info!(path = req.path(), "admin access");
///     Ok(())
/// }
///
/// let admin = Router::new().before(audit).route("/users", bocata::get(list));
/// let app = App::new().mount("/admin", admin); // serves /admin/users
/// ```
///
/// Routes are joined to the prefix as written: `/users` under `/admin` is
/// `/admin/users`, `/` under `/admin` is `/admin/` (with `/admin` redirecting to it,
/// see [`routing`](crate::routing)), and the empty path `""` is `/admin` itself.
/// Prefixes may hold parameters (`/users/{id}`), which the router's views read like
/// their own. A router mounted at `""` adds its routes (and its hooks) at the root.
///
/// ```
/// use bocata::{App, Request, Res, Result, Router};
///
/// async fn list(_req: &Request, res: &mut Res) -> Result {
///     res.json(&["a note"]);
///     Ok(())
/// }
///
/// async fn one(req: &Request, res: &mut Res) -> Result {
///     let id: u32 = req.param("id")?;
///     res.json(&id);
///     Ok(())
/// }
///
/// // `/notes` and `/notes/{id}`, with no trailing slash anywhere.
/// let notes = Router::new()
///     .route("", bocata::get(list))
///     .route("/{id}", bocata::get(one));
/// let app = App::new().mount("/notes", notes);
/// ```
#[derive(Default)]
pub struct Router {
    routes: Vec<(String, route::Parts)>,
    mounts: Vec<(String, Router)>,
    hooks: Hooks,
    #[cfg(feature = "openapi")]
    tags: Vec<Cow<'static, str>>,
}

/// A view route of a router, with its full path, its hook chain and (feature
/// `openapi`) the tags of the routers it was mounted through.
pub(crate) struct Mounted {
    pub(crate) path: String,
    pub(crate) view: Arc<dyn ErasedView>,
    pub(crate) hooks: Hooks,
    #[cfg(feature = "openapi")]
    pub(crate) tags: Vec<Cow<'static, str>>,
}

impl Router {
    /// A router with no routes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `view` (or a view [`with_hooks`](crate::with_hooks) of its own) at
    /// `path`, relative to where the router is mounted: `""` is the mount point itself.
    /// Conflicts are reported when the router is mounted.
    #[must_use]
    pub fn route(mut self, path: &str, view: impl IntoRoute) -> Self {
        self.routes.push((path.to_owned(), view.into_route()));
        self
    }

    /// Mounts `router` under `prefix` inside this router; its routes get this router's
    /// hooks around their own.
    #[must_use]
    pub fn mount(mut self, prefix: &str, router: Router) -> Self {
        self.mounts.push((prefix.to_owned(), router));
        self
    }

    /// Runs `hook` before every view of this router (and of routers mounted in it).
    /// See [`hooks`](crate::hooks).
    #[must_use]
    pub fn before<H>(mut self, hook: H) -> Self
    where
        H: for<'a> BeforeHook<'a>,
    {
        self.hooks.add_before(Methods::EVERY, hook);
        self
    }

    /// Runs `hook` after every view of this router (and of routers mounted in it).
    /// See [`hooks`](crate::hooks).
    #[must_use]
    pub fn after<H>(mut self, hook: H) -> Self
    where
        H: for<'a> Handler<'a>,
    {
        self.hooks.add_after(Methods::EVERY, hook);
        self
    }

    /// Tags the OpenAPI operations of this router's routes (and of the routers mounted
    /// in it) with `tag`; the docs page groups operations by their first tag.
    ///
    /// ```
    /// use bocata::Router;
    /// # async fn list(_: &bocata::Request, _: &mut bocata::Res) -> bocata::Result { Ok(()) }
    ///
    /// let todos = Router::new().tag("todos").route("", bocata::get(list));
    /// ```
    #[cfg(feature = "openapi")]
    #[must_use]
    pub fn tag(mut self, tag: impl Into<Cow<'static, str>>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Every route of this router and the routers in it, with full paths under
    /// `prefix`, the hook chain around each, and the tags of the routers on the way.
    pub(crate) fn flatten(
        self,
        prefix: &str,
        outer: &Hooks,
        #[cfg(feature = "openapi")] outer_tags: &[Cow<'static, str>],
        out: &mut Vec<Mounted>,
    ) -> Result<(), RouteError> {
        let prefix = prefix.trim_end_matches('/');
        let hooks = outer.around(&self.hooks);
        #[cfg(feature = "openapi")]
        let tags: Vec<Cow<'static, str>> = outer_tags.iter().chain(&self.tags).cloned().collect();
        for (path, route) in self.routes {
            out.push(Mounted {
                path: join(prefix, &path)?,
                view: route.view,
                hooks: hooks.around(&route.hooks),
                #[cfg(feature = "openapi")]
                tags: tags.clone(),
            });
        }
        for (inner, router) in self.mounts {
            router.flatten(
                &join(prefix, &inner)?,
                &hooks,
                #[cfg(feature = "openapi")]
                &tags,
                out,
            )?;
        }
        Ok(())
    }
}

/// `prefix` (without a trailing slash) followed by `path`, which must start with `/`
/// (so `users` under `/admin` is an error, not `/adminusers`) or be empty: the prefix
/// itself.
fn join(prefix: &str, path: &str) -> Result<String, RouteError> {
    match path {
        "" if prefix.is_empty() => Ok("/".to_owned()),
        "" => Ok(prefix.to_owned()),
        _ if !path.starts_with('/') => Err(RouteError::NoLeadingSlash(path.to_owned())),
        _ => Ok(format!("{prefix}{path}")),
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field(
                "routes",
                &self.routes.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .field("mounts", &self.mounts)
            .field("hooks", &self.hooks)
            .finish()
    }
}
