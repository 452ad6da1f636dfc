//! The app's OpenAPI routes (feature `openapi`): the document and the docs page, served
//! from what the app registered of its routes.

use std::sync::Arc;

use crate::openapi::{OpenApi, docs_page};
use crate::{App, Request, Res};

impl App {
    /// Serves the app's OpenAPI 3.1 document at `config`'s document path
    /// (`/openapi.json` by default) and the docs page at its docs path (`/docs`). The
    /// document describes every view route, including the ones added after this call;
    /// it is written once, on the first request for it. The two routes run the app's
    /// hooks like any other (a before hook can keep them private) and are not in the
    /// document themselves. See the [`openapi`](crate::openapi) module.
    ///
    /// # Panics
    ///
    /// When one of the two paths conflicts with a route already added.
    #[must_use]
    #[track_caller]
    pub fn openapi(mut self, config: OpenApi) -> Self {
        let page: Arc<str> = docs_page(&config).into();
        let document_path = config.document_path.clone();
        let docs_path = config.docs_path.clone();
        self.context_mut().openapi.config = Some(Arc::new(config));
        let document = crate::get(|req: &Request, res: &mut Res| {
            res.content(req.context.openapi.document())
                .content_type("application/json");
            std::future::ready(Ok(()))
        });
        self = self.route_unlisted(&document_path, document);
        if let Some(docs_path) = docs_path {
            let docs = crate::get(move |_req: &Request, res: &mut Res| {
                res.html(page.to_string());
                std::future::ready(Ok(()))
            });
            self = self.route_unlisted(&docs_path, docs);
        }
        self
    }
}
