//! Conditional requests (RFC 9110 §13): `If-Match`, `If-None-Match`,
//! `If-Modified-Since`, `If-Unmodified-Since` and `If-Range`.

use std::cell::RefCell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Method, header};

use crate::headers;

/// What identifies the current representation.
#[derive(Debug)]
pub(super) struct Validators {
    /// The strong entity tag, with its quotes: `"1f4-18c3a2b1f"`; ready to send.
    pub(super) etag: HeaderValue,
    /// The modification time, whole seconds (HTTP dates have no finer resolution).
    pub(super) last_modified: Option<SystemTime>,
}

impl Validators {
    /// Validators for a file of `len` bytes last modified at `modified`.
    ///
    /// The tag is strong: bocata takes a file with the same length and the same
    /// modification time, to the nanosecond, to hold the same bytes.
    pub(super) fn for_file(len: u64, modified: Option<SystemTime>) -> Self {
        let since_epoch = modified
            .and_then(|m| m.duration_since(UNIX_EPOCH).ok())
            .unwrap_or_default();
        Self {
            etag: etag(len, since_epoch),
            last_modified: modified
                .map(|_| UNIX_EPOCH + Duration::from_secs(since_epoch.as_secs())),
        }
    }

    fn opaque(&self) -> &str {
        self.etag.to_str().unwrap_or_default().trim_matches('"')
    }
}

/// The strong tag of a file of `len` bytes modified `since_epoch`. The last one made
/// on this thread is kept: a file asked for again and again is tagged once.
fn etag(len: u64, since_epoch: Duration) -> HeaderValue {
    thread_local! {
        static LAST: RefCell<Option<(u64, Duration, HeaderValue)>> = const { RefCell::new(None) };
    }
    let cached = LAST.with_borrow(|last| match last {
        Some((l, s, tag)) if (*l, *s) == (len, since_epoch) => Some(tag.clone()),
        _ => None,
    });
    cached.unwrap_or_else(|| {
        let mut etag = String::with_capacity(2 + 16 + 1 + 32);
        etag.push('"');
        push_hex(&mut etag, u128::from(len));
        etag.push('-');
        push_hex(&mut etag, since_epoch.as_nanos());
        etag.push('"');
        // Hexadecimal digits, a dash and quotes: always a valid header value.
        let tag = HeaderValue::try_from(etag).unwrap_or(HeaderValue::from_static("\"0\""));
        LAST.set(Some((len, since_epoch, tag.clone())));
        tag
    })
}

/// Appends `n` in lowercase hexadecimal, without leading zeros, as `{n:x}` would,
/// without the formatting machinery: every file response makes an ETag.
fn push_hex(out: &mut String, n: u128) {
    let digits = (128 - n.leading_zeros()).div_ceil(4).max(1);
    for shift in (0..digits).rev() {
        let digit = (n >> (shift * 4)) & 0xf;
        out.push(char::from(b"0123456789abcdef"[digit as usize]));
    }
}

/// The outcome of the preconditions, in RFC 9110 §13.2.2's order.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Precondition {
    /// Serve the request.
    Proceed,
    /// `304 Not Modified`: the client's copy is current.
    NotModified,
    /// `412 Precondition Failed`.
    Failed,
}

/// Evaluates the request's preconditions against the current representation.
pub(super) fn evaluate(method: &Method, headers: &HeaderMap, current: &Validators) -> Precondition {
    let safe = method == Method::GET || method == Method::HEAD;
    // Step 1 and 2: If-Match, or else If-Unmodified-Since.
    if let Some(if_match) = headers::text(headers, header::IF_MATCH) {
        if !matches_any(if_match, current, Comparison::Strong) {
            return Precondition::Failed;
        }
    } else if let (Some(since), Some(modified)) = (
        header_date(headers, header::IF_UNMODIFIED_SINCE),
        current.last_modified,
    ) && modified > since
    {
        return Precondition::Failed;
    }
    // Step 3 and 4: If-None-Match, or else If-Modified-Since (GET and HEAD only).
    if let Some(if_none_match) = headers::text(headers, header::IF_NONE_MATCH) {
        if matches_any(if_none_match, current, Comparison::Weak) {
            return if safe {
                Precondition::NotModified
            } else {
                Precondition::Failed
            };
        }
    } else if let (true, Some(since), Some(modified)) = (
        safe,
        header_date(headers, header::IF_MODIFIED_SINCE),
        current.last_modified,
    ) && modified <= since
    {
        return Precondition::NotModified;
    }
    Precondition::Proceed
}

