//! HTTPS: ALPN picks HTTP/2 or HTTP/1.1, handshakes are under the head deadline, bad
//! clients and bad certificate files get clear answers, certificates reload without a
//! restart, client certificates reach views, and plain HTTP is redirected.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bocata::tls::Tls;
use bocata::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use bocata::tls::rustls::{self, ClientConfig};
use bocata::{App, Request, Res, Result, Server};
use bocata_tests::pki::{Https, Pki, replace};
use bocata_tests::{Fixture, Gate, LogCapture, PATIENCE, Running, raw_exchange, within};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Tells who is asking: scheme, ALPN, host name asked for, and the client's certificate.
struct Who;

#[bocata::view]
impl Who {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        let tls = req.tls();
        res.json(&json!({
            "scheme": req.scheme(),
            "alpn": tls.and_then(|t| t.alpn_protocol()).map(String::from_utf8_lossy),
            "server_name": tls.and_then(|t| t.server_name()),
            "client_certificate": tls
                .and_then(|t| t.client_certificates().first())
                .map(|c| c.len()),
        }));
        Ok(())
    }
}

fn app() -> App {
    App::new().route("/who", Who)
}

/// A server with `tls`, its files from `fixture`.
async fn serve(server: Server, tls: Tls) -> Running {
    Running::start_with(server.tls(tls)).await
}

/// An open TLS connection to `addr`, with `config`, asking for `localhost`.
async fn connect(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = within("connect", TcpStream::connect(addr)).await?;
    let name = ServerName::try_from("localhost").expect("a name");
    within(
        "the handshake",
        TlsConnector::from(config).connect(name, tcp),
    )
    .await
}

/// What the server's certificate is on a new connection.
async fn served_certificate(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
) -> CertificateDer<'static> {
    let tls = connect(addr, config).await.expect("a handshake");
    tls.get_ref().1.peer_certificates().expect("a certificate")[0].clone()
}

/// Checks that `site` still serves a new connection.
async fn still_serves(site: &Https) {
    let tls = connect(site.server.addr, site.pki.client(&[b"h2"], None))
        .await
        .expect("a handshake");
    assert_eq!(get(tls, "/who").await.0, 200);
}

/// The response to `GET path` on an HTTP/1 connection already open.
async fn send_get(
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    path: &str,
) -> http::Response<hyper::body::Incoming> {
    let request = http::Request::get(path)
        .header("host", "localhost")
        .body(Full::<Bytes>::default())
        .expect("a request");
    within("the response", sender.send_request(request))
        .await
        .expect("a response")
}

/// An HTTP/2 client on `tls`, its connection driven by a task of its own.
async fn http2_over(
    tls: tokio_rustls::client::TlsStream<TcpStream>,
) -> hyper::client::conn::http2::SendRequest<Full<Bytes>> {
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .expect("an HTTP/2 handshake");
    tokio::spawn(connection);
    sender
}

/// `GET path` over a TLS connection, with HTTP/2 if ALPN agreed on it.
async fn get(
    tls: tokio_rustls::client::TlsStream<TcpStream>,
    path: &str,
) -> (http::StatusCode, Value) {
    let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
    let request = http::Request::get(format!("https://localhost{path}"))
        .body(Full::<Bytes>::default())
        .expect("a request");
    let response = if h2 {
        let mut sender = http2_over(tls).await;
        within("the response", sender.send_request(request)).await
    } else {
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .expect("an HTTP/1 handshake");
        tokio::spawn(connection);
        let mut request = request;
        request
            .headers_mut()
            .insert(http::header::HOST, "localhost".parse().expect("a host"));
        within("the response", sender.send_request(request)).await
    }
    .expect("a response");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn alpn_chooses_http2_or_http1_and_views_see_https() {
    let Https { server, pki, .. } = &Https::start("tls-alpn", Server::new(app())).await;
    for (offered, agreed) in [
        (vec![&b"h2"[..], b"http/1.1"], "h2"),
        (vec![&b"http/1.1"[..]], "http/1.1"),
    ] {
        let tls = connect(server.addr, pki.client(&offered, None))
            .await
            .expect("a handshake");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(agreed.as_bytes()));
        let (status, body) = get(tls, "/who").await;
        assert_eq!(status, 200);
        assert_eq!(body["scheme"], "https", "{body}");
        assert_eq!(body["alpn"], agreed, "{body}");
        assert_eq!(body["server_name"], "localhost", "{body}");
        assert_eq!(body["client_certificate"], Value::Null, "{body}");
    }
    // A client that offers no ALPN gets HTTP/1.1.
    let tls = connect(server.addr, pki.client(&[], None))
        .await
        .expect("a handshake");
    let (status, body) = get(tls, "/who").await;
    assert_eq!((status.as_u16(), &body["alpn"]), (200, &Value::Null));
}

