//! The deploy page beyond the basic flow, over real HTTP against the embedded sandbox: the
//! StackScript's inputs, label and SSH keys, prices per region, shareable links, and the success
//! view following the new Linode to `running` before the token is given up.

use std::time::{Duration, Instant};

use crate::support::{location, spawn_app, TestApp};
use reqwest::StatusCode;

const FIELDS_SCRIPT: &str = "320827";
const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz me@laptop";

async fn page(app: &TestApp, path: &str) -> String {
    let response = app.browser.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// Posts the form, approves at the sandbox and follows the callback; returns the success page.
async fn deploy_with(app: &TestApp, fields: &[(&str, &str)]) -> String {
    let response = app.submit(fields).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let authorize = location(&response);
    assert!(authorize.contains("oauth/authorize"), "refused: {authorize}");
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    app.finish(&callback).await
}

/// Posts the form expecting a refusal; returns the message the re-rendered form shows.
async fn refused(app: &TestApp, fields: &[(&str, &str)], message: &str) {
    let response = app.submit(fields).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let back = location(&response);
    assert!(!back.contains("oauth/authorize"), "{fields:?} was accepted");
    let back = if back.starts_with("http") { back } else { app.url(&back) };
    let html = app.browser.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(message), "the form does not say {message:?} for {fields:?}");
}

const BASE: [(&str, &str); 3] = [("plan", "g6-nanode-1"), ("region", "us-east"), ("image", "linode/debian12")];

fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    BASE.iter().copied().chain(extra.iter().copied()).collect()
}

