//! The client against the sandbox over real HTTP: the whole OAuth exchange, catalog reads,
//! creates, revocation, and how each Linode error surfaces.

// Helpers here panic on what a test does not expect, as the tests themselves do.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use linode::{
    AccessToken, ApiClient, ApiError, CreateInstance, LoginClient, LoginError, OAuthClientCredentials, ScopeLevel,
};
use reqwest::{redirect::Policy, Url};
use sandbox::{FaultRule, RunningSandbox};
use secrecy::SecretString;

const REDIRECT: &str = "http://127.0.0.1:3000/auth/callback";
const CREATE: &str = "POST /v4/linode/instances";

struct Fixture {
    sandbox: RunningSandbox,
    login: LoginClient,
    api: ApiClient,
}

async fn fixture() -> Fixture {
    let sandbox = sandbox::spawn(sandbox::Config::default()).await.expect("sandbox starts");
    let http = linode::http_client("linode-tests");
    let credentials = OAuthClientCredentials {
        client_id: sandbox::DEFAULT_CLIENT_ID.into(),
        client_secret: SecretString::from(sandbox::DEFAULT_CLIENT_SECRET),
    };
    let login = LoginClient::new(Url::parse(&sandbox.login_base()).unwrap(), credentials, http.clone());
    let api = ApiClient::new(Url::parse(&sandbox.api_base()).unwrap(), http);
    Fixture { sandbox, login, api }
}

