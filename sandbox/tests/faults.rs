//! Fault injection (every kind, at start-up and at run time), the admin endpoints and the
//! inspection view.

mod common;

use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use sandbox::{FaultRule, Inspection, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::{json, Value};

#[tokio::test]
async fn latency_delays_only_the_matching_route() {
    let mut config = fast_config();
    config.faults.push(FaultRule::latency("GET /v4/regions", 300));
    let sb = start_with(config).await;
    let started = Instant::now();
    assert_eq!(http().get(format!("{}/regions", sb.api_base())).send().await.expect("get").status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let started = Instant::now();
    http().get(format!("{}/linode/types", sb.api_base())).send().await.expect("get");
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn status_fault_on_the_api_uses_linode_errors_and_creates_nothing() {
    let sb = start().await;
    let token = token(&sb, "linodes:read_write").await;
    sb.sandbox.add_fault(FaultRule::status("POST /v4/linode/instances", 503, "Service unavailable").times(2));
    for _ in 0..2 {
        let response = create(&sb, &token, &create_body()).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(errors(response).await, [(None, "Service unavailable".to_owned())]);
    }
    assert!(sb.sandbox.inspect().instances.is_empty());
    assert_eq!(create(&sb, &token, &create_body()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn status_fault_on_the_login_server_uses_oauth_errors() {
    let sb = start().await;
    let code = code_for(&sb, "*").await;
    sb.sandbox.add_fault(FaultRule::status("POST /login/oauth/token", 500, "boom").times(1));
    let response = exchange(&sb, &code).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "server_error");
    assert_eq!(body["error_description"], "boom");
    // The code was not consumed by the failed call.
    assert_eq!(exchange(&sb, &code).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn fail_nth_fails_only_the_nth_call() {
    let sb = start().await;
    sb.sandbox.add_fault(FaultRule::fail_nth("GET /v4/linode/types/{id}", 3, 502, "Bad gateway"));
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = http().get(format!("{}/linode/types/g6-nanode-1", sb.api_base())).send().await.expect("get");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 502, 200, 200]);
}

#[tokio::test]
async fn drop_closes_the_connection_without_a_response() {
    let sb = start().await;
    sb.sandbox.add_fault(FaultRule::drop_connection("GET /v4/linode/stackscripts/{id}").times(1));
    let url = format!("{}/linode/stackscripts/{}", sb.api_base(), sandbox::STACKSCRIPT_NO_INPUT);
    let outcome = match http().get(&url).send().await {
        Err(error) => Err(error),
        Ok(response) => response.bytes().await.map(|_| ()),
    };
    assert!(outcome.is_err(), "the request must fail at the connection or body level");
    // `times: 1`: the next call goes through.
    assert_eq!(http().get(&url).send().await.expect("get").status(), StatusCode::OK);
    let inspection = sb.sandbox.inspect();
    let statuses: Vec<Option<u16>> = inspection
        .requests
        .iter()
        .filter(|r| r.route == "GET /v4/linode/stackscripts/{id}")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [None, Some(200)]);
}

#[tokio::test]
async fn wildcard_rule_hits_every_route() {
    let sb = start().await;
    sb.sandbox.add_fault(FaultRule::status("*", 500, "everything is down"));
    assert_eq!(
        http().get(format!("{}/regions", sb.api_base())).send().await.expect("get").status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let authorize = http()
        .get(format!("{}/oauth/authorize", sb.login_base()))
        .query(&[("client_id", DEFAULT_CLIENT_ID), ("response_type", "code"), ("scopes", "*")])
        .send()
        .await
        .expect("get");
    assert_eq!(authorize.status(), StatusCode::INTERNAL_SERVER_ERROR);
    // Admin routes are never faulted.
    assert_eq!(
        http().get(format!("{}/__sandbox/inspect", sb.admin_url())).send().await.expect("get").status(),
        StatusCode::OK
    );
    sb.sandbox.clear_faults();
    assert_eq!(http().get(format!("{}/regions", sb.api_base())).send().await.expect("get").status(), StatusCode::OK);
}

#[tokio::test]
async fn admin_endpoint_manages_faults_at_run_time() {
    let sb = start().await;
    let faults = format!("{}/__sandbox/faults", sb.admin_url());
    let added = http()
        .post(&faults)
        .json(&json!({"route": "POST /login/oauth/revoke", "kind": "status", "status": 503, "reason": "down"}))
        .send()
        .await
        .expect("post");
    assert_eq!(added.status(), StatusCode::CREATED);
    let added = http()
        .post(&faults)
        .json(&json!([
            {"route": "GET /v4/regions", "kind": "latency", "ms": 1},
            {"route": "GET /v4/regions", "kind": "fail_nth", "n": 1, "status": 500}
        ]))
        .send()
        .await
        .expect("post");
    assert_eq!(added.status(), StatusCode::CREATED);

    let token = token(&sb, "*").await;
    let refused = revoke(&sb, &token).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let regions = http().get(format!("{}/regions", sb.api_base())).send().await.expect("get");
    assert_eq!(regions.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(errors(regions).await[0].1, "Fault injected by the Linode sandbox");

    let listed: Value = http().get(&faults).send().await.expect("get").json().await.expect("json");
    assert_eq!(listed.as_array().expect("list").len(), 3);
    assert_eq!(listed[0]["applied"], 1);
    assert_eq!(listed[2]["matched"], 1);

    for bad in [json!({"route": "*", "kind": "status", "status": 200}), json!({"route": "*", "kind": "explode"})] {
        let response = http().post(&faults).json(&bad).send().await.expect("post");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }

    let cleared = http().delete(&faults).send().await.expect("delete");
    assert_eq!(cleared.status(), StatusCode::NO_CONTENT);
    let listed: Value = http().get(&faults).send().await.expect("get").json().await.expect("json");
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn inspection_over_http_and_reset() {
    let sb = start().await;
    let token = token(&sb, "linodes:read_write").await;
    assert_eq!(create(&sb, &token, &create_body()).await.status(), StatusCode::OK);
    revoke(&sb, &token).await;

    let inspect = format!("{}/__sandbox/inspect", sb.admin_url());
    let inspection: Inspection = http().get(&inspect).send().await.expect("get").json().await.expect("json");
    assert_eq!(inspection, sb.sandbox.inspect());
    // "Exactly one Linode, and its token is revoked."
    assert_eq!(inspection.instances.len(), 1);
    let token_record =
        inspection.tokens.iter().find(|t| t.token_id == inspection.instances[0].token_id).expect("token");
    assert!(token_record.revoked);
    assert_eq!(inspection.codes.len(), 1);
    assert!(inspection.codes[0].used);
    assert_eq!(inspection.codes[0].token_id.as_deref(), Some(token_record.token_id.as_str()));
    assert_eq!(inspection.count("POST /v4/linode/instances"), 1);
    assert_eq!(inspection.count("POST /login/oauth/token"), 1);
    assert_eq!(inspection.count("POST /login/oauth/revoke"), 1);
    // No secret leaks into the inspection.
    let raw = http().get(&inspect).send().await.expect("get").text().await.expect("text");
    assert!(!raw.contains(&token));
    assert!(!raw.contains(DEFAULT_CLIENT_SECRET));

    let reset = http().post(format!("{}/__sandbox/reset", sb.admin_url())).send().await.expect("reset");
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    let after = sb.sandbox.inspect();
    assert!(
        after.instances.is_empty() && after.tokens.is_empty() && after.codes.is_empty() && after.requests.is_empty()
    );
}
