//! The login server over real HTTP: authorize, consent, token, refresh, revoke.

mod common;

use std::time::Duration;

use axum::Router;
use base64::Engine;
use common::*;
use reqwest::StatusCode;
use sandbox::{ClientConfig, Config, Sandbox, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use serde_json::Value;
use sha2::Digest;

fn authorize_url(sb: &sandbox::RunningSandbox) -> String {
    format!("{}/oauth/authorize", sb.login_base())
}

#[tokio::test]
async fn consent_page_names_the_app_and_each_scope() {
    let sb = start().await;
    let response = http()
        .get(authorize_url(&sb))
        .query(&[
            ("client_id", DEFAULT_CLIENT_ID),
            ("response_type", "code"),
            ("scopes", "linodes:read_write,stackscripts:read_only"),
        ])
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.expect("html");
    assert!(html.contains("Install on Linode (sandbox)"));
    assert!(html.contains("nothing real is created"));
    assert!(html.contains("<form method=\"post\">"));
    for scope in ["linodes:read_write", "stackscripts:read_only"] {
        assert!(html.contains(&format!("<input type=\"checkbox\" name=\"scope\" value=\"{scope}\" checked>")));
    }
    assert!(html.contains("<button type=\"submit\" name=\"decision\" value=\"approve\">Authorize</button>"));
    assert!(html.contains("<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>"));
}

#[tokio::test]
async fn unknown_client_or_bad_redirect_gets_an_error_page_not_a_redirect() {
    let sb = start().await;
    for query in [
        vec![("client_id", "0000000000000000000f"), ("response_type", "code"), ("scopes", "*")],
        vec![
            ("client_id", DEFAULT_CLIENT_ID),
            ("response_type", "code"),
            ("scopes", "*"),
            ("redirect_uri", "http://evil.example/auth/callback"),
        ],
    ] {
        let response = http().get(authorize_url(&sb)).query(&query).send().await.expect("get");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.headers().get("location").is_none());
        assert!(response.text().await.expect("html").contains("not valid"));
    }
}