/// Plays the person on the consent page; `scopes` are the boxes left ticked. Returns the
/// query parameters of the redirect back.
async fn consent(authorize: &Url, scopes: &[&str]) -> Vec<(String, String)> {
    let browser = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    let html = browser.get(authorize.clone()).send().await.unwrap().text().await.unwrap();
    let start = html.find("name=\"request\" value=\"").expect("opaque request field") + 22;
    let request = &html[start..start + html[start..].find('"').unwrap()];
    let mut form = vec![("request", request), ("decision", "approve")];
    form.extend(scopes.iter().map(|scope| ("scope", *scope)));
    let response = browser.post(authorize.clone()).form(&form).send().await.unwrap();
    let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    location.query_pairs().into_owned().collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

async fn token(fixture: &Fixture, scopes: &[&str]) -> linode::TokenGrant {
    let redirect = Url::parse(REDIRECT).unwrap();
    let url = fixture.login.authorize_url("linodes:read_write", &redirect, "state-1", None);
    let params = consent(&url, scopes).await;
    fixture.login.exchange_code(param(&params, "code").unwrap(), &redirect, None).await.expect("exchange")
}

fn nanode() -> CreateInstance {
    CreateInstance {
        type_id: "g6-nanode-1".into(),
        region: "us-east".into(),
        image: Some("linode/debian12".into()),
        root_pass: Some(SecretString::from("c0rrect-Horse-battery-staple")),
        stackscript_id: Some(sandbox::STACKSCRIPT_NO_INPUT),
        tags: vec!["tests".into()],
        // The sandbox's account is a 2026 one: a create that names no generation gets Linode
        // Interfaces and, with none given, no network.
        interface_generation: Some(linode::InterfaceGeneration::LegacyConfig),
        ..CreateInstance::default()
    }
}

#[tokio::test]
async fn the_authorize_url_has_linodes_parameters() {
    let fixture = fixture().await;
    let url = fixture.login.authorize_url("linodes:read_write", &Url::parse(REDIRECT).unwrap(), "xyz", None);
    let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(url.path().ends_with("/login/oauth/authorize"));
    assert_eq!(param(&params, "client_id"), Some(sandbox::DEFAULT_CLIENT_ID));
    assert_eq!(param(&params, "response_type"), Some("code"));
    assert_eq!(param(&params, "scopes"), Some("linodes:read_write"));
    assert_eq!(param(&params, "state"), Some("xyz"));
    assert_eq!(param(&params, "redirect_uri"), Some(REDIRECT));
    assert!(!url.as_str().contains(sandbox::DEFAULT_CLIENT_SECRET));
}

#[tokio::test]
async fn a_full_exchange_create_and_revoke() {
    let fixture = fixture().await;
    let grant = token(&fixture, &["linodes:read_write"]).await;
    assert!(grant.scopes.allows("linodes", ScopeLevel::ReadWrite));
    assert_eq!(grant.expires_in, Duration::from_secs(7200));
    assert!(grant.refresh_token.is_some());
    assert!(!format!("{grant:?}").contains(grant.access_token.secret()));

    let profile = fixture.api.profile(&grant.access_token).await.unwrap();
    assert!(!profile.username.is_empty());
    let created = fixture.api.create_instance(&grant.access_token, &nanode()).await.unwrap();
    assert_eq!(created.status, "provisioning");
    assert!(created.public_ipv4().is_some());
    assert_eq!(created.tags, vec!["tests".to_owned()]);
    let read = fixture.api.instance(&grant.access_token, created.id).await.unwrap();
    assert_eq!(read.id, created.id);

    fixture.login.revoke(&grant.access_token).await.unwrap();
    let after = fixture.api.instance(&grant.access_token, created.id).await;
    assert!(matches!(after, Err(ApiError::InvalidToken)), "{after:?}");
    let inspection = fixture.sandbox.sandbox.inspect();
    assert_eq!(inspection.instances.len(), 1);
    assert!(inspection.tokens.iter().all(|token| token.revoked));
}

#[tokio::test]
async fn a_code_works_once() {
    let fixture = fixture().await;
    let redirect = Url::parse(REDIRECT).unwrap();
    let url = fixture.login.authorize_url("linodes:read_write", &redirect, "s", None);
    let params = consent(&url, &["linodes:read_write"]).await;
    let code = param(&params, "code").unwrap();
    fixture.login.exchange_code(code, &redirect, None).await.unwrap();
    let again = fixture.login.exchange_code(code, &redirect, None).await;
    assert!(matches!(&again, Err(LoginError::Rejected { error, .. }) if error == "invalid_grant"), "{again:?}");
}

#[tokio::test]
async fn a_token_without_the_scope_cannot_create() {
    let fixture = fixture().await;
    let grant = token(&fixture, &[]).await;
    assert!(!grant.scopes.allows("linodes", ScopeLevel::ReadWrite));
    let result = fixture.api.create_instance(&grant.access_token, &nanode()).await;
    assert!(matches!(result, Err(ApiError::NotAuthorized)), "{result:?}");
    let bogus = fixture.api.profile(&AccessToken::new("0".repeat(64))).await;
    assert!(matches!(bogus, Err(ApiError::InvalidToken)), "{bogus:?}");
}

#[tokio::test]
async fn the_public_catalog_reads_without_a_token() {
    let fixture = fixture().await;
    let types = fixture.api.types().await.unwrap();
    for class in ["nanode", "standard", "dedicated", "premium", "highmem", "gpu"] {
        assert!(types.iter().any(|t| t.class.as_str() == class), "{class}");
        assert!(!matches!(linode::PlanClass::from(class), linode::PlanClass::Other(_)), "{class} is known");
    }
    assert!(types.iter().any(|t| !t.region_prices.is_empty()));
    let regions = fixture.api.regions().await.unwrap();
    assert!(regions.len() >= 20);
    assert!(regions.iter().any(|r| r.status == linode::RegionStatus::Outage));
    let images = fixture.api.images().await.unwrap();
    assert!(images.iter().any(|i| i.id == "linode/debian12"));
    let script = fixture.api.stackscript(sandbox::STACKSCRIPT_WITH_FIELDS).await.unwrap();
    assert!(script.user_defined_fields.iter().any(|f| f.is_password()));
    assert!(script.user_defined_fields.iter().any(|f| f.is_multiple_choice()));
    assert!(script.user_defined_fields.iter().any(|f| f.is_required()));
    // None of these reads carried a token.
    assert!(fixture.sandbox.sandbox.inspect().tokens.is_empty());
}

#[tokio::test]
async fn linode_errors_on_create_are_typed_and_never_retried() {
    let fixture = fixture().await;
    let grant = token(&fixture, &["linodes:read_write"]).await;
    type Expect = fn(&ApiError) -> bool;
    let cases: Vec<(FaultRule, Expect)> = vec![
        (FaultRule::status(CREATE, 500, "Internal"), |e| matches!(e, ApiError::Server { status: 500 })),
        (FaultRule::status(CREATE, 429, "Slow down"), |e| matches!(e, ApiError::RateLimited { .. })),
        (
            FaultRule::status(CREATE, 400, "region is not valid"),
            |e| matches!(e, ApiError::Rejected { status: 400, errors } if errors[0].reason == "region is not valid"),
        ),
        (FaultRule::drop_connection(CREATE), |e| matches!(e, ApiError::Network(_))),
    ];
    for (index, (fault, expected)) in cases.into_iter().enumerate() {
        fixture.sandbox.sandbox.clear_faults();
        fixture.sandbox.sandbox.add_fault(fault.clone());
        let result = fixture.api.create_instance(&grant.access_token, &nanode()).await;
        let error = result.expect_err("faulted create fails");
        assert!(expected(&error), "{fault:?} gave {error:?}");
        assert_eq!(fixture.sandbox.sandbox.inspect().count(CREATE), index + 1, "one attempt per create");
    }
    fixture.sandbox.sandbox.clear_faults();
    let validation =
        fixture.api.create_instance(&grant.access_token, &CreateInstance { region: "mars-1".into(), ..nanode() }).await;
    assert!(validation.unwrap_err().to_string().contains("region"));
    assert!(fixture.sandbox.sandbox.inspect().instances.is_empty());
}

#[tokio::test]
async fn public_reads_are_retried_and_time_out() {
    let fixture = fixture().await;
    fixture.sandbox.sandbox.add_fault(FaultRule::fail_nth("GET /v4/regions", 1, 503, "blip"));
    assert!(fixture.api.regions().await.is_ok(), "a single 503 is retried");
    assert_eq!(fixture.sandbox.sandbox.inspect().count("GET /v4/regions"), 2);

    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(200)).build().unwrap();
    let api = ApiClient::new(Url::parse(&fixture.sandbox.api_base()).unwrap(), impatient);
    fixture.sandbox.sandbox.add_fault(FaultRule::latency("GET /v4/linode/stackscripts/{id}", 1_000));
    let result = api.stackscript(sandbox::STACKSCRIPT_NO_INPUT).await;
    assert!(matches!(result, Err(ApiError::Timeout)), "{result:?}");
}

