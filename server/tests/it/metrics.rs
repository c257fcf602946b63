//! `/metrics` of the real binary, on its own address, after a real flow: the counters moved,
//! nothing secret is in it, and the public address does not serve it.

use std::time::Duration;

use crate::support::{
    browser, free_port,
    process::{await_all_revoked, standalone_sandbox, until_callback, ServerProcess, SESSION_KEY},
};
use reqwest::StatusCode;

/// The value of the sample `name` (with its labels as written, e.g. `deploys_total` or
/// `x_total{kind="y"}`), if present.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|line| !line.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        (series == name).then(|| value.parse().ok()).flatten()
    })
}

#[tokio::test]
async fn metrics_count_a_whole_flow_on_their_own_address_and_hold_no_secret() {
    let port = free_port();
    let metrics_port = free_port();
    let public_base = format!("http://127.0.0.1:{port}");
    let sandbox = standalone_sandbox(&public_base, Duration::from_millis(300), Duration::from_millis(300)).await;
    let env = [
        ("DATA_DIR", crate::support::temp_dir("metrics").display().to_string()),
        ("METRICS_ADDR", format!("127.0.0.1:{metrics_port}")),
    ];
    let server = ServerProcess::start(port, &public_base, &sandbox, &env).await;
    let scrape = || async {
        let response = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics")).await.expect("metrics");
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    };

    // A deployment, then a denied one, then a junk callback.
    let browser = browser();
    let (_, callback) = until_callback(&browser, &server.base).await;
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), StatusCode::SEE_OTHER);
    let token = sandbox.sandbox.inspect().tokens.last().map(|t| t.token_id.clone()).unwrap();
    await_all_revoked(&sandbox.sandbox, Duration::from_secs(10)).await;
    let denied = format!("{}/auth/callback?error=access_denied&state=nobody", server.base);
    assert_eq!(browser.get(&denied).send().await.unwrap().status(), StatusCode::BAD_REQUEST);

    let text = scrape().await;
    assert_eq!(sample(&text, "deploys_started_total"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "deploys_completed_total"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "tokens_revoked_total"), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"callbacks_refused_total{kind="no_pending_deployment"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, "callback_duration_seconds_count"), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"linode_calls_total{endpoint="POST /linode/instances",outcome="200"}"#), Some(1.0));
    assert_eq!(sample(&text, r#"linode_calls_total{endpoint="POST /oauth/token",outcome="ok"}"#), Some(1.0));
    assert_eq!(sample(&text, r#"linode_calls_total{endpoint="POST /oauth/revoke",outcome="200"}"#), Some(1.0));
    assert!(
        sample(&text, r#"linode_calls_total{endpoint="GET /linode/instances/{id}",outcome="200"}"#).unwrap_or(0.0)
            >= 1.0,
        "the follower's reads, by route template: {text}"
    );
    assert!(text.contains("linode_call_duration_seconds_bucket"), "{text}");
    assert!(sample(&text, "catalog_refreshed_timestamp_seconds").unwrap_or(0.0) > 1.7e9, "{text}");

    // Nothing that names a person's Linode, token or secret.
    let instance = &sandbox.sandbox.inspect().instances[0];
    for secret in [SESSION_KEY, sandbox::DEFAULT_CLIENT_SECRET, &token, &instance.label, &instance.id.to_string()] {
        assert!(!text.contains(secret), "{secret:?} in the metrics");
    }

    // The public address has no /metrics.
    let public = reqwest::get(format!("{}/metrics", server.base)).await.unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
}
