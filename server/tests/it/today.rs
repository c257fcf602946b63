//! The deploy flow on today's Linode, over real HTTP through the embedded sandbox: under each
//! of the four `interfaces_for_new_linodes` settings (set through Linode's own `PUT
//! /account/settings`) the new Linode runs with a public IPv4, because every create says how it
//! gets its network; and a restricted IAM user is told plainly that their user may not create
//! Linodes, with nothing created and the token revoked.

use std::time::Duration;

use crate::support::{failure_kind, spawn_app, testid_text, TestApp};
use reqwest::Method;
use serde_json::json;

/// What the login page asks for when a firewall is made for the app.
const BOTH: &[&str] = &["linodes:read_write", "firewall:read_write"];

/// The account's default firewall made SSH-only through Linode's own API, with a token of the
/// test's own that is revoked after; returns its id.
async fn ssh_only_default(app: &TestApp) -> u64 {
    let admin = app.account_token(&["account:read_write", "firewall:read_write"]).await;
    let id = app.ssh_only_default_firewall(&admin).await;
    app.revoke_account_token(&admin).await;
    id
}

#[tokio::test]
async fn the_apps_own_firewall_accepts_exactly_its_ports_and_the_app_answers_behind_an_ssh_only_default() {
    let app = spawn_app(&[("SANDBOX_APP_READY_SECS", "0"), ("APP_PORTS", "22/tcp,80/tcp")]).await;
    let default = ssh_only_default(&app).await;
    let authorize = app.start().await;
    assert!(authorize.contains("firewall%3Aread_write"), "the login page asks for firewalls: {authorize}");
    let page = app.finish(&app.consent(&authorize, "approve", BOTH).await).await;
    let shown = testid_text(&page, "firewall").expect("the firewall on the success view");
    assert!(shown.contains("accepts 22/tcp, 80/tcp"), "{shown}");
    assert!(!page.contains("data-testid=\"extra-grant\""), "firewall:read_write was asked for: {page}");

    let inspection = app.sandbox.inspect();
    let linode = &inspection.instances[0];
    let own = inspection.firewalls.iter().find(|f| made_for(&f.label, &linode.label)).expect("the app's firewall");
    assert_ne!(own.label, linode.label, "a label of its own, never the person's as is");
    assert_ne!(own.id, default);
    assert_eq!(linode.firewall_ids, [own.id], "behind the app's firewall, not the default");
    assert_eq!(own.tags, ["Test App"]);
    assert_eq!(own.rules["inbound_policy"], "DROP");
    let accepted: Vec<(&str, &str)> = own.rules["inbound"]
        .as_array()
        .unwrap()
        .iter()
        .map(|rule| (rule["protocol"].as_str().unwrap(), rule["ports"].as_str().unwrap()))
        .collect();
    assert_eq!(accepted, [("TCP", "22"), ("TCP", "80")]);
    let sent: serde_json::Value = serde_json::from_str(linode.request_body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["firewall_id"], own.id);
    let ready = app.app_state_until(Duration::from_secs(20), "ready").await;
    assert!(ready["ipv4"].as_str().is_some());
    assert_eq!(inspection.count("POST /v4/networking/firewalls"), 2, "the default, then one for this click");
    app.assert_all_tokens_revoked().await;
}

#[tokio::test]
async fn without_firewall_permission_the_default_applies_and_the_page_says_so() {
    let app = spawn_app(&[("SANDBOX_APP_READY_SECS", "0"), ("READY_TIMEOUT_SECS", "2")]).await;
    let default = ssh_only_default(&app).await;
    let page = app.deploy_granting(&["linodes:read_write"]).await;
    let shown = testid_text(&page, "firewall").expect("the firewall on the success view");
    assert!(shown.contains("default firewall") && shown.contains("firewall:read_write, was not granted"), "{shown}");
    let inspection = app.sandbox.inspect();
    assert_eq!(inspection.instances[0].firewall_ids, [default]);
    assert_eq!(
        inspection.count("POST /v4/networking/firewalls"),
        1,
        "only the test's default: none made without the permission"
    );
    app.app_state_until(Duration::from_secs(20), "not_answering").await;
    let page = app.result_page().await;
    let hint = testid_text(&page, "firewall-hint").expect("a firewall hint");
    assert!(hint.contains("default firewall, which may drop the port"), "{hint}");
    app.assert_all_tokens_revoked().await;
}

