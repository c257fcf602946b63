//! Many people at once: N complete deployments (form → consent → callback → success view), each
//! from its own browser (cookie jar), against one server and its embedded sandbox.

use std::time::{Duration, Instant};

use crate::support::{spawn_app, TestApp};

/// At least 200 (issue 5); `LOAD_TEST_FLOWS` raises it for a heavier run.
const DEFAULT_FLOWS: usize = 200;
const TIME_LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_deployments_each_create_one_linode_and_revoke_their_token() {
    let flows_wanted = std::env::var("LOAD_TEST_FLOWS").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_FLOWS);
    // Every flow comes from 127.0.0.1: the per-address limits would rightly stop them.
    // Two hundred visitors, all from 127.0.0.1: the per-address limits are off.
    let app = spawn_app(&[
        ("RATE_LIMIT_DEPLOYS_PER_MINUTE", "0"),
        ("RATE_LIMIT_CALLBACKS_PER_MINUTE", "0"),
        ("MAX_CONNECTIONS_PER_CLIENT", "0"),
    ])
    .await;
    let started = Instant::now();
    let flows: Vec<_> = (0..flows_wanted)
        .map(|_| {
            // Each person has a browser of their own; TestApp's helpers drive it.
            let person = TestApp {
                base: app.base.clone(),
                sandbox: app.sandbox.clone(),
                sandbox_admin: app.sandbox_admin.clone(),
                browser: crate::support::browser(),
            };
            tokio::spawn(async move { person.deploy().await })
        })
        .collect();
    let results = tokio::time::timeout(TIME_LIMIT, join_all(flows)).await.expect("all flows finish within the limit");

    let mut errors = Vec::new();
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Ok(html) if html.contains("data-testid=\"deployed\"") => {}
            Ok(html) => errors.push(format!("flow {index}: {}", failure(&html))),
            Err(panic) => errors.push(format!("flow {index}: {panic}")),
        }
    }
    assert!(errors.is_empty(), "{} of {flows_wanted} flows failed: {errors:#?}", errors.len());

    let inspection = app.sandbox.inspect();
    assert_eq!(inspection.instances.len(), flows_wanted, "exactly one Linode per flow");
    assert_eq!(inspection.tokens.len(), flows_wanted, "one token per flow");
    app.assert_all_tokens_revoked().await;
    let elapsed = started.elapsed();
    println!("{flows_wanted} concurrent deployments in {:.2} s", elapsed.as_secs_f64());
    assert!(elapsed < TIME_LIMIT);
}

/// The failure's kind and title, for a readable assertion message.
fn failure(html: &str) -> String {
    let kind = html.split("data-kind=\"").nth(1).and_then(|rest| rest.split('"').next()).unwrap_or("?");
    let title = html
        .split("<h1")
        .nth(1)
        .and_then(|rest| rest.split('>').nth(1))
        .and_then(|rest| rest.split('<').next())
        .unwrap_or("?");
    format!("{kind}: {title}")
}

async fn join_all<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await);
    }
    results
}
