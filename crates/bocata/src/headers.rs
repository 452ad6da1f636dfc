//! Reading headers: a value as text, comma-separated lists (`Accept`,
//! `Accept-Encoding`, `Connection`, …) as RFC 9110 §5.6.1 writes them with the quality
//! values of §12.4.2, and media types: which a request sends, which a client accepts,
//! and which a file's extension implies.

use std::cell::RefCell;
use std::ffi::{OsStr, OsString};
use std::path::Path;

use http::header::{self, AsHeaderName, HeaderName};
use http::{HeaderMap, HeaderValue};

/// The first value of header `name`, if there is one and it is visible ASCII.
pub(crate) fn text<K: AsHeaderName>(headers: &HeaderMap, name: K) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The items of every `name` header, without their parameters, leaving out those the
/// client refused with `q=0`.
pub(crate) fn accepted(headers: &HeaderMap, name: HeaderName) -> impl Iterator<Item = &str> {
    headers
        .get_all(name)
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';');
            let token = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
            });
            (!token.is_empty() && !refused).then_some(token)
        })
}

/// Whether `media` (a type without parameters) is JSON: `application/json`, or an
/// `application/*+json` type such as `application/problem+json` (RFC 6839 §3.1).
pub(crate) fn is_json(media: &str) -> bool {
    let Some((kind, subtype)) = media.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype.len() > "+json".len()
                && subtype[subtype.len() - "+json".len()..].eq_ignore_ascii_case("+json"))
}

/// The request's media type, from `Content-Type` without its parameters.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<&str> {
    let value = text(headers, header::CONTENT_TYPE)?;
    Some(value.split(';').next().unwrap_or("").trim())
}

/// Whether the `Accept` header asks for JSON (see [`is_json`]) with a non-zero quality.
pub(crate) fn accepts_json(headers: &HeaderMap) -> bool {
    accepted(headers, header::ACCEPT).any(is_json)
}

/// The `Content-Type` for `path`, guessed from its extension; text types are UTF-8.
pub(crate) fn guess_type(path: &Path) -> HeaderValue {
    thread_local! {
        /// The last extension looked up on this thread, and its type: a site sends
        /// many files of few types, and the table is searched only when it changes.
        static LAST: RefCell<Option<(OsString, HeaderValue)>> = const { RefCell::new(None) };
    }
    let extension = path.extension().unwrap_or_default();
    let cached = LAST.with_borrow(|last| match last {
        Some((seen, value)) if seen == extension => Some(value.clone()),
        _ => None,
    });
    cached.unwrap_or_else(|| {
        let value = type_of_extension(extension);
        LAST.set(Some((extension.to_owned(), value.clone())));
        value
    })
}

/// The media type for files with `extension` (which may be empty).
fn type_of_extension(extension: &OsStr) -> HeaderValue {
    // The table's own strings, without parsing them into a `Mime`: most files pay no
    // allocation for their type.
    let essence = extension
        .to_str()
        .and_then(|e| mime_guess::from_ext(e).first_raw());
    let Some(essence) = essence else {
        return HeaderValue::from_static("application/octet-stream");
    };
    if !essence.starts_with("text/") {
        return HeaderValue::from_static(essence);
    }
    HeaderValue::try_from(format!("{essence}; charset=utf-8"))
        .unwrap_or(HeaderValue::from_static("text/plain; charset=utf-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::ACCEPT_ENCODING;

    #[test]
    fn json_media_types() {
        let cases = [
            ("application/json", true),
            ("Application/JSON", true),
            ("application/merge-patch+json", true),
            ("application/problem+json", true),
            ("application/jsonx", false),
            ("application/+json", false),
            ("text/json", false),
            ("text/x+json", false),
            ("+json", false),
            ("json", false),
        ];
        for (media, expected) in cases {
            assert_eq!(is_json(media), expected, "{media}");
        }
    }

    #[test]
    fn types_from_extensions() {
        let cases = [
            ("a.html", "text/html; charset=utf-8"),
            ("a.css", "text/css; charset=utf-8"),
            ("a.txt", "text/plain; charset=utf-8"),
            ("a.json", "application/json"),
            ("a.png", "image/png"),
            ("a.mp4", "video/mp4"),
            ("a.unknown-ext", "application/octet-stream"),
            ("no-extension", "application/octet-stream"),
        ];
        // Twice over, in turn: the answer is the same whether the last lookup was for
        // the same extension or another.
        for (name, expected) in cases.iter().chain(&cases) {
            assert_eq!(guess_type(Path::new(name)), *expected, "{name}");
            assert_eq!(guess_type(Path::new(name)), *expected, "{name}, again");
        }
    }

    #[test]
    fn items_parameters_and_refusals() {
        let mut headers = HeaderMap::new();
        headers.append(
            ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0.5, br;q=0 ,, deflate"),
        );
        headers.append(
            ACCEPT_ENCODING,
            HeaderValue::from_static("zstd; q=0.0, identity"),
        );
        let items: Vec<&str> = accepted(&headers, ACCEPT_ENCODING).collect();
        assert_eq!(items, ["gzip", "deflate", "identity"]);
    }
}