#[tokio::test]
async fn a_linode_refused_after_its_firewall_was_made_leaves_no_firewall() {
    let app = spawn_app(&[("READY_CHECK", "off")]).await;
    app.sandbox.add_fault(sandbox::FaultRule::status("POST /v4/linode/instances", 400, "region is not valid").times(1));
    let page = app.deploy_granting(BOTH).await;
    assert_eq!(failure_kind(&page), Some("linode_error"), "{page}");
    let inspection = app.sandbox.inspect();
    assert!(inspection.instances.is_empty());
    assert_eq!(inspection.count("POST /v4/networking/firewalls"), 1, "it was made");
    assert!(
        inspection.firewalls.iter().all(|f| f.label == sandbox::DEFAULT_FIREWALL_LABEL),
        "and deleted: {:?}",
        inspection.firewalls
    );
    assert_eq!(inspection.count("DELETE /v4/networking/firewalls/{id}"), 1);
    app.assert_all_tokens_revoked().await;
}

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
    // (setting, a default firewall for Linodes and public interfaces?, whether the person lets
    // the app's firewall be made, the generation it gets, the creates it takes: a refused
    // network costs one 400 and creates nothing)
    let cases = [
        ("legacy_config_only", false, true, "legacy_config", 1),
        ("legacy_config_default_but_linode_allowed", false, true, "legacy_config", 1),
        ("linode_default_but_legacy_config_allowed", true, true, "legacy_config", 1),
        ("linode_only", true, true, "linode", 2),
        ("linode_only", true, false, "linode", 2),
        ("linode_only", false, false, "linode", 3),
    ];
    for (setting, default_firewall, own_firewall, generation, creates) in cases {
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
        } else {
            // No default firewall at all (the account may have opted out of them).
            let none =
                json!({ "default_firewall_ids": { "linode": null, "public_interface": null, "vpc_interface": null } });
            let (status, _) = app.sandbox_api(&admin, Method::PUT, "/networking/firewalls/settings", Some(none)).await;
            assert_eq!(status, reqwest::StatusCode::OK);
        }
        app.revoke_account_token(&admin).await;

        let page = if own_firewall {
            app.deploy_granting(BOTH).await
        } else {
            app.deploy_granting(&["linodes:read_write"]).await
        };
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
        let behind_own =
            inspection.firewalls.iter().any(|f| made_for(&f.label, &linode.label) && linode.firewall_ids == [f.id]);
        assert_eq!(behind_own, own_firewall, "{setting}: {:?}", linode.firewall_ids);
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
    let callback = app.consent_as(&authorize, sandbox::RESTRICTED_USER, "approve", BOTH).await;
    let page = app.finish(&callback).await;
    assert_eq!(failure_kind(&page), Some("not_permitted"), "{page}");
    assert!(page.contains("Your Linode user may not create Linodes"), "{page}");
    assert!(page.contains("Linode creator role"), "{page}");
    assert!(page.contains("Nothing was created on your Linode account."), "{page}");
    assert!(page.contains("/?type=g6-nanode-1"), "the same choices are kept for a retry: {page}");
    let inspection = app.sandbox.inspect();
    assert!(inspection.instances.is_empty());
    assert!(inspection.firewalls.iter().all(|f| f.label == sandbox::DEFAULT_FIREWALL_LABEL), "no firewall made");
    assert_eq!(inspection.count("POST /v4/linode/instances"), 1, "one refused create, not retried");
    assert_eq!(inspection.count("POST /v4/networking/firewalls"), 1, "its firewall was refused too");
    app.assert_all_tokens_revoked().await;
}