#[tokio::test]
async fn bad_response_type_scope_or_challenge_redirect_with_an_error_and_state() {
    let sb = start().await;
    let cases = [
        (vec![("response_type", "token"), ("scopes", "*")], "unsupported_response_type"),
        (vec![("response_type", "code")], "invalid_scope"),
        (vec![("response_type", "code"), ("scope", "linodes:delete")], "invalid_scope"),
        (
            vec![
                ("response_type", "code"),
                ("scope", "*"),
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
    ];
    for (extra, error) in cases {
        let mut query = vec![("client_id", DEFAULT_CLIENT_ID), ("state", "xyz")];
        query.extend(extra);
        let response = http().get(authorize_url(&sb)).query(&query).send().await.expect("get");
        assert_eq!(response.status(), StatusCode::FOUND, "{error}");
        let params = location_params(&response);
        assert_eq!(param(&params, "error"), Some(error));
        assert_eq!(param(&params, "state"), Some("xyz"));
    }
}

#[tokio::test]
async fn approve_redirects_with_code_and_state_under_a_requested_redirect_uri() {
    let sb = start().await;
    let redirect = "http://127.0.0.1:3000/auth/callback?returnTo=%2Fdeploy";
    let response = consent(
        &sb,
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("response_type", "code"),
            ("scope", "linodes:read_write"),
            ("state", "s-1"),
            ("redirect_uri", redirect),
        ],
        "approve",
        &["linodes:read_write"],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(location.starts_with("http://127.0.0.1:3000/auth/callback?returnTo=%2Fdeploy&code="));
    let params = location_params(&response);
    let code = param(&params, "code").expect("code");
    assert_eq!(code.len(), 20);
    assert!(code.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    assert_eq!(param(&params, "state"), Some("s-1"));

    // The exchange may repeat the same redirect_uri, as generic OAuth libraries do.
    let token = post_token(
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("code", code),
            ("redirect_uri", redirect),
        ],
    )
    .await;
    assert_eq!(token.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_token_request_with_a_foreign_redirect_uri_is_invalid_grant() {
    let sb = start().await;
    let code = code_for(&sb, "linodes:read_write").await;
    for redirect in ["http://127.0.0.1:3000/elsewhere", "http://127.0.0.1:3000/auth/callbackx"] {
        let response = post_token(
            &sb,
            &[
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", DEFAULT_CLIENT_SECRET),
                ("code", code.as_str()),
                ("redirect_uri", redirect),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{redirect}");
        assert_eq!(response.json::<Value>().await.expect("json")["error"], "invalid_grant");
    }
    // The registered URI itself is fine even though /authorize was sent none.
    let response = post_token(
        &sb,
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", DEFAULT_CLIENT_SECRET),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_the_consent_is_single_use() {
    let sb = start().await;
    let query = [
        ("client_id", DEFAULT_CLIENT_ID),
        ("response_type", "code"),
        ("scopes", "linodes:read_write"),
        ("state", "st"),
    ];
    let response = consent(&sb, &query, "deny", &["linodes:read_write"]).await;
    let params = location_params(&response);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("st"));
    assert!(param(&params, "code").is_none());

    // Unticking every scope and approving is not a denial: the token simply has no scope,
    // which is what a client's insufficient-scope path must handle.
    let response = consent(&sb, &query, "approve", &[]).await;
    let code = param(&location_params(&response), "code").expect("code").to_owned();
    let body: Value = exchange(&sb, &code).await.json().await.expect("json");
    assert_eq!(body["scopes"], "");
    assert_eq!(body["scope"], "");

    // Answering an already-answered consent shows an error page.
    let response = http()
        .post(authorize_url(&sb))
        .form(&[("request", "deadbeef"), ("decision", "approve")])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unticked_scopes_are_not_granted_and_the_reply_echoes_what_was() {
    let sb = start().await;
    let response = consent(
        &sb,
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("response_type", "code"),
            ("scopes", "linodes:read_write,stackscripts:read_only"),
        ],
        "approve",
        &["stackscripts:read_only"],
    )
    .await;
    let code = param(&location_params(&response), "code").expect("code").to_owned();
    let body: Value = exchange(&sb, &code).await.json().await.expect("json");
    assert_eq!(body["scope"], "stackscripts:read_only");
    assert_eq!(body["scopes"], "stackscripts:read_only");

    let both = token_json(&sb, "linodes:read_write,stackscripts:read_only").await;
    assert_eq!(both["scopes"], "linodes:read_write stackscripts:read_only");
    assert_eq!(both["scope"], both["scopes"]);
}

#[tokio::test]
async fn token_reply_has_the_documented_shape() {
    let sb = start().await;
    let code = code_for(&sb, "linodes:read_write").await;
    let response = exchange(&sb, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 7200);
    for key in ["access_token", "refresh_token"] {
        let value = body[key].as_str().expect(key);
        assert_eq!(value.len(), 64);
        assert!(value.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
    assert_eq!(body["scope"], "linodes:read_write");
    let inspection = sb.sandbox.inspect();
    let token = inspection.token(body["access_token"].as_str().expect("token")).expect("recorded");
    assert_eq!(token.scopes, ["linodes:read_write"]);
    assert_eq!(token.username, "alice");
    assert!(inspection.codes[0].used);
}

#[tokio::test]
async fn codes_are_single_use_and_a_replay_revokes_the_token() {
    let sb = start().await;
    let code = code_for(&sb, "linodes:read_write").await;
    let first: Value = exchange(&sb, &code).await.json().await.expect("json");
    let token = first["access_token"].as_str().expect("token");

    let replay = exchange(&sb, &code).await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let body: Value = replay.json().await.expect("json");
    assert_eq!(body["error"], "invalid_grant");

    assert!(sb.sandbox.inspect().token(token).expect("token").revoked);
    let profile = http().get(format!("{}/profile", sb.api_base())).bearer_auth(token).send().await.expect("profile");
    assert_eq!(profile.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_and_unknown_codes_are_invalid_grant() {
    let mut config = fast_config();
    config.timings.code_ttl = Duration::from_millis(100);
    let sb = start_with(config).await;
    let code = code_for(&sb, "*").await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    for code in [code.as_str(), "00000000000000000000"] {
        let response = exchange(&sb, code).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "invalid_grant");
    }
}

#[tokio::test]
async fn client_authentication_errors() {
    let sb = start().await;
    let code = code_for(&sb, "*").await;
    let url = format!("{}/oauth/token", sb.login_base());
    let wrong_secret = http()
        .post(&url)
        .form(&[("client_id", DEFAULT_CLIENT_ID), ("client_secret", "nope"), ("code", &code)])
        .send()
        .await
        .expect("post");
    assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_secret.json::<Value>().await.expect("json")["error"], "invalid_client");

    let no_secret =
        http().post(&url).form(&[("client_id", DEFAULT_CLIENT_ID), ("code", &code)]).send().await.expect("post");
    assert_eq!(no_secret.status(), StatusCode::UNAUTHORIZED);

    let basic_wrong = http()
        .post(&url)
        .basic_auth(DEFAULT_CLIENT_ID, Some("nope"))
        .form(&[("code", &code)])
        .send()
        .await
        .expect("post");
    assert_eq!(basic_wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(basic_wrong.headers().contains_key("www-authenticate"));

    let json_body = http()
        .post(&url)
        .json(
            &serde_json::json!({"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, "code": code}),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(json_body.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_body.json::<Value>().await.expect("json")["error"], "invalid_request");

    let bad_grant = http()
        .post(&url)
        .form(&[("grant_type", "password"), ("client_id", DEFAULT_CLIENT_ID), ("client_secret", DEFAULT_CLIENT_SECRET)])
        .send()
        .await
        .expect("post");
    assert_eq!(bad_grant.json::<Value>().await.expect("json")["error"], "unsupported_grant_type");

    // The code survived all of that and still works, with HTTP Basic this time.
    let ok = http()
        .post(&url)
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[("grant_type", "authorization_code"), ("code", &code)])
        .send()
        .await
        .expect("post");
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn multipart_token_request_works() {
    let sb = start().await;
    let code = code_for(&sb, "linodes:read_write").await;
    let form = reqwest::multipart::Form::new()
        .text("client_id", DEFAULT_CLIENT_ID)
        .text("client_secret", DEFAULT_CLIENT_SECRET)
        .text("code", code);
    let response = http().post(format!("{}/oauth/token", sb.login_base())).multipart(form).send().await.expect("post");
    assert_eq!(response.status(), StatusCode::OK);
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

#[tokio::test]
async fn pkce_exchange_without_a_secret() {
    // Only a client registered as public may leave its secret out.
    let sb = start_with(Config {
        clients: vec![ClientConfig { public: true, ..ClientConfig::default() }],
        ..Config::default()
    })
    .await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let run = |verifier_sent: &'static str| {
        let sb = &sb;
        async move {
            let response = consent(
                sb,
                &[
                    ("client_id", DEFAULT_CLIENT_ID),
                    ("response_type", "code"),
                    ("scope", "*"),
                    ("code_challenge", &challenge(verifier)),
                    ("code_challenge_method", "S256"),
                ],
                "approve",
                &["*"],
            )
            .await;
            let code = param(&location_params(&response), "code").expect("code").to_owned();
            let form = reqwest::multipart::Form::new()
                .text("grant_type", "authorization_code")
                .text("client_id", DEFAULT_CLIENT_ID)
                .text("code", code)
                .text("code_verifier", verifier_sent);
            http().post(format!("{}/oauth/token", sb.login_base())).multipart(form).send().await.expect("post")
        }
    };
    let wrong = run("not-the-verifier-at-all-not-the-verifier-at-all").await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(wrong.json::<Value>().await.expect("json")["error"], "invalid_grant");

    let ok = run("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").await;
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.expect("json");
    assert!(body["refresh_token"].is_null(), "public clients get no refresh token");
    assert!(sb.sandbox.inspect().codes.iter().all(|c| c.pkce));
}

#[tokio::test]
async fn a_confidential_client_must_send_its_secret_even_with_pkce() {
    let sb = start().await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let response = consent(
        &sb,
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("response_type", "code"),
            ("scopes", "linodes:read_write"),
            ("code_challenge", &challenge(verifier)),
            ("code_challenge_method", "S256"),
        ],
        "approve",
        &["linodes:read_write"],
    )
    .await;
    let code = param(&location_params(&response), "code").expect("code").to_owned();
    let without_secret =
        post_token(&sb, &[("client_id", DEFAULT_CLIENT_ID), ("code", code.as_str()), ("code_verifier", verifier)])
            .await;
    assert_eq!(without_secret.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(without_secret.json::<Value>().await.expect("json")["error"], "invalid_client");
    assert!(sb.sandbox.inspect().tokens.is_empty(), "no token for a leaked code and verifier alone");
    let with_secret = post_token(
        &sb,
        &[
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", sandbox::DEFAULT_CLIENT_SECRET),
            ("code", code.as_str()),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(with_secret.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_admin_endpoints_are_not_on_the_public_listener() {
    let sb = start().await;
    for path in ["/__sandbox/inspect", "/__sandbox/faults"] {
        let public = http().get(format!("{}{path}", sb.root_url())).send().await.expect("get");
        assert_eq!(public.status(), StatusCode::NOT_FOUND, "{path} on the public listener");
        let admin = http().get(format!("{}{path}", sb.admin_url())).send().await.expect("get");
        assert_eq!(admin.status(), StatusCode::OK, "{path} on the admin listener");
    }
    let reset = http().post(format!("{}/__sandbox/reset", sb.root_url())).send().await.expect("post");
    assert_eq!(reset.status(), StatusCode::NOT_FOUND);
    assert!(sb.admin_addr.ip().is_loopback());
}

#[tokio::test]
async fn refresh_rotates_both_tokens() {
    let sb = start().await;
    let first = token_json(&sb, "linodes:read_write").await;
    let refresh = |refresh_token: String| {
        let url = format!("{}/oauth/token", sb.login_base());
        async move {
            http()
                .post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", DEFAULT_CLIENT_ID),
                    ("client_secret", DEFAULT_CLIENT_SECRET),
                    ("refresh_token", &refresh_token),
                ])
                .send()
                .await
                .expect("refresh")
        }
    };
    let old_refresh = first["refresh_token"].as_str().expect("refresh").to_owned();
    let response = refresh(old_refresh.clone()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.expect("json");
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(second["scopes"], "linodes:read_write");
    assert_eq!(second["expires_in"], 7200);

    // The old pair is dead, the new one works.
    assert_eq!(refresh(old_refresh).await.status(), StatusCode::BAD_REQUEST);
    let profile = |token: Value| {
        let url = format!("{}/profile", sb.api_base());
        async move { http().get(url).bearer_auth(token.as_str().expect("token")).send().await.expect("profile").status() }
    };
    assert_eq!(profile(first["access_token"].clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(profile(second["access_token"].clone()).await, StatusCode::OK);
    let inspection = sb.sandbox.inspect();
    let new = inspection.token(second["access_token"].as_str().expect("t")).expect("new");
    assert_eq!(new.grant, "refresh_token");
    assert_eq!(new.refresh_of.as_deref(), Some(sandbox::token_id(first["access_token"].as_str().expect("t")).as_str()));
}

#[tokio::test]
async fn revoke_and_legacy_expire_kill_the_token_and_its_refresh_token() {
    let sb = start().await;
    for path in ["/oauth/revoke", "/oauth/token/expire"] {
        let tokens = token_json(&sb, "linodes:read_write").await;
        let access = tokens["access_token"].as_str().expect("access");
        let response = http()
            .post(format!("{}{path}", sb.login_base()))
            .form(&[
                ("token_type_hint", "access_token"),
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", DEFAULT_CLIENT_SECRET),
                ("token", access),
            ])
            .send()
            .await
            .expect("revoke");
        assert_eq!(response.status(), StatusCode::OK, "{path}");

        let api =
            http().get(format!("{}/linode/instances", sb.api_base())).bearer_auth(access).send().await.expect("api");
        assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(errors(api).await, [(None, "Invalid Token".to_owned())]);

        let refresh = post_token(
            &sb,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", DEFAULT_CLIENT_SECRET),
                ("refresh_token", tokens["refresh_token"].as_str().expect("refresh")),
            ],
        )
        .await;
        assert_eq!(refresh.status(), StatusCode::BAD_REQUEST);
        assert!(sb.sandbox.inspect().token(access).expect("token").revoked);
    }
}

#[tokio::test]
async fn revoke_rules() {
    let sb = start().await;
    let access = token(&sb, "*").await;
    let url = format!("{}/oauth/revoke", sb.login_base());
    // An unknown token is fine (RFC 7009 §2.2).
    let unknown = http()
        .post(&url)
        .form(&[("client_id", DEFAULT_CLIENT_ID), ("client_secret", DEFAULT_CLIENT_SECRET), ("token", "feed")])
        .send()
        .await
        .expect("post");
    assert_eq!(unknown.status(), StatusCode::OK);
    // A confidential client's token needs the secret.
    let no_secret = http()
        .post(&url)
        .form(&[("client_id", DEFAULT_CLIENT_ID), ("token", access.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(no_secret.status(), StatusCode::UNAUTHORIZED);
    let wrong_secret = http()
        .post(&url)
        .form(&[("client_id", DEFAULT_CLIENT_ID), ("client_secret", "x"), ("token", access.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(wrong_secret.status(), StatusCode::UNAUTHORIZED);
    assert!(!sb.sandbox.inspect().token(&access).expect("token").revoked);
    // HTTP Basic works as well.
    let basic = http()
        .post(&url)
        .basic_auth(DEFAULT_CLIENT_ID, Some(DEFAULT_CLIENT_SECRET))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(basic.status(), StatusCode::OK);
    assert!(sb.sandbox.inspect().token(&access).expect("token").revoked);
}

#[tokio::test]
async fn registered_clients_and_nesting_under_a_prefix() {
    let sandbox = Sandbox::new(Config::default());
    sandbox.register_client(ClientConfig {
        id: "aaaaaaaaaaaaaaaaaaaa".to_owned(),
        secret: "b".repeat(64),
        redirect_uri: "http://localhost:9999/cb".to_owned(),
        label: "Nested App".to_owned(),
        public: false,
    });
    let app = Router::new().nest("/sandbox", sandbox.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let root = format!("http://{}/sandbox", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });

    let authorize = format!("{root}/login/oauth/authorize");
    let query = [("client_id", "aaaaaaaaaaaaaaaaaaaa"), ("response_type", "code"), ("scopes", "linodes:read_write")];
    let html = http().get(&authorize).query(&query).send().await.expect("get").text().await.expect("html");
    assert!(html.contains("Nested App"));
    // The form has no absolute action: it posts back to the page's own URL.
    assert!(!html.contains("action="));
    let response = http()
        .post(&authorize)
        .query(&query)
        .form(&[("request", request_id(&html).as_str()), ("decision", "approve"), ("scope", "linodes:read_write")])
        .send()
        .await
        .expect("post");
    let location = response.headers()["location"].to_str().expect("ascii");
    assert!(location.starts_with("http://localhost:9999/cb?code="));
    let types = http().get(format!("{root}/v4/linode/types")).send().await.expect("types");
    assert_eq!(types.status(), StatusCode::OK);
    let inspection = sandbox.inspect();
    assert_eq!(inspection.count("GET /login/oauth/authorize"), 1);
    assert_eq!(inspection.count("GET /v4/linode/types"), 1);
}
