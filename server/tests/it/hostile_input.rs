//! Everything a browser can send, generated: the deploy form's fields (as a form post and as the
//! hydrated page's fetch), the callback's query, and the session cookies (tampered, truncated,
//! sealed with another key, expired). Each gets a clear answer; none gets a 500 or a panic.
//!
//! One server for the whole file, and few enough cases that it runs in seconds.

use std::{sync::OnceLock, time::Duration};

use crate::support::{failure_kind, location, TestApp};
use app::error::AppError;
use deploy::{
    pending_flow::PendingFlow,
    sealed::{FlowCookie, OutcomeCookie, SealedCookie, Sealer},
};
use domain::selection::Selection;
use proptest::prelude::*;
use reqwest::{header, Client, StatusCode};

const SESSION_KEY: &str = "hostile-input-session-key-0123456789abcdef";
const VALID: (&str, &str, &str) = ("g6-nanode-1", "us-east", "linode/debian12");
/// Every failure the result page knows.
const KINDS: [&str; 12] = [
    "missing_state",
    "no_pending_deployment",
    "state_mismatch",
    "expired",
    "access_denied",
    "login_error",
    "missing_code",
    "exchange_failed",
    "insufficient_scope",
    "linode_error",
    "still_running",
    "already_used",
];

struct World {
    runtime: tokio::runtime::Runtime,
    app: TestApp,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let app = runtime.block_on(crate::support::spawn_app(&[
            ("SESSION_KEY", SESSION_KEY),
            // This file is one client sending hundreds of requests on purpose.
            ("RATE_LIMIT_DEPLOYS_PER_MINUTE", "0"),
            ("RATE_LIMIT_CALLBACKS_PER_MINUTE", "0"),
        ]));
        World { runtime, app }
    })
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    world().runtime.block_on(future)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Text a person, a bot or a fuzzer might put in a field.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        any::<String>(),
        "[ -~]{0,40}",
        "\\PC{0,300}",
        Just(VALID.0.to_owned()),
        Just(format!("  {}\t", VALID.1)),
        Just("linode/debian12\0".to_owned()),
        Just("<script>alert(1)</script>".to_owned()),
        Just("../../etc/passwd".to_owned()),
    ]
}

/// A form body: the three fields or not, doubled or not, plus whatever else.
fn form_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    (
        proptest::option::of(field()),
        proptest::option::of(field()),
        proptest::option::of(field()),
        proptest::collection::vec(("[a-z_\\[\\]]{1,12}", field()), 0..3),
        any::<bool>(),
    )
        .prop_map(|(plan, region, image, extra, doubled)| {
            let mut pairs: Vec<(String, String)> = Vec::new();
            for (name, value) in [("plan", plan), ("region", region), ("image", image)] {
                if let Some(value) = value {
                    pairs.push((name.to_owned(), value));
                }
            }
            if doubled {
                if let Some(first) = pairs.first().cloned() {
                    pairs.push(first);
                }
            }
            pairs.extend(extra);
            pairs
        })
}

async fn post_start(client: &Client, body: Vec<u8>, html: bool) -> reqwest::Response {
    let mut request = client
        .post(world().app.url("/api/start_deploy"))
        .header(header::ORIGIN, &world().app.base)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body);
    if html {
        request = request.header(header::ACCEPT, "text/html").header(header::REFERER, world().app.url("/"));
    }
    request.send().await.unwrap()
}

/// The hydrated page's answer: a URL to go to, or the app's error with something to read.
async fn assert_fetch_answer(response: reqwest::Response) -> Result<(), TestCaseError> {
    let status = response.status();
    let body = response.text().await.unwrap();
    prop_assert!(!status.is_server_error(), "{status}: {body}");
    if status == StatusCode::OK {
        prop_assert!(body.contains("oauth/authorize"), "{body}");
    } else {
        prop_assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::PAYLOAD_TOO_LARGE, "{status}: {body}");
        if status == StatusCode::BAD_REQUEST {
            let error: AppError =
                serde_json::from_str(&body).map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
            prop_assert!(error.to_string().len() > 20, "{error:?}");
        }
    }
    Ok(())
}

