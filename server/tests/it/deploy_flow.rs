//! The deploy flow end to end over real HTTP: the server, its embedded sandbox, and a cookie-keeping
//! client in place of the browser. Each error path ends in a specific message, no second Linode,
//! and no token left alive.

use crate::support::{location, spawn_app, CLIENT_SECRET};
use deploy::sealed::{FlowCookie, OutcomeCookie, SealedCookie};
use reqwest::StatusCode;

fn failure_kind(html: &str) -> Option<&str> {
    let start = html.find("data-kind=\"")? + "data-kind=\"".len();
    Some(&html[start..start + html[start..].find('"')?])
}

#[tokio::test]
async fn the_form_lists_every_plan_class_and_the_sandbox_banner() {
    let app = spawn_app(&[]).await;
    let html = app.browser.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("nothing is created on Linode"), "sandbox banner");
    for group in ["Shared CPU", "Dedicated CPU", "Premium CPU", "High Memory", "GPU"] {
        assert!(html.contains(&format!("label=\"{group}\"")), "plan group {group}");
    }
    assert!(html.contains("value=\"g6-nanode-1\""));
    assert!(html.contains("value=\"us-east\""));
    assert!(html.contains("value=\"linode/debian12\""));
    assert!(!html.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn a_deployment_creates_one_linode_shows_the_password_once_and_revokes_the_token() {
    let app = spawn_app(&[]).await;
    let html = app.deploy().await;
    assert!(html.contains("data-testid=\"deployed\""), "{html}");
    assert!(html.contains("ssh root@"));
    assert!(html.contains("data-testid=\"root-password\""));

    let inspection = app.sandbox.inspect();
    assert_eq!(inspection.instances.len(), 1);
    let instance = &inspection.instances[0];
    assert_eq!(instance.stackscript_id, Some(sandbox::STACKSCRIPT_NO_INPUT));
    assert_eq!(instance.tags, vec!["Test App".to_owned()]);
    assert!(instance.label.starts_with("test-app-us-east-"));
    assert!(html.contains(&instance.label));
    app.assert_all_tokens_revoked().await;

    let again = app.result_page().await;
    assert!(again.contains("data-testid=\"password-gone\""));
    assert!(!again.contains("data-testid=\"root-password\""));
}

#[tokio::test]
async fn a_replayed_or_concurrent_callback_never_creates_a_second_linode() {
    let app = spawn_app(&[]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    // Two at once, as a double click or a reload during the first would send.
    let (first, second) = tokio::join!(app.browser.get(&callback).send(), app.browser.get(&callback).send());
    assert_eq!(first.unwrap().status(), StatusCode::SEE_OTHER);
    assert_eq!(second.unwrap().status(), StatusCode::SEE_OTHER);
    let html = app.finish(&callback).await;
    assert!(html.contains("data-testid=\"deployed\""), "{html}");
    assert_eq!(app.sandbox.inspect().instances.len(), 1);
    app.assert_all_tokens_revoked().await;
}

#[tokio::test]
async fn a_denied_login_creates_nothing() {
    let app = spawn_app(&[]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "deny", &[]).await;
    assert!(callback.contains("error=access_denied"));
    let html = app.finish(&callback).await;
    assert_eq!(failure_kind(&html), Some("access_denied"));
    assert!(html.contains("Login was cancelled"));
    assert!(app.sandbox.inspect().instances.is_empty());
    assert!(app.sandbox.inspect().tokens.is_empty());
}

#[tokio::test]
async fn an_unticked_scope_is_reported_and_its_token_revoked() {
    let app = spawn_app(&[]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &[]).await;
    let html = app.finish(&callback).await;
    assert_eq!(failure_kind(&html), Some("insufficient_scope"));
    assert!(html.contains("Insufficient scopes granted to deploy Test App"));
    assert!(app.sandbox.inspect().instances.is_empty());
    assert_eq!(app.sandbox.inspect().tokens.len(), 1);
    app.assert_all_tokens_revoked().await;
}

#[tokio::test]
async fn callbacks_that_do_not_belong_to_this_browser_are_refused() {
    let app = spawn_app(&[]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let (path, _) = callback.split_once('?').unwrap();

    // No state, a forged state, no code, a malformed query.
    // None of them cancels the deployment this browser is waiting for.
    let cases = [
        (format!("{path}?code=abc"), "missing_state"),
        (format!("{path}?code=abc&state=forged"), "state_mismatch"),
        (format!("{path}?%zz=%%&&="), "missing_state"),
    ];
    for (url, kind) in cases {
        let html = app.refused(&url).await;
        assert_eq!(failure_kind(&html), Some(kind), "{url}");
    }

    // The genuine callback, stolen and opened in another browser (no flow cookie).
    let stranger = crate::support::browser();
    let html = crate::support::refused_with(&stranger, &callback).await;
    assert_eq!(failure_kind(&html), Some("no_pending_deployment"));
    assert!(app.sandbox.inspect().tokens.is_empty(), "the stolen code was not exchanged");

    // None of that cancelled this browser's deployment.
    let html = app.finish(&callback).await;
    assert!(html.contains("data-testid=\"deployed\""), "{html}");
    assert_eq!(app.sandbox.inspect().instances.len(), 1);

    // Once used, the callback shows its outcome only to the browser that ran it.
    let html = crate::support::refused_with(&stranger, &callback).await;
    assert_eq!(failure_kind(&html), Some("already_used"));
    let html = app.finish(&callback).await;
    assert!(html.contains("data-testid=\"password-gone\""), "{html}");
    assert_eq!(app.sandbox.inspect().instances.len(), 1);
    app.assert_all_tokens_revoked().await;
}

#[tokio::test]
async fn a_callback_without_a_code_is_refused() {
    let app = spawn_app(&[]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let url = reqwest::Url::parse(&callback).unwrap();
    let state = url.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let html = app.finish(&app.url(&format!("/auth/callback?state={state}"))).await;
    assert_eq!(failure_kind(&html), Some("missing_code"));
    assert!(app.sandbox.inspect().instances.is_empty());
}

#[tokio::test]
async fn an_expired_selection_is_refused() {
    let app = spawn_app(&[("DEPLOY_FLOW_TTL_SECS", "0")]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let html = app.finish(&callback).await;
    assert_eq!(failure_kind(&html), Some("expired"));
    assert!(app.sandbox.inspect().instances.is_empty());
}

#[tokio::test]
async fn forged_form_values_get_a_clear_error_and_no_redirect_to_linode() {
    let app = spawn_app(&[]).await;
    let cases = [
        (("g6-forged-1", "us-east", "linode/debian12"), "That plan is not offered"),
        (("g6-nanode-1", "mars-1", "linode/debian12"), "That region is not available"),
        (("g6-nanode-1", "us-east", "private/1234"), "That image cannot be used"),
    ];
    for ((plan, region, image), message) in cases {
        // As the hydrated page sends it: the error comes back as JSON.
        let response = app
            .browser
            .post(app.url("/api/start_deploy"))
            .header("Origin", &app.base)
            .form(&[("plan", plan), ("region", region), ("image", image)])
            .send()
            .await
            .unwrap();
        assert!(response.headers().get("location").is_none());
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = response.text().await.unwrap();
        assert!(body.contains(message), "{body}");

        // As a plain HTML form: back to the form, never to Linode.
        let response = app.submit_form(plan, region, image).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let back = location(&response);
        assert!(!back.contains("oauth/authorize"), "{back}");
        let back = if back.starts_with("http") { back } else { app.url(&back) };
        let form = app.browser.get(&back).send().await.unwrap().text().await.unwrap();
        assert!(form.contains(message), "the re-rendered form does not say {message:?}");
    }
    assert!(app.sandbox.inspect().codes.is_empty());
}

const CREATE: &str = "POST /v4/linode/instances";

#[tokio::test]
async fn linode_errors_on_create_are_specific_and_leave_nothing_behind() {
    let faults = [
        (sandbox::FaultRule::status(CREATE, 500, "Internal server error"), "internal problem"),
        (sandbox::FaultRule::status(CREATE, 400, "region is not valid"), "region is not valid"),
        (sandbox::FaultRule::status(CREATE, 429, "Too many requests"), "rate-limiting"),
        (sandbox::FaultRule::drop_connection(CREATE), "may or may not have been created"),
    ];
    for (fault, expected) in faults {
        let app = spawn_app(&[]).await;
        app.sandbox.add_fault(fault.clone().times(1));
        let html = app.deploy().await;
        assert_eq!(failure_kind(&html), Some("linode_error"), "{fault:?}");
        assert!(html.contains(expected), "{fault:?}: {html}");
        assert!(app.sandbox.inspect().instances.is_empty());
        app.assert_all_tokens_revoked().await;
    }
}

#[tokio::test]
async fn a_failed_code_exchange_is_reported() {
    let app = spawn_app(&[]).await;
    app.sandbox.add_fault(sandbox::FaultRule::status("POST /login/oauth/token", 503, "unavailable").times(1));
    let html = app.deploy().await;
    assert_eq!(failure_kind(&html), Some("exchange_failed"));
    assert!(app.sandbox.inspect().instances.is_empty());
}

#[tokio::test]
async fn no_response_carries_a_secret() {
    const KEY: &str = "deploy-flow-test-key-8f1c2b7a9e0d4c6b5a3f2e1d0c9b8a7f6e5d4c3b";
    let app = spawn_app(&[("SESSION_KEY", KEY)]).await;
    let sealer = deploy::sealed::Sealer::new(KEY.as_bytes(), false);
    // What the cookies hold, decrypted with the server's own key: only the pending flow's
    // fields, then only a reference to the outcome — never the client secret or a token.
    let response = app.submit_form("g6-nanode-1", "us-east", "linode/debian12").await;
    // The flow cookie read as plain JSON, to see every field it holds.
    struct FlowAsJson;
    impl SealedCookie for FlowAsJson {
        const NAME: &'static str = FlowCookie::NAME;
        type Value = serde_json::Value;
    }
    let flow = sealer.open::<FlowAsJson>(&as_request(&response)).expect("the flow cookie opens");
    let mut keys: Vec<&str> = flow.as_object().expect("an object").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["pkce_verifier", "selection", "started_at", "state"]);
    assert!(!flow.to_string().contains(CLIENT_SECRET));

    let authorize = location(&response);
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let response = app.browser.get(&callback).send().await.unwrap();
    for cookie in response.headers().get_all("set-cookie") {
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    }
    let outcome = sealer.open::<OutcomeCookie>(&as_request(&response)).expect("the outcome cookie opens");
    assert!(matches!(outcome, deploy::ResultRef::Stored(_)), "the cookie names the outcome, nothing more: {outcome:?}");
    let tokens = app.sandbox.inspect().tokens;
    assert_eq!(tokens.len(), 1);

    let html = app.result_page().await;
    assert!(!html.contains(CLIENT_SECRET));
    for page in ["/", "/deployment", "/nope"] {
        let body = app.browser.get(app.url(page)).send().await.unwrap().text().await.unwrap();
        assert!(!body.contains(CLIENT_SECRET), "{page}");
    }
}

/// The cookies a response sets, as the next request would carry them.
fn as_request(response: &reqwest::Response) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    for cookie in response.headers().get_all("set-cookie") {
        let pair = cookie.to_str().unwrap().split(';').next().unwrap().to_owned();
        headers.append(http::header::COOKIE, http::HeaderValue::from_str(&pair).unwrap());
    }
    headers
}
