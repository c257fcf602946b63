//! API v4 over real HTTP: catalog, pagination, filters, auth errors, creates, status
//! progression, rate limits, profile.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use sandbox::{STACKSCRIPT_ANY_IMAGE, STACKSCRIPT_NO_INPUT, STACKSCRIPT_WITH_FIELDS};
use serde_json::{json, Value};

async fn get(url: String) -> reqwest::Response {
    http().get(url).send().await.expect("get")
}

async fn get_json(url: String) -> Value {
    let response = get(url).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

async fn filtered(sb: &sandbox::RunningSandbox, path: &str, filter: &str) -> reqwest::Response {
    http().get(format!("{}{path}", sb.api_base())).header("X-Filter", filter).send().await.expect("get")
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|item| item["id"].to_string().trim_matches('"').to_owned())
        .collect()
}

#[tokio::test]
async fn public_catalog_needs_no_token() {
    let sb = start().await;
    let api = sb.api_base();
    let types = get_json(format!("{api}/linode/types")).await;
    assert_eq!(types["page"], 1);
    assert_eq!(types["pages"], 1);
    assert!(types["results"].as_u64().expect("results") >= 30);
    let nanode = get_json(format!("{api}/linode/types/g6-nanode-1")).await;
    assert_eq!(nanode["label"], "Nanode 1 GB");
    assert_eq!(nanode["class"], "nanode");
    assert_eq!(nanode["price"]["monthly"], 5.0);

    let regions = get_json(format!("{api}/regions")).await;
    assert!(regions["results"].as_u64().expect("results") >= 20);
    let newark = get_json(format!("{api}/regions/us-east")).await;
    assert_eq!(newark["label"], "Newark, NJ");
    assert_eq!(newark["site_type"], "core");

    let images = get_json(format!("{api}/images")).await;
    assert!(ids(&images).contains(&"linode/debian12".to_owned()));
    assert_eq!(get_json(format!("{api}/images/linode/debian12")).await["vendor"], "Debian");
    assert_eq!(get_json(format!("{api}/images/linode%2Fubuntu24.04")).await["id"], "linode/ubuntu24.04");

    let script = get_json(format!("{api}/linode/stackscripts/{STACKSCRIPT_NO_INPUT}")).await;
    assert_eq!(script["user_defined_fields"], json!([]));
    assert!(script["images"].as_array().expect("images").len() > 5);
    let fields = get_json(format!("{api}/linode/stackscripts/{STACKSCRIPT_WITH_FIELDS}")).await;
    let udfs = fields["user_defined_fields"].as_array().expect("udfs");
    assert!(udfs.iter().any(|u| u.get("oneof").is_some()));
    assert!(udfs.iter().any(|u| u.get("manyof").is_some()));
    assert!(udfs.iter().any(|u| u.get("default").is_some()));
    assert!(udfs.iter().any(|u| u["name"].as_str().is_some_and(|n| n.contains("password"))));
    let any = get_json(format!("{api}/linode/stackscripts/{STACKSCRIPT_ANY_IMAGE}")).await;
    assert_eq!(any["images"], json!(["any/all"]));
    assert_eq!(get_json(format!("{api}/linode/stackscripts")).await["results"], 3);

    let response = get(format!("{api}/linode/types")).await;
    assert_eq!(response.headers()["x-spec-version"], "4.234.0");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert!(response.headers()["access-control-allow-headers"].to_str().expect("ascii").contains("X-Filter"));
}

