//! Reading a [`Res`] back: what an after hook (or a view's helper) needs to decide what
//! to add. The setters are named for what they set (`status`, `header`); the readers
//! follow `http::Response`'s words where they do not clash (`headers`), and say what
//! they read where they would (`status_code`).

use std::sync::LazyLock;

use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::{Content, HTML, JSON, Res, TEXT};

/// What kind of body a [`Res`] has so far: the setter that made it.
///
/// ```
/// # use bocata::{Request, Res, Result};
/// use bocata::response::BodyKind;
///
/// /// An after hook: shared caches may keep successful pages for a minute, unless the
/// /// view said otherwise.
/// async fn cache_pages(_req: &Request, res: &mut Res) -> Result {
///     let page = matches!(res.body_kind(), BodyKind::Text | BodyKind::Template);
///     if res.status_code().is_success() && page && !res.headers().contains_key("cache-control") {
///         res.header("cache-control", "public, max-age=60");
///     }
///     Ok(())
/// }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyKind {
    /// No body set.
    Empty,
    /// Text or HTML (`text`, `html`).
    Text,
    /// JSON (`json`, `json_mut`).
    Json,
    /// Raw bytes (`content`).
    Bytes,
    /// A file (`file`).
    File,
    /// A rendered template (`template`).
    Template,
    /// A stream (`streaming`, `streaming_blocking`, `stream_writer`).
    Stream,
    /// Server-sent events (`sse`).
    Events,
}

impl Res {
    /// The status set so far. Default: `200 OK`.
    ///
    /// ```
    /// # fn demo(res: &mut bocata::Res) {
    /// res.status(201);
    /// assert_eq!(res.status_code(), 201);
    /// # }
    /// ```
    pub fn status_code(&self) -> StatusCode {
        self.status
    }

    /// The headers set so far. The `Content-Type` a body implies is not among them
    /// until the response is finished: read it with
    /// [`content_type_value`](Self::content_type_value).
    pub fn headers(&self) -> &HeaderMap {
        static NONE: LazyLock<HeaderMap> = LazyLock::new(HeaderMap::new);
        self.headers.as_ref().unwrap_or(&NONE)
    }

    /// The headers, to change as a whole.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.header_map()
    }

    /// The `Content-Type` the response will have: the one set explicitly, or the one
    /// its body implies.
    pub fn content_type_value(&self) -> Option<&HeaderValue> {
        self.headers()
            .get(header::CONTENT_TYPE)
            .or(self.implied_type.as_ref())
    }

    /// What kind of body is set.
    pub fn body_kind(&self) -> BodyKind {
        match &self.content {
            Content::Empty => BodyKind::Empty,
            Content::Bytes(_) => match &self.implied_type {
                Some(implied) if implied == TEXT || implied == HTML => BodyKind::Text,
                Some(implied) if implied == JSON => BodyKind::Json,
                _ => BodyKind::Bytes,
            },
            Content::Json(_) => BodyKind::Json,
            Content::File(_) => BodyKind::File,
            #[cfg(feature = "templates")]
            Content::Template { .. } => BodyKind::Template,
            Content::Stream(_) => BodyKind::Stream,
            Content::Events(_) => BodyKind::Events,
        }
    }

    /// Whether a body is set.
    pub fn has_body(&self) -> bool {
        self.body_kind() != BodyKind::Empty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_res_reads_back_what_was_set() {
        let mut res = Res::new();
        assert_eq!(res.body_kind(), BodyKind::Empty);
        assert!(!res.has_body());
        assert!(res.headers().is_empty(), "no header set yet");
        assert_eq!(res.content_type_value(), None);
        res.headers_mut()
            .insert("x-zero", HeaderValue::from_static("0"));
        assert_eq!(
            res.headers()["x-zero"],
            "0",
            "the map is made when first wanted"
        );
        res.status(201).header("x-one", "1").html("<p>hi</p>");
        assert_eq!(res.status_code(), 201);
        assert_eq!(res.headers()["x-one"], "1");
        assert_eq!(res.body_kind(), BodyKind::Text);
        assert_eq!(
            res.content_type_value().map(HeaderValue::as_bytes),
            Some(&b"text/html; charset=utf-8"[..])
        );
        res.content_type("text/x-markdown");
        assert_eq!(
            res.content_type_value().map(HeaderValue::as_bytes),
            Some(&b"text/x-markdown"[..]),
            "an explicit type wins"
        );
        type Setter = fn(&mut Res);
        let kinds: [(Setter, BodyKind); 5] = [
            (|r| _ = r.json(&[1, 2]), BodyKind::Json),
            (|r| _ = r.content(vec![1]), BodyKind::Bytes),
            (|r| _ = r.file("a.txt"), BodyKind::File),
            (
                |r| _ = r.streaming(futures_util::stream::empty::<&'static str>()),
                BodyKind::Stream,
            ),
            (|r| _ = r.text("t"), BodyKind::Text),
        ];
        for (set, kind) in kinds {
            let mut res = Res::new();
            set(&mut res);
            assert_eq!(res.body_kind(), kind);
            assert!(res.has_body());
        }
        res.headers_mut().remove("x-one");
        assert!(res.headers().get("x-one").is_none());
    }
}