#[tokio::test]
async fn a_rate_limited_create_is_sent_again_after_retry_after_and_never_blindly() {
    // Linode Interfaces only, so the first create (legacy) is refused and the second meets the
    // rate limit: one create per 2 s for the flow's token.
    let app = spawn_app(&[("READY_CHECK", "off")]).await;
    let admin = app.account_token(&["account:read_write"]).await;
    let settings = json!({ "interfaces_for_new_linodes": "linode_only" });
    assert_eq!(
        app.sandbox_api(&admin, Method::PUT, "/account/settings", Some(settings)).await.0,
        reqwest::StatusCode::OK
    );
    app.revoke_account_token(&admin).await;
    let limits = json!({ "create_linode": { "requests": 1, "window": { "secs": 2, "nanos": 0 } },
                         "list_images": null, "list_stackscripts": null, "paginated_list": null, "other": null });
    let set = crate::support::browser()
        .put(format!("{}/__sandbox/rate-limits", app.sandbox_admin))
        .json(&limits)
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), reqwest::StatusCode::OK);
    let page = app.deploy().await;
    assert!(page.contains("data-testid=\"deployed\""), "{page}");
    let inspection = app.sandbox.inspect();
    assert_eq!(inspection.instances.len(), 1);
    let statuses: Vec<Option<u16>> =
        inspection.requests.iter().filter(|r| r.route == "POST /v4/linode/instances").map(|r| r.status).collect();
    assert_eq!(statuses, [Some(400), Some(429), Some(200)], "refused for its network, limited, then sent again");
    app.assert_all_tokens_revoked().await;

    // A limit that lifts later than the flow can wait: said plainly, nothing created, not retried.
    let app = spawn_app(&[("READY_CHECK", "off")]).await;
    app.sandbox.add_fault(sandbox::FaultRule::status("POST /v4/linode/instances", 429, "Too many requests").times(1));
    let page = app.deploy().await;
    assert_eq!(failure_kind(&page), Some("linode_error"), "{page}");
    assert!(page.contains("rate-limiting") && page.contains("Nothing was created"), "{page}");
    let inspection = app.sandbox.inspect();
    assert!(inspection.instances.is_empty());
    assert_eq!(inspection.count("POST /v4/linode/instances"), 1, "Retry-After 30 s: not sent again");
    assert!(inspection.firewalls.iter().all(|f| f.label == sandbox::DEFAULT_FIREWALL_LABEL), "its firewall removed");
    app.assert_all_tokens_revoked().await;
}

/// Whether a firewall's label is the one the flow makes for a Linode's: as much of the Linode's
/// label as fits, then `-` and six random hex digits.
fn made_for(firewall_label: &str, linode_label: &str) -> bool {
    let Some((prefix, unique)) = firewall_label.rsplit_once('-') else { return false };
    unique.len() == 6 && unique.chars().all(|c| c.is_ascii_hexdigit()) && linode_label.starts_with(prefix)
}

