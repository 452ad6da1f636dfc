//! Startup and shutdown: the async hooks an app runs when it starts serving (before
//! the first connection is accepted) and when it stops (after the last request in
//! flight has finished), where it opens and closes what its views share.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::App;

/// A startup or shutdown hook, ready to be called as often as the app is started.
type LifecycleHook = Arc<dyn Fn() -> BoxFuture<'static, crate::Result> + Send + Sync>;

/// An app's startup and shutdown hooks, each list in the order they were added.
#[derive(Clone, Default)]
pub(crate) struct Lifecycle {
    startup: Vec<LifecycleHook>,
    shutdown: Vec<LifecycleHook>,
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle")
            .field("startup", &self.startup.len())
            .field("shutdown", &self.shutdown.len())
            .finish()
    }
}

fn boxed<F, Fut>(hook: F) -> LifecycleHook
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = crate::Result> + Send + 'static,
{
    Arc::new(move || Box::pin(hook()))
}

impl Lifecycle {
    /// Runs the startup hooks in order; the first that fails stops the start, and says
    /// why.
    pub(crate) async fn start(&self) -> Result<(), String> {
        for (index, hook) in self.startup.iter().enumerate() {
            if let Err(err) = hook().await {
                return Err(format!(
                    "startup hook {} of {} failed: {}",
                    index + 1,
                    self.startup.len(),
                    reason(&err)
                ));
            }
        }
        Ok(())
    }

    /// Runs every shutdown hook in order, logging those that fail.
    pub(crate) async fn stop(&self) {
        for (index, hook) in self.shutdown.iter().enumerate() {
            if let Err(err) = hook().await {
                tracing::error!(
                    target: "bocata::server",
                    "shutdown hook {} of {} failed: {}",
                    index + 1,
                    self.shutdown.len(),
                    reason(&err)
                );
            }
        }
    }
}

/// What went wrong in a hook, without the HTTP status, which means nothing here.
fn reason(err: &crate::Error) -> String {
    match (err.message(), err.cause_chain()) {
        (Some(message), Some(cause)) => format!("{message}: {cause}"),
        (Some(message), None) => message.to_owned(),
        (None, Some(cause)) => cause,
        (None, None) => err.to_string(),
    }
}

impl App {
    /// Runs `hook` when the app starts: before the server accepts its first connection,
    /// and before a [`TestClient`](crate::testing::TestClient) sends its first request
    /// (Responder's and Bocadillo's `startup` event). Open what the views share there:
    /// connect a pool, run migrations, warm a cache. Hooks run one after the other, in
    /// the order they were added.
    ///
    /// A hook that fails stops the start: [`App::run`] returns the error, naming the
    /// hook, and no connection is accepted (`main` returning it exits with a non-zero
    /// code). The shutdown hooks do not run then.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use bocata::App;
    ///
    /// let ready = Arc::new(AtomicBool::new(false));
    /// let app = App::new().state(Arc::clone(&ready)).on_startup(move || {
    ///     let ready = Arc::clone(&ready);
    ///     async move {
    ///         // Connect a pool, run migrations; an error here stops the start:
    ///         // pool.acquire().await?;
    ///         ready.store(true, Ordering::Release);
    ///         Ok(())
    ///     }
    /// });
    /// # let _ = app;
    /// ```
    #[must_use]
    pub fn on_startup<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = crate::Result> + Send + 'static,
    {
        self.shared_mut().lifecycle.startup.push(boxed(hook));
        self
    }

    /// Runs `hook` when the app stops: after a graceful shutdown has let the last
    /// request in flight finish (or the grace period has ended it), so what it closes
    /// has no user left; and when a [`TestClient`](crate::testing::TestClient) is shut
    /// down with [`TestClient::shutdown`](crate::testing::TestClient::shutdown). Hooks
    /// run one after the other, in the order they were added; one that fails is
    /// logged, and the others still run.
    ///
    /// ```
    /// let app = bocata::App::new().on_shutdown(|| async {
    ///     // pool.close().await;
    ///     Ok(())
    /// });
    /// # let _ = app;
    /// ```
    #[must_use]
    pub fn on_shutdown<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = crate::Result> + Send + 'static,
    {
        self.shared_mut().lifecycle.shutdown.push(boxed(hook));
        self
    }
}