#[tokio::test]
async fn plain_http_on_the_tls_port_is_told_to_use_https_and_the_server_keeps_serving() {
    let site = Https::start("tls-plain", Server::new(app())).await;
    let answer = raw_exchange(
        site.server.addr,
        b"GET /who HTTP/1.1\r\nHost: localhost\r\n\r\n",
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains("this port speaks HTTPS"), "{answer}");
    still_serves(&site).await;
}

#[tokio::test]
async fn a_truncated_or_broken_client_hello_closes_that_connection_only() {
    let site = Https::start("tls-hello", Server::new(app())).await;
    // The first bytes of a real ClientHello, then the client gives up; and a record
    // that says handshake but holds nonsense.
    let hello = {
        let config = site.pki.client(&[b"h2"], None);
        let name = ServerName::try_from("localhost").expect("a name");
        let mut client = rustls::ClientConnection::new(config, name).expect("a client");
        let mut bytes = Vec::new();
        client.write_tls(&mut bytes).expect("a hello");
        bytes
    };
    for first in [
        &hello[..hello.len() / 2],
        b"\x16\x03\x01\x00\x05nonsense and more",
    ] {
        let mut tcp = TcpStream::connect(site.server.addr).await.expect("connect");
        tcp.write_all(first).await.expect("write");
        tcp.shutdown().await.expect("half-close");
        let mut rest = Vec::new();
        // The server closes: with an alert, or nothing.
        within("the server to close", tcp.read_to_end(&mut rest))
            .await
            .ok();
    }
    still_serves(&site).await;
}

#[tokio::test]
async fn a_stalled_handshake_is_cut_at_the_header_read_timeout() {
    let server = Server::new(app()).header_read_timeout(Duration::from_millis(300));
    let Https { server, .. } = &Https::start("tls-stall", server).await;
    // Connected, and then nothing; then half a ClientHello, and nothing more.
    for first in [&b""[..], b"\x16\x03\x01\x02\x00\x01"] {
        let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
        tcp.write_all(first).await.expect("write");
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(PATIENCE, tcp.read_to_end(&mut rest)).await;
        assert!(
            closed.is_ok(),
            "the server held a stalled handshake for {PATIENCE:?}"
        );
    }
}

