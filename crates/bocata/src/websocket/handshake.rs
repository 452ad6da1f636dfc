//! The opening handshake (RFC 6455 §4.2): checking the request, answering 101.

use std::sync::{Arc, Mutex};

use crate::body::Body;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Response, StatusCode, Version, header};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::socket::Io;
use crate::Error;
use crate::headers::accepted;

const WEBSOCKET: HeaderValue = HeaderValue::from_static("websocket");
const UPGRADE: HeaderValue = HeaderValue::from_static("upgrade");
const VERSION_13: HeaderValue = HeaderValue::from_static("13");
const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");

/// Whether a request asks to become a WebSocket (`Upgrade: websocket`).
pub(crate) fn is_upgrade(headers: &HeaderMap) -> bool {
    has_token(headers, header::UPGRADE, "websocket")
}

/// A valid handshake: what the 101 answer needs.
#[derive(Debug)]
pub(super) struct Handshake {
    accept: HeaderValue,
    offered_protocols: Vec<String>,
}

/// Checks a request that asks for a WebSocket; a bad one gets a 400 saying what is
/// wrong, an unsupported version a 426 naming the version bocata speaks.
pub(super) fn check(
    method: &Method,
    version: Version,
    headers: &HeaderMap,
) -> Result<Handshake, Error> {
    let bad = |what: &str| {
        Error::new(
            StatusCode::BAD_REQUEST,
            format!("invalid WebSocket handshake: {what}"),
        )
    };
    if method != Method::GET {
        return Err(bad("the method must be GET"));
    }
    if version != Version::HTTP_11 {
        return Err(bad("WebSockets need HTTP/1.1"));
    }
    if !has_token(headers, header::CONNECTION, "upgrade") {
        return Err(bad("`Connection: upgrade` is missing"));
    }
    let version = headers.get(header::SEC_WEBSOCKET_VERSION);
    if version != Some(&VERSION_13) {
        return Err(Error::new(
            StatusCode::UPGRADE_REQUIRED,
            "this server speaks WebSocket version 13",
        )
        .with_header(header::SEC_WEBSOCKET_VERSION, VERSION_13));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .map(HeaderValue::as_bytes)
        .filter(|key| is_nonce(key))
        .ok_or_else(|| bad("`Sec-WebSocket-Key` must be 16 bytes in base64"))?;
    let accept = HeaderValue::try_from(derive_accept_key(key)).map_err(Error::internal)?;
    let offered_protocols = accepted(headers, header::SEC_WEBSOCKET_PROTOCOL)
        .map(str::to_owned)
        .collect();
    Ok(Handshake {
        accept,
        offered_protocols,
    })
}

impl Handshake {
    /// The first protocol the client offered that the view speaks.
    pub(super) fn choose(&self, supported: &[&str]) -> Option<String> {
        self.offered_protocols
            .iter()
            .find(|p| supported.contains(&p.as_str()))
            .cloned()
    }

    /// Makes `response` the `101 Switching Protocols` answer. It may already carry the
    /// headers the before hooks set (cookies, the session's cookie, custom headers):
    /// they are kept, except the ones only the handshake may set (`Upgrade`,
    /// `Connection`, `Sec-WebSocket-*`, whose values are replaced) and the ones a 101
    /// cannot carry, since it has no body and hands the connection over (RFC 9110
    /// §7.6.1, §8.6, §15.2). Its body is left alone: an empty one, which may carry
    /// the hooks' background tasks.
    pub(super) fn respond(&self, response: &mut Response<Body>, protocol: Option<&str>) {
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        let not_for_a_101: Vec<_> = headers
            .keys()
            .filter(|name| is_handshake_or_framing(name))
            .cloned()
            .collect();
        for name in not_for_a_101 {
            headers.remove(name);
        }
        headers.insert(header::UPGRADE, WEBSOCKET);
        headers.insert(header::CONNECTION, UPGRADE);
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, self.accept.clone());
        if let Some(protocol) = protocol.and_then(|p| HeaderValue::try_from(p).ok()) {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocol);
        }
    }
}

/// Whether a header is the handshake's own, or one about a body or the connection,
/// which no hook may put on a 101.
fn is_handshake_or_framing(name: &HeaderName) -> bool {
    name.as_str().starts_with("sec-websocket-")
        || [
            header::UPGRADE,
            header::CONNECTION,
            KEEP_ALIVE,
            header::TE,
            header::TRAILER,
            header::TRANSFER_ENCODING,
            header::CONTENT_LENGTH,
            header::CONTENT_TYPE,
            header::CONTENT_ENCODING,
            header::CONTENT_RANGE,
        ]
        .contains(name)
}