/// Whether `If-Range` (RFC 9110 §13.1.5) lets a `Range` apply: absent, or naming the
/// current representation by its strong tag or its exact modification date. A weak or
/// malformed validator never does, and the whole representation is sent instead.
pub(super) fn if_range_allows(headers: &HeaderMap, current: &Validators) -> bool {
    let Some(value) = headers::text(headers, header::IF_RANGE) else {
        return true;
    };
    let value = value.trim();
    if value.starts_with('"') || value.starts_with("W/") {
        let mut tags = EntityTags(value);
        return match tags.next() {
            Some((false, opaque)) => opaque == current.opaque() && tags.0.trim().is_empty(),
            _ => false,
        };
    }
    match (httpdate::parse_http_date(value).ok(), current.last_modified) {
        (Some(date), Some(modified)) => date == modified,
        _ => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Strong,
    Weak,
}

/// Whether an `If-Match` / `If-None-Match` list (or `*`) names the current tag.
fn matches_any(list: &str, current: &Validators, comparison: Comparison) -> bool {
    if list.trim() == "*" {
        return true;
    }
    EntityTags(list).any(|(weak, opaque)| {
        opaque == current.opaque() && (comparison == Comparison::Weak || !weak)
    })
}

/// The entity tags of a comma-separated list, as `(weak, opaque)`; stops at the first
/// malformed one. Tags may contain commas, so the list is scanned, not split.
struct EntityTags<'a>(&'a str);

impl<'a> Iterator for EntityTags<'a> {
    type Item = (bool, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.0.trim_start_matches([' ', '\t', ',']);
        let (weak, rest) = match rest.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, rest),
        };
        let rest = rest.strip_prefix('"')?;
        let end = rest.find('"')?;
        self.0 = &rest[end + 1..];
        Some((weak, &rest[..end]))
    }
}

