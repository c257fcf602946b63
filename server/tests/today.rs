//! The deploy flow on today's Linode, over real HTTP through the embedded sandbox: under each
//! of the four `interfaces_for_new_linodes` settings (set through Linode's own `PUT
//! /account/settings`) the new Linode runs with a public IPv4, because every create says how it
//! gets its network; and a restricted IAM user is told plainly that their user may not create
//! Linodes, with nothing created and the token revoked.

mod support;

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use support::{failure_kind, spawn_app, TestApp};

/// Waits for the followed Linode to run; returns the progress answer.
async fn running(app: &TestApp) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let progress = app.progress().await;
        if progress["status"] == "running" {
            return progress;
        }
        assert!(tokio::time::Instant::now() < deadline, "never ran: {progress}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn under_each_account_setting_the_linode_runs_with_a_public_ipv4() {
    // (setting, a default firewall for Linodes and public interfaces?, the generation it gets,
    // the creates it takes: a refused network costs one 400 and creates nothing)
    let cases = [
        ("legacy_config_only", false, "legacy_config", 1),
        ("legacy_config_default_but_linode_allowed", false, "legacy_config", 1),
        ("linode_default_but_legacy_config_allowed", true, "legacy_config", 1),
        ("linode_only", true, "linode", 2),
        ("linode_only", false, "linode", 3),
    ];
    for (setting, default_firewall, generation, creates) in cases {
        let app = spawn_app(&[("READY_CHECK", "off")]).await;
        let admin = app.account_token(&["account:read_write", "firewall:read_write"]).await;
        let (status, _) = app
            .sandbox_api(
                &admin,
                Method::PUT,
                "/account/settings",
                Some(json!({ "interfaces_for_new_linodes": setting })),
            )
            .await;
        assert_eq!(status, reqwest::StatusCode::OK);
        if default_firewall {
            let rules = json!({
                "inbound_policy": "ACCEPT", "inbound": [], "outbound_policy": "ACCEPT", "outbound": []
            });
            let (_, firewall) = app
                .sandbox_api(
                    &admin,
                    Method::POST,
                    "/networking/firewalls",
                    Some(json!({ "label": "open", "rules": rules })),
                )
                .await;
            let defaults =
                json!({ "default_firewall_ids": { "linode": firewall["id"], "public_interface": firewall["id"] } });
            let (status, _) =
                app.sandbox_api(&admin, Method::PUT, "/networking/firewalls/settings", Some(defaults)).await;
            assert_eq!(status, reqwest::StatusCode::OK);
        }
        app.revoke_account_token(&admin).await;

        let page = app.deploy().await;
        assert!(page.contains("data-testid=\"deployed\""), "{setting}: {page}");
        let progress = running(&app).await;
        assert!(progress["ipv4"].as_str().is_some_and(|ip| !ip.is_empty()), "{setting}: {progress}");
        let inspection = app.sandbox.inspect();
        assert_eq!(inspection.instances.len(), 1, "{setting}: one Linode per click");
        let linode = &inspection.instances[0];
        assert_eq!(linode.interface_generation, generation, "{setting}");
        assert_eq!(linode.ipv4.len(), 1, "{setting}");
        assert_eq!(linode.status, "running", "{setting}");
        assert_eq!(inspection.count("POST /v4/linode/instances"), creates, "{setting}");
        // What the success view says was sent is what Linode accepted.
        let sent: serde_json::Value = serde_json::from_str(linode.request_body.as_deref().expect("kept")).unwrap();
        assert_eq!(sent["interface_generation"], generation, "{setting}");
        app.assert_all_tokens_revoked().await;
    }
}

#[tokio::test]
async fn a_restricted_iam_user_is_told_their_user_may_not_create_linodes() {
    let app = spawn_app(&[("READY_CHECK", "off")]).await;
    let authorize = app.start().await;
    let callback = app.consent_as(&authorize, sandbox::RESTRICTED_USER, "approve", &["linodes:read_write"]).await;
    let page = app.finish(&callback).await;
    assert_eq!(failure_kind(&page), Some("not_permitted"), "{page}");
    assert!(page.contains("Your Linode user may not create Linodes"), "{page}");
    assert!(page.contains("Linode creator role"), "{page}");
    assert!(page.contains("Nothing was created on your Linode account."), "{page}");
    assert!(page.contains("/?type=g6-nanode-1"), "the same choices are kept for a retry: {page}");
    let inspection = app.sandbox.inspect();
    assert!(inspection.instances.is_empty());
    assert!(inspection.firewalls.is_empty());
    assert_eq!(inspection.count("POST /v4/linode/instances"), 1, "one refused create, not retried");
    app.assert_all_tokens_revoked().await;
}