#[tokio::test]
async fn bad_certificate_files_fail_the_start_with_a_clear_error() {
    let (fixture, pki) = (Fixture::new("tls-bad-files"), Pki::new());
    let (cert, key) = pki.issue().write(&fixture, "good");
    let (_, other_key) = pki.issue().write(&fixture, "other");
    let expired = pki.issue_with(|params| {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    });
    let (expired_cert, expired_key) = expired.write(&fixture, "expired");
    let early = pki.issue_with(|params| {
        params.not_before = rcgen::date_time_ymd(2200, 1, 1);
        params.not_after = rcgen::date_time_ymd(2201, 1, 1);
    });
    let (early_cert, early_key) = early.write(&fixture, "early");
    let garbage = fixture.file("garbage.crt", "not a certificate");
    let missing = fixture.path("missing.crt");
    let cases = [
        (missing.clone(), key.clone(), "missing.crt"),
        (garbage, key.clone(), "cannot read the certificate from"),
        (cert.clone(), other_key, "does not go with the certificate"),
        (
            expired_cert,
            expired_key,
            "expired on Mon, 01 Jan 2001 00:00:00 GMT",
        ),
        (
            early_cert,
            early_key,
            "not valid before Wed, 01 Jan 2200 00:00:00 GMT",
        ),
        (cert.clone(), missing, "cannot read the private key from"),
    ];
    for (cert, key, expected) in cases {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let started = Server::new(app())
            .tls(Tls::from_pem_files(&cert, &key))
            .shutdown_signal(std::future::pending())
            .serve(listener);
        let error = within("the start to fail", started)
            .await
            .expect_err("the start fails");
        assert!(error.to_string().contains(expected), "{expected}: {error}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_changed_certificate_is_used_by_new_connections_and_a_broken_one_is_refused() {
    let logs = LogCapture::start();
    let (fixture, pki) = (Fixture::new("tls-reload"), Pki::new());
    let (first, second) = (pki.issue(), pki.issue());
    let (cert, key) = first.write(&fixture, "server");
    let tls = Tls::from_pem_files(&cert, &key).reload_every(Some(Duration::from_millis(50)));
    let server = serve(Server::new(app()), tls).await;
    let client = pki.client(&[b"http/1.1"], None);
    assert_eq!(
        served_certificate(server.addr, Arc::clone(&client)).await,
        first.der
    );

    // A connection opened on the first certificate.
    let open = connect(server.addr, Arc::clone(&client))
        .await
        .expect("a handshake");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(open))
        .await
        .expect("HTTP/1");
    tokio::spawn(connection);

    replace(&key, &second.key_pem);
    replace(&cert, &second.cert_pem);
    within("the reload", async {
        while !logs.text().contains("certificate reloaded") {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(
        served_certificate(server.addr, Arc::clone(&client)).await,
        second.der
    );
    // The connection opened before still works.
    assert_eq!(send_get(&mut sender, "/who").await.status(), 200);

    replace(
        &cert,
        "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n",
    );
    within("the refusal", async {
        while !logs.text().contains("keeping the current certificate") {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(logs.text().contains("server.crt"), "{}", logs.text());
    assert_eq!(served_certificate(server.addr, client).await, second.der);
}

#[cfg(unix)]
#[tokio::test(flavor = "current_thread")]
async fn sighup_reloads_the_certificate() {
    let logs = LogCapture::start();
    let (fixture, pki) = (Fixture::new("tls-sighup"), Pki::new());
    let (first, second) = (pki.issue(), pki.issue());
    let (cert, key) = first.write(&fixture, "server");
    // No checks for changes: only the signal reloads.
    let server = serve(
        Server::new(app()),
        Tls::from_pem_files(&cert, &key).reload_every(None),
    )
    .await;
    let client = pki.client(&[b"h2"], None);
    assert_eq!(
        served_certificate(server.addr, Arc::clone(&client)).await,
        first.der
    );
    replace(&key, &second.key_pem);
    replace(&cert, &second.cert_pem);
    let pid = std::process::id().to_string();
    let status = std::process::Command::new("sh")
        .args(["-c", &format!("kill -HUP {pid}")])
        .status()
        .expect("sh runs");
    assert!(status.success());
    within("the reload", async {
        while !logs.text().contains("certificate reloaded") {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(served_certificate(server.addr, client).await, second.der);
}

#[tokio::test]
async fn client_certificates_are_verified_and_reach_views() {
    let (fixture, pki) = (Fixture::new("tls-mutual"), Pki::new());
    let (cert, key) = pki.issue().write(&fixture, "server");
    let ca = fixture.file("clients-ca.crt", pki.ca_pem());
    let client_identity = pki.issue();
    let stranger = Pki::new().issue();

    // Required: a client without a certificate, or with one from another authority,
    // is refused; one with a certificate of the authority is served, and the view
    // sees it.
    let required = Tls::from_pem_files(&cert, &key).client_ca(&ca, true);
    let server = serve(Server::new(app()), required).await;
    for identity in [None, Some(&stranger)] {
        let refused = match connect(server.addr, pki.client(&[b"h2"], identity)).await {
            Err(_) => true,
            // TLS 1.3: the server's refusal arrives after the client's handshake ends.
            Ok(mut tls) => {
                tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                    .await
                    .ok();
                let mut buffer = [0; 64];
                !matches!(within("a refusal", tls.read(&mut buffer)).await, Ok(n) if n > 0)
            }
        };
        assert!(
            refused,
            "a client presenting {:?} was served",
            identity.map(|_| "a stranger")
        );
    }
    let tls = connect(server.addr, pki.client(&[b"h2"], Some(&client_identity)))
        .await
        .expect("a handshake");
    let (status, body) = get(tls, "/who").await;
    assert_eq!(status, 200);
    assert_eq!(
        body["client_certificate"],
        client_identity.der.len(),
        "{body}"
    );

    // Optional: a client without a certificate is served too.
    let optional = Tls::from_pem_files(&cert, &key).client_ca(&ca, false);
    let server = serve(Server::new(app()), optional).await;
    let tls = connect(server.addr, pki.client(&[b"h2"], None))
        .await
        .expect("a handshake");
    let (status, body) = get(tls, "/who").await;
    assert_eq!(
        (status.as_u16(), &body["client_certificate"]),
        (200, &Value::Null)
    );
}

struct Login;

#[bocata::view]
impl Login {
    async fn on_get(&self, req: &Request, res: &mut Res) -> Result {
        req.session()?.insert("user", "ana")?;
        res.text("in");
        Ok(())
    }
}

#[tokio::test]
async fn the_session_cookie_is_secure_over_https() {
    let app = App::new().secret_key([9u8; 64]).route("/login", Login);
    let Https { server, pki, .. } = &Https::start("tls-session", Server::new(app)).await;
    let tls = connect(server.addr, pki.client(&[b"http/1.1"], None))
        .await
        .expect("a handshake");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .expect("HTTP/1");
    tokio::spawn(connection);
    let response = send_get(&mut sender, "/login").await;
    let cookie = response.headers()["set-cookie"].to_str().expect("ASCII");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn plain_http_is_redirected_to_the_same_place_over_https() {
    let plain = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let plain_addr = plain.local_addr().expect("an address");
    let server = Server::new(app()).redirect_http(plain);
    let Https { server, .. } = &Https::start("tls-redirect", server).await;
    let answer = raw_exchange(
        plain_addr,
        format!(
            "POST /who?x=1 HTTP/1.1\r\nHost: localhost:{}\r\nContent-Length: 0\r\n\r\n",
            plain_addr.port()
        )
        .as_bytes(),
    )
    .await
    .to_ascii_lowercase();
    assert!(
        answer.starts_with("http/1.1 308 permanent redirect\r\n"),
        "{answer}"
    );
    let location = format!(
        "location: https://localhost:{}/who?x=1\r\n",
        server.addr.port()
    );
    assert!(answer.contains(&location), "{answer}");
    let answer = raw_exchange(plain_addr, b"GET / HTTP/1.1\r\nHost: evil.com/x\r\n\r\n").await;
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_shutdown_lets_an_http2_request_over_tls_finish_then_ends() {
    let (gate, mut control) = Gate::new();
    let app = App::new().route("/slow", gate);
    // Kept whole: its fixture holds the files the server loads as it starts.
    let mut site = Https::start("tls-shutdown", Server::new(app)).await;
    let (server, pki) = (&mut site.server, &site.pki);
    let tls = connect(server.addr, pki.client(&[b"h2"], None))
        .await
        .expect("a handshake");
    let mut sender = http2_over(tls).await;
    let request = http::Request::get("https://localhost/slow")
        .body(Full::<Bytes>::default())
        .expect("a request");
    let response = tokio::spawn(sender.send_request(request));
    control.reached().await;
    server.stop();
    // Once the shutdown has begun, new connections are refused; the request in flight
    // still gets its answer.
    within("the listener to close", async {
        while TcpStream::connect(server.addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    control.release.notify_one();
    let response = within("the response", response)
        .await
        .expect("the client task")
        .expect("a response");
    assert_eq!(response.status(), 200);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes();
    assert_eq!(body, "finished");
    within("the server to end", site.server.shutdown())
        .await
        .expect("a clean end");
}

#[tokio::test]
async fn a_rustls_configuration_of_ones_own_is_served_with_alpn_added() {
    let pki = Pki::new();
    let issued = pki.issue();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![issued.der.clone()],
            PrivateKeyDer::try_from(issued.key_der.clone()).expect("a key"),
        )
        .expect("a certificate and its key");
    // No ALPN protocols given: bocata offers h2 and http/1.1.
    let tls = Tls::from_config(Arc::new(config));
    let server = serve(Server::new(app()), tls).await;
    for agreed in ["h2", "http/1.1"] {
        let tls = connect(server.addr, pki.client(&[agreed.as_bytes()], None))
            .await
            .expect("a handshake");
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(agreed.as_bytes()));
        let (status, body) = get(tls, "/who").await;
        assert_eq!((status.as_u16(), &body["alpn"]), (200, &json!(agreed)));
    }
}

#[tokio::test]
async fn http2_over_tls_keeps_the_servers_header_limit() {
    let server = Server::new(app()).max_header_size(8 * 1024);
    let Https { server, pki, .. } = &Https::start("tls-h2-limits", server).await;
    let tls = connect(server.addr, pki.client(&[b"h2"], None))
        .await
        .expect("a handshake");
    let mut sender = http2_over(tls).await;
    let request = http::Request::get("https://localhost/who")
        .header("x-large", "x".repeat(16 * 1024))
        .body(Full::<Bytes>::default())
        .expect("a request");
    let response = within("the answer", sender.send_request(request))
        .await
        .expect("a response");
    assert_eq!(response.status(), 431);
    // The connection goes on: the next request on it is served.
    let request = http::Request::get("https://localhost/who")
        .body(Full::<Bytes>::default())
        .expect("a request");
    let response = within("the answer", sender.send_request(request))
        .await
        .expect("a response");
    assert_eq!(response.status(), 200);
}
