//! What the server writes to its logs during a whole deployment, and during failed ones, holds no
//! secret: not the root password, not the access or refresh token, not the OAuth code or state,
//! not the client secret. Its own binary, because it installs the process-wide subscriber.

// Helpers here panic on what a test does not expect, as the tests themselves do.
#![allow(clippy::unwrap_used)]

#[path = "it/support/mod.rs"]
mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use sandbox::FaultRule;
use support::{spawn_app, testid_text, CLIENT_SECRET};
use tracing_subscriber::{fmt::MakeWriter, EnvFilter};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Runs of hex digits at least `min` long (tokens are 64, the state 64, codes 20).
fn hex_runs(text: &str, min: usize) -> Vec<&str> {
    text.split(|c: char| !c.is_ascii_hexdigit()).filter(|run| run.len() >= min).collect()
}

#[tokio::test]
async fn logs_of_whole_flows_hold_no_secret() {
    let logs = Captured::default();
    // Everything our crates say, at every level, plus debug from the libraries under them.
    let filter = EnvFilter::new("debug,server=trace,app=trace,linode=trace,sandbox=trace,tower_http=trace");
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(logs.clone()).with_ansi(false).init();

    let app = spawn_app(&[]).await;

    // A deployment that succeeds.
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let html = app.finish(&callback).await;
    let password = testid_text(&html, "root-password").expect("the password is shown once");
    assert!(password.len() >= 20, "{password}");
    app.assert_all_tokens_revoked().await;
    let url = reqwest::Url::parse(&callback).unwrap();
    let query = |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap();
    let (code, state) = (query("code"), query("state"));

    // Deployments that fail at each step after the code exchange.
    app.sandbox.add_fault(FaultRule::status("POST /v4/linode/instances", 500, "Internal server error").times(1));
    app.sandbox.add_fault(FaultRule::status("POST /login/oauth/revoke", 503, "unavailable").times(1));
    app.deploy().await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &[]).await;
    app.finish(&callback).await;
    app.sandbox.add_fault(FaultRule::status("POST /login/oauth/token", 400, "bad code").times(1));
    app.deploy().await;
    app.assert_all_tokens_revoked().await;

    // A path no file can have (segments over 255 bytes) is a 404, not an I/O error logged at
    // ERROR with the whole path in it.
    let long = format!("/{}", "z".repeat(9000));
    let response = support::browser().get(app.url(&long)).send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND);
    // Nor does a refusal that names the request write the whole path: a cross-site post to it.
    let response =
        support::browser().post(app.url(&long)).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN);

    // A prefetch of the success view gets a meant 503 (so the browser loads the page for real
    // later); anyone may send one, so it is no ERROR line (found by an attack pass).
    let before = logs.text().len();
    for _ in 0..5 {
        let prefetch = support::browser().get(app.url("/deployment")).header("Sec-Purpose", "prefetch");
        let response = prefetch.send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("0"));
    }
    let prefetches = logs.text()[before..].to_owned();
    assert!(prefetches.contains("status=503") && !prefetches.contains("ERROR"), "{prefetches}");

    let text = logs.text();
    assert!(!text.contains("Failed to read file"), "an over-long path was looked up on disk");
    let longest = text.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 2048, "a log line of {longest} bytes");
    assert!(
        text.contains("deployment succeeded") && text.contains("deployment did not happen"),
        "logging was not captured"
    );
    assert!(text.contains("request{id="), "request spans carry their id: {text}");
    for (what, secret) in [
        ("root password", password.as_str()),
        ("client secret", CLIENT_SECRET),
        ("code", code.as_str()),
        ("state", state.as_str()),
    ] {
        assert!(!text.contains(secret), "the {what} is in the logs");
    }
    // The tokens themselves are known only to the server; the sandbox names them by fingerprint.
    // No long hex run in the logs may be one of them (nor any other 64-character secret).
    let tokens: Vec<String> = app.sandbox.inspect().tokens.iter().map(|token| token.token_id.clone()).collect();
    assert!(tokens.len() >= 3, "{tokens:?}");
    for run in hex_runs(&text, 20) {
        assert!(!tokens.contains(&sandbox::token_id(run)), "an access or refresh token is in the logs");
        assert!(run.len() < 64, "a 64-hex-digit value (a token, a refresh token or a state) is in the logs: {run}");
    }
    // And no query string of the callback, where the code travels.
    assert!(!text.contains("/auth/callback?") && !text.contains("code="), "a callback URL is in the logs");
}
