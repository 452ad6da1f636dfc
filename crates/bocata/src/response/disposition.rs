//! `Content-Disposition` values (RFC 6266), safe for any file name.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters RFC 5987 §3.2.1 `attr-char` allows unencoded in `filename*`; everything
/// else is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Whether the client should save a file body (`attachment`) or show it (`inline`), or
/// (static files) not be told at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum Disposition {
    #[default]
    Attachment,
    Inline,
    Omitted,
}

/// The `Content-Disposition` value for `filename` with `disposition`.
///
/// The quoted `filename=` is an ASCII fallback in which anything that could break out of
/// the quotes or the header (`"`, `\`, control characters, non-ASCII) is replaced by `_`.
/// When the name is not plain ASCII, RFC 6266 §4.3's `filename*=UTF-8''…` carries it
/// exactly, percent-encoded.
pub(super) fn content_disposition(disposition: Disposition, filename: &str) -> Option<String> {
    let kind = match disposition {
        Disposition::Attachment => "attachment",
        Disposition::Inline => "inline",
        Disposition::Omitted => return None,
    };
    let plain = |c: char| c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\';
    let mut value = String::with_capacity(kind.len() + filename.len() + 13);
    value.push_str(kind);
    value.push_str("; filename=\"");
    if filename.chars().all(plain) {
        value.push_str(filename);
        value.push('"');
    } else {
        value.extend(filename.chars().map(|c| if plain(c) { c } else { '_' }));
        value.push_str("\"; filename*=UTF-8''");
        value.extend(utf8_percent_encode(filename, ATTR_CHAR));
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases = [
            ("report.pdf", r#"attachment; filename="report.pdf""#),
            ("my file.txt", r#"attachment; filename="my file.txt""#),
            (
                "résumé.pdf",
                r#"attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"#,
            ),
            (
                "a\"b.txt",
                r#"attachment; filename="a_b.txt"; filename*=UTF-8''a%22b.txt"#,
            ),
            (
                "a\\b.txt",
                r#"attachment; filename="a_b.txt"; filename*=UTF-8''a%5Cb.txt"#,
            ),
            (
                "evil\r\nSet-Cookie: x=1",
                r#"attachment; filename="evil__Set-Cookie: x=1"; filename*=UTF-8''evil%0D%0ASet-Cookie%3A%20x%3D1"#,
            ),
            (
                "日本.txt",
                r#"attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt"#,
            ),
        ];
        for (name, expected) in cases {
            let value = content_disposition(Disposition::Attachment, name).unwrap();
            assert_eq!(value, expected, "{name:?}");
            assert!(
                http::HeaderValue::from_str(&value).is_ok(),
                "{name:?} gives a valid header"
            );
        }
        assert_eq!(
            content_disposition(Disposition::Inline, "a.png").as_deref(),
            Some(r#"inline; filename="a.png""#)
        );
        assert_eq!(content_disposition(Disposition::Omitted, "a.png"), None);
    }
}
