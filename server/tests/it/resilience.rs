//! Every call the server makes to Linode, under every way it fails: too slow, a 4xx with Linode's
//! error body, 401, 429 with Retry-After, 5xx, a dropped connection. Whatever happens the person
//! reads a specific message, no Linode is created twice, the create is never retried, and every
//! token ends up revoked. Also: the catalog outlives Linode being down, and shutdown lets
//! deployments in flight finish.

use std::time::Duration;

use crate::support::{failure_kind, spawn_app, spawn_stoppable_app, TestApp};
use reqwest::StatusCode;
use sandbox::FaultRule;

const CREATE: &str = "POST /v4/linode/instances";
const TOKEN: &str = "POST /login/oauth/token";
const REVOKE: &str = "POST /login/oauth/revoke";
const TYPES: &str = "GET /v4/linode/types";
/// Calls to Linode give up after this long here (20 s in production).
const TIMEOUT: (&str, &str) = ("LINODE_HTTP_TIMEOUT_SECS", "0.4");
const PAST_TIMEOUT_MS: u64 = 1_000;

/// Each kind of failure, on `route`, with what the person should be told about it.
fn faults(
    route: &str,
    timeout: &'static str,
    rejected: &'static str,
    unauthorized: &'static str,
    rate_limited: &'static str,
    server: &'static str,
    dropped: &'static str,
) -> Vec<(FaultRule, &'static str)> {
    vec![
        (FaultRule::latency(route, PAST_TIMEOUT_MS), timeout),
        (FaultRule::status(route, 400, "label must be unique"), rejected),
        (FaultRule::status(route, 401, "Invalid Token"), unauthorized),
        (FaultRule::status(route, 429, "Too many requests"), rate_limited),
        (FaultRule::status(route, 503, "Service unavailable"), server),
        (FaultRule::drop_connection(route), dropped),
    ]
}

fn attempts(app: &TestApp, route: &str) -> usize {
    let (method, path) = route.split_once(' ').unwrap();
    app.sandbox
        .inspect()
        .requests
        .iter()
        .filter(|r| r.method == method && r.route == format!("{method} {path}"))
        .count()
}