/// "SSH keys only": Linode accepts a create without `root_pass` when keys are sent (June 2026).
/// Nothing is generated, sent, kept or shown; the success view says how to log in; the box is
/// refused without a key, with the form's own message and nothing started.
#[tokio::test]
async fn ssh_keys_only_creates_a_linode_without_a_root_password_and_shows_none() {
    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz me@laptop";
    let app = spawn_app(&[]).await;
    let form = [("plan", "g6-nanode-1"), ("region", "us-east"), ("image", "linode/debian12"), ("keys_only", "on")];

    // Without a key: back to the form with why, and Linode never asked.
    let refused = app.submit(&form).await;
    assert_eq!(refused.status(), reqwest::StatusCode::FOUND);
    let back = crate::support::location(&refused);
    assert!(!back.contains("oauth/authorize"), "{back}");
    let page = app.browser.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("needs at least one SSH key"), "{page}");
    assert!(app.sandbox.inspect().codes.is_empty());

    // A key that parses but holds no key (found by an attack pass): it would leave root with no
    // way in, so it is refused like a missing one.
    let mut hollow = form.to_vec();
    hollow.push(("ssh_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAAA== broken"));
    let back = crate::support::location(&app.submit(&hollow).await);
    assert!(!back.contains("oauth/authorize"), "{back}");
    let page = app.browser.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("holds no usable key"), "{page}");
    assert!(app.sandbox.inspect().codes.is_empty());

    let mut with_key = form.to_vec();
    with_key.push(("ssh_keys", KEY));
    let response = app.submit(&with_key).await;
    let authorize = crate::support::location(&response);
    assert!(authorize.contains("oauth/authorize"), "{authorize}");
    let page = app.finish(&app.consent(&authorize, "approve", BOTH).await).await;
    assert!(page.contains("data-testid=\"keys-only-login\""), "{page}");
    assert!(testid_text(&page, "root-password").is_none() && !page.contains("data-testid=\"password-gone\""));
    let sent_shown = sent_body(&page);
    assert!(sent_shown.contains("authorized_keys") && !sent_shown.contains("root_pass"), "{sent_shown}");

    let inspection = app.sandbox.inspect();
    let linode = &inspection.instances[0];
    let sent: serde_json::Value = serde_json::from_str(linode.request_body.as_deref().unwrap()).unwrap();
    assert!(sent.get("root_pass").is_none(), "no password sent: {sent}");
    assert_eq!(sent["authorized_keys"], json!([KEY]));
    // A second view says the same, and there is no password for anyone to take.
    let again = app.result_page().await;
    assert!(again.contains("data-testid=\"keys-only-login\"") && !again.contains("data-testid=\"password-gone\""));
    app.assert_all_tokens_revoked().await;
}

/// A cloud-config in a file of the test's own, as an operator writes one.
fn cloud_config_file(text: &str) -> String {
    let path = crate::support::temp_dir("user-data").join("cloud-config.yaml");
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const CLOUD_CONFIG: &str = "#cloud-config\npackages: [nginx]\nruncmd:\n  - systemctl enable --now nginx\n";

/// `USER_DATA_FILE` alone installs the app: no StackScript, the public images that run
/// cloud-init, regions without the Metadata service disabled with why, and the file sent whole
/// as `metadata.user_data`, which Linode (the sandbox) accepts and records.
#[tokio::test]
async fn a_site_with_only_cloud_init_user_data_deploys_with_it() {
    use base64::Engine;
    let file = cloud_config_file(CLOUD_CONFIG);
    let app = spawn_app(&[("USER_DATA_FILE", &file)]).await;
    let form = app.browser.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("data-testid=\"cloud-config\"") && form.contains("runcmd:"), "the form shows the file");
    assert!(form.contains("cloud-init, with this site's cloud-config (below)"), "the lead says what installs the app");
    assert!(
        form.contains("value=\"linode/debian12\"") && !form.contains("value=\"linode/gentoo\""),
        "cloud-init images only"
    );
    let tokyo = &form[form.find("value=\"ap-northeast\"").expect("listed")..];
    let tokyo = &tokyo[..tokyo.find("</option>").unwrap()];
    assert!(tokyo.contains("disabled") && tokyo.contains("no cloud-init metadata service here"), "{tokyo}");
    assert!(!form.contains("data-testid=\"stackscript-fields\""));

    // A forged post for a region without Metadata is refused before Linode is asked anything.
    let refused =
        app.submit(&[("plan", "g6-nanode-1"), ("region", "ap-northeast"), ("image", "linode/debian12")]).await;
    assert!(!crate::support::location(&refused).contains("oauth/authorize"));
    assert!(app.sandbox.inspect().codes.is_empty());

    let page = app.deploy().await;
    assert!(page.contains("data-testid=\"deployed\""), "{page}");
    assert!(sent_body(&page).contains("cloud-config, base64: "), "the request shown names the user data: {page}");
    let inspection = app.sandbox.inspect();
    let linode = &inspection.instances[0];
    assert!(linode.has_user_data);
    let sent: serde_json::Value = serde_json::from_str(linode.request_body.as_deref().unwrap()).unwrap();
    let encoded = sent["metadata"]["user_data"].as_str().expect("user data sent");
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap(), CLOUD_CONFIG.as_bytes());
    assert!(sent.get("stackscript_id").is_none(), "{sent}");
    app.assert_all_tokens_revoked().await;
}