/// The no-WASM form's answer: a redirect to Linode, or back to the form, which says what is wrong.
async fn assert_form_answer(client: &Client, response: reqwest::Response) -> Result<(), TestCaseError> {
    let status = response.status();
    prop_assert!(!status.is_server_error(), "{status}");
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return Ok(());
    }
    prop_assert_eq!(status, StatusCode::FOUND);
    let to = location(&response);
    if to.contains("oauth/authorize") {
        return Ok(());
    }
    let to = if to.starts_with("http") { to } else { world().app.url(&to) };
    let page = client.get(&to).send().await.unwrap();
    prop_assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    prop_assert!(
        html.contains("data-testid=\"form-error\"") && !html.contains("data-testid=\"form-error\" hidden"),
        "no message on {to}"
    );
    Ok(())
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn any_deploy_form_gets_a_clear_answer(pairs in form_pairs(), html in any::<bool>()) {
        let body = serde_urlencoded::to_string(&pairs).unwrap().into_bytes();
        run(async {
            let client = crate::support::browser();
            let response = post_start(&client, body, html).await;
            if html { assert_form_answer(&client, response).await } else { assert_fetch_answer(response).await }
        })?;
    }

    #[test]
    fn any_bytes_as_the_deploy_form_get_a_clear_answer(body in proptest::collection::vec(any::<u8>(), 0..600), html in any::<bool>()) {
        run(async {
            let client = crate::support::browser();
            let response = post_start(&client, body, html).await;
            if html { assert_form_answer(&client, response).await } else { assert_fetch_answer(response).await }
        })?;
    }
}

/// Query strings: the parameters Linode sends, in any combination, with any values, and more.
fn callback_query() -> impl Strategy<Value = String> {
    let pairs = proptest::collection::vec(
        (
            prop_oneof![
                Just("state".to_owned()),
                Just("code".to_owned()),
                Just("error".to_owned()),
                Just("error_description".to_owned()),
                "\\PC{0,8}"
            ],
            field(),
        ),
        0..6,
    )
    .prop_map(|pairs| serde_urlencoded::to_string(&pairs).unwrap());
    // And queries no encoder would write.
    prop_oneof![pairs, "[ -~&&[^#]]{0,80}".prop_map(|raw| raw.replace(' ', "%20"))]
}

async fn result_kind(client: &Client) -> Result<String, TestCaseError> {
    let page = client.get(world().app.url("/deployment")).send().await.unwrap();
    prop_assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let kind = failure_kind(&html).map(str::to_owned);
    prop_assert!(kind.as_deref().is_some_and(|kind| KINDS.contains(&kind)), "no failure kind in {html}");
    Ok(kind.unwrap_or_default())
}

/// Sends the callback and returns the failure kind it led to: through the result page when it
/// was this browser's flow (303), or on the refusal page itself (400, no cookie touched).
async fn callback(client: &Client, query: &str, cookie: Option<&str>) -> Result<String, TestCaseError> {
    let mut request = client.get(world().app.url(&format!("/auth/callback?{query}")));
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    if response.status() == StatusCode::BAD_REQUEST {
        prop_assert!(
            response.headers().get(header::SET_COOKIE).is_none(),
            "a refused callback set a cookie: {}",
            query
        );
        let html = response.text().await.unwrap();
        let kind = failure_kind(&html).map(str::to_owned);
        prop_assert!(kind.as_deref().is_some_and(|kind| KINDS.contains(&kind)), "no failure kind in {html}");
        return Ok(kind.unwrap_or_default());
    }
    prop_assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", query);
    prop_assert_eq!(location(&response), "/deployment");
    result_kind(client).await
}

/// A browser with a pending deployment: its client and the `state` Linode would send back.
async fn pending() -> (Client, String, String) {
    let client = crate::support::browser();
    let (plan, region, image) = VALID;
    let response = client
        .post(world().app.url("/api/start_deploy"))
        .header(header::ORIGIN, &world().app.base)
        .header(header::ACCEPT, "text/html")
        .form(&[("plan", plan), ("region", region), ("image", image)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let flow_cookie = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(FlowCookie::NAME))
        .and_then(|value| value.split(';').next())
        .expect("the flow cookie")
        .to_owned();
    let url = reqwest::Url::parse(&location(&response)).unwrap();
    let state = url.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    (client, state, flow_cookie)
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn any_callback_query_from_a_stranger_is_refused_clearly(query in callback_query()) {
        run(async {
            let client = crate::support::browser();
            let kind = callback(&client, &query, None).await?;
            prop_assert!(["missing_state", "no_pending_deployment"].contains(&kind.as_str()), "{query}: {kind}");
            Ok::<(), TestCaseError>(())
        })?;
        prop_assert!(world().app.sandbox.inspect().tokens.is_empty(), "a stranger's code was exchanged");
    }

    #[test]
    fn any_callback_query_to_a_pending_deployment_gets_a_clear_outcome(query in callback_query()) {
        run(async {
            let (client, _, _) = pending().await;
            callback(&client, &query, None).await?;
            Ok::<(), TestCaseError>(())
        })?;
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// The genuine state, and whatever Linode (or someone) puts next to it.
    #[test]
    fn the_genuine_state_with_any_error_or_code_gets_a_clear_outcome(
        error in proptest::option::of(field()),
        code in proptest::option::of(field()),
    ) {
        run(async {
            let (client, state, _) = pending().await;
            let mut pairs = vec![("state".to_owned(), state)];
            pairs.extend(error.clone().map(|error| ("error".to_owned(), error)));
            pairs.extend(code.clone().map(|code| ("code".to_owned(), code)));
            let query = serde_urlencoded::to_string(&pairs).unwrap();
            let kind = callback(&client, &query, None).await?;
            let expected = match (&error, &code) {
                (Some(error), _) if error == "access_denied" => "access_denied",
                (Some(_), _) => "login_error",
                (None, Some(code)) if !code.is_empty() => "exchange_failed",
                (None, _) => "missing_code",
            };
            prop_assert_eq!(kind.as_str(), expected);
            Ok::<(), TestCaseError>(())
        })?;
    }
}

#[derive(Debug, Clone)]
enum Tampering {
    FlipByte(usize, u8),
    Truncate(usize),
    Replace(String),
    OtherKey,
    Expired,
    Duplicate,
}

fn tampering() -> impl Strategy<Value = Tampering> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, bits)| Tampering::FlipByte(at, bits)),
        any::<usize>().prop_map(Tampering::Truncate),
        "[ -~&&[^;,]]{0,200}".prop_map(Tampering::Replace),
        Just(Tampering::OtherKey),
        Just(Tampering::Expired),
        Just(Tampering::Duplicate),
    ]
}

