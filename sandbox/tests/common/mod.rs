//! Helpers shared by the integration tests: a fast sandbox, a browser stand-in for the
//! consent page, and token shortcuts.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::time::Duration;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use sandbox::{Config, RunningSandbox, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::Value;

pub(crate) const REDIRECT: &str = "http://127.0.0.1:3000/auth/callback";
pub(crate) const STRONG_PASSWORD: &str = "c0rrect-Horse-battery-staple";

/// Short timings so status progression is observable within a test, on an account opened
/// before 2025 (legacy interfaces, no default firewall): the API behaviours these tests pin down
/// are those of a create that names no interfaces. Today's account is `tests/today.rs`'s.
pub(crate) fn fast_config() -> Config {
    let mut config = Config { account: sandbox::AccountPreset::Legacy2024, ..Config::default() };
    config.timings.provisioning = Duration::from_millis(300);
    config.timings.booting = Duration::from_millis(300);
    config
}

pub(crate) async fn start() -> RunningSandbox {
    start_with(fast_config()).await
}

pub(crate) async fn start_with(config: Config) -> RunningSandbox {
    sandbox::spawn(config).await.expect("sandbox starts")
}

/// A client that never follows redirects, so tests can read `Location`.
pub(crate) fn http() -> Client {
    Client::builder().redirect(Policy::none()).build().expect("client")
}

/// The opaque request id from a consent page.
pub(crate) fn request_id(html: &str) -> String {
    let marker = "name=\"request\" value=\"";
    let start = html.find(marker).expect("request field") + marker.len();
    let end = start + html[start..].find('"').expect("end quote");
    html[start..end].to_owned()
}

/// Query parameters of a redirect's `Location`.
pub(crate) fn location_params(response: &reqwest::Response) -> Vec<(String, String)> {
    let location = response.headers().get("location").expect("location header").to_str().expect("ascii");
    let url = url::Url::parse(location).expect("absolute location");
    url.query_pairs().into_owned().collect()
}

pub(crate) fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Opens the consent page for `query` and answers it, returning the redirect response.
pub(crate) async fn consent(
    sb: &RunningSandbox,
    query: &[(&str, &str)],
    decision: &str,
    ticked: &[&str],
) -> reqwest::Response {
    let http = http();
    let url = format!("{}/oauth/authorize", sb.login_base());
    let page = http.get(&url).query(query).send().await.expect("authorize");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    let mut form = vec![
        ("request".to_owned(), request_id(&html)),
        ("username".to_owned(), "alice".to_owned()),
        ("decision".to_owned(), decision.to_owned()),
    ];
    form.extend(ticked.iter().map(|s| ("scope".to_owned(), (*s).to_owned())));
    http.post(&url).query(query).form(&form).send().await.expect("consent")
}

/// Runs the consent flow approving every requested scope; returns the code.
pub(crate) async fn code_for(sb: &RunningSandbox, scopes: &str) -> String {
    let ticked: Vec<&str> = scopes.split([',', ' ']).collect();
    let response = consent(
        sb,
        &[("client_id", DEFAULT_CLIENT_ID), ("response_type", "code"), ("scopes", scopes)],
        "approve",
        &ticked,
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    param(&location_params(&response), "code").expect("code").to_owned()
}

/// Posts `form` to the token endpoint, as a client of the login server does.
pub(crate) async fn post_token(sb: &RunningSandbox, form: &[(&str, &str)]) -> reqwest::Response {
    http().post(format!("{}/oauth/token", sb.login_base())).form(form).send().await.expect("token")
}

/// Posts `form` to the revocation endpoint.
pub(crate) async fn post_revoke(sb: &RunningSandbox, form: &[(&str, &str)]) -> reqwest::Response {
    http().post(format!("{}/oauth/revoke", sb.login_base())).form(form).send().await.expect("revoke")
}

/// Revokes `token` as the default (confidential) client does.
pub(crate) async fn revoke(sb: &RunningSandbox, token: &str) -> reqwest::Response {
    post_revoke(sb, &[("client_id", DEFAULT_CLIENT_ID), ("client_secret", DEFAULT_CLIENT_SECRET), ("token", token)])
        .await
}

/// Exchanges a code the way linode_api4 does (three form fields).
pub(crate) async fn exchange(sb: &RunningSandbox, code: &str) -> reqwest::Response {
    post_token(sb, &[("client_id", DEFAULT_CLIENT_ID), ("client_secret", DEFAULT_CLIENT_SECRET), ("code", code)]).await
}

/// A token response JSON for `scopes`.
pub(crate) async fn token_json(sb: &RunningSandbox, scopes: &str) -> Value {
    let code = code_for(sb, scopes).await;
    let response = exchange(sb, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

pub(crate) async fn token(sb: &RunningSandbox, scopes: &str) -> String {
    token_json(sb, scopes).await["access_token"].as_str().expect("access_token").to_owned()
}

/// A valid create body for the no-input StackScript.
pub(crate) fn create_body() -> Value {
    serde_json::json!({
        "type": "g6-nanode-1",
        "region": "us-east",
        "image": "linode/debian12",
        "stackscript_id": sandbox::STACKSCRIPT_NO_INPUT,
        "root_pass": STRONG_PASSWORD,
        "group": "my-app",
    })
}

pub(crate) async fn create(sb: &RunningSandbox, token: &str, body: &Value) -> reqwest::Response {
    http()
        .post(format!("{}/linode/instances", sb.api_base()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("create")
}

/// `errors[*].field` and `errors[*].reason` of a Linode error body.
pub(crate) async fn errors(response: reqwest::Response) -> Vec<(Option<String>, String)> {
    let body: Value = response.json().await.expect("error json");
    body["errors"]
        .as_array()
        .expect("errors array")
        .iter()
        .map(|e| (e["field"].as_str().map(str::to_owned), e["reason"].as_str().expect("reason").to_owned()))
        .collect()
}
