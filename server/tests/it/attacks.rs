//! What an outside attacker tried against the running site (issue "Trust, round two"), each over
//! real HTTP against the real server and its embedded sandbox: refused with a clear message,
//! no Linode created, no token left alive, no visitor's data readable.

use crate::support::{browser, failure_kind, location, spawn_app, testid_text};
use base64::Engine;
use reqwest::{header, StatusCode};

const EVIL: &str = "https://evil.example";
const FORM: [(&str, &str); 3] = [("plan", "g6-nanode-1"), ("region", "us-east"), ("image", "linode/debian12")];

#[tokio::test]
async fn the_sandbox_admin_endpoints_are_not_on_the_public_address() {
    let app = spawn_app(&[]).await;
    let html = app.deploy().await;
    assert!(html.contains("data-testid=\"deployed\""));
    let stranger = browser();
    for (method, path) in [
        ("GET", "/sandbox/__sandbox/inspect"),
        ("GET", "/sandbox/__sandbox/faults"),
        ("POST", "/sandbox/__sandbox/faults"),
        ("DELETE", "/sandbox/__sandbox/faults"),
        ("POST", "/sandbox/__sandbox/reset"),
    ] {
        let request = stranger.request(method.parse().unwrap(), app.url(path)).header("Origin", &app.base);
        let response = request.body(r#"{"route":"*","kind":"status","status":500}"#).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert!(!response.text().await.unwrap().contains("authorized_keys"), "{method} {path}");
    }
    // Nothing was injected or reset: the deployment is still recorded, and the admin listener
    // (loopback only) still answers the operator.
    assert_eq!(app.sandbox.inspect().instances.len(), 1);
    assert!(app.sandbox_admin.starts_with("http://127.0.0.1:"));
    let inspection = stranger.get(format!("{}/__sandbox/inspect", app.sandbox_admin)).send().await.unwrap();
    assert_eq!(inspection.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused_and_starts_nothing() {
    let app = spawn_app(&[]).await;
    // The victim has a deployment waiting for Linode's answer.
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;

    // Another site auto-submits the deploy form in the victim's browser, with its own SSH key.
    let forged = [
        ("plan", "g6-nanode-1"),
        ("region", "us-east"),
        ("image", "linode/debian12"),
        ("ssh_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGattackerkeyattackerkeyattackerkeyattack attacker"),
    ];
    let attempts = [
        vec![("Origin", EVIL.to_owned())],
        vec![("Origin", "null".to_owned())],
        vec![("Sec-Fetch-Site", "cross-site".to_owned())],
        vec![("Referer", format!("{EVIL}/free-server"))],
        vec![],
    ];
    for headers in attempts {
        let mut request = app.browser.post(app.url("/api/start_deploy")).header("Accept", "text/html").form(&forged);
        for (name, value) in &headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(response.headers().get(header::SET_COOKIE).is_none(), "the victim's flow cookie is not replaced");
        let html = response.text().await.unwrap();
        assert!(html.contains("data-testid=\"cross-site\"") && html.contains("href=\"/\""), "{html}");
    }
    // The hydrated page's fetch gets the app's JSON error.
    let response =
        app.browser.post(app.url("/api/start_deploy")).header("Origin", EVIL).form(&FORM).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let error: app::error::AppError = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(error, app::error::AppError::CrossSite);
    assert_eq!(app.sandbox.inspect().codes.len(), 1, "no forged authorization reached Linode");

    // The victim's own deployment is untouched and finishes with their choices.
    let html = app.finish(&callback).await;
    assert!(html.contains("data-testid=\"deployed\""), "{html}");
    let instances = app.sandbox.inspect().instances;
    assert_eq!(instances.len(), 1);
    assert!(instances[0].authorized_keys.is_empty(), "no attacker key on the victim's Linode");

    // This site's own form post still works, with JavaScript or without.
    let same_site = app
        .browser
        .post(app.url("/api/start_deploy"))
        .header("Origin", &app.base)
        .header("Accept", "text/html")
        .form(&FORM)
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), StatusCode::FOUND);
    app.assert_all_tokens_revoked().await;
}

/// The victim's login, up to Linode's redirect back: the code a proxy log or browser history
/// could leak.
async fn leaked_code(app: &crate::support::TestApp) -> (String, String) {
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let url = reqwest::Url::parse(&callback).unwrap();
    let code = url.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    (callback, code)
}

/// The attacker starts a flow of their own and replays the victim's code with their own state.
async fn inject(app: &crate::support::TestApp, code: &str) -> String {
    let attacker = browser();
    let response = attacker
        .post(app.url("/api/start_deploy"))
        .header("Origin", &app.base)
        .header("Accept", "text/html")
        .form(&FORM)
        .send()
        .await
        .unwrap();
    let authorize = reqwest::Url::parse(&location(&response)).unwrap();
    let state = authorize.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let injected = app.url(&format!("/auth/callback?code={code}&state={state}"));
    let response = attacker.get(&injected).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    attacker.get(app.url("/deployment")).send().await.unwrap().text().await.unwrap()
}

#[tokio::test]
async fn a_leaked_code_injected_into_another_flow_is_refused_thanks_to_pkce() {
    let app = spawn_app(&[]).await;
    let (callback, code) = leaked_code(&app).await;
    let html = inject(&app, &code).await;
    assert_eq!(failure_kind(&html), Some("exchange_failed"), "{html}");
    assert!(testid_text(&html, "root-password").is_none());
    assert!(app.sandbox.inspect().instances.is_empty(), "nothing created with the attacker's choices");
    assert!(app.sandbox.inspect().codes.iter().all(|c| c.pkce), "every authorization used PKCE");
    // The victim's own return still works: the failed attempt did not spend the code.
    let html = app.finish(&callback).await;
    assert!(html.contains("data-testid=\"deployed\""), "{html}");
    assert_eq!(app.sandbox.inspect().instances.len(), 1);
    app.assert_all_tokens_revoked().await;
}

#[tokio::test]
async fn without_pkce_the_same_injection_succeeds_which_is_why_it_is_on() {
    // LINODE_PKCE=false exists for a provider that refuses PKCE; this is what it gives up.
    let app = spawn_app(&[("LINODE_PKCE", "false")]).await;
    let (_, code) = leaked_code(&app).await;
    let html = inject(&app, &code).await;
    assert!(html.contains("data-testid=\"deployed\""), "without PKCE the attack works: {html}");
    assert_eq!(app.sandbox.inspect().instances.len(), 1);
    app.assert_all_tokens_revoked().await;
}

#[tokio::test]
async fn junk_callbacks_neither_store_nor_displace_an_unviewed_result() {
    let app = spawn_app(&[("RATE_LIMIT_CALLBACKS_PER_MINUTE", "0")]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let response = app.browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The person has not looked at the result yet; a junk link reaches their browser.
    for junk in ["/auth/callback?code=x&state=y", "/auth/callback", "/auth/callback?error=access_denied&state=z"] {
        let html = app.refused(&app.url(junk)).await;
        assert!(failure_kind(&html).is_some(), "{junk}: {html}");
    }
    let html = app.result_page().await;
    assert!(testid_text(&html, "root-password").is_some_and(|p| !p.is_empty()), "the result survives: {html}");
}

#[tokio::test]
async fn head_requests_count_against_the_callback_limit() {
    let app = spawn_app(&[("RATE_LIMIT_CALLBACKS_PER_MINUTE", "2")]).await;
    let head = || app.browser.head(app.url("/auth/callback?code=x&state=y")).send();
    assert_ne!(head().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    assert_ne!(head().await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    let third = head().await.unwrap();
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().get(header::RETRY_AFTER).is_some());
    // And GET shares the count.
    let get = app.browser.get(app.url("/auth/callback?code=x&state=y")).send().await.unwrap();
    assert_eq!(get.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_forms_error_box_shows_only_the_servers_own_refusals() {
    let app = spawn_app(&[]).await;
    let spoof = serde_json::json!({ "InvalidSelection": { "field": "plan", "message": "SPOOFED: your account is locked, call +1 555 0100" } });
    for engine in [base64::engine::general_purpose::URL_SAFE, base64::engine::general_purpose::STANDARD] {
        let err = engine.encode(spoof.to_string());
        let url =
            reqwest::Url::parse_with_params(&app.url("/"), &[("__path", "/api/start_deploy"), ("__err", err.as_str())])
                .unwrap();
        let html = app.browser.get(url).send().await.unwrap().text().await.unwrap();
        assert!(!html.contains("SPOOFED"), "a link's text reached the error box");
        assert!(html.contains("The form could not be read"), "only the fixed text is shown");
    }
    let forged_token =
        app.browser.get(app.url("/?refused=not-a-sealed-token")).send().await.unwrap().text().await.unwrap();
    assert!(!forged_token.contains("role=\"alert\"") || !forged_token.contains("not-a-sealed"));

    // A genuine refusal of a no-JavaScript form post still reaches it.
    let response = app.submit_form("g6-nope-1", "us-east", "linode/debian12").await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let back = location(&response);
    assert!(back.starts_with("/?") && back.contains("refused="), "{back}");
    let html = app.browser.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("role=\"alert\""), "{html}");
    assert!(html.contains("plan"), "the server's own message is shown");
}

#[tokio::test]
async fn over_https_the_cookies_carry_the_host_prefix() {
    let public = "https://deploy.example.com";
    let app = spawn_app(&[("PUBLIC_BASE_URL", public)]).await;
    let response = app
        .browser
        .post(app.url("/api/start_deploy"))
        .header("Origin", public)
        .header("Accept", "text/html")
        .form(&FORM)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let cookie =
        response.headers().get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(cookie.starts_with("__Host-iol_flow="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
}

#[tokio::test]
async fn a_guessable_session_key_stops_the_server_naming_the_variable() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_OUTPUT_NAME", "install-on-linode")
        .env("SESSION_KEY", "a".repeat(40))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SESSION_KEY") && stderr.contains("guessable"), "{stderr}");
    assert!(!stderr.contains(&"a".repeat(40)));
}

#[tokio::test]
async fn the_embedded_sandbox_sits_behind_the_body_cap_and_the_rate_limits() {
    let app = spawn_app(&[("RATE_LIMIT_DEPLOYS_PER_MINUTE", "1")]).await;
    // An oversized body to Linode's stand-in is refused before it is read.
    let huge = "x".repeat(64 * 1024);
    let response =
        browser().post(app.url("/sandbox/login/oauth/token")).form(&[("code", huge.as_str())]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Consent decisions are limited per address like deploys (one a minute here).
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    assert!(callback.contains("/auth/callback?"), "{callback}");
    let page = app.browser.get(&authorize).send().await.unwrap().text().await.unwrap();
    let mut form = testkit::hidden_inputs(&page);
    form.push(("decision".into(), "approve".into()));
    let second = app.browser.post(&authorize).form(&form).send().await.unwrap();
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
}

fn password_of(html: &str) -> Option<String> {
    testid_text(html, "root-password").filter(|p| !p.is_empty())
}

/// The person's browser back from Linode, the result not yet looked at.
async fn an_unviewed_result(app: &crate::support::TestApp) {
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let response = app.browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_head_request_does_not_take_the_one_time_password() {
    let app = spawn_app(&[]).await;
    an_unviewed_result(&app).await;
    // A link checker, a prefetcher or an extension asks with HEAD, with the person's cookie.
    let head = app.browser.head(app.url("/deployment")).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers().get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
    // The person's own view still gets the password, once.
    let first = app.result_page().await;
    assert!(password_of(&first).is_some(), "the HEAD took the one-time password: {first}");
    let second = app.result_page().await;
    assert!(password_of(&second).is_none() && second.contains("data-testid=\"password-gone\""), "{second}");
}

#[tokio::test]
async fn a_prefetch_or_a_request_that_is_not_a_page_view_does_not_take_the_one_time_password() {
    let app = spawn_app(&[]).await;
    an_unviewed_result(&app).await;
    let not_shown = [
        // Chromium's speculation rules (prefetch, prerender), `<link rel=prefetch>`, Firefox.
        ("Sec-Purpose", "prefetch"),
        ("Sec-Purpose", "prefetch;prerender"),
        ("Purpose", "prefetch"),
        ("X-Moz", "prefetch"),
        ("X-Purpose", "preview"),
        // Not a page the person looks at: a script's fetch, a frame (which the CSP refuses to show).
        ("Sec-Fetch-Dest", "empty"),
        ("Sec-Fetch-Dest", "iframe"),
    ];
    for (name, value) in not_shown {
        let response = app.browser.get(app.url("/deployment")).header(name, value).send().await.unwrap();
        // Not a 2xx, so a browser drops the prefetch and asks again when the person navigates.
        assert!(!response.status().is_success(), "{name}: {value} answered {}", response.status());
        assert_eq!(response.headers().get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
        let html = response.text().await.unwrap();
        assert!(password_of(&html).is_none(), "{name}: {value} got the password");
        assert!(html.contains("data-testid=\"password-kept\""), "{name}: {value}: says it is kept: {html}");
    }
    // The person's navigation, as a browser sends it.
    let page = app
        .browser
        .get(app.url("/deployment"))
        .header("Sec-Fetch-Dest", "document")
        .header("Sec-Fetch-Mode", "navigate")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(password_of(&html).is_some(), "a prefetch took the one-time password: {html}");
    assert!(password_of(&app.result_page().await).is_none(), "shown exactly once");
}

#[tokio::test]
async fn with_a_public_base_url_only_its_origin_counts_not_the_host_header() {
    let public = "http://deploy.example.test";
    let app = spawn_app(&[("PUBLIC_BASE_URL", public)]).await;
    let own_address = app.base.clone();
    let own_host = own_address.trim_start_matches("http://").to_owned();
    let attempts: [(&str, String, String); 4] = [
        // An attacker's page at a name that resolves to this server: the browser sends Host = that name.
        ("Origin", "http://evil.example:5112".into(), "evil.example:5112".into()),
        ("Referer", "http://evil.example:5112/free-server".into(), "evil.example:5112".into()),
        // The listening address is not the public one either.
        ("Origin", own_address.clone(), own_host.clone()),
        ("Referer", format!("{own_address}/"), own_host.clone()),
    ];
    for (name, value, host) in &attempts {
        let response = browser()
            .post(app.url("/api/start_deploy"))
            .header("Accept", "text/html")
            .header(header::HOST, host)
            .header(*name, value)
            .form(&FORM)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value} with Host {host}");
        assert!(response.headers().get(header::SET_COOKIE).is_none(), "{name}: {value}: no flow cookie");
    }
    // The public origin itself still works, whatever Host the proxy forwards.
    for (name, value) in [("Origin", public.to_owned()), ("Referer", format!("{public}/"))] {
        let response = browser()
            .post(app.url("/api/start_deploy"))
            .header("Accept", "text/html")
            .header(name, value.as_str())
            .form(&FORM)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FOUND, "{name}: {value}");
    }
}

#[tokio::test]
async fn cross_site_posts_do_not_use_up_the_visitors_own_deploys() {
    let app = spawn_app(&[("RATE_LIMIT_DEPLOYS_PER_MINUTE", "3")]).await;
    let form = [("plan", "g6-nanode-1"), ("region", "us-east"), ("image", "linode/debian12")];
    // Another website makes the visitor's browser post the form, again and again.
    for _ in 0..6 {
        let response = app
            .browser
            .post(app.url("/api/start_deploy"))
            .header("Accept", "text/html")
            .header("Origin", EVIL)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    // The visitor's own click still goes to Linode's login.
    let response = app.submit_form("g6-nanode-1", "us-east", "linode/debian12").await;
    assert_eq!(response.status(), StatusCode::FOUND, "{:?}", response.headers());
    assert!(location(&response).contains("/oauth/authorize"));
}

/// server_fn's own parser errors name what it expected and echo what it got: a sender choosing
/// bytes would choose text on this site's answer. They get one fixed message instead.
#[tokio::test]
async fn a_body_that_is_not_a_form_gets_a_fixed_message_not_the_parsers_text() {
    let app = spawn_app(&[]).await;
    let bodies: [(&str, &[u8]); 4] = [
        ("application/x-www-form-urlencoded", b"plan=\xff\xfe&region=us-east&image=linode/debian12"),
        ("application/x-www-form-urlencoded", b"plan=g6-nanode-1&ssh_keys[zz]=1"),
        ("application/cbor", b"\xa1\x64plan\x6bg6-nanode-1"),
        ("application/x-www-form-urlencoded", b"plan=<script>alert(1)</script>&region=us-east&image=\xc3\x28"),
    ];
    for (content_type, body) in bodies {
        let response = app
            .browser
            .post(app.url("/api/start_deploy"))
            .header("Origin", &app.base)
            .header(header::CONTENT_TYPE, content_type)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{content_type} {body:?}");
        let text = response.text().await.unwrap();
        let error: app::error::AppError = serde_json::from_str(&text).unwrap();
        assert_eq!(error, app::error::AppError::Malformed, "{content_type} {body:?}: {text}");
        for parser_text in ["deserializ", "utf-8", "invalid", "expected", "script", "cbor"] {
            assert!(!text.to_lowercase().contains(parser_text), "{parser_text} in {text}");
        }
    }
    assert!(app.sandbox.inspect().codes.is_empty(), "nothing reached Linode");
}

/// A path segment longer than a file name may be (255 bytes on Linux) made the static-file lookup
/// fail with an I/O error, logged at ERROR with the whole path: a request of a few KiB wrote a line
/// of as many into the operator's error log. It is a page that does not exist.
#[tokio::test]
async fn an_over_long_path_is_a_plain_not_found() {
    let app = spawn_app(&[]).await;
    let long = "a".repeat(4000);
    for path in
        [format!("/{long}"), format!("/x/{long}.js"), format!("/pkg/{long}.wasm"), format!("/{}", "b/".repeat(3000))]
    {
        let response = app.browser.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{}", &path[..40]);
        let html = response.text().await.unwrap();
        assert!(!html.contains(&long), "the path is not written back");
    }
    // The 404 page for a name too long is the site's own.
    let response = app.browser.get(app.url(&format!("/{long}"))).send().await.unwrap();
    assert!(response.text().await.unwrap().contains("data-testid=\"not-found\""));
}
