//! Entry points for the fuzz targets in `fuzz/` and the corpus replay test: each feeds
//! one of bocata's parsers of client input and checks what must hold of the result.
//! Not a public API: enabled by the `fuzzing` feature, hidden from the docs.

use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::response::fuzzing as response;

/// `Range` against representations of several lengths: never a panic, and every range
/// given is sorted, disjoint, non-empty and inside the representation.
pub fn range(input: &[u8]) {
    let Ok(header) = std::str::from_utf8(input) else {
        return;
    };
    for len in [0, 1, 10, 1000, u64::MAX / 2] {
        response::range(header, len);
    }
}

/// Conditional headers (`name: value` lines) against a fixed representation, for GET
/// and PUT: never a panic.
pub fn conditional(input: &[u8]) {
    let headers = header_lines(input);
    for method in [Method::GET, Method::PUT] {
        response::conditional(&method, &headers);
    }
}

/// A download's name: always a valid header value.
pub fn content_disposition(input: &[u8]) {
    response::content_disposition(&String::from_utf8_lossy(input));
}

/// A static file request path: accepted paths are plain relative names.
pub fn static_path(input: &[u8]) {
    let raw = String::from_utf8_lossy(input);
    if let Some(path) = crate::static_files::safe_relative_path(&raw, false) {
        for component in path.components() {
            assert!(
                matches!(component, std::path::Component::Normal(_)),
                "{raw:?} gave {path:?}"
            );
        }
    }
}

/// A query string or form body: decoding never panics.
pub fn query(input: &[u8]) {
    let _ = serde_urlencoded::from_bytes::<Vec<(String, String)>>(input);
    let _ = serde_urlencoded::from_bytes::<std::collections::HashMap<String, u32>>(input);
    let _ = form_urlencoded::parse(input).count();
}

/// A `Cookie` header and a session cookie value: parsing never panics, a value not
/// signed by the key is an empty session, and opening it as if its signature held never
/// panics.
pub fn cookies(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let _ = cookie::Cookie::split_parse_encoded(text.as_ref()).count();
    crate::session::fuzz_load(&text);
}

/// A multipart body with the boundary on its first line: reading every field never
/// panics and stays within the limits.
pub fn multipart(input: &[u8]) {
    let (boundary, body) = match input.iter().position(|b| *b == b'\n') {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (input, &[][..]),
    };
    let boundary = String::from_utf8_lossy(boundary).into_owned();
    let body = bytes::Bytes::copy_from_slice(body);
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    runtime.block_on(async move {
        let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(body) });
        let constraints = multer::Constraints::new().size_limit(
            multer::SizeLimit::new()
                .whole_stream(1 << 20)
                .per_field(1 << 16),
        );
        let mut form = multer::Multipart::with_constraints(stream, boundary, constraints);
        while let Ok(Some(field)) = form.next_field().await {
            if field.bytes().await.is_err() {
                break;
            }
        }
    });
}

/// `name: value` lines as headers; lines that are not headers are skipped.
fn header_lines(input: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for line in input.split(|b| *b == b'\n') {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(line[..colon].trim_ascii()),
            HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }
    headers
}