#[tokio::test]
async fn with_pkce_a_code_is_redeemed_only_with_its_verifier() {
    let fixture = fixture().await;
    let redirect = Url::parse(REDIRECT).unwrap();
    let verifier = linode::PkceVerifier::random();
    let url = fixture.login.authorize_url("linodes:read_write", &redirect, "s", Some(&verifier));
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(param(&query, "code_challenge_method"), Some("S256"));
    assert!(param(&query, "code_challenge").is_some_and(|c| c.len() == 43 && c != verifier.secret()));
    let params = consent(&url, &["linodes:read_write"]).await;
    let code = param(&params, "code").unwrap();
    // Someone else's verifier (an attacker replaying a leaked code in their own flow) fails…
    let other = linode::PkceVerifier::random();
    let stolen = fixture.login.exchange_code(code, &redirect, Some(&other)).await;
    assert!(matches!(&stolen, Err(LoginError::Rejected { error, .. }) if error == "invalid_grant"), "{stolen:?}");
    assert!(fixture.sandbox.sandbox.inspect().tokens.is_empty());
    assert!(!format!("{verifier:?}").contains(verifier.secret()));
}

#[tokio::test]
async fn with_pkce_the_right_verifier_and_the_secret_get_a_token() {
    let fixture = fixture().await;
    let redirect = Url::parse(REDIRECT).unwrap();
    let verifier = linode::PkceVerifier::random();
    let url = fixture.login.authorize_url("linodes:read_write", &redirect, "s", Some(&verifier));
    let params = consent(&url, &["linodes:read_write"]).await;
    let grant = fixture.login.exchange_code(param(&params, "code").unwrap(), &redirect, Some(&verifier)).await.unwrap();
    assert!(grant.refresh_token.is_some(), "a confidential client keeps its refresh token");
    assert!(fixture.sandbox.sandbox.inspect().codes.iter().all(|c| c.pkce));
}

#[tokio::test]
async fn grants_say_whether_the_user_may_create_linodes() {
    let fixture = fixture().await;
    let grant = token(&fixture, &["linodes:read_write"]).await;
    assert_eq!(fixture.api.grants(&grant.access_token).await.expect("grants"), None, "unrestricted: 204");

    // The same user made restricted, with no creator role, through the sandbox's admin listener.
    let users = serde_json::json!([{ "username": "sandbox-user", "restricted": true, "roles": [] }]);
    let set = reqwest::Client::new()
        .put(format!("{}/__sandbox/users", fixture.sandbox.admin_url()))
        .json(&users)
        .send()
        .await
        .unwrap();
    assert!(set.status().is_success());
    let grant = token(&fixture, &["linodes:read_write"]).await;
    let grants = fixture.api.grants(&grant.access_token).await.expect("grants").expect("restricted");
    assert!(!grants.global.add_linodes);
    let refused = fixture.api.create_instance(&grant.access_token, &nanode()).await.expect_err("403");
    assert!(matches!(refused, linode::ApiError::Rejected { status: 403, .. }), "{refused:?}");
}