/// With a StackScript and user data, the StackScript's images that do not run cloud-init are
/// shown disabled, with why, and refused if forged.
#[tokio::test]
async fn with_a_stackscript_and_user_data_images_without_cloud_init_are_refused_with_why() {
    let file = cloud_config_file(CLOUD_CONFIG);
    let stackscript = sandbox::STACKSCRIPT_ANY_IMAGE.to_string();
    let app = spawn_app(&[("USER_DATA_FILE", &file), ("LINODE_STACKSCRIPT_ID", &stackscript)]).await;
    let form = app.browser.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let gentoo = &form[form.find("value=\"linode/gentoo\"").expect("the StackScript's image is listed")..];
    let gentoo = &gentoo[..gentoo.find("</option>").unwrap()];
    assert!(gentoo.contains("disabled") && gentoo.contains("does not run cloud-init"), "{gentoo}");
    let refused = app.submit(&[("plan", "g6-nanode-1"), ("region", "us-east"), ("image", "linode/gentoo")]).await;
    let back = crate::support::location(&refused);
    assert!(!back.contains("oauth/authorize"), "{back}");
    let page = app.browser.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("does not run cloud-init, which installs this application"), "{page}");
    let page = app.deploy().await;
    assert!(page.contains("data-testid=\"deployed\""), "{page}");
    let sent = app.sandbox.inspect().instances[0].request_body.clone().unwrap();
    let sent: serde_json::Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(
        (sent["stackscript_id"].as_u64(), sent["metadata"]["user_data"].is_string()),
        (Some(sandbox::STACKSCRIPT_ANY_IMAGE), true)
    );
}

/// The success view's "what this site sent to Linode" body (a `<pre>` around a `<code>`).
fn sent_body(page: &str) -> &str {
    let start = page.find("data-testid=\"sent-body\"").expect("the request is shown");
    let end = page[start..].find("</pre>").expect("its end") + start;
    &page[start..end]
}

/// GPU plans of 2026 have a base price of 0 and a price per region: offered at their lowest
/// price, sold only where priced (other regions, GPU ones included, refuse them with why), and
/// the summary's price is the region's.
#[tokio::test]
async fn a_plan_priced_only_per_region_is_offered_where_it_is_priced() {
    let app = spawn_app(&[]).await;
    let form = app.browser.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let option = &form[form.find("value=\"g3-gpu-rtxpro6000-1\"").expect("offered")..];
    let option = &option[..option.find("</option>").unwrap()];
    assert!(option.contains("from $1680/mo") && !option.contains("$0/mo"), "{option}");

    let gpu = [("plan", "g3-gpu-rtxpro6000-1"), ("image", "linode/debian12")];
    let in_region = |region| {
        let mut form = gpu.to_vec();
        form.push(("region", region));
        form
    };
    // us-east hosts GPU plans, but does not price this one.
    let refused = app.submit(&in_region("us-east")).await;
    let back = crate::support::location(&refused);
    assert!(!back.contains("oauth/authorize"), "{back}");
    let page = app.browser.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("cannot host a") && page.contains("does not offer this plan"), "{page}");
    assert!(app.sandbox.inspect().codes.is_empty());

    let response = app.submit(&in_region("us-ord")).await;
    let authorize = crate::support::location(&response);
    assert!(authorize.contains("oauth/authorize"), "{authorize}");
    let page = app.finish(&app.consent(&authorize, "approve", BOTH).await).await;
    assert!(page.contains("data-testid=\"deployed\""), "{page}");
    assert_eq!(app.sandbox.inspect().instances[0].region, "us-ord");
}