/// Runs `case` for every fault at once, each on its own server, and reports every failure.
async fn each<F, Fut>(faults: Vec<(FaultRule, &'static str)>, case: F)
where
    F: Fn(FaultRule, &'static str) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let runs: Vec<_> = faults
        .into_iter()
        .map(|(fault, expected)| (format!("{fault:?}"), tokio::spawn(case(fault, expected))))
        .collect();
    let mut failed = Vec::new();
    for (fault, run) in runs {
        if let Err(error) = run.await {
            failed.push(format!("{fault}: {error}"));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

#[tokio::test]
async fn catalog_faults_before_anything_is_cached_say_what_went_wrong() {
    let cases = faults(
        TYPES,
        "did not answer in time",
        "Linode rejected the request: label must be unique",
        "did not accept the access token",
        "rate-limiting requests; try again in 30 s",
        "internal problem (HTTP 503)",
        "could not be reached",
    );
    each(cases, |fault, expected| async move {
        let app = spawn_app(&[TIMEOUT]).await;
        // Before the server's first catalog load (it has not run yet on this thread).
        app.sandbox.add_fault(fault.clone());
        let page = app.browser.get(app.url("/")).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.unwrap();
        assert!(html.contains("catalog could not be loaded") && html.contains(expected), "{fault:?}: {html}");
        // Deploying without a catalog: back to the form (no WASM), or a 503 with the message.
        let response = app.submit_form("g6-nanode-1", "us-east", "linode/debian12").await;
        assert_eq!(response.status(), StatusCode::FOUND);
        assert!(!crate::support::location(&response).contains("oauth/authorize"));
        let response = app
            .browser
            .post(app.url("/api/start_deploy"))
            .header("Origin", &app.base)
            .form(&[("plan", "g6-nanode-1"), ("region", "us-east"), ("image", "linode/debian12")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{fault:?}");
        let error: app::error::AppError = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        assert!(error.to_string().contains(expected), "{fault:?}: {error}");
        assert!(app.sandbox.inspect().codes.is_empty());
    })
    .await;
}

#[tokio::test]
async fn a_cached_catalog_is_served_marked_stale_while_linode_is_down() {
    let kinds = vec![
        (FaultRule::status(TYPES, 503, "Service unavailable"), ""),
        (FaultRule::drop_connection(TYPES), ""),
        (FaultRule::latency(TYPES, PAST_TIMEOUT_MS), ""),
    ];
    each(kinds, |fault, _| async move {
        let app = spawn_app(&[TIMEOUT, ("CATALOG_TTL_SECS", "0.2")]).await;
        let fresh = app.browser.get(app.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(fresh.contains("value=\"g6-nanode-1\"") && !fresh.contains("may be slightly out of date"));
        app.sandbox.add_fault(fault.clone());
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The expired snapshot is served while a refresh runs behind it, and kept when it fails.
        let mut stale = String::new();
        for _ in 0..60 {
            stale = app.browser.get(app.url("/")).send().await.unwrap().text().await.unwrap();
            if stale.contains("may be slightly out of date") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(stale.contains("Linode could not be reached just now"), "{fault:?}: no stale notice");
        assert!(stale.contains("value=\"g6-nanode-1\"") && stale.contains("value=\"us-east\""));
        // And a deployment still works from it.
        app.sandbox.clear_faults();
        assert!(app.deploy().await.contains("data-testid=\"deployed\""));
    })
    .await;
}

#[tokio::test]
async fn code_exchange_faults_are_reported_and_create_nothing() {
    let cases = faults(
        TOKEN,
        "did not answer in time",
        "refused it (invalid_request: label must be unique)",
        "refused it (invalid_request: Invalid Token)",
        "refused it (invalid_request: Too many requests)",
        "refused it (server_error: Service unavailable)",
        "could not be reached",
    );
    each(cases, |fault, expected| async move {
        let app = spawn_app(&[TIMEOUT]).await;
        app.sandbox.add_fault(fault.clone().times(1));
        let html = app.deploy().await;
        assert_eq!(failure_kind(&html), Some("exchange_failed"), "{fault:?}");
        assert!(html.contains("Linode did not accept the login") && html.contains(expected), "{fault:?}: {html}");
        assert!(html.contains("Nothing was created on your Linode account"));
        assert!(app.sandbox.inspect().instances.is_empty());
        assert_eq!(attempts(&app, CREATE), 0);
        app.assert_all_tokens_revoked().await;
    })
    .await;
}

#[tokio::test]
async fn create_faults_are_reported_never_retried_and_the_token_revoked() {
    let cases = faults(
        CREATE,
        "Linode did not answer in time. The Linode may or may not have been created",
        "Linode rejected the request: label must be unique. Nothing was created",
        "Linode did not accept the access token",
        "Linode is rate-limiting requests; try again in 30 s. Nothing was created",
        "Linode had an internal problem (HTTP 503). Nothing was created",
        "The Linode may or may not have been created: check your Linodes in Cloud Manager",
    );
    each(cases, |fault, expected| async move {
        let app = spawn_app(&[TIMEOUT]).await;
        app.sandbox.add_fault(fault.clone());
        let authorize = app.start().await;
        let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
        let html = app.finish(&callback).await;
        assert_eq!(failure_kind(&html), Some("linode_error"), "{fault:?}");
        assert!(html.contains("Linode could not create the Linode") && html.contains(expected), "{fault:?}: {html}");
        // Reloading the callback shows the same outcome and does not try again.
        app.finish(&callback).await;
        tokio::time::sleep(Duration::from_millis(PAST_TIMEOUT_MS)).await;
        // A request the sandbox gave up on mid-delay is not recorded: at most one either way.
        let expected_attempts = if matches!(fault.kind, sandbox::FaultKind::Latency { .. }) { 0..=1 } else { 1..=1 };
        assert!(expected_attempts.contains(&attempts(&app, CREATE)), "{fault:?}: create retried");
        assert!(app.sandbox.inspect().instances.is_empty(), "{fault:?}");
        app.assert_all_tokens_revoked().await;
    })
    .await;
}

#[tokio::test]
async fn revoke_faults_are_retried_in_the_background_until_the_token_is_revoked() {
    let cases = faults(REVOKE, "", "", "", "", "", "");
    each(cases, |fault, _| async move {
        let app = spawn_app(&[TIMEOUT]).await;
        // Two failures in a row, then Linode is back.
        app.sandbox.add_fault(fault.clone().times(2));
        let html = app.deploy().await;
        assert!(html.contains("data-testid=\"deployed\""), "a failed revoke is not the person's problem: {html}");
        app.assert_all_tokens_revoked().await;
        assert_eq!(app.sandbox.inspect().instances.len(), 1);
        let tries = attempts(&app, REVOKE);
        let expected = if matches!(fault.kind, sandbox::FaultKind::Latency { .. }) { 1..=3 } else { 3..=3 };
        assert!(expected.contains(&tries), "{fault:?}: {tries} revoke calls");
    })
    .await;
}

#[tokio::test]
async fn shutdown_lets_an_in_flight_deploy_finish_and_revokes_its_token() {
    let running = spawn_stoppable_app(&[]).await;
    let app = running.app;
    app.sandbox.add_fault(FaultRule::latency(CREATE, 800));
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let in_flight = tokio::spawn({
        let browser = app.browser.clone();
        async move { browser.get(&callback).send().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    running.stop.send(()).unwrap();
    let response = in_flight.await.unwrap().expect("the callback is answered");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(crate::support::location(&response), "/deployment");
    // Shutdown returns once revocations are done.
    tokio::time::timeout(Duration::from_secs(25), running.server).await.expect("shutdown finishes").unwrap().unwrap();
    let inspection = app.sandbox.inspect();
    assert_eq!(inspection.instances.len(), 1);
    assert_eq!(inspection.tokens.len(), 1);
    assert!(inspection.tokens.iter().all(|token| token.revoked), "{:?}", inspection.tokens);
    // And the server no longer answers.
    assert!(app.browser.get(app.url("/healthz")).send().await.is_err());
}