#[tokio::test]
async fn unknown_ids_are_404_not_found() {
    let sb = start().await;
    let api = sb.api_base();
    let token = token(&sb, "linodes:read_only").await;
    for path in [
        "/linode/types/g9-nope",
        "/regions/mars-1",
        "/images/linode/plan9",
        "/linode/stackscripts/1",
        "/linode/stackscripts/abc",
    ] {
        let response = get(format!("{api}{path}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(errors(response).await, [(None, "Not found".to_owned())]);
    }
    let response = http().get(format!("{api}/linode/instances/12345")).bearer_auth(&token).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pagination() {
    let sb = start().await;
    let api = sb.api_base();
    let page2 = get_json(format!("{api}/linode/types?page=2&page_size=25")).await;
    let total = page2["results"].as_u64().expect("results");
    assert_eq!(page2["page"], 2);
    assert_eq!(page2["pages"], total.div_ceil(25));
    let all = get_json(format!("{api}/linode/types?page_size=500")).await;
    assert_eq!(ids(&page2), ids(&all)[25..]);
    // Past the end: the last page (spec narrative).
    let past = get_json(format!("{api}/linode/types?page=99&page_size=25")).await;
    assert_eq!(past["page"], page2["pages"]);
    assert_eq!(ids(&past), ids(&page2));
    // Out of range.
    for (query, field) in
        [("page_size=10", "page_size"), ("page_size=501", "page_size"), ("page=0", "page"), ("page=x", "page")]
    {
        let response = get(format!("{api}/regions?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(errors(response).await[0].0.as_deref(), Some(field));
    }
}

#[tokio::test]
async fn filters() {
    let sb = start().await;
    let page = |response: reqwest::Response| async move {
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.expect("json")
    };
    let exact = page(filtered(&sb, "/linode/types", r#"{"class":"dedicated"}"#).await).await;
    assert!(exact["data"].as_array().expect("data").iter().all(|t| t["class"] == "dedicated"));
    assert_eq!(exact["results"], 9);

    // The example app's filter: label contains "Linode" keeps standard and high-memory plans.
    let contains = page(filtered(&sb, "/linode/types", r#"{"label":{"+contains":"Linode"}}"#).await).await;
    let classes: Vec<&str> =
        contains["data"].as_array().expect("data").iter().map(|t| t["class"].as_str().expect("class")).collect();
    assert!(classes.iter().all(|c| *c == "standard" || *c == "highmem"));
    assert!(classes.contains(&"highmem"));

    let or = page(filtered(&sb, "/linode/types", r#"{"+or":[{"class":"nanode"},{"class":"gpu"}]}"#).await).await;
    assert!(or["data"].as_array().expect("data").iter().all(|t| t["class"] == "nanode" || t["class"] == "gpu"));
    assert_eq!(or["results"], 7);

    let and = page(
        filtered(
            &sb,
            "/linode/types",
            r#"{"+and":[{"class":"standard"},{"vcpus":{"+gte":8}},{"memory":{"+lt":100000}}]}"#,
        )
        .await,
    )
    .await;
    assert_eq!(ids(&and), ["g6-standard-8", "g6-standard-16", "g6-standard-20"]);

    let ordered =
        page(filtered(&sb, "/linode/types", r#"{"class":"highmem","+order_by":"memory","+order":"desc"}"#).await).await;
    assert_eq!(ids(&ordered)[0], "g7-highmem-16");
    let neq = page(filtered(&sb, "/regions", r#"{"status":{"+neq":"ok"}}"#).await).await;
    assert_eq!(ids(&neq), ["es-mad"]);
    let capability = page(filtered(&sb, "/regions", r#"{"capabilities":"GPU Linodes","country":"us"}"#).await).await;
    assert!(ids(&capability).contains(&"us-east".to_owned()));

    for bad in [r#"{"price":1}"#, "nope", r#"{"vcpus":{"+near":1}}"#, r#"{"+order":"desc"}"#] {
        let response = filtered(&sb, "/linode/types", bad).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(errors(response).await[0].0.as_deref(), Some("X-Filter"));
    }
}

#[tokio::test]
async fn bogus_token_on_a_public_route_is_401_unless_configured_otherwise() {
    let sb = start().await;
    let response =
        http().get(format!("{}/linode/types", sb.api_base())).bearer_auth("no-token").send().await.expect("get");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(errors(response).await, [(None, "Invalid Token".to_owned())]);

    let mut config = fast_config();
    config.invalid_token_on_public = false;
    let lenient = start_with(config).await;
    let response =
        http().get(format!("{}/linode/types", lenient.api_base())).bearer_auth("no-token").send().await.expect("get");
    assert_eq!(response.status(), StatusCode::OK);

    // A live token with unrelated scopes may read public StackScripts.
    let token = token(&sb, "linodes:read_write").await;
    let response = http()
        .get(format!("{}/linode/stackscripts/{STACKSCRIPT_NO_INPUT}", sb.api_base()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-oauth-scopes"], "linodes:read_write");
    assert_eq!(response.headers()["x-accepted-oauth-scopes"], "stackscripts:read_only");
}

#[tokio::test]
async fn tokens_are_required_and_scopes_enforced() {
    let sb = start().await;
    let api = sb.api_base();
    // No token, or an unknown one.
    for request in [
        http().get(format!("{api}/linode/instances")),
        http().get(format!("{api}/profile")),
        http().post(format!("{api}/linode/instances")).json(&create_body()),
        http().get(format!("{api}/profile")).bearer_auth("f".repeat(64)),
        http().get(format!("{api}/profile")).header("Authorization", "Basic abc"),
    ] {
        let response = request.send().await.expect("send");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(errors(response).await, [(None, "Invalid Token".to_owned())]);
    }
    // A token without linodes:read_write cannot create.
    let read_only = token(&sb, "linodes:read_only,stackscripts:read_only").await;
    let response = create(&sb, &read_only, &create_body()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["x-accepted-oauth-scopes"], "linodes:read_write");
    assert_eq!(response.headers()["x-oauth-scopes"], "linodes:read_only stackscripts:read_only");
    assert_eq!(errors(response).await, [(None, "Your OAuth token is not authorized to use this endpoint.".to_owned())]);
    // ... but can list.
    let response = http().get(format!("{api}/linode/instances")).bearer_auth(&read_only).send().await.expect("list");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-accepted-oauth-scopes"], "linodes:read_only");
    // A token with nothing about Linodes cannot list.
    let domains = token(&sb, "domains:read_write").await;
    let response = http().get(format!("{api}/linode/instances")).bearer_auth(&domains).send().await.expect("list");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // `*` and `linodes:*` can create.
    for scopes in ["*", "linodes:*"] {
        let token = token(&sb, scopes).await;
        let mut body = create_body();
        body["label"] = json!(format!("star-{}", scopes.len()));
        assert_eq!(create(&sb, &token, &body).await.status(), StatusCode::OK, "{scopes}");
    }
}

#[tokio::test]
async fn expired_tokens_are_invalid() {
    let mut config = fast_config();
    config.timings.token_ttl = Duration::from_millis(200);
    let sb = start_with(config).await;
    let body = token_json(&sb, "*").await;
    assert_eq!(body["expires_in"], 0);
    let token = body["access_token"].as_str().expect("token");
    tokio::time::sleep(Duration::from_millis(250)).await;
    let response = http().get(format!("{}/profile", sb.api_base())).bearer_auth(token).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(sb.sandbox.inspect().token(token).expect("token").expired);
}

#[tokio::test]
async fn create_returns_the_linode_and_status_progresses() {
    let sb = start().await;
    let token = token(&sb, "linodes:read_write").await;
    let response = create(&sb, &token, &create_body()).await;
    assert_eq!(response.status(), StatusCode::OK);
    // Linode's 2026 limit on creates: 20 per 15 s.
    assert_eq!(response.headers()["x-ratelimit-limit"], "20");
    assert_eq!(response.headers()["x-ratelimit-remaining"], "19");
    assert!(response.headers().contains_key("x-ratelimit-reset"));
    let linode: Value = response.json().await.expect("json");
    assert_eq!(linode["status"], "provisioning");
    assert_eq!(linode["type"], "g6-nanode-1");
    assert_eq!(linode["region"], "us-east");
    assert_eq!(linode["image"], "linode/debian12");
    assert_eq!(linode["group"], "my-app");
    assert_eq!(linode["tags"], json!([]));
    assert_eq!(linode["specs"]["memory"], 1024);
    assert_eq!(linode["hypervisor"], "kvm");
    assert!(linode.get("root_pass").is_none());
    let id = linode["id"].as_u64().expect("id");
    assert_eq!(linode["label"], format!("linode{id}"));
    let ipv4 = linode["ipv4"][0].as_str().expect("ipv4");
    assert!(["192.0.2.", "198.51.100.", "203.0.113."].iter().any(|p| ipv4.starts_with(p)));
    assert!(linode["ipv6"].as_str().expect("ipv6").starts_with("2001:db8:"));
    let created = linode["created"].as_str().expect("created");
    assert_eq!(created.len(), 19);

    let status = |token: String| {
        let url = format!("{}/linode/instances/{id}", sb.api_base());
        async move {
            http().get(url).bearer_auth(token).send().await.expect("get").json::<Value>().await.expect("json")["status"]
                .as_str()
                .expect("status")
                .to_owned()
        }
    };
    assert_eq!(status(token.clone()).await, "provisioning");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status(token.clone()).await, "booting");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status(token.clone()).await, "running");

    let listing =
        http().get(format!("{}/linode/instances", sb.api_base())).bearer_auth(&token).send().await.expect("list");
    let listing: Value = listing.json().await.expect("json");
    assert_eq!(listing["results"], 1);
    assert_eq!(listing["data"][0]["status"], "running");

    let inspection = sb.sandbox.inspect();
    assert_eq!(inspection.instances.len(), 1);
    let instance = &inspection.instances[0];
    assert_eq!(instance.token_id, sandbox::token_id(&token));
    assert_eq!(instance.client_id, sandbox::DEFAULT_CLIENT_ID);
    assert_eq!(instance.stackscript_id, Some(STACKSCRIPT_NO_INPUT));
    assert_eq!(instance.status, "running");
}

#[tokio::test]
async fn booted_false_ends_offline_and_fields_are_kept() {
    let sb = start().await;
    let token = token(&sb, "linodes:read_write").await;
    let body = json!({
        "type": "g6-standard-2", "region": "us-ord", "image": "linode/ubuntu24.04",
        "authorized_keys": [ssh_key()], "label": "web-1", "tags": ["prod", "web"],
        "booted": false, "private_ip": true
    });
    let linode: Value = create(&sb, &token, &body).await.json().await.expect("json");
    assert_eq!(linode["label"], "web-1");
    assert_eq!(linode["tags"], json!(["prod", "web"]));
    assert_eq!(linode["ipv4"].as_array().expect("ipv4").len(), 2);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(sb.sandbox.inspect().instances[0].status, "offline");
}

fn ssh_key() -> String {
    use base64::Engine;
    let mut blob = vec![0, 0, 0, 11];
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(&[0, 0, 0, 32]);
    blob.extend_from_slice(&[42; 32]);
    format!("ssh-ed25519 {} test@sandbox", base64::engine::general_purpose::STANDARD.encode(blob))
}

#[tokio::test]
async fn create_validation_errors() {
    // Every attempt counts against the create limit; this test makes more than ten.
    let mut config = fast_config();
    config.rate_limits.create_linode = None;
    let sb = start_with(config).await;
    let token = token(&sb, "linodes:read_write").await;
    let check = |patch: Value, expected: Vec<(&'static str, &'static str)>| {
        let sb = &sb;
        let token = token.clone();
        async move {
            let mut body = create_body();
            for (key, value) in patch.as_object().expect("object") {
                if value.is_null() {
                    body.as_object_mut().expect("object").remove(key);
                } else {
                    body[key] = value.clone();
                }
            }
            let response = create(sb, &token, &body).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{patch}");
            let got = errors(response).await;
            for (field, reason) in expected {
                assert!(
                    got.iter().any(|(f, r)| f.as_deref() == Some(field) && r.contains(reason)),
                    "{patch}: expected {field}: {reason} in {got:?}"
                );
            }
        }
    };
    check(
        json!({"type": "g9-nope", "region": "mars"}),
        vec![("type", "A valid plan type by that ID was not found"), ("region", "region is not valid")],
    )
    .await;
    check(json!({"type": null}), vec![("type", "required")]).await;
    check(json!({"region": "es-mad"}), vec![("region", "unavailable")]).await;
    check(json!({"type": "g1-gpu-rtx6000-1", "region": "ca-central"}), vec![("type", "not available")]).await;
    check(json!({"type": "g7-premium-2", "region": "us-east"}), vec![("type", "not available")]).await;
    check(json!({"image": "linode/plan9"}), vec![("image", "not valid")]).await;
    check(
        json!({"image": "linode/ubuntu20.04", "stackscript_id": STACKSCRIPT_WITH_FIELDS}),
        vec![("image", "not compatible")],
    )
    .await;
    check(json!({"image": null}), vec![("image", "required")]).await;
    check(json!({"stackscript_id": 999}), vec![("stackscript_id", "not found")]).await;
    check(json!({"root_pass": "short"}), vec![("root_pass", "between 7 and 128")]).await;
    check(json!({"root_pass": "password"}), vec![("root_pass", "Password does not meet strength requirement")]).await;
    check(json!({"root_pass": null}), vec![("root_pass", "required")]).await;
    check(json!({"root_pass": null, "authorized_keys": ["ssh-rsa nope"]}), vec![("authorized_keys", "Invalid SSH")])
        .await;
    check(json!({"label": "1-bad"}), vec![("label", "Must begin with a letter")]).await;
    check(json!({"label": "ab"}), vec![("label", "3-64")]).await;
    check(json!({"label": "a--b"}), vec![("label", "Must begin")]).await;
    check(
        json!({"stackscript_id": STACKSCRIPT_WITH_FIELDS}),
        vec![
            ("stackscript_data.hostname", "required"),
            ("stackscript_data.environment", "required"),
            ("stackscript_data.db_password", "required"),
        ],
    )
    .await;
    check(
        json!({"stackscript_id": STACKSCRIPT_WITH_FIELDS, "stackscript_data": {
            "hostname": "web01", "environment": "qa", "db_password": "x", "packages": "git,emacs"
        }}),
        vec![
            ("stackscript_data.environment", "Must be one of: production, staging"),
            ("stackscript_data.packages", "Must be one of"),
        ],
    )
    .await;

    // Malformed JSON.
    let response = http()
        .post(format!("{}/linode/instances", sb.api_base()))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(sb.sandbox.inspect().instances.is_empty());
}

#[tokio::test]
async fn stackscript_data_any_image_and_unique_labels() {
    let sb = start().await;
    let token = token(&sb, "linodes:read_write").await;
    let mut body = create_body();
    body["stackscript_id"] = json!(STACKSCRIPT_WITH_FIELDS);
    body["stackscript_data"] = json!({
        "hostname": "web01", "environment": "staging", "db_password": "s3cret", "packages": "git,vim"
    });
    body["label"] = json!("with-fields");
    assert_eq!(create(&sb, &token, &body).await.status(), StatusCode::OK);

    let duplicate = create(&sb, &token, &body).await;
    assert_eq!(duplicate.status(), StatusCode::BAD_REQUEST);
    assert_eq!(errors(duplicate).await[0].0.as_deref(), Some("label"));

    let mut any = create_body();
    any["stackscript_id"] = json!(STACKSCRIPT_ANY_IMAGE);
    any["image"] = json!("linode/ubuntu20.04");
    assert_eq!(create(&sb, &token, &any).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn creates_are_rate_limited_per_token() {
    let sb = start().await;
    let token = token(&sb, "linodes:read_write").await;
    for n in 0..20 {
        let mut body = create_body();
        body["label"] = json!(format!("rl-{n}"));
        let response = create(&sb, &token, &body).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-ratelimit-remaining"], (19 - n).to_string().as_str());
    }
    let response = create(&sb, &token, &create_body()).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"].to_str().expect("ascii").parse().expect("secs");
    assert!((1..=15).contains(&retry));
    assert_eq!(response.headers()["x-ratelimit-limit"], "20");
    assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    let reset: i64 = response.headers()["x-ratelimit-reset"].to_str().expect("ascii").parse().expect("epoch");
    assert!(reset > 1_700_000_000);
    assert_eq!(sb.sandbox.inspect().instances.len(), 20);

    // Another token has its own window.
    let other = common::token(&sb, "linodes:read_write").await;
    assert_eq!(create(&sb, &other, &create_body()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn rate_limit_window_resets() {
    let mut config = fast_config();
    config.rate_limits.create_linode = Some(sandbox::RateLimit { requests: 2, window: Duration::from_millis(300) });
    let sb = start_with(config).await;
    let token = token(&sb, "linodes:read_write").await;
    let mut statuses = Vec::new();
    for n in 0..3 {
        let mut body = create_body();
        body["label"] = json!(format!("w-{n}"));
        statuses.push(create(&sb, &token, &body).await.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(create(&sb, &token, &create_body()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn concurrent_creates_get_distinct_ids() {
    let mut config = fast_config();
    config.rate_limits.create_linode = None;
    let sb = start_with(config).await;
    let token = token(&sb, "linodes:read_write").await;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let url = format!("{}/linode/instances", sb.api_base());
            let token = token.clone();
            tokio::spawn(async move {
                let response = http().post(url).bearer_auth(token).json(&create_body()).send().await.expect("post");
                assert_eq!(response.status(), StatusCode::OK);
                response.json::<Value>().await.expect("json")["id"].as_u64().expect("id")
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.expect("task"));
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    let inspection = sb.sandbox.inspect();
    assert_eq!(inspection.instances.len(), 50);
    let mut ips: Vec<_> = inspection.instances.iter().map(|i| i.label.clone()).collect();
    ips.dedup();
    assert_eq!(ips.len(), 50);
}

#[tokio::test]
async fn profile_is_open_to_any_scope() {
    let sb = start().await;
    let token = token(&sb, "domains:read_only").await;
    let response = http().get(format!("{}/profile", sb.api_base())).bearer_auth(&token).send().await.expect("get");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-oauth-scopes"], "domains:read_only");
    let profile: Value = response.json().await.expect("json");
    assert_eq!(profile["username"], "alice");
    assert_eq!(profile["restricted"], false);
}

#[tokio::test]
async fn cors_preflight() {
    let sb = start().await;
    let response = http()
        .request(reqwest::Method::OPTIONS, format!("{}/linode/instances", sb.api_base()))
        .header("Origin", "http://example.test")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .expect("options");
    assert!(response.status().is_success());
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

/// Shapes as production sends them (linode_api4's recorded replies `images.json` and
/// `linode_instances.json`; docs/LINODE.md): an image without a description has `null`, not
/// `""`, and `host_uuid` is 40 hex digits.
#[tokio::test]
async fn replies_have_productions_shapes() {
    let sb = start().await;
    let images = get_json(format!("{}/images?page_size=500", sb.api_base())).await;
    let data = images["data"].as_array().expect("images");
    assert!(!data.is_empty());
    for image in data {
        let description = &image["description"];
        assert!(description.is_null() || description.as_str().is_some_and(|d| !d.is_empty()), "{image}");
    }
    assert!(data.iter().any(|image| image["description"].is_null()));

    let token = token(&sb, "linodes:read_write").await;
    let body = json!({"type": "g6-nanode-1", "region": "us-east", "image": "linode/debian12", "root_pass": "c0rrect-Horse-battery-staple"});
    let created: Value = create(&sb, &token, &body).await.json().await.expect("json");
    let host = created["host_uuid"].as_str().expect("host_uuid");
    assert_eq!(host.len(), 40, "{host}");
    assert!(host.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{host}");
}
