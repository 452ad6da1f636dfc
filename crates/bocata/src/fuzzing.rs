//! Entry points for the fuzz targets in `fuzz/` and the corpus replay test: each feeds
//! one of bocata's parsers of client input and checks what must hold of the result.
//! Not a public API: enabled by the `fuzzing` feature, hidden from the docs.

use std::convert::Infallible;

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use crate::request::multipart::{Multipart, MultipartLimits};
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

/// The limits the multipart target reads with: bocata's own kinds of limit, set small
/// so that short inputs reach them.
const FUZZ_MULTIPART_LIMITS: MultipartLimits = MultipartLimits {
    field: 1 << 16,
    total: 1 << 20,
    part_headers: 256,
};

/// A multipart body with the boundary on its first line, read the way
/// `Request::multipart` reads one (its boundary parsing, its limit on part heads,
/// multer with its limits), once whole and once cut into small chunks: never a panic,
/// never a `500`, every field within the limits, and a body read whole gives the same
/// fields when it arrives in chunks.
pub fn multipart(input: &[u8]) {
    let (boundary, body) = match input.iter().position(|b| *b == b'\n') {
        Some(at) => (&input[..at], &input[at + 1..]),
        None => (input, &[][..]),
    };
    let content_type = format!(
        "multipart/form-data; boundary={}",
        String::from_utf8_lossy(boundary)
    );
    // Only a boundary a client can send in a header reaches the parser.
    if HeaderValue::try_from(&content_type).is_err() {
        return;
    }
    let Ok(boundary) = crate::request::multipart::boundary(&content_type) else {
        return;
    };
    let whole = vec![bytes::Bytes::copy_from_slice(body)];
    let mut cut = Vec::new();
    let mut rest = body;
    for size in [1, 7, 2, 64, 3].into_iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, after) = rest.split_at(size.min(rest.len()));
        cut.push(bytes::Bytes::copy_from_slice(chunk));
        rest = after;
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    runtime.block_on(async move {
        let whole = read_fields(whole, &boundary).await;
        let cut = read_fields(cut, &boundary).await;
        match (&whole, &cut) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "the fields depend on the chunks"),
            (Err(_), Err(_)) => {}
            _ => panic!("read whole: {whole:?}; in chunks: {cut:?}"),
        }
    });
}

/// A field as the multipart target sees it: name, file name, data.
type FuzzField = (Option<String>, Option<String>, bytes::Bytes);

/// Every field of a body arriving as `chunks`, or the status of the error that
/// stopped the reading, checking the limits and that errors are the client's.
async fn read_fields(
    chunks: Vec<bytes::Bytes>,
    boundary: &str,
) -> Result<Vec<FuzzField>, StatusCode> {
    let limits = FUZZ_MULTIPART_LIMITS;
    let client_error = |error: crate::Error| {
        assert!(error.status().is_client_error(), "{error:?}");
        error.status()
    };
    let stream = futures_util::stream::iter(chunks.into_iter().map(Ok::<_, Infallible>));
    let mut form = Multipart::new(stream, boundary, limits);
    let mut fields = Vec::new();
    let mut total = 0;
    while let Some(field) = form.next_field().await.map_err(client_error)? {
        // The head held at least its header names and values.
        let head: usize = field
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        assert!(head <= limits.part_headers, "a head of {head} bytes");
        let name = field.name().map(str::to_owned);
        let file_name = field.file_name().map(str::to_owned);
        let data = field.bytes().await.map_err(client_error)?;
        assert!(
            data.len() as u64 <= limits.field,
            "a field of {}",
            data.len()
        );
        total += data.len() as u64;
        fields.push((name, file_name, data));
    }
    assert!(total <= limits.total, "{total} bytes in all");
    Ok(fields)
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