#[tokio::test]
async fn stackscript_inputs_are_rendered_checked_and_sent_to_linode() {
    let app = spawn_app(&[("LINODE_STACKSCRIPT_ID", FIELDS_SCRIPT)]).await;
    let html = page(&app, "/").await;
    for expected in [
        r#"name="fields[hostname]""#,
        r#"placeholder="web01""#,
        r#"type="password""#,
        r#"name="fields[db_password]""#,
        r#"name="many[packages][]""#,
        r#"name="fields[webserver]""#,
        "Choose…",
    ] {
        assert!(html.contains(expected), "the form lacks {expected}");
    }

    refused(&app, &with(&[("fields[environment]", "staging")]), "Host name for the server is required.").await;
    refused(
        &app,
        &with(&[("fields[hostname]", "web01"), ("fields[environment]", "qa"), ("fields[db_password]", "x")]),
        "Environment: choose one of production, staging.",
    )
    .await;
    refused(
        &app,
        &with(&[
            ("fields[hostname]", "web01"),
            ("fields[environment]", "staging"),
            ("fields[db_password]", "x"),
            ("many[packages][]", "rm -rf"),
        ]),
        "is not one of git, htop, curl, vim",
    )
    .await;
    refused(&app, &with(&[("fields[PATH]", "/tmp")]), "is not an input of this form").await;
    assert!(app.sandbox.inspect().codes.is_empty());

    let html = deploy_with(
        &app,
        &with(&[
            ("fields[hostname]", "web01"),
            ("fields[environment]", "staging"),
            ("fields[webserver]", "caddy"),
            ("fields[db_password]", "s3cret pass"),
            ("many[packages][]", "vim"),
            ("many[packages][]", "git"),
            ("fields[timezone]", ""),
        ]),
    )
    .await;
    assert!(html.contains(r#"data-testid="deployed""#));
    let instances = app.sandbox.inspect().instances;
    assert_eq!(instances.len(), 1);
    let data = serde_json::Value::Object(instances[0].stackscript_data.clone());
    assert_eq!(
        data,
        serde_json::json!({
            "hostname": "web01", "environment": "staging", "webserver": "caddy",
            "db_password": "s3cret pass", "packages": "git,vim", "timezone": "UTC"
        })
    );
    assert!(!html.contains("s3cret pass"), "a StackScript password was echoed back");
}

#[tokio::test]
async fn a_stackscript_without_inputs_shows_none() {
    let app = spawn_app(&[]).await;
    let html = page(&app, "/").await;
    assert!(!html.contains("stackscript-fields"));
    assert!(!html.contains("fields["));
}

#[tokio::test]
async fn label_and_ssh_keys_are_checked_and_reach_linode() {
    let app = spawn_app(&[]).await;
    refused(&app, &with(&[("label", "1-starts-with-a-digit")]), "Labels are 3 to 64 characters").await;
    refused(&app, &with(&[("ssh_keys", &KEY[..60])]), "SSH key 1: the key is cut short").await;
    refused(&app, &with(&[("ssh_keys", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blb\n")]), "this is a private key")
        .await;

    let keys = format!("# my laptop\n{KEY}\n");
    let html = deploy_with(&app, &with(&[("label", "my-web.01"), ("ssh_keys", &keys)])).await;
    assert!(html.contains(r#"data-testid="ssh-keys""#));
    let instance = &app.sandbox.inspect().instances[0];
    assert_eq!(instance.label, "my-web.01");
    assert_eq!(instance.authorized_keys, vec![KEY.to_owned()]);
}

#[tokio::test]
async fn plans_show_specs_and_prices_and_regions_their_own_price() {
    let app = spawn_app(&[]).await;
    let html = page(&app, "/").await;
    assert!(html.contains("Nanode 1 GB — 1 vCPU, 1 GB RAM, 25 GB storage, 1 TB transfer — $5/mo ($0.0075/hr)"));
    for group in ["Shared CPU", "Dedicated CPU", "Premium CPU", "High Memory", "GPU", "Americas", "Europe", "Asia"] {
        assert!(html.contains(&format!(r#"label="{group}""#)), "no {group} group");
    }
    // Madrid is in an outage: listed, but not selectable, with the reason.
    assert!(html.contains("(unavailable: outage)"));

    let html = page(&app, "/?type=g6-nanode-1&region=id-cgk").await;
    assert!(html.contains(r#"data-testid="price">$6/mo ($0.009/hr)"#), "no Jakarta price");
    assert!(html.contains(r#"data-testid="regional-price""#));
    let html = page(&app, "/?type=g6-nanode-1&region=us-east").await;
    assert!(html.contains(r#"data-testid="price">$5/mo ($0.0075/hr)"#));

    // A GPU plan where GPUs are not offered, and a region in an outage, are refused.
    refused(
        &app,
        &[("plan", "g1-gpu-rtx6000-1"), ("region", "eu-west"), ("image", "linode/debian12")],
        "cannot host a",
    )
    .await;
    refused(&app, &[("plan", "g6-nanode-1"), ("region", "es-mad"), ("image", "linode/debian12")], "outage").await;
}

#[tokio::test]
async fn shared_links_preselect_the_form_and_say_what_they_cannot() {
    let app = spawn_app(&[("LINODE_STACKSCRIPT_ID", FIELDS_SCRIPT)]).await;
    let html = page(&app, "/?type=g6-standard-2&region=eu-west&image=linode/ubuntu24.04&label=shared-1&hostname=box1&packages=htop,vim&db_password=leak").await;
    for (value, what) in [
        ("g6-standard-2", "plan"),
        ("eu-west", "region"),
        ("linode/ubuntu24.04", "image"),
        ("htop", "htop"),
        ("vim", "vim"),
    ] {
        let selected = [format!(r#"value="{value}" selected"#), format!(r#"value="{value}" checked"#)];
        assert!(selected.iter().any(|s| html.contains(s)), "{what} is not preselected");
    }
    assert!(html.contains(r#"value="shared-1""#));
    assert!(html.contains(r#"value="box1""#));
    assert!(!html.contains("leak"), "a password was taken from the link");
    assert!(!html.contains("link-notice"));

    let html = page(&app, "/?type=g6-nanode-1&region=mars-1").await;
    assert!(html.contains("link-notice"));
    assert!(html.contains("The link asked for region “mars-1”, which is not offered here"));
    assert!(html.contains(r#"value="us-east" selected"#));
}

/// Asks for progress until `done` holds, the way the hydrated page does; returns every status seen.
async fn follow(app: &TestApp, limit: Duration, done: impl Fn(&serde_json::Value) -> bool) -> Vec<String> {
    let started = Instant::now();
    let mut seen: Vec<String> = Vec::new();
    loop {
        let progress = app.progress().await;
        let status = progress["status"].as_str().unwrap_or_default().to_owned();
        if seen.last() != Some(&status) {
            seen.push(status);
        }
        if done(&progress) {
            return seen;
        }
        assert!(started.elapsed() < limit, "still {progress} after {limit:?}; saw {seen:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn live_tokens(app: &TestApp) -> usize {
    app.sandbox.inspect().tokens.iter().filter(|token| !token.revoked).count()
}

#[tokio::test]
async fn the_success_view_follows_the_linode_to_running_then_the_token_is_revoked() {
    let app = spawn_app(&[("SANDBOX_PROVISIONING_SECS", "1"), ("SANDBOX_BOOTING_SECS", "1")]).await;
    let html = app.deploy().await;
    assert!(html.contains(r#"data-testid="status">provisioning"#));
    // Held while the Linode comes up, server-side only.
    assert_eq!(live_tokens(&app), 1);

    let seen = follow(&app, Duration::from_secs(10), |p| p["following"] == false).await;
    assert_eq!(seen, ["provisioning", "booting", "running"]);
    app.assert_all_tokens_revoked().await;
    let reads = app.sandbox.inspect().count("GET /v4/linode/instances/{id}");
    assert!(reads >= 2, "{reads} reads of the Linode");

    // Reloading the page afterwards shows it running, and asks Linode nothing more.
    let html = app.result_page().await;
    assert!(html.contains(r#"data-testid="status">running"#));
    assert_eq!(app.sandbox.inspect().count("GET /v4/linode/instances/{id}"), reads);
}

#[tokio::test]
async fn leaving_the_page_or_the_time_bound_ends_the_following_and_revokes() {
    // Nobody asks for progress: the person left.
    let app = spawn_app(&[("SANDBOX_PROVISIONING_SECS", "60"), ("FOLLOW_IDLE_SECS", "0.5")]).await;
    app.deploy().await;
    assert_eq!(live_tokens(&app), 1);
    app.assert_all_tokens_revoked().await;

    // Someone keeps watching, but the Linode never comes up within the bound.
    let app = spawn_app(&[("SANDBOX_PROVISIONING_SECS", "60"), ("FOLLOW_LIMIT_SECS", "1")]).await;
    app.deploy().await;
    let seen = follow(&app, Duration::from_secs(5), |p| p["following"] == false).await;
    assert_eq!(seen, ["provisioning"]);
    app.assert_all_tokens_revoked().await;
}

#[tokio::test]
async fn pages_are_compressed_but_not_the_one_with_the_password() {
    let app = spawn_app(&[]).await;
    let get = |path: &str| app.browser.get(app.url(path)).header("Accept-Encoding", "br, gzip");
    let form = get("/").send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert_eq!(form.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("br"));
    let compressed = form.bytes().await.unwrap().len();
    let plain = page(&app, "/").await.len();
    assert!(compressed * 4 < plain, "{compressed} bytes brotli for {plain} bytes of HTML");

    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let back = app.browser.get(&callback).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    // The one view that holds the root password, asked for as a browser asks.
    let result = get("/deployment").send().await.unwrap();
    assert_eq!(result.status(), StatusCode::OK);
    assert_eq!(result.headers().get("content-encoding"), None);
    assert!(result.text().await.unwrap().contains("data-testid=\"root-password\""));
}
