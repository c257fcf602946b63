//! What every response carries and what every client is allowed, over real HTTP: security
//! headers and the CSP nonce, body limits, per-address rate limits, request ids.

use crate::support::{location, spawn_app};
use app::error::AppError;
use reqwest::{header, StatusCode};

const HEADERS_EVERYWHERE: [(&str, &str); 1] = [("x-content-type-options", "nosniff")];

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|value| value.to_str().ok())
}

/// The `'nonce-…'` source of a CSP.
fn csp_nonce(csp: &str) -> Option<&str> {
    let start = csp.find("'nonce-")? + "'nonce-".len();
    Some(&csp[start..start + csp[start..].find('\'')?])
}

#[tokio::test]
async fn every_app_response_carries_the_security_headers() {
    let app = spawn_app(&[]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let requests = [
        app.browser.get(app.url("/")),
        app.browser.get(app.url("/deployment")),
        app.browser.get(app.url("/nope")),
        app.browser.get(app.url("/healthz")),
        app.browser.get(app.url("/favicon.svg")),
        app.browser.get(&callback),
        app.browser
            .post(app.url("/api/start_deploy"))
            .header("Origin", &app.base)
            .header("Accept", "text/html")
            .form(&[("plan", "g6-nanode-1"), ("region", "us-east"), ("image", "linode/debian12")]),
        app.browser.post(app.url("/api/start_deploy")).header("Origin", &app.base).form(&[
            ("plan", "x"),
            ("region", "y"),
            ("image", "z"),
        ]),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        let what = format!("{} {}", response.url(), response.status());
        for (name, value) in HEADERS_EVERYWHERE {
            assert_eq!(header(&response, name), Some(value), "{name} on {what}");
        }
        // No Referer ever leaves for another origin; the callback, whose URL holds the code, sends none.
        let referrer = if what.contains("/auth/callback") { "no-referrer" } else { "same-origin" };
        assert_eq!(header(&response, "referrer-policy"), Some(referrer), "referrer-policy on {what}");
        let csp = header(&response, "content-security-policy").unwrap_or_else(|| panic!("no CSP on {what}"));
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"), "{what}: {csp}");
        // The form page comes from the page cache: its inline scripts are allowed by their hashes
        // (tests/it/page_cache.rs); every other page by this response's nonce.
        let cached = response.url().path() == "/" && response.url().query().is_none();
        if cached {
            assert!(csp_nonce(csp).is_none() && csp.contains("'sha256-"), "{what}: {csp}");
        } else {
            assert!(csp_nonce(csp).is_some(), "{what}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{what}: {csp}");
        // A form-action would block the deploy form's redirect to Linode's login host.
        assert!(!csp.contains("form-action"), "{what}: {csp}");
        assert!(header(&response, "strict-transport-security").is_none(), "no HSTS over http: {what}");
    }
}

#[tokio::test]
async fn the_csp_nonce_is_the_one_on_every_script_and_changes_per_response() {
    let app = spawn_app(&[]).await;
    let mut seen = Vec::new();
    // `/?refused=…` is one person's page (a refusal sent back to them): rendered, never cached.
    for path in ["/?refused=x", "/?refused=x", "/deployment", "/nope"] {
        let response = app.browser.get(app.url(path)).send().await.unwrap();
        let csp = header(&response, "content-security-policy").unwrap().to_owned();
        let nonce = csp_nonce(&csp).unwrap().to_owned();
        let html = response.text().await.unwrap();
        let scripts: Vec<&str> = html.split("<script").skip(1).map(|tag| &tag[..tag.find('>').unwrap()]).collect();
        assert!(!scripts.is_empty(), "{path}: the hydration script is missing");
        for script in scripts {
            assert!(script.contains(&format!("nonce=\"{nonce}\"")), "{path}: <script{script}> lacks nonce {nonce}");
        }
        assert!(!seen.contains(&nonce), "nonce reused");
        seen.push(nonce);
    }
}

#[tokio::test]
async fn hsts_is_sent_only_when_the_public_address_is_https() {
    let app = spawn_app(&[("PUBLIC_BASE_URL", "https://deploy.example.com")]).await;
    for path in ["/", "/healthz", "/sandbox/__sandbox/inspect"] {
        let response = app.browser.get(app.url(path)).send().await.unwrap();
        let hsts = header(&response, "strict-transport-security").unwrap_or_else(|| panic!("no HSTS on {path}"));
        assert!(hsts.starts_with("max-age="), "{hsts}");
    }
}

#[tokio::test]
async fn the_sandbox_login_pages_keep_their_inline_style_and_run_no_script() {
    let app = spawn_app(&[]).await;
    let authorize = app.start().await;
    let response = app.browser.get(&authorize).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = header(&response, "content-security-policy").unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("style-src 'unsafe-inline'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("form-action"), "{csp}");
    assert_eq!(header(&response, "referrer-policy"), Some("no-referrer"));
    let html = response.text().await.unwrap();
    assert!(html.contains("<style>") && !html.contains("<script"), "the page's needs changed: {html}");
    // And the consent form still leads back to the app.
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    assert!(app.finish(&callback).await.contains("data-testid=\"deployed\""));
}

#[tokio::test]
async fn an_oversized_post_gets_413_and_starts_nothing() {
    let app = spawn_app(&[]).await;
    let huge = "x".repeat(server::body_limit::MAX_BODY_BYTES + 1);
    // As a form, with a Content-Length.
    let response = app.submit_form(&huge, "us-east", "linode/debian12").await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    // Chunked, without a Content-Length: the limit holds while reading.
    let mut body = String::from("plan=");
    body.push_str(&"y".repeat(server::body_limit::MAX_BODY_BYTES));
    let answer = raw_chunked_post(&app.base, "/api/start_deploy", &body).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    // A normal form is well under the limit.
    assert_eq!(app.submit_form("g6-nanode-1", "us-east", "linode/debian12").await.status(), StatusCode::FOUND);
    assert_eq!(app.sandbox.inspect().codes.len(), 0);
}

/// A chunked form post from the site's own page, over a bare socket (reqwest sends a
/// Content-Length for known bodies).
async fn raw_chunked_post(base: &str, path: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nOrigin: {base}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Accept: text/html\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.as_bytes().chunks(1024) {
        // The server may answer and close before the whole body is sent.
        if stream.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).await.is_err()
            || stream.write_all(chunk).await.is_err()
            || stream.write_all(b"\r\n").await.is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn retry_after(response: &reqwest::Response) -> u64 {
    header(response, "retry-after").and_then(|value| value.parse().ok()).expect("a Retry-After in seconds")
}

/// The deploy form as the hydrated page posts it: the answer is the app's JSON error.
async fn fetch_start(
    client: &reqwest::Client,
    app: &crate::support::TestApp,
    forwarded: Option<&str>,
) -> reqwest::Response {
    let mut request = client.post(app.url("/api/start_deploy")).header("Origin", &app.base).form(&[
        ("plan", "g6-nanode-1"),
        ("region", "us-east"),
        ("image", "linode/debian12"),
    ]);
    if let Some(forwarded) = forwarded {
        request = request.header("x-forwarded-for", forwarded);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn starting_deploys_is_limited_per_address_with_a_clear_answer() {
    let app = spawn_app(&[("RATE_LIMIT_DEPLOYS_PER_MINUTE", "2")]).await;
    assert_eq!(app.submit_form("g6-nanode-1", "us-east", "linode/debian12").await.status(), StatusCode::FOUND);
    assert_eq!(fetch_start(&app.browser, &app, None).await.status(), StatusCode::OK);

    // A form post (no WASM): a page that says what happened and when to come back.
    let response = app.submit_form("g6-nanode-1", "us-east", "linode/debian12").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(&response)));
    assert!(response.headers().get(header::LOCATION).is_none() && response.headers().get(header::SET_COOKIE).is_none());
    assert!(header(&response, "content-security-policy").is_some(), "refusals carry the headers too");
    assert!(header(&response, "content-type").unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("Too many attempts") && html.contains("You can try again in"), "{html}");

    // The hydrated page's fetch: the app's own error, which the page shows as it is.
    let response = fetch_start(&app.browser, &app, None).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&response) >= 1);
    assert_eq!(header(&response, "serverfnerror"), Some("/api/start_deploy"));
    let error: AppError = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(error, AppError::RateLimited);

    // Another browser from the same address is the same client; other pages are not limited.
    assert_eq!(fetch_start(&crate::support::browser(), &app, None).await.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.browser.get(app.url("/")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.sandbox.inspect().codes.len(), 0, "refused starts reach nothing");
}

#[tokio::test]
async fn returns_from_linode_are_limited_per_address() {
    let app = spawn_app(&[("RATE_LIMIT_CALLBACKS_PER_MINUTE", "1")]).await;
    let authorize = app.start().await;
    let callback = app.consent(&authorize, "approve", &["linodes:read_write"]).await;
    let html = app.refused(&app.url("/auth/callback?code=abc")).await;
    assert_eq!(crate::support::failure_kind(&html), Some("missing_state"));

    let response = app.browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&response) >= 1);
    let html = response.text().await.unwrap();
    assert!(html.contains("data-testid=\"rate-limited\"") && html.contains("reload this page"), "{html}");
    assert!(app.sandbox.inspect().tokens.is_empty(), "the refused callback exchanged nothing");
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    // Not trusted (the default): X-Forwarded-For is the client's to invent and is ignored.
    let app = spawn_app(&[("RATE_LIMIT_DEPLOYS_PER_MINUTE", "1")]).await;
    assert_eq!(fetch_start(&app.browser, &app, Some("203.0.113.1")).await.status(), StatusCode::OK);
    assert_eq!(fetch_start(&app.browser, &app, Some("203.0.113.2")).await.status(), StatusCode::TOO_MANY_REQUESTS);

    // Behind one trusted proxy: the address it appended is the client.
    let app = spawn_app(&[("RATE_LIMIT_DEPLOYS_PER_MINUTE", "1"), ("TRUSTED_PROXY_HOPS", "1")]).await;
    assert_eq!(fetch_start(&app.browser, &app, Some("203.0.113.1")).await.status(), StatusCode::OK);
    assert_eq!(fetch_start(&app.browser, &app, Some("203.0.113.1")).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // What the client itself wrote to the left does not make it someone else.
    let spoofed = fetch_start(&app.browser, &app, Some("198.51.100.9, 203.0.113.1")).await;
    assert_eq!(spoofed.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(fetch_start(&app.browser, &app, Some("203.0.113.2")).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn each_response_names_its_own_request_id() {
    let app = spawn_app(&[]).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let response =
            app.browser.get(app.url("/healthz")).header("x-request-id", "chosen-by-client").send().await.unwrap();
        let id = header(&response, "x-request-id").expect("x-request-id").to_owned();
        assert!(id.len() == 16 && id.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 3);
    let redirect = app.submit_form("g6-nanode-1", "us-east", "linode/debian12").await;
    assert!(location(&redirect).contains("oauth/authorize") && redirect.headers().contains_key("x-request-id"));
}
