//! HTTPS with real outside clients: curl over HTTP/2 and HTTP/1.1 (checking the chain
//! to a test authority), Python's ssl module (ALPN, no SNI, too old a protocol), and
//! h2load over TLS. Each test skips, saying why, where its client is not installed.

use std::process::Output;

use bocata::{App, Request, Res, Result, Server};
use bocata_tests::pki::Https;
use bocata_tests::within;
use serde_json::{Value, json};
use tokio::process::Command;

/// Says how the request came: scheme, the protocol ALPN agreed on, and the host name
/// the client asked for (SNI).
async fn about(req: &Request, res: &mut Res) -> Result {
    let tls = req.tls();
    res.json(&json!({
        "scheme": req.scheme(),
        "alpn": tls.and_then(|t| t.alpn_protocol()).map(String::from_utf8_lossy),
        "server_name": tls.and_then(|t| t.server_name()),
    }));
    Ok(())
}

/// A TLS server answering `/about`, named for its test.
async fn site(name: &str) -> Https {
    Https::start(
        name,
        Server::new(App::new().route("/about", bocata::get(about))),
    )
    .await
}

/// Runs `command` to its end (killed if the test gives up on it first).
async fn run(what: &str, mut command: Command) -> Output {
    let child = command
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .output();
    within(what, child)
        .await
        .unwrap_or_else(|e| panic!("{what} does not start: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether the installed curl lists both `HTTP2` and `SSL` among its features.
fn curl_has_http2_and_tls() -> bool {
    std::process::Command::new("curl")
        .arg("-V")
        .output()
        .is_ok_and(|output| {
            let version = text(&output.stdout);
            let features: Vec<&str> = version
                .lines()
                .find_map(|line| line.strip_prefix("Features:"))
                .unwrap_or_default()
                .split_whitespace()
                .collect();
            features.contains(&"HTTP2") && features.contains(&"SSL")
        })
}

/// curl against `https://localhost:PORT/about` of `site`, its name resolved to
/// 127.0.0.1, with `args`; returns curl's exit code, `%{http_version}` and the body.
async fn curl(site: &Https, args: &[&str]) -> (Option<i32>, String, String) {
    let port = site.port();
    let body = site.fixture.path("curl-body.json");
    std::fs::remove_file(&body).ok();
    let mut command = Command::new("curl");
    command
        // Only the authorities a test names are trusted.
        .env_remove("CURL_CA_BUNDLE")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .args(["--silent", "--show-error", "--max-time", "60"])
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .args(["--write-out", "%{http_version}", "--output"])
        .arg(&body)
        .args(args)
        .arg(format!("https://localhost:{port}/about"));
    let output = run("curl", command).await;
    let body = std::fs::read_to_string(&body).unwrap_or_default();
    (output.status.code(), text(&output.stdout), body)
}

#[tokio::test(flavor = "multi_thread")]
async fn curl_gets_http2_or_http1_over_tls_and_verifies_the_chain() {
    if !bocata_tests::client("curl", bocata_tests::has_program("curl"))
        || !bocata_tests::client(
            "a curl with HTTP2 and SSL among its features (`curl -V`)",
            curl_has_http2_and_tls(),
        )
    {
        return;
    }
    let site = site("tls-curl").await;
    let ca = site.ca.to_str().expect("a UTF-8 path");

    // Without the test authority, curl cannot verify the chain: exit code 60.
    let (code, _, body) = curl(&site, &["--http2"]).await;
    assert_eq!(code, Some(60), "curl trusted an unknown authority: {body}");

    // Plain HTTP on the TLS port is answered, in plain HTTP, with a 400 saying so.
    let mut plain = Command::new("curl");
    plain
        .args(["--silent", "--show-error", "--max-time", "60", "--include"])
        .arg(format!("http://127.0.0.1:{}/about", site.port()));
    let answer = text(&run("curl over plain HTTP", plain).await.stdout);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("this port speaks HTTPS"), "{answer}");

    // With it, and the server still serving: HTTP/2 when asked for, else HTTP/1.1.
    for (flag, version, alpn) in [("--http2", "2", "h2"), ("--http1.1", "1.1", "http/1.1")] {
        let (code, http_version, body) = curl(&site, &["--cacert", ca, flag]).await;
        assert_eq!(code, Some(0), "curl {flag}: {body}");
        assert_eq!(http_version, version, "curl {flag}");
        let body: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(
            body,
            json!({"scheme": "https", "alpn": alpn, "server_name": "localhost"}),
            "curl {flag}"
        );
    }
}

/// Python's ssl module and http.client against the server; prints one JSON object with
/// what each attempt saw.
const PYTHON: &str = r#"
import http.client, json, socket, ssl, sys, warnings

warnings.simplefilter("ignore", DeprecationWarning)
port, cafile = int(sys.argv[1]), sys.argv[2]
seen = {}

def context(alpn, newest=None):
    context = ssl.create_default_context(cafile=cafile)
    context.set_alpn_protocols(alpn)
    if newest is not None:
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = newest
        # OpenSSL would not offer TLS 1.1 at all at its default security level.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context

def connect(context, name):
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    return context.wrap_socket(raw, server_hostname=name)

def handshake(context, name):
    try:
        with connect(context, name) as tls:
            return {"version": tls.version(), "alpn": tls.selected_alpn_protocol()}
    except ssl.SSLError as error:
        return {"error": error.reason}

def get(context, name):
    tls = connect(context, name)
    connection = http.client.HTTPSConnection(name, port, context=context, timeout=30)
    connection.sock = tls
    connection.request("GET", "/about")
    response = connection.getresponse()
    result = {
        "alpn": tls.selected_alpn_protocol(),
        "status": response.status,
        "http": response.version,
        "body": json.loads(response.read()),
    }
    connection.close()
    return result

seen["tls1.1"] = handshake(context(["h2", "http/1.1"], ssl.TLSVersion.TLSv1_1), "localhost")
seen["tls1.2"] = handshake(context(["h2", "http/1.1"], ssl.TLSVersion.TLSv1_2), "localhost")
seen["h2"] = handshake(context(["h2", "http/1.1"]), "localhost")
seen["http/1.1"] = get(context(["http/1.1"]), "localhost")
# Python sends no SNI for an address; the certificate names 127.0.0.1 too.
seen["no sni"] = get(context(["http/1.1"]), "127.0.0.1")
print(json.dumps(seen))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn python_ssl_negotiates_alpn_and_an_old_protocol_is_refused() {
    if !bocata_tests::client("python3", bocata_tests::has_program("python3"))
        || !bocata_tests::client(
            "Python's ssl module",
            bocata_tests::has_python_module("ssl"),
        )
    {
        return;
    }
    let site = site("tls-python").await;
    let mut command = Command::new("python3");
    command
        .args(["-c", PYTHON, &site.port().to_string()])
        .arg(&site.ca);
    let output = run("python3", command).await;
    assert!(
        output.status.success(),
        "python3 failed: {}",
        text(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).expect("JSON from python3");

    // TLS 1.1 is refused by the server (an alert it sent, not a local refusal), and
    // the connections after it are served.
    let refusal = seen["tls1.1"]["error"].as_str().unwrap_or_default();
    assert!(refusal.contains("ALERT"), "TLS 1.1: {seen}");
    assert_eq!(
        seen["tls1.2"],
        json!({"version": "TLSv1.2", "alpn": "h2"}),
        "{seen}"
    );
    assert_eq!(
        seen["h2"],
        json!({"version": "TLSv1.3", "alpn": "h2"}),
        "{seen}"
    );
    let about = |alpn: &str, server_name: Value| {
        json!({
            "alpn": alpn,
            "status": 200,
            "http": 11,
            "body": {"scheme": "https", "alpn": alpn, "server_name": server_name},
        })
    };
    assert_eq!(seen["http/1.1"], about("http/1.1", json!("localhost")));
    assert_eq!(seen["no sni"], about("http/1.1", Value::Null));
}

/// The number after `label` in h2load's report, as in `200 succeeded`.
fn count(report: &str, label: &str) -> Option<u64> {
    let line = report.lines().find(|l| l.starts_with("requests:"))?;
    line.split(',').find_map(|part| {
        part.trim_start_matches("requests:")
            .trim()
            .strip_suffix(label)
            .and_then(|n| n.trim().parse().ok())
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn h2load_over_tls_negotiates_h2_and_every_request_succeeds() {
    if !bocata_tests::client("h2load", bocata_tests::has_program("h2load")) {
        return;
    }
    let site = site("tls-h2load").await;
    let url = format!("https://127.0.0.1:{}/about", site.port());
    for (extra, requests, protocol) in [(None, 200, "h2"), (Some("--h1"), 40, "http/1.1")] {
        let mut command = Command::new("h2load");
        command
            .args(["-n", &requests.to_string(), "-c", "4", "-m", "4"])
            .args(extra)
            .arg(&url);
        let output = run("h2load", command).await;
        let report = text(&output.stdout);
        assert!(output.status.success(), "{report}{}", text(&output.stderr));
        assert!(
            report.contains(&format!("Application protocol: {protocol}\n")),
            "{report}"
        );
        assert_eq!(count(&report, "succeeded"), Some(requests), "{report}");
        assert_eq!(count(&report, "failed"), Some(0), "{report}");
        assert!(
            report.contains(&format!("status codes: {requests} 2xx,")),
            "{report}"
        );
    }
}
