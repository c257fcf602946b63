//! Issue 11 over real HTTP through the embedded sandbox: the success view follows the install
//! past `running` until the app answers (or says it does not), the request shown is the request
//! sent, and every failure offers to try again with the same choices.

use std::time::Duration;

use crate::support::{app_state_name, failure_kind, spawn_app};
use reqwest::StatusCode;

const ED25519: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlYWxseS1hLXRlc3Qta2V5LWZvci11bml0LXRlc3Rz me@laptop";

/// The text inside `<code>` of the element marked `data-testid="{testid}"`, unescaped.
fn code_text(html: &str, testid: &str) -> Option<String> {
    let start = html.find(&format!("data-testid=\"{testid}\""))?;
    let tag = html[start..].find("<code")? + start;
    let open = html[tag..].find('>')? + tag + 1;
    let close = html[open..].find("</code>")? + open;
    Some(
        html[open..close]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

#[tokio::test]
async fn the_view_follows_the_install_past_running_until_the_app_answers() {
    let app = spawn_app(&[("SANDBOX_APP_READY_SECS", "1.5")]).await;
    let html = app.deploy().await;
    assert!(html.contains("data-testid=\"deployed\""), "{html}");

    let installing = app.app_state_until(Duration::from_secs(10), "installing").await;
    assert_eq!(installing["status"], "running");
    assert_eq!(installing["following"], false);
    // The token went before the first check: checking needs none.
    assert!(app.sandbox.inspect().tokens.iter().all(|token| token.revoked), "token revoked before checking");
    let page = app.result_page().await;
    assert!(page.contains("data-state=\"installing\""), "{page}");
    assert!(page.contains("Installing Test App…"), "{page}");

    let ready = app.app_state_until(Duration::from_secs(10), "ready").await;
    let ipv4 = ready["ipv4"].as_str().expect("an address").to_owned();
    assert_eq!(ready["app"]["ready"]["link"], format!("http://{ipv4}/"));
    assert_eq!(ready["app"]["ready"]["address"], format!("{ipv4}:80"));
    let page = app.result_page().await;
    assert!(page.contains("data-state=\"ready\""), "{page}");
    assert!(page.contains(&format!("href=\"http://{ipv4}/\"")), "{page}");
    assert!(page.contains("Test App is ready"), "{page}");
    assert!(app.sandbox.inspect().instances[0].app_answering);
}

#[tokio::test]
async fn an_app_that_never_answers_is_reported_with_what_to_check() {
    let app = spawn_app(&[("SANDBOX_APP_READY_SECS", "never"), ("READY_TIMEOUT_SECS", "2")]).await;
    app.deploy().await;
    let gave_up = app.app_state_until(Duration::from_secs(15), "not_answering").await;
    assert!(gave_up["app"]["not_answering"]["waited_secs"].as_u64().is_some_and(|secs| secs <= 3), "{gave_up}");
    let page = app.result_page().await;
    assert!(page.contains("data-state=\"not_answering\""), "{page}");
    assert!(page.contains("Not answering after"), "{page}");
    assert!(page.contains("/var/log/stackscript.log") && page.contains("firewall"), "{page}");
    let ipv4 = gave_up["ipv4"].as_str().unwrap();
    assert!(page.contains(&format!("ssh root@{ipv4}")), "{page}");
    app.assert_all_tokens_revoked().await;
}

#[tokio::test]
async fn with_the_check_off_the_view_stops_at_running() {
    let app = spawn_app(&[("READY_CHECK", "off")]).await;
    let html = app.deploy().await;
    assert!(!html.contains("data-testid=\"app-status\""), "{html}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let progress = app.progress().await;
        if progress["following"] == false {
            assert_eq!(app_state_name(&progress["app"]), "not_checked", "{progress}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still following: {progress}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn the_request_shown_after_deploying_is_the_request_linode_received() {
    let app = spawn_app(&[("LINODE_STACKSCRIPT_ID", "320827"), ("READY_CHECK", "off")]).await;
    let response = app
        .submit(&[
            ("plan", "g6-nanode-1"),
            ("region", "us-east"),
            ("image", "linode/debian12"),
            ("label", "web-01"),
            ("ssh_keys", ED25519),
            ("fields[hostname]", "web01"),
            ("fields[environment]", "staging"),
            ("fields[webserver]", "caddy"),
            ("fields[timezone]", ""),
            ("fields[db_password]", "an-L0ng-secret"),
            ("many[packages][]", "git"),
            ("many[packages][]", "vim"),
        ])
        .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let authorize = crate::support::location(&response);
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let page = app.finish(&callback).await;

    let shown = code_text(&page, "sent-body").expect("the sent body on the success view");
    assert!(!shown.contains("an-L0ng-secret"), "{shown}");
    let received = app.sandbox.inspect().instances[0].request_body.clone().expect("the body as received");
    let mut received: serde_json::Value = serde_json::from_str(&received).unwrap();
    received["root_pass"] = "<generated on the server>".into();
    received["stackscript_data"]["db_password"] = "<hidden>".into();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&shown).unwrap(), received, "{shown}");
    assert_eq!(received["stackscript_data"]["packages"], "git,vim");
    assert_eq!(received["stackscript_data"]["timezone"], "UTC", "an empty input sends its default");

    let cli = code_text(&page, "sent-cli").expect("the linode-cli command");
    assert!(cli.starts_with("linode-cli linodes create"), "{cli}");
    assert!(cli.contains("--label web-01") && cli.contains("--stackscript_id 320827"), "{cli}");
    assert!(cli.contains(&format!("--authorized_keys '{ED25519}'")), "{cli}");
    assert!(!cli.contains("an-L0ng-secret"), "{cli}");
}

#[tokio::test]
async fn the_form_previews_the_request_for_its_values_as_typed() {
    let app = spawn_app(&[("LINODE_STACKSCRIPT_ID", "320827")]).await;
    let form = app.browser.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let initial = code_text(&form, "request-body").expect("a server-rendered preview");
    let initial: serde_json::Value = serde_json::from_str(&initial).unwrap();
    assert_eq!(initial["type"], "g6-nanode-1");
    assert_eq!(initial["root_pass"], "<generated on the server>");
    assert_eq!(initial["label"], "<generated on the server>");
    assert_eq!(initial["stackscript_id"], 320827);
    assert_eq!(initial["stackscript_data"]["packages"], "git,curl", "defaults as they would be sent");

    let preview: String = app
        .browser
        .post(app.url("/api/preview_request"))
        .header("Origin", &app.base)
        .header("Accept", "application/json")
        .form(&[
            ("plan", "g6-standard-2"),
            ("region", "eu-west"),
            ("image", "linode/ubuntu24.04"),
            ("label", "x"),
            ("fields[db_password]", "typed-secret"),
            ("fields[hostname]", "db1"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (body, cli) = preview.split_once('\u{1e}').expect("body, then the command");
    let body: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!((body["type"].as_str(), body["region"].as_str()), (Some("g6-standard-2"), Some("eu-west")));
    assert_eq!(body["label"], "x", "a label that does not pass yet is shown as typed");
    assert_eq!(body["stackscript_data"]["db_password"], "<hidden>");
    assert_eq!(body["stackscript_data"]["hostname"], "db1");
    assert!(!preview.contains("typed-secret"));
    assert!(cli.contains("--region eu-west"), "{cli}");
    assert!(app.sandbox.inspect().requests.iter().all(|r| !r.route.contains("instances")), "no Linode call");

    // Another site cannot use it.
    let forged = app
        .browser
        .post(app.url("/api/preview_request"))
        .header("Origin", "https://evil.example")
        .form(&[("plan", "g6-nanode-1")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_failure_offers_to_try_again_with_the_same_choices_but_no_password() {
    let app = spawn_app(&[("LINODE_STACKSCRIPT_ID", "320827")]).await;
    app.sandbox.add_fault(sandbox::FaultRule::status("POST /v4/linode/instances", 400, "Region is at capacity"));
    let response = app
        .submit(&[
            ("plan", "g6-standard-1"),
            ("region", "eu-west"),
            ("image", "linode/ubuntu24.04"),
            ("label", "retry-me"),
            ("ssh_keys", ED25519),
            ("fields[hostname]", "web01"),
            ("fields[environment]", "production"),
            ("fields[db_password]", "Typed-Pa55word"),
            ("many[packages][]", "htop"),
        ])
        .await;
    let callback = app.consent(&crate::support::location(&response), "approve", &["linodes:read_write"]).await;
    let page = app.finish(&callback).await;
    assert_eq!(failure_kind(&page), Some("linode_error"), "{page}");
    let retry = retry_link(&page);
    assert!(
        retry.starts_with("/?type=g6-standard-1&region=eu-west&image=linode%2Fubuntu24.04&label=retry-me"),
        "{retry}"
    );
    assert!(!retry.contains("db_password") && !retry.contains("Pa55"), "never a password: {retry}");
    assert!(retry.contains("&keys=") && !retry.contains("AAAAC3Nza"), "the keys travel sealed: {retry}");

    let form = app.browser.get(app.url(&retry)).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("value=\"g6-standard-1\" selected"), "plan pre-selected");
    assert!(form.contains("value=\"eu-west\" selected"), "region pre-selected");
    assert!(form.contains("value=\"linode/ubuntu24.04\" selected"), "image pre-selected");
    assert!(form.contains("value=\"retry-me\""), "label kept");
    assert!(form.contains(ED25519), "SSH key kept");
    assert!(form.contains("value=\"web01\""), "input kept");
    assert!(form.contains("value=\"production\" selected"), "one-of kept");
    assert!(!form.contains("Typed-Pa55word"));
    assert!(!form.contains("data-testid=\"link-notice\""), "nothing in the link was refused: {form}");

    // The same link followed by another browser (handed to someone, say, by the person who made
    // it fail with their own key): the choices, never the keys.
    let stranger = crate::support::browser();
    let form = stranger.get(app.url(&retry)).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("value=\"g6-standard-1\" selected") && form.contains("value=\"retry-me\""));
    assert!(!form.contains("AAAAC3NzaC1lZDI1NTE5AAAAIHJl"), "another browser's retry link pre-filled its keys");

    // A link anyone can write cannot put a key on someone's Linode: neither in clear nor forged.
    let planted = format!("/?type=g6-standard-1&ssh_keys={}&keys=forged", ED25519.replace(' ', "%20"));
    let form = app.browser.get(app.url(&planted)).send().await.unwrap().text().await.unwrap();
    assert!(!form.contains("AAAAC3NzaC1lZDI1NTE5AAAAIHJl"), "a key from a link was pre-filled");
}

#[tokio::test]
async fn a_denied_login_offers_the_keys_back_to_its_own_browser_only() {
    let app = spawn_app(&[]).await;
    let response = app
        .submit(&[
            ("plan", "g6-nanode-1"),
            ("region", "us-east"),
            ("image", "linode/debian12"),
            ("ssh_keys", ED25519),
            ("keys_only", "on"),
        ])
        .await;
    let callback = app.consent(&crate::support::location(&response), "deny", &["linodes:read_write"]).await;
    let page = app.finish(&callback).await;
    assert_eq!(failure_kind(&page), Some("access_denied"), "{page}");
    let retry = retry_link(&page);
    assert!(retry.contains("&keys="), "{retry}");
    let own = app.browser.get(app.url(&retry)).send().await.unwrap().text().await.unwrap();
    assert!(own.contains(ED25519), "the browser that was refused gets its key back");
    let keys_only_box = |html: &str| {
        let at = html.find("data-testid=\"keys-only\"").expect("the box");
        let tag = &html[html[..at].rfind('<').unwrap()..at + html[at..].find('>').unwrap()];
        tag.contains("checked")
    };
    assert!(keys_only_box(&own), "and its choice of SSH keys only");
    let stranger = crate::support::browser();
    let other = stranger.get(app.url(&retry)).send().await.unwrap().text().await.unwrap();
    assert!(!other.contains("AAAAC3NzaC1lZDI1NTE5AAAAIHJl"), "another browser got the keys");
    assert!(!keys_only_box(&other), "a box that would be refused without the keys is left unticked");
}

#[tokio::test]
async fn a_denied_login_whose_keys_are_too_long_to_carry_back_still_shows_its_failure() {
    // Five keys with long comments: the pending deployment's cookie just fits what a browser
    // keeps, and the failure's retry link would seal them again inside the outcome cookie, past
    // it (found behind nginx: 5320 bytes, dropped by browsers, "no deployment" instead).
    let app = spawn_app(&[("RATE_LIMIT_DEPLOYS_PER_MINUTE", "0")]).await;
    let key = ED25519.rsplit_once(' ').unwrap().0;
    let mut length = 800;
    let response = loop {
        let keys: Vec<String> = (0..5).map(|n| format!("{key} key{n}-{}", "x".repeat(length))).collect();
        let response = app
            .submit(&[
                ("plan", "g6-nanode-1"),
                ("region", "us-east"),
                ("image", "linode/debian12"),
                ("ssh_keys", &keys.join("\n")),
            ])
            .await;
        if crate::support::location(&response).contains("/sandbox/login/oauth/authorize?") {
            break response;
        }
        length -= 25;
        assert!(length > 0, "no keys were taken");
    };
    let flow = response.headers().get("set-cookie").unwrap().len();
    assert!(flow > 3800, "the flow cookie ({flow} bytes) is not near the limit");
    let callback = app.consent(&crate::support::location(&response), "deny", &["linodes:read_write"]).await;
    let answer = app.browser.get(&callback).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let outcome = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|cookie| cookie.starts_with("iol_outcome="))
        .expect("an outcome cookie")
        .len();
    assert!(outcome <= 4000, "an outcome cookie of {outcome} bytes, which browsers drop");
    let page = app.result_page().await;
    assert_eq!(failure_kind(&page), Some("access_denied"), "{page}");
    let retry = retry_link(&page);
    assert!(
        retry.contains("type=g6-nanode-1") && !retry.contains("&keys="),
        "the other choices, not the keys: {retry}"
    );
    // And the form says so, rather than let "the same choices" pass for the keys too.
    let form = app.browser.get(app.url(&retry.replace("&amp;", "&"))).send().await.unwrap().text().await.unwrap();
    assert!(form.contains("Your SSH keys were too long to carry back"), "{form}");
}

/// The failure page's "try again" link, as the browser follows it.
fn retry_link(page: &str) -> String {
    let start =
        page.find("data-testid=\"retry\" href=\"").expect("a retry link") + "data-testid=\"retry\" href=\"".len();
    page[start..start + page[start..].find('"').unwrap()].replace("&amp;", "&")
}

#[tokio::test]
async fn behind_a_default_firewall_that_drops_port_80_the_app_is_not_answering() {
    let app = spawn_app(&[("SANDBOX_APP_READY_SECS", "0"), ("READY_TIMEOUT_SECS", "2")]).await;
    let token = app.account_token(&["account:read_write", "firewall:read_write"]).await;
    let firewall = app.ssh_only_default_firewall(&token).await;
    app.deploy_granting(&["linodes:read_write"]).await;
    let gave_up = app.app_state_until(Duration::from_secs(15), "not_answering").await;
    let inspection = app.sandbox.inspect();
    assert_eq!(inspection.instances[0].firewall_ids, [firewall], "the account's default firewall was attached");
    assert!(!inspection.instances[0].app_answering);
    let page = app.result_page().await;
    assert!(page.contains("data-state=\"not_answering\"") && page.contains("firewall"), "{page}");
    assert!(gave_up["ipv4"].as_str().is_some());
}

#[tokio::test]
async fn once_the_firewall_accepts_port_80_the_app_is_ready() {
    let app = spawn_app(&[("SANDBOX_APP_READY_SECS", "0"), ("READY_TIMEOUT_SECS", "60")]).await;
    let token = app.account_token(&["account:read_write", "firewall:read_write"]).await;
    let firewall = app.ssh_only_default_firewall(&token).await;
    app.deploy_granting(&["linodes:read_write"]).await;
    // Running and installed, but the firewall drops the probe: still "installing" after 2 s.
    app.app_state_until(Duration::from_secs(10), "installing").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(app_state_name(&app.progress().await["app"]), "installing");
    assert!(!app.sandbox.inspect().instances[0].app_answering);

    let open = serde_json::json!({
        "inbound_policy": "DROP",
        "inbound": [{ "action": "ACCEPT", "protocol": "TCP", "ports": "22, 80", "addresses": { "ipv4": ["0.0.0.0/0"] } }],
        "outbound_policy": "ACCEPT",
        "outbound": []
    });
    let opened = crate::support::browser()
        .put(format!("{}/v4/networking/firewalls/{firewall}/rules", app.sandbox_admin))
        .bearer_auth(&token)
        .json(&open)
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    let ready = app.app_state_until(Duration::from_secs(20), "ready").await;
    assert_eq!(ready["app"]["ready"]["address"], format!("{}:80", ready["ipv4"].as_str().unwrap()));
    assert!(app.sandbox.inspect().instances[0].app_answering);
}
