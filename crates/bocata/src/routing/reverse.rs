//! Reverse routing: the URL of a view, built from its route's pattern.

use std::fmt::Display;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What is percent-encoded in a path segment: everything but unreserved characters and
/// the sub-delimiters RFC 3986 §3.3 allows (`/` too, so a value stays one segment).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The same, keeping `/`: a catch-all's value spans segments.
const CATCH_ALL: &AsciiSet = &SEGMENT.remove(b'/');

/// Why a URL could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(super) enum ReverseError {
    #[error("route `{pattern}` needs a value for parameter `{name}`")]
    Missing { pattern: String, name: String },
    #[error("route `{pattern}` has no parameter `{name}`")]
    Unknown { pattern: String, name: String },
}

/// `path`, followed by `uri`'s query if it has one: `uri` with its path replaced.
pub(crate) fn with_query(path: &str, uri: &http::Uri) -> String {
    match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    }
}

/// The path of `pattern` with `params` filled in, each value percent-encoded.
pub(super) fn build(
    pattern: &str,
    params: &[(&str, &dyn Display)],
) -> Result<String, ReverseError> {
    let mut path = String::with_capacity(pattern.len());
    let mut used = 0;
    let mut rest = pattern;
    while let Some(open) = rest.find(['{', '}']) {
        path.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        if rest[open..].starts_with("{{") || rest[open..].starts_with("}}") {
            path.push_str(&rest[open..=open]);
            rest = &after[1..];
            continue;
        }
        let close = after.find('}').unwrap_or(after.len());
        let spec = &after[..close];
        let (name, set) = match spec.strip_prefix('*') {
            Some(name) => (name, CATCH_ALL),
            None => (spec, SEGMENT),
        };
        let Some((_, value)) = params.iter().find(|(n, _)| *n == name) else {
            return Err(ReverseError::Missing {
                pattern: pattern.to_owned(),
                name: name.to_owned(),
            });
        };
        used += 1;
        path.extend(utf8_percent_encode(&value.to_string(), set));
        rest = after.get(close + 1..).unwrap_or("");
    }
    path.push_str(rest);
    if used < params.len() {
        let unknown = params
            .iter()
            .find(|(n, _)| {
                !pattern.contains(&format!("{{{n}}}")) && !pattern.contains(&format!("{{*{n}}}"))
            })
            .map_or("?", |(n, _)| n);
        return Err(ReverseError::Unknown {
            pattern: pattern.to_owned(),
            name: unknown.to_owned(),
        });
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parameters of a table row.
    type Params<'a> = &'a [(&'a str, &'a dyn Display)];

    #[test]
    fn build_table() {
        let ok: &[(&str, Params<'_>, &str)] = &[
            ("/", &[], "/"),
            ("/users/{id}", &[("id", &7)], "/users/7"),
            (
                "/users/{id}/posts/{slug}",
                &[("slug", &"a b/c"), ("id", &1)],
                "/users/1/posts/a%20b%2Fc",
            ),
            (
                "/files/{*path}",
                &[("path", &"css/site main.css")],
                "/files/css/site%20main.css",
            ),
            ("/café/{x}", &[("x", &"é?#")], "/café/%C3%A9%3F%23"),
            ("/{{literal}}/{x}", &[("x", &1)], "/{literal}/1"),
        ];
        for (pattern, params, expected) in ok {
            assert_eq!(
                build(pattern, params).as_deref(),
                Ok(*expected),
                "{pattern}"
            );
        }
    }

    #[test]
    fn missing_and_unknown_parameters_are_errors() {
        let err = build("/users/{id}", &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "route `/users/{id}` needs a value for parameter `id`"
        );
        let err = build("/users/{id}", &[("id", &1), ("page", &2)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "route `/users/{id}` has no parameter `page`"
        );
    }
}
