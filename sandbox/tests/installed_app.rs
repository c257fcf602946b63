//! The application a StackScript installs, emulated: it answers on its instance's address a set
//! time after `running` (or never), and the create request is kept as received for inspection.

// Helpers here panic on what a test does not expect, as the tests themselves do.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use tokio::net::TcpListener;

/// Serves the sandbox's installed apps on a loopback port; returns its address.
async fn serve_apps(sb: &sandbox::RunningSandbox) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let router = sb.sandbox.installed_app_router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

async fn ask(apps: std::net::SocketAddr, host: &str) -> StatusCode {
    http().get(format!("http://{apps}/")).header("Host", host).send().await.expect("app").status()
}

#[tokio::test]
async fn an_instances_app_answers_a_set_time_after_running_and_never_when_told() {
    let mut config = fast_config();
    config.timings.app_ready = Some(Duration::from_millis(500));
    let sb = start_with(config).await;
    let apps = serve_apps(&sb).await;
    let token = token(&sb, "linodes:read_write").await;
    let created: serde_json::Value = create(&sb, &token, &create_body()).await.json().await.unwrap();
    let ip = created["ipv4"][0].as_str().unwrap().to_owned();
    let address: std::net::Ipv4Addr = ip.parse().unwrap();

    assert!(!sb.sandbox.app_answers(address), "not while provisioning");
    assert_eq!(ask(apps, &ip).await, StatusCode::BAD_GATEWAY);
    // running after 0.6 s, answering 0.5 s later.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(!sb.sandbox.app_answers(address), "running, still installing");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sb.sandbox.app_answers(address));
    assert_eq!(ask(apps, &format!("{ip}:80")).await, StatusCode::OK);
    assert_eq!(ask(apps, "203.0.113.250").await, StatusCode::BAD_GATEWAY, "no such instance");
    assert!(sb.sandbox.inspect().instances[0].app_answering);

    // Changed at run time through the admin endpoint: never.
    let set = http()
        .put(format!("{}/__sandbox/app", sb.admin_url()))
        .json(&serde_json::json!({ "ready_after_ms": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), StatusCode::OK);
    assert!(!sb.sandbox.app_answers(address));
    assert_eq!(ask(apps, &ip).await, StatusCode::BAD_GATEWAY);
    let shown: serde_json::Value =
        http().get(format!("{}/__sandbox/app", sb.admin_url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown, serde_json::json!({ "ready_after_ms": null }));
    assert_eq!(
        http().put(format!("{}/__sandbox/app", sb.admin_url())).body("soon").send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn the_create_request_is_kept_as_received_with_its_password_redacted() {
    let sb = start().await;
    let token = token(&sb, "linodes:read_write").await;
    let raw = format!(
        "{{\"type\":\"g6-nanode-1\",\"region\":\"us-east\",  \"image\":\"linode/debian12\",\"root_pass\" : \"{STRONG_PASSWORD}\",\"label\":\"kept-01\"}}"
    );
    let response = http()
        .post(format!("{}/linode/instances", sb.api_base()))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(raw.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let kept = sb.sandbox.inspect().instances[0].request_body.clone().expect("kept");
    assert_eq!(kept, raw.replace(STRONG_PASSWORD, "<redacted>"), "byte for byte, spacing included");
    assert!(!format!("{:?}", sb.sandbox.inspect()).contains(STRONG_PASSWORD));
}