/// Whether `key` is 16 bytes in base64: 22 base64 characters and `==`.
fn is_nonce(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/')
}

/// Whether a comma-separated header lists `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    accepted(headers, name).any(|t| t.eq_ignore_ascii_case(token))
}

/// Where the connection of an accepted WebSocket comes from: hyper's upgrade of the
/// HTTP connection, or the TestClient's in-process pipe.
#[derive(Clone)]
pub(crate) struct InProcess(pub(crate) Arc<Mutex<Option<Box<dyn Io>>>>);

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const GOOD: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn the_rfc_example_is_accepted() {
        let handshake = check(&Method::GET, Version::HTTP_11, &headers(&GOOD)).unwrap();
        let mut response = Response::new(Body::empty());
        handshake.respond(&mut response, None);
        assert_eq!(response.status(), 101);
        assert_eq!(
            response.headers()[header::SEC_WEBSOCKET_ACCEPT],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn bad_handshakes_table() {
        let without = |name: &str| -> HeaderMap {
            headers(
                &GOOD
                    .iter()
                    .copied()
                    .filter(|(n, _)| *n != name)
                    .collect::<Vec<_>>(),
            )
        };
        let cases = [
            (
                Method::POST,
                Version::HTTP_11,
                headers(&GOOD),
                400,
                "method",
            ),
            (
                Method::GET,
                Version::HTTP_2,
                headers(&GOOD),
                400,
                "HTTP/1.1",
            ),
            (
                Method::GET,
                Version::HTTP_11,
                without("connection"),
                400,
                "Connection",
            ),
            (
                Method::GET,
                Version::HTTP_11,
                without("sec-websocket-version"),
                426,
                "version 13",
            ),
            (
                Method::GET,
                Version::HTTP_11,
                without("sec-websocket-key"),
                400,
                "Sec-WebSocket-Key",
            ),
        ];
        for (method, version, headers, status, message) in cases {
            let err = check(&method, version, &headers).unwrap_err();
            assert_eq!(err.status(), status, "{message}");
            assert!(err.message().unwrap_or("").contains(message), "{err}");
        }
        let mut short_key = headers(&GOOD);
        short_key.insert(header::SEC_WEBSOCKET_KEY, HeaderValue::from_static("abc"));
        assert!(check(&Method::GET, Version::HTTP_11, &short_key).is_err());
    }

    #[test]
    fn the_first_offered_supported_protocol_wins() {
        let mut map = headers(&GOOD);
        map.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("v2.chat, v1.chat"),
        );
        let handshake = check(&Method::GET, Version::HTTP_11, &map).unwrap();
        assert_eq!(
            handshake.choose(&["v1.chat", "v2.chat"]).as_deref(),
            Some("v2.chat")
        );
        assert_eq!(handshake.choose(&["other"]), None);
    }

    #[test]
    fn a_hook_s_headers_stay_on_the_101_but_never_replace_the_handshake_s() {
        let handshake = check(&Method::GET, Version::HTTP_11, &headers(&GOOD)).unwrap();
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::FORBIDDEN;
        let from_hooks = [
            ("set-cookie", "theme=dark"),
            ("set-cookie", "id=1; HttpOnly"),
            ("x-trace", "abc"),
            ("connection", "close"),
            ("upgrade", "h2c"),
            ("keep-alive", "timeout=5"),
            ("sec-websocket-accept", "forged"),
            ("sec-websocket-protocol", "forged"),
            ("sec-websocket-extensions", "permessage-deflate"),
            ("content-type", "text/plain"),
            ("content-length", "13"),
            ("transfer-encoding", "chunked"),
        ];
        for (name, value) in from_hooks {
            response
                .headers_mut()
                .append(name, HeaderValue::from_static(value));
        }
        handshake.respond(&mut response, Some("chat"));

        assert_eq!(response.status(), 101, "a hook's status is not the answer");
        let headers = response.headers();
        let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["theme=dark", "id=1; HttpOnly"]);
        assert_eq!(headers["x-trace"], "abc");
        let expected = [
            ("upgrade", "websocket"),
            ("connection", "upgrade"),
            ("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            ("sec-websocket-protocol", "chat"),
        ];
        for (name, value) in expected {
            let values: Vec<_> = headers.get_all(name).iter().collect();
            assert_eq!(values, [value], "{name}");
        }
        for name in [
            "keep-alive",
            "sec-websocket-extensions",
            "content-type",
            "content-length",
            "transfer-encoding",
        ] {
            assert!(!headers.contains_key(name), "{name} on a 101");
        }
    }
}
