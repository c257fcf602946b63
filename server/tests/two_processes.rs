//! Two server processes that share nothing but `SESSION_KEY` (as behind a load balancer), both
//! talking to one standalone sandbox: a deployment started on the first finishes on the second.

mod support;

use std::time::Duration;

use reqwest::StatusCode;
use support::{
    browser, location,
    process::{await_all_revoked, standalone_sandbox, until_callback, ServerProcess},
};

#[tokio::test]
async fn a_deployment_started_on_one_process_finishes_on_the_other() {
    let (port_a, port_b) = (support::free_port(), support::free_port());
    // Both processes stand behind one public address; Linode knows only that one.
    let public_base = format!("http://127.0.0.1:{port_a}");
    let sandbox = standalone_sandbox(&public_base, Duration::from_millis(300), Duration::from_millis(300)).await;
    // Each process has a SQLite store of its own: they share nothing but the key.
    let store = |name| [("DATA_DIR", support::temp_dir(name).display().to_string())];
    let a = ServerProcess::start(port_a, &public_base, &sandbox, &store("two-processes-a")).await;
    let b = ServerProcess::start(port_b, &public_base, &sandbox, &store("two-processes-b")).await;
    let browser = browser();

    // The form post and the login on A.
    let (authorize, callback) = until_callback(&browser, &a.base).await;
    assert!(authorize.starts_with(&sandbox.login_base()), "{authorize}");
    assert!(callback.starts_with(&format!("{public_base}/auth/callback?")), "{callback}");

    // Linode's redirect reaches B instead; B holds no memory of the flow, only the key.
    let callback_on_b = callback.replacen(&public_base, &b.base, 1);
    let response = browser.get(&callback_on_b).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/deployment");
    // Outcomes live in the store of the process that ran the callback.
    let html = browser.get(format!("{}/deployment", b.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"deployed\""), "{html}");

    let inspection = sandbox.sandbox.inspect();
    assert_eq!(inspection.instances.len(), 1);
    assert_eq!(inspection.tokens.len(), 1);
    await_all_revoked(&sandbox.sandbox, Duration::from_secs(10)).await;
    drop((a, b));
}