fn sealed_flow(key: &str, state: &str, started_at: u64) -> String {
    let (plan, region, image) = VALID;
    let flow = PendingFlow {
        state: state.to_owned(),
        selection: Selection {
            plan: plan.into(),
            region: region.into(),
            image: image.into(),
            label: None,
            authorized_keys: Vec::new(),
            root_login: Default::default(),
            stackscript_data: Default::default(),
            secret_fields: Vec::new(),
        },
        started_at,
        pkce_verifier: None,
    };
    let set_cookie = Sealer::new(key.as_bytes(), false).seal::<FlowCookie>(&flow, Duration::from_secs(3600)).unwrap();
    set_cookie.split(';').next().unwrap().to_owned()
}

/// `name=value` with the value changed as `tampering` says; Expired and OtherKey make a new one.
fn tamper(genuine: &str, state: &str, tampering: &Tampering) -> String {
    let (name, value) = genuine.split_once('=').unwrap();
    let mut bytes = value.as_bytes().to_vec();
    match tampering {
        Tampering::FlipByte(at, bits) => {
            let at = at % bytes.len();
            // Stay within cookie-safe characters so the header itself is valid.
            let flipped = bytes[at] ^ bits;
            bytes[at] = if flipped.is_ascii_alphanumeric() {
                flipped
            } else if bytes[at] == b'A' {
                b'B'
            } else {
                b'A'
            };
        }
        Tampering::Truncate(at) => bytes.truncate(at % bytes.len()),
        Tampering::Replace(text) => bytes = text.as_bytes().to_vec(),
        Tampering::OtherKey => return sealed_flow("another-deployments-session-key-0123456789", state, now()),
        Tampering::Expired => return sealed_flow(SESSION_KEY, state, now() - 24 * 3600),
        Tampering::Duplicate => return format!("{genuine}; {name}=garbage; {genuine}x"),
    }
    format!("{name}={}", String::from_utf8_lossy(&bytes))
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn tampered_flow_cookies_are_refused_clearly(tampering in tampering()) {
        run(async {
            let (_, state, genuine) = pending().await;
            let cookie = tamper(&genuine, &state, &tampering);
            // A fresh client: only the tampered cookie goes along.
            let client = crate::support::browser();
            let query = serde_urlencoded::to_string([("state", state.as_str()), ("code", "0123456789abcdef0123")]).unwrap();
            let kind = callback(&client, &query, Some(&cookie)).await?;
            let expected: &[&str] = match &tampering {
                Tampering::Expired => &["expired"],
                // A flipped bit that lands in padding, or a duplicate, can leave the genuine cookie
                // readable: then the code itself is tried (and refused by Linode).
                Tampering::FlipByte(..) | Tampering::Duplicate => &["no_pending_deployment", "exchange_failed"],
                _ => &["no_pending_deployment"],
            };
            prop_assert!(expected.contains(&kind.as_str()), "{tampering:?}: {kind}");
            Ok::<(), TestCaseError>(())
        })?;
        prop_assert!(world().app.sandbox.inspect().instances.is_empty());
    }

    #[test]
    fn tampered_outcome_cookies_show_nothing_and_break_nothing(value in "[ -~&&[^;,]]{0,300}") {
        run(async {
            let client = crate::support::browser();
            let page = client
                .get(world().app.url("/deployment"))
                .header(header::COOKIE, format!("{}={value}", OutcomeCookie::NAME))
                .send()
                .await
                .unwrap();
            prop_assert_eq!(page.status(), StatusCode::OK);
            let html = page.text().await.unwrap();
            prop_assert!(!html.contains("data-testid=\"deployed\"") && !html.contains("data-testid=\"root-password\""));
            Ok::<(), TestCaseError>(())
        })?;
    }
}