/// A header's HTTP date; an invalid date is ignored, as RFC 9110 §13.1.3 asks.
fn header_date(headers: &HeaderMap, name: header::HeaderName) -> Option<SystemTime> {
    headers::text(headers, name).and_then(|v| httpdate::parse_http_date(v.trim()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_as_the_formatter_writes_it() {
        for n in [0, 1, 15, 16, 255, 0x1f4, u128::from(u64::MAX), u128::MAX] {
            let mut out = String::new();
            push_hex(&mut out, n);
            assert_eq!(out, format!("{n:x}"));
        }
    }
    use http::HeaderValue;

    fn current() -> Validators {
        Validators::for_file(500, Some(UNIX_EPOCH + Duration::new(1_700_000_000, 123)))
    }

    fn date(offset: i64) -> String {
        let secs = 1_700_000_000_i64 + offset;
        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs as u64))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_tag_is_strong_and_changes_with_length_or_time() {
        let v = current();
        assert_eq!(v.etag, "\"1f4-17979cfe362a007b\"");
        let later = Validators::for_file(500, Some(UNIX_EPOCH + Duration::new(1_700_000_000, 124)));
        assert_ne!(v.etag, later.etag);
        assert_ne!(v.etag, Validators::for_file(501, Some(UNIX_EPOCH)).etag);
        // Made again after others, the tag is the same.
        assert_eq!(current().etag, v.etag);
    }

    /// Request headers of a table row.
    type Headers = Vec<(&'static str, String)>;

    #[test]
    fn rfc_9110_order_table() {
        use Precondition::{Failed, NotModified, Proceed};
        let tag = current().etag.to_str().expect("ASCII").to_owned();
        let weak = format!("W/{tag}");
        let list = format!("\"other\", {weak}");
        let cases: Vec<(Method, Headers, Precondition)> = vec![
            (Method::GET, vec![], Proceed),
            (
                Method::GET,
                vec![("if-none-match", tag.clone())],
                NotModified,
            ),
            (
                Method::HEAD,
                vec![("if-none-match", tag.clone())],
                NotModified,
            ),
            (
                Method::GET,
                vec![("if-none-match", weak.clone())],
                NotModified,
            ),
            (Method::GET, vec![("if-none-match", list)], NotModified),
            (
                Method::GET,
                vec![("if-none-match", "*".into())],
                NotModified,
            ),
            (
                Method::GET,
                vec![("if-none-match", "\"other\"".into())],
                Proceed,
            ),
            (Method::POST, vec![("if-none-match", tag.clone())], Failed),
            (
                Method::GET,
                vec![("if-modified-since", date(0))],
                NotModified,
            ),
            (
                Method::GET,
                vec![("if-modified-since", date(10))],
                NotModified,
            ),
            (Method::GET, vec![("if-modified-since", date(-1))], Proceed),
            (
                Method::GET,
                vec![("if-modified-since", "yesterday".into())],
                Proceed,
            ),
            (Method::POST, vec![("if-modified-since", date(0))], Proceed),
            // If-None-Match present: If-Modified-Since is ignored.
            (
                Method::GET,
                vec![
                    ("if-none-match", "\"other\"".into()),
                    ("if-modified-since", date(10)),
                ],
                Proceed,
            ),
            (Method::GET, vec![("if-match", tag.clone())], Proceed),
            (Method::GET, vec![("if-match", "*".into())], Proceed),
            (Method::GET, vec![("if-match", weak)], Failed),
            (Method::PUT, vec![("if-match", "\"other\"".into())], Failed),
            (
                Method::PUT,
                vec![("if-match", format!("\"x\", {tag}"))],
                Proceed,
            ),
            (Method::GET, vec![("if-unmodified-since", date(0))], Proceed),
            (Method::GET, vec![("if-unmodified-since", date(-1))], Failed),
            (
                Method::GET,
                vec![("if-unmodified-since", "garbage".into())],
                Proceed,
            ),
            // If-Match present: If-Unmodified-Since is ignored.
            (
                Method::GET,
                vec![("if-match", tag.clone()), ("if-unmodified-since", date(-1))],
                Proceed,
            ),
            // A failed If-Match wins over a matching If-None-Match.
            (
                Method::GET,
                vec![("if-match", "\"other\"".into()), ("if-none-match", tag)],
                Failed,
            ),
            (
                Method::GET,
                vec![("if-none-match", "\"a,b\", \"unterminated".into())],
                Proceed,
            ),
        ];
        for (method, pairs, expected) in cases {
            let refs: Vec<(&'static str, &str)> =
                pairs.iter().map(|(n, v)| (*n, v.as_str())).collect();
            assert_eq!(
                evaluate(&method, &headers(&refs), &current()),
                expected,
                "{method} {pairs:?}"
            );
        }
    }

    #[test]
    fn if_range_table() {
        let tag = current().etag.to_str().expect("ASCII").to_owned();
        let cases = [
            (None, true),
            (Some(tag.clone()), true),
            (Some(format!("W/{tag}")), false),
            (Some("\"other\"".into()), false),
            (Some(date(0)), true),
            (Some(date(1)), false),
            (Some(date(-1)), false),
            (Some("not a date".into()), false),
            (Some(format!("{tag}, \"other\"")), false),
        ];
        for (value, expected) in cases {
            let map = match &value {
                Some(v) => headers(&[("if-range", v.as_str())]),
                None => HeaderMap::new(),
            };
            assert_eq!(if_range_allows(&map, &current()), expected, "{value:?}");
        }
    }

    #[test]
    fn entity_tag_lists_are_scanned_not_split() {
        let tags: Vec<_> = EntityTags("\"a,b\" , W/\"c\",\"\"").collect();
        assert_eq!(tags, [(false, "a,b"), (true, "c"), (false, "")]);
        assert_eq!(EntityTags("x, \"a\"").count(), 0);
    }
}
