//! What bocata logs through `tracing`: an access line per request, and the cause of
//! every server error.

use bocata::testing::TestClient;
use bocata::{App, Request, Res, Result};
use bocata_tests::LogCapture;

async fn ok(_req: &Request, res: &mut Res) -> Result {
    res.text("ok");
    Ok(())
}

async fn bad_header(_req: &Request, res: &mut Res) -> Result {
    res.header("x-broken", "line\nbreak");
    Ok(())
}

/// Runs `requests` against an app with a subscriber that captures the log.
async fn logged(requests: &[&str]) -> String {
    let captured = LogCapture::start();
    let client = TestClient::new(
        App::new()
            .route("/ok", bocata::get(ok))
            .route("/bad-header", bocata::get(bad_header)),
    );
    for path in requests {
        client.get(path).send().await;
    }
    captured.text()
}

#[tokio::test(flavor = "current_thread")]
async fn every_request_gets_an_access_line() {
    let log = logged(&["/ok", "/missing"]).await;
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("bocata::access"))
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(lines[0].contains("method=GET"), "{log}");
    assert!(lines[0].contains("path=\"/ok\""), "{log}");
    assert!(lines[0].contains("status=200"), "{log}");
    assert!(lines[0].contains("micros="), "{log}");
    assert!(lines[1].contains("status=404"), "{log}");
}

#[tokio::test(flavor = "current_thread")]
async fn an_invalid_setter_is_logged_with_its_cause() {
    let log = logged(&["/bad-header"]).await;
    let error = log
        .lines()
        .find(|l| l.contains("ERROR"))
        .unwrap_or_else(|| panic!("no error line in {log}"));
    assert!(error.contains("status=500"), "{error}");
    assert!(
        error.contains("res.header() was given an invalid header"),
        "{error}"
    );
}
