//! Comma-separated header lists (`Accept`, `Accept-Encoding`, `Connection`, …), as
//! RFC 9110 §5.6.1 writes them, with the quality values of §12.4.2.

use http::HeaderMap;
use http::header::HeaderName;

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

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http::header::ACCEPT_ENCODING;

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
