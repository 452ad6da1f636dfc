//! The plain-HTTP listener of an HTTPS server: every request is sent to the same path
//! and query over HTTPS, with `308 Permanent Redirect` (which keeps the method and the
//! body).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Answers every request on `listener` with a redirect to HTTPS on `https_port`,
/// until `draining` is cancelled. A connection gets `deadline` in all (it answers one
/// request, then closes), and at most `max_connections` are open at once.
pub(crate) async fn redirect_to_https(
    listener: TcpListener,
    https_port: u16,
    draining: CancellationToken,
    deadline: Duration,
    max_connections: usize,
) {
    if let Ok(local) = listener.local_addr() {
        tracing::info!(
            target: "bocata::server",
            "redirecting http://{local} to HTTPS on port {https_port}"
        );
    }
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    let mut connections = JoinSet::new();
    loop {
        let stream = tokio::select! {
            () = draining.cancelled() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::debug!(target: "bocata::tls", "redirect listener: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            continue;
        };
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request: http::Request<_>| async move {
                Ok::<_, Infallible>(redirect(&request, https_port))
            });
            let connection = http1::Builder::new()
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            tokio::time::timeout(deadline, connection).await.ok();
            drop(slot);
        });
    }
    // What is still open gets the rest of its deadline.
    tokio::time::timeout(deadline, async {
        while connections.join_next().await.is_some() {}
    })
    .await
    .ok();
}

/// The redirect for `request`: to its host, without the port it came on, on
/// `https_port`.
fn redirect<B>(request: &http::Request<B>, https_port: u16) -> Response<Full<Bytes>> {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| request.uri().host())
        .and_then(host_without_port);
    let Some(host) = host else {
        return text(
            StatusCode::BAD_REQUEST,
            "this server speaks HTTPS; a request without a valid Host cannot be redirected\n",
        );
    };
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |target| target.as_str());
    let location = match https_port {
        443 => format!("https://{host}{target}"),
        port => format!("https://{host}:{port}{target}"),
    };
    let Ok(location) = HeaderValue::try_from(location) else {
        return text(
            StatusCode::BAD_REQUEST,
            "the request cannot be redirected\n",
        );
    };
    let mut response = text(StatusCode::PERMANENT_REDIRECT, "this server speaks HTTPS\n");
    response.headers_mut().insert(header::LOCATION, location);
    response
}

/// The host of a `Host` header, without its port; `None` if it is not a plain name or
/// address (a redirect must not be steered elsewhere by what follows it).
fn host_without_port(host: &str) -> Option<&str> {
    let name = if host.starts_with('[') {
        // An IPv6 address, bracketed.
        &host[..=host.find(']')?]
    } else {
        host.split_once(':').map_or(host, |(name, _)| name)
    };
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b);
    (!name.is_empty() && name.bytes().all(plain)).then_some(name)
}

fn text(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(host: Option<&str>, target: &str, port: u16) -> (StatusCode, Option<String>) {
        let mut request = http::Request::builder().uri(target);
        if let Some(host) = host {
            request = request.header(header::HOST, host);
        }
        let response = redirect(&request.body(()).unwrap(), port);
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        (response.status(), location)
    }

    #[test]
    fn a_request_goes_to_the_same_path_and_query_over_https() {
        let cases = [
            (
                Some("example.com"),
                "/a/b?x=1",
                443,
                "https://example.com/a/b?x=1",
            ),
            (
                Some("example.com:8080"),
                "/",
                8443,
                "https://example.com:8443/",
            ),
            (Some("127.0.0.1:80"), "/p", 443, "https://127.0.0.1/p"),
            (Some("[::1]:8080"), "/p?q", 8443, "https://[::1]:8443/p?q"),
        ];
        for (host, target, port, expected) in cases {
            assert_eq!(
                location(host, target, port),
                (StatusCode::PERMANENT_REDIRECT, Some(expected.to_owned())),
                "{host:?} {target}"
            );
        }
    }

    #[test]
    fn a_missing_or_strange_host_is_refused() {
        for host in [
            None,
            Some(""),
            Some("evil.com/x"),
            Some("a@b"),
            Some("[::1"),
        ] {
            assert_eq!(
                location(host, "/", 443),
                (StatusCode::BAD_REQUEST, None),
                "{host:?}"
            );
        }
    }
}
