//! Linode as of 2026 (spec 4.234.0): account settings, default firewalls, Cloud Firewalls,
//! Linode Interfaces on create, IAM, password-less and cloud-init creates, the installed app
//! behind its firewall, rate limits and unknown routes. Every refusal is checked for its status,
//! field and text.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use sandbox::{AccountPreset, Config, RunningSandbox, DEFAULT_CLIENT_ID};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const ALL_SCOPES: &str = "linodes:read_write firewall:read_write account:read_write";

fn config(account: AccountPreset) -> Config {
    Config { account, ..fast_config() }
}

/// A token for `username`, picked on the consent page.
async fn token_as(sb: &RunningSandbox, scopes: &str, username: &str) -> String {
    let http = http();
    let url = format!("{}/oauth/authorize", sb.login_base());
    let query = [("client_id", DEFAULT_CLIENT_ID), ("response_type", "code"), ("scopes", scopes)];
    let html = http.get(&url).query(&query).send().await.expect("page").text().await.expect("html");
    let mut form = vec![
        ("request".to_owned(), request_id(&html)),
        ("username".to_owned(), username.to_owned()),
        ("decision".to_owned(), "approve".to_owned()),
    ];
    form.extend(scopes.split(' ').map(|s| ("scope".to_owned(), s.to_owned())));
    let answer = http.post(&url).query(&query).form(&form).send().await.expect("consent");
    let code = param(&location_params(&answer), "code").expect("code").to_owned();
    let token: Value = exchange(sb, &code).await.json().await.expect("token");
    token["access_token"].as_str().expect("access_token").to_owned()
}

async fn call(
    sb: &RunningSandbox,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http().request(method, format!("{}{path}", sb.api_base())).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("call");
    let status = response.status();
    let text = response.text().await.expect("body");
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("json body") })
}

async fn get(sb: &RunningSandbox, token: &str, path: &str) -> (StatusCode, Value) {
    call(sb, token, reqwest::Method::GET, path, None).await
}

async fn put(sb: &RunningSandbox, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(sb, token, reqwest::Method::PUT, path, Some(body)).await
}

async fn post(sb: &RunningSandbox, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(sb, token, reqwest::Method::POST, path, Some(body)).await
}

fn reasons(body: &Value) -> Vec<(Option<String>, String)> {
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["field"].as_str().map(str::to_owned), e["reason"].as_str().expect("reason").to_owned()))
        .collect()
}

/// Asserts a 400 naming `field` with a reason containing `text`.
fn refused(reply: (StatusCode, Value), field: &str, text: &str) {
    assert_eq!(reply.0, StatusCode::BAD_REQUEST, "{}", reply.1);
    let got = reasons(&reply.1);
    assert!(got.iter().any(|(f, r)| f.as_deref() == Some(field) && r.contains(text)), "{field}: {text} in {got:?}");
}

fn firewall_body(label: &str, ports: &str) -> Value {
    json!({
        "label": label,
        "rules": {
            "inbound_policy": "DROP",
            "inbound": [{
                "action": "ACCEPT", "protocol": "TCP", "ports": ports,
                "addresses": { "ipv4": ["0.0.0.0/0"], "ipv6": ["::/0"] }, "label": "app-ports"
            }],
            "outbound_policy": "ACCEPT",
            "outbound": []
        },
        "tags": ["my-app"]
    })
}

fn public_interface(firewall: Value) -> Value {
    json!([{ "public": {}, "default_route": { "ipv4": true, "ipv6": true }, "firewall_id": firewall }])
}

#[tokio::test]
async fn account_settings_are_read_and_changed_through_linodes_api() {
    let sb = start_with(config(AccountPreset::New2026)).await;
    let token = token(&sb, ALL_SCOPES).await;
    let (status, settings) = get(&sb, &token, "/account/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["interfaces_for_new_linodes"], "linode_default_but_legacy_config_allowed");
    for field in [
        "backups_enabled",
        "longview_subscription",
        "maintenance_policy",
        "managed",
        "network_helper",
        "object_storage",
    ] {
        assert!(settings.get(field).is_some(), "{field}");
    }
    let (status, changed) =
        put(&sb, &token, "/account/settings", json!({ "interfaces_for_new_linodes": "linode_only" })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(changed["interfaces_for_new_linodes"], "linode_only");
    assert_eq!(get(&sb, &token, "/account/settings").await.1["interfaces_for_new_linodes"], "linode_only");
    let (status, body) =
        put(&sb, &token, "/account/settings", json!({ "interfaces_for_new_linodes": "sometimes" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The default firewall of a new account accepts SSH only.
    let (status, defaults) = get(&sb, &token, "/networking/firewalls/settings").await;
    assert_eq!(status, StatusCode::OK);
    let default = defaults["default_firewall_ids"]["public_interface"].as_u64().expect("a default");
    assert_eq!(defaults["default_firewall_ids"]["linode"], default);
    let (_, firewall) = get(&sb, &token, &format!("/networking/firewalls/{default}")).await;
    assert_eq!(firewall["label"], sandbox::DEFAULT_FIREWALL_LABEL);
    assert_eq!(firewall["rules"]["inbound_policy"], "DROP");
    assert_eq!(firewall["rules"]["inbound"][0]["ports"], "22");

    // Another default, through Linode's own endpoint; ids must exist.
    let (_, mine) = post(&sb, &token, "/networking/firewalls", firewall_body("web-default", "22,80,443")).await;
    let mine = mine["id"].as_u64().expect("id");
    let (status, set) =
        put(&sb, &token, "/networking/firewalls/settings", json!({ "default_firewall_ids": { "linode": mine } })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(set["default_firewall_ids"]["linode"], mine);
    assert_eq!(set["default_firewall_ids"]["public_interface"], default, "others unchanged");
    refused(
        put(&sb, &token, "/networking/firewalls/settings", json!({ "default_firewall_ids": { "linode": 42 } })).await,
        "default_firewall_ids.linode",
        "Firewall 42 not found",
    );

    // Scopes: settings need account:*, the firewall defaults firewall:read_only to read.
    let narrow = common::token(&sb, "linodes:read_write").await;
    assert_eq!(get(&sb, &narrow, "/account/settings").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(get(&sb, &narrow, "/networking/firewalls/settings").await.0, StatusCode::UNAUTHORIZED);
    let firewall_only = common::token(&sb, "firewall:read_write").await;
    assert_eq!(get(&sb, &firewall_only, "/networking/firewalls/settings").await.0, StatusCode::OK);
    assert_eq!(
        put(&sb, &firewall_only, "/networking/firewalls/settings", json!({ "default_firewall_ids": {} })).await.0,
        StatusCode::UNAUTHORIZED,
        "changing defaults needs account:read_write"
    );
}

#[tokio::test]
async fn firewalls_are_validated_as_linode_does() {
    let sb = start().await;
    let token = token(&sb, ALL_SCOPES).await;
    let (status, created) = post(&sb, &token, "/networking/firewalls", firewall_body("my-app", "22, 80, 443")).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["status"], "enabled");
    assert_eq!(created["rules"]["version"], 1);
    assert_eq!(created["rules"]["fingerprint"].as_str().expect("fingerprint").len(), 8);
    assert_eq!(created["entities"], json!([]));
    let id = created["id"].as_u64().expect("id");

    refused(post(&sb, &token, "/networking/firewalls", firewall_body("my-app", "22")).await, "label", "unique");
    refused(post(&sb, &token, "/networking/firewalls", firewall_body("ab", "22")).await, "label", "3-32");
    refused(post(&sb, &token, "/networking/firewalls", firewall_body("a--b", "22")).await, "label", "letter");
    refused(
        post(&sb, &token, "/networking/firewalls", firewall_body("bad-ports", "0")).await,
        "rules.inbound[0].ports",
        "1-65535",
    );
    refused(
        post(&sb, &token, "/networking/firewalls", firewall_body("bad-range", "90-80")).await,
        "rules.inbound[0].ports",
        "ascending",
    );
    let mut icmp = firewall_body("icmp-ports", "22");
    icmp["rules"]["inbound"][0]["protocol"] = json!("ICMP");
    refused(post(&sb, &token, "/networking/firewalls", icmp).await, "rules.inbound[0].ports", "TCP and UDP");
    let mut policy = firewall_body("bad-policy", "22");
    policy["rules"]["inbound_policy"] = json!("REJECT");
    refused(post(&sb, &token, "/networking/firewalls", policy).await, "rules.inbound_policy", "ACCEPT, DROP");
    let mut many = firewall_body("too-many", "22");
    many["rules"]["inbound"] = json!(vec![many["rules"]["inbound"][0].clone(); 26]);
    refused(post(&sb, &token, "/networking/firewalls", many).await, "rules", "at most 25");
    let mut address = firewall_body("bad-address", "22");
    address["rules"]["inbound"][0]["addresses"] = json!({ "ipv4": ["10.0.0.300/8"] });
    refused(
        post(&sb, &token, "/networking/firewalls", address).await,
        "rules.inbound[0].addresses.ipv4",
        "Invalid IPv4",
    );
    refused(
        post(&sb, &token, "/networking/firewalls", json!({ "rules": firewall_body("x", "1")["rules"] })).await,
        "label",
        "required",
    );

    // Listed, updated, rules replaced (version bumps), deleted.
    let (_, page) = get(&sb, &token, "/networking/firewalls").await;
    assert_eq!(page["results"], 1);
    let (status, updated) =
        put(&sb, &token, &format!("/networking/firewalls/{id}"), json!({ "status": "disabled", "label": "my-app-2" }))
            .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((updated["status"].as_str(), updated["label"].as_str()), (Some("disabled"), Some("my-app-2")));
    let rules = firewall_body("x", "8080")["rules"].clone();
    let (status, rules) = put(&sb, &token, &format!("/networking/firewalls/{id}/rules"), rules).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rules["version"], 2);
    assert_eq!(rules["inbound"][0]["ports"], "8080");
    let (status, _) = call(&sb, &token, reqwest::Method::DELETE, &format!("/networking/firewalls/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(get(&sb, &token, &format!("/networking/firewalls/{id}")).await.0, StatusCode::NOT_FOUND);

    // Scopes: firewall:read_write to create.
    let linodes_only = common::token(&sb, "linodes:read_write").await;
    let (status, body) = post(&sb, &linodes_only, "/networking/firewalls", firewall_body("nope", "22")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(reasons(&body)[0].1, sandbox::NOT_AUTHORIZED);
}

#[tokio::test]
async fn a_default_firewall_cannot_be_deleted_or_disabled() {
    let sb = start_with(config(AccountPreset::New2026)).await;
    let token = token(&sb, ALL_SCOPES).await;
    let default = get(&sb, &token, "/networking/firewalls/settings").await.1["default_firewall_ids"]["linode"].clone();
    let path = format!("/networking/firewalls/{default}");
    refused(call(&sb, &token, reqwest::Method::DELETE, &path, None).await, "id", "default firewall");
    refused(put(&sb, &token, &path, json!({ "status": "disabled" })).await, "status", "cannot be disabled");
}

#[tokio::test]
async fn interface_generation_follows_each_account_setting() {
    let sb = start_with(config(AccountPreset::New2026)).await;
    let token = token(&sb, ALL_SCOPES).await;
    let cases = [
        ("legacy_config_only", "legacy_config"),
        ("legacy_config_default_but_linode_allowed", "legacy_config"),
        ("linode_default_but_legacy_config_allowed", "linode"),
        ("linode_only", "linode"),
    ];
    for (n, (setting, generation)) in cases.into_iter().enumerate() {
        put(&sb, &token, "/account/settings", json!({ "interfaces_for_new_linodes": setting })).await;
        let mut body = create_body();
        body["label"] = json!(format!("omitted-{n}"));
        let (status, linode) = post(&sb, &token, "/linode/instances", body).await;
        assert_eq!(status, StatusCode::OK, "{setting}: {linode}");
        assert_eq!(linode["interface_generation"], generation, "{setting}");
        assert_eq!(linode["disk_encryption"], "enabled");
        assert_eq!(linode["maintenance_policy"], "linode/migrate");
        assert!(linode.get("locks").is_none(), "production sends locks on v4beta only");
    }

    // Asked for explicitly against the setting: refused with the field.
    put(&sb, &token, "/account/settings", json!({ "interfaces_for_new_linodes": "legacy_config_only" })).await;
    let mut body = create_body();
    body["interface_generation"] = json!("linode");
    body["interfaces"] = public_interface(json!(-1));
    refused(post(&sb, &token, "/linode/instances", body).await, "interface_generation", "legacy_config_only");
    put(&sb, &token, "/account/settings", json!({ "interfaces_for_new_linodes": "linode_only" })).await;
    let mut body = create_body();
    body["interface_generation"] = json!("legacy_config");
    refused(post(&sb, &token, "/linode/instances", body).await, "interface_generation", "linode_only");
    let mut body = create_body();
    body["interface_generation"] = json!("next");
    refused(post(&sb, &token, "/linode/instances", body).await, "interface_generation", "legacy_config, linode");
}

#[tokio::test]
async fn a_linode_interfaces_linode_without_a_public_interface_never_runs_with_a_public_address() {
    let sb = start_with(config(AccountPreset::New2026)).await;
    let token = token(&sb, ALL_SCOPES).await;
    // No interfaces at all on a new account: a Linode-Interfaces Linode with no network.
    let (status, bare) = post(&sb, &token, "/linode/instances", create_body()).await;
    assert_eq!(status, StatusCode::OK, "{bare}");
    assert_eq!(bare["interface_generation"], "linode");
    assert_eq!(bare["ipv4"], json!([]));
    assert_eq!(bare["ipv6"], Value::Null);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (_, later) = get(&sb, &token, &format!("/linode/instances/{}", bare["id"])).await;
    assert_eq!(later["status"], "offline", "it cannot boot");
    let (_, interfaces) = get(&sb, &token, &format!("/linode/instances/{}/interfaces", bare["id"])).await;
    assert_eq!(interfaces, json!({ "interfaces": [] }));

    // With a public interface it runs and has its address, behind the default firewall.
    let mut body = create_body();
    body["label"] = json!("with-public");
    body["interface_generation"] = json!("linode");
    body["interfaces"] = json!([{ "public": {}, "default_route": { "ipv4": true, "ipv6": true } }]);
    let (status, linode) = post(&sb, &token, "/linode/instances", body).await;
    assert_eq!(status, StatusCode::OK, "{linode}");
    assert_eq!(linode["ipv4"].as_array().expect("ipv4").len(), 1);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let id = linode["id"].as_u64().expect("id");
    assert_eq!(get(&sb, &token, &format!("/linode/instances/{id}")).await.1["status"], "running");
    let (status, interfaces) = get(&sb, &token, &format!("/linode/instances/{id}/interfaces")).await;
    assert_eq!(status, StatusCode::OK);
    let public = &interfaces["interfaces"][0];
    assert_eq!(public["public"]["ipv4"]["addresses"][0]["address"], linode["ipv4"][0]);
    assert_eq!(public["default_route"], json!({ "ipv4": true, "ipv6": true }));
    let (_, firewalls) = get(&sb, &token, &format!("/linode/instances/{id}/firewalls")).await;
    assert_eq!(firewalls["data"][0]["label"], sandbox::DEFAULT_FIREWALL_LABEL);
    assert_eq!(firewalls["data"][0]["entities"][0]["type"], "linode_interface");
    assert_eq!(firewalls["data"][0]["entities"][0]["parent_entity"]["id"], id);

    // A legacy Linode has no Linode Interfaces to list.
    let mut legacy = create_body();
    legacy["label"] = json!("legacy-one");
    legacy["interface_generation"] = json!("legacy_config");
    let legacy_id = post(&sb, &token, "/linode/instances", legacy).await.1["id"].clone();
    refused(
        get(&sb, &token, &format!("/linode/instances/{legacy_id}/interfaces")).await,
        "interface_generation",
        "legacy",
    );
}

#[tokio::test]
async fn firewall_ids_on_create_as_the_spec_describes() {
    let sb = start().await; // a 2024 account: no default firewall
    let token = token(&sb, ALL_SCOPES).await;
    let app = post(&sb, &token, "/networking/firewalls", firewall_body("my-app", "22,80")).await.1["id"]
        .as_u64()
        .expect("id");

    // Linode Interfaces, no default firewall, none named: the whole create fails.
    let mut body = create_body();
    body["interface_generation"] = json!("linode");
    body["interfaces"] = json!([{ "public": {} }]);
    refused(
        post(&sb, &token, "/linode/instances", body.clone()).await,
        "interfaces[0].firewall_id",
        "no default firewall",
    );
    assert!(sb.sandbox.inspect().instances.is_empty(), "nothing created");
    // -1 opts out; an id attaches that firewall to the interface.
    body["interfaces"] = public_interface(json!(-1));
    body["label"] = json!("no-firewall");
    assert_eq!(post(&sb, &token, "/linode/instances", body.clone()).await.0, StatusCode::OK);
    body["interfaces"] = public_interface(json!(app));
    body["label"] = json!("app-firewall");
    let (status, linode) = post(&sb, &token, "/linode/instances", body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{linode}");
    let inspected = sb.sandbox.inspect();
    let shown = inspected.instances.iter().find(|i| i.label == "app-firewall").expect("instance");
    assert_eq!(shown.firewall_ids, [app]);
    assert_eq!(shown.interface_generation, "linode");
    // Unknown firewall; a top-level firewall_id with Linode Interfaces; legacy shapes.
    body["interfaces"] = public_interface(json!(999));
    refused(
        post(&sb, &token, "/linode/instances", body.clone()).await,
        "interfaces[0].firewall_id",
        "Firewall 999 not found",
    );
    body["interfaces"] = public_interface(json!(-1));
    body["firewall_id"] = json!(app);
    refused(post(&sb, &token, "/linode/instances", body.clone()).await, "firewall_id", "legacy configuration");
    body.as_object_mut().expect("object").remove("firewall_id");
    body["interfaces"] = json!([{ "purpose": "public" }]);
    refused(post(&sb, &token, "/linode/instances", body.clone()).await, "interfaces[0]", "purpose");
    body["interfaces"] = json!([{ "public": {}, "vpc": { "subnet_id": 1 }, "firewall_id": -1 }]);
    refused(post(&sb, &token, "/linode/instances", body.clone()).await, "interfaces[0]", "Exactly one");

    // Legacy interfaces: firewall_id on the Linode; omitted means the default (none here).
    let mut legacy = create_body();
    legacy["interface_generation"] = json!("legacy_config");
    legacy["firewall_id"] = json!(app);
    legacy["label"] = json!("legacy-app");
    let (status, linode) = post(&sb, &token, "/linode/instances", legacy.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, firewalls) = get(&sb, &token, &format!("/linode/instances/{}/firewalls", linode["id"])).await;
    assert_eq!(firewalls["data"][0]["id"], app);
    let entities = firewalls["data"][0]["entities"].as_array().expect("entities");
    assert!(entities.iter().any(|e| e["type"] == "linode" && e["id"] == linode["id"]), "{entities:?}");
    assert!(entities.iter().any(|e| e["type"] == "linode_interface"), "the other Linode's interface too");
    legacy["interfaces"] = json!([{ "public": {} }]);
    legacy["label"] = json!("legacy-bad");
    refused(post(&sb, &token, "/linode/instances", legacy).await, "interfaces[0]", "legacy_config");

    // Replacing a legacy Linode's firewalls needs only linodes:read_write; one enabled at most.
    let linodes_only = common::token(&sb, "linodes:read_write").await;
    let path = format!("/linode/instances/{}/firewalls", linode["id"]);
    let other = post(&sb, &token, "/networking/firewalls", firewall_body("other-app", "443")).await.1["id"].clone();
    refused(
        put(&sb, &linodes_only, &path, json!({ "firewall_ids": [app, other] })).await,
        "firewall_ids",
        "only one active",
    );
    let (status, now) = put(&sb, &linodes_only, &path, json!({ "firewall_ids": [other] })).await;
    assert_eq!(status, StatusCode::OK, "{now}");
    assert_eq!(now["data"][0]["id"], other);
    assert_eq!(get(&sb, &token, &path).await.1["results"], 1);
    // A firewall in use by the Linode goes with it on DELETE.
    let (status, _) =
        call(&sb, &token, reqwest::Method::DELETE, &format!("/linode/instances/{}", linode["id"]), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(get(&sb, &token, &format!("/networking/firewalls/{other}")).await.1["entities"], json!([]));
    assert_eq!(get(&sb, &token, &path).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn devices_are_added_and_removed_one_active_firewall_each() {
    let sb = start().await;
    let token = token(&sb, ALL_SCOPES).await;
    let mut body = create_body();
    body["interface_generation"] = json!("legacy_config");
    let linode = post(&sb, &token, "/linode/instances", body).await.1["id"].as_u64().expect("id");
    let (_, first) = post(
        &sb,
        &token,
        "/networking/firewalls",
        json!({
            "label": "with-device", "rules": firewall_body("x", "22")["rules"], "devices": { "linodes": [linode] }
        }),
    )
    .await;
    assert_eq!(first["entities"][0]["id"], linode);
    let second = post(&sb, &token, "/networking/firewalls", firewall_body("second", "22")).await.1["id"].clone();
    refused(
        post(
            &sb,
            &token,
            &format!("/networking/firewalls/{second}/devices"),
            json!({ "id": linode, "type": "linode" }),
        )
        .await,
        "id",
        "already has an active firewall",
    );
    let (_, devices) = get(&sb, &token, &format!("/networking/firewalls/{}/devices", first["id"])).await;
    let device = devices["data"][0]["id"].clone();
    assert_eq!(devices["data"][0]["entity"]["url"], format!("/v4/linode/instances/{linode}"));
    let path = format!("/networking/firewalls/{}/devices/{device}", first["id"]);
    assert_eq!(call(&sb, &token, reqwest::Method::DELETE, &path, None).await.0, StatusCode::OK);
    let (status, added) = post(
        &sb,
        &token,
        &format!("/networking/firewalls/{second}/devices"),
        json!({ "id": linode, "type": "linode" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    refused(
        post(
            &sb,
            &token,
            &format!("/networking/firewalls/{second}/devices"),
            json!({ "id": 7, "type": "nodebalancer" }),
        )
        .await,
        "id",
        "NodeBalancer 7 not found",
    );
}

#[tokio::test]
async fn a_restricted_iam_user_cannot_create_a_linode() {
    let sb = start().await;
    let restricted = token_as(&sb, ALL_SCOPES, sandbox::RESTRICTED_USER).await;
    let (status, grants) = get(&sb, &restricted, "/profile/grants").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(grants["global"]["add_linodes"], false);
    let (status, body) = post(&sb, &restricted, "/linode/instances", create_body()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(reasons(&body), [(None, sandbox::FORBIDDEN.to_owned())]);
    assert_eq!(
        post(&sb, &restricted, "/networking/firewalls", firewall_body("nope", "22")).await.0,
        StatusCode::FORBIDDEN
    );
    assert!(sb.sandbox.inspect().instances.is_empty());
    assert!(sb.sandbox.inspect().firewalls.is_empty());

    // The unrestricted user (the page's default) gets 204: no grants to list.
    let admin = token_as(&sb, ALL_SCOPES, sandbox::UNRESTRICTED_USER).await;
    let response =
        http().get(format!("{}/profile/grants", sb.api_base())).bearer_auth(&admin).send().await.expect("grants");
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(post(&sb, &admin, "/linode/instances", create_body()).await.0, StatusCode::OK);

    // The consent page offers both.
    let page = http()
        .get(format!("{}/oauth/authorize", sb.login_base()))
        .query(&[("client_id", DEFAULT_CLIENT_ID), ("response_type", "code"), ("scopes", "linodes:read_write")])
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(page.contains(&format!("name=\"username\" value=\"{}\" checked", sandbox::UNRESTRICTED_USER)));
    assert!(page.contains(&format!("name=\"username\" value=\"{}\"", sandbox::RESTRICTED_USER)));
}

#[tokio::test]
async fn password_less_user_data_and_the_catalog_of_today() {
    use base64::Engine;
    let sb = start().await;
    let token = token(&sb, ALL_SCOPES).await;
    let key = {
        let mut blob = vec![0, 0, 0, 11];
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&[0, 0, 0, 32]);
        blob.extend_from_slice(&[7; 32]);
        format!("ssh-ed25519 {} me@host", base64::engine::general_purpose::STANDARD.encode(blob))
    };
    let mut keys_only = create_body();
    keys_only.as_object_mut().expect("object").remove("root_pass");
    keys_only["authorized_keys"] = json!([key]);
    keys_only["label"] = json!("keys-only");
    assert_eq!(post(&sb, &token, "/linode/instances", keys_only.clone()).await.0, StatusCode::OK);
    keys_only.as_object_mut().expect("object").remove("authorized_keys");
    refused(post(&sb, &token, "/linode/instances", keys_only).await, "root_pass", "required");

    let cloud_config = base64::engine::general_purpose::STANDARD.encode("#cloud-config\npackages: [nginx]\n");
    let mut with_data = create_body();
    with_data["metadata"] = json!({ "user_data": cloud_config });
    with_data["label"] = json!("with-data");
    let (status, linode) = post(&sb, &token, "/linode/instances", with_data.clone()).await;
    assert_eq!(status, StatusCode::OK, "{linode}");
    assert_eq!(linode["has_user_data"], true);
    with_data["label"] = json!("no-metadata");
    with_data["region"] = json!("ap-northeast");
    refused(
        post(&sb, &token, "/linode/instances", with_data.clone()).await,
        "metadata.user_data",
        "not available in this region",
    );
    with_data["region"] = json!("us-east");
    with_data["image"] = json!("linode/gentoo");
    with_data.as_object_mut().expect("object").remove("stackscript_id");
    refused(
        post(&sb, &token, "/linode/instances", with_data.clone()).await,
        "metadata.user_data",
        "does not support cloud-init",
    );
    with_data["image"] = json!("linode/debian12");
    with_data["metadata"] = json!({ "user_data": "not base64!" });
    refused(post(&sb, &token, "/linode/instances", with_data.clone()).await, "metadata.user_data", "base64");
    with_data["metadata"] = json!({ "user_data": "A".repeat(65_536) });
    refused(post(&sb, &token, "/linode/instances", with_data).await, "metadata.user_data", "65535");

    // StackScripts are not offered in a distributed region; disk encryption is asked where offered.
    let mut distributed = create_body();
    distributed["region"] = json!("us-den-edge-1");
    distributed["type"] = json!("g6-dedicated-2");
    refused(
        post(&sb, &token, "/linode/instances", distributed.clone()).await,
        "stackscript_id",
        "not available in this region",
    );
    distributed.as_object_mut().expect("object").remove("stackscript_id");
    distributed["disk_encryption"] = json!("enabled");
    refused(post(&sb, &token, "/linode/instances", distributed).await, "disk_encryption", "not available");

    let regions: Value =
        http().get(format!("{}/regions", sb.api_base())).send().await.expect("regions").json().await.expect("json");
    let regions = regions["data"].as_array().expect("data");
    let edge = regions.iter().find(|r| r["site_type"] == "distributed").expect("a distributed region");
    assert!(!edge["capabilities"].as_array().expect("caps").contains(&json!("StackScripts")));
    assert!(regions.iter().any(|r| !r["capabilities"].as_array().expect("caps").contains(&json!("Metadata"))));
    let types: Value = http()
        .get(format!("{}/linode/types?page_size=500", sb.api_base()))
        .send()
        .await
        .expect("types")
        .json()
        .await
        .expect("json");
    assert!(types["data"].as_array().expect("data").iter().any(|t| t["class"] == "gpu"
        && t["price"]["monthly"] == 0.0
        && !t["region_prices"].as_array().expect("prices").is_empty()));
    let images: Value =
        http().get(format!("{}/images", sb.api_base())).send().await.expect("images").json().await.expect("json");
    let images = images["data"].as_array().expect("data");
    assert!(images.iter().any(|i| i["deprecated"] == true));
    assert!(images.iter().any(|i| i["eol"].as_str().is_some_and(|eol| eol < "2026-06-01")), "one past its end of life");
    assert!(images.iter().any(|i| !i["capabilities"].as_array().expect("caps").contains(&json!("cloud-init"))));
}

/// Serves the installed apps on a loopback port; returns its address.
async fn serve_apps(sb: &RunningSandbox) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let router = sb.sandbox.installed_app_router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

#[tokio::test]
async fn the_installed_app_answers_only_through_its_firewall_and_public_interface() {
    let mut config = config(AccountPreset::New2026);
    config.timings.app_ready = Some(Duration::ZERO);
    let sb = start_with(config).await;
    let apps = serve_apps(&sb).await;
    let token = token(&sb, ALL_SCOPES).await;
    // Behind the account's default firewall (SSH only): port 80 is dropped.
    let mut body = create_body();
    body["interface_generation"] = json!("linode");
    body["interfaces"] = json!([{ "public": {} }]);
    body["label"] = json!("behind-default");
    let (_, linode) = post(&sb, &token, "/linode/instances", body.clone()).await;
    let ip = linode["ipv4"][0].as_str().expect("ip").to_owned();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let ask = |host: String| async move {
        http().get(format!("http://{apps}/")).header("Host", host).send().await.expect("app").status()
    };
    assert_eq!(ask(format!("{ip}:80")).await, StatusCode::BAD_GATEWAY, "dropped by the default firewall");
    let address: std::net::Ipv4Addr = ip.parse().expect("ip");
    assert!(!sb.sandbox.app_answers(address));
    assert!(sb.sandbox.app_answers_on((address, 22).into()), "SSH is accepted");

    // The app's own firewall accepts 80: first match wins.
    let own = post(&sb, &token, "/networking/firewalls", firewall_body("app-web", "22,80")).await.1["id"].clone();
    body["interfaces"] = public_interface(own);
    body["label"] = json!("behind-own");
    let (_, linode) = post(&sb, &token, "/linode/instances", body.clone()).await;
    let ip = linode["ipv4"][0].as_str().expect("ip").to_owned();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(ask(ip.clone()).await, StatusCode::OK);
    assert_eq!(ask(format!("{ip}:443")).await, StatusCode::BAD_GATEWAY, "443 is not declared");
    let inspected = sb.sandbox.inspect();
    assert!(inspected.instances.iter().find(|i| i.label == "behind-own").expect("own").app_answering);
    assert!(!inspected.instances.iter().find(|i| i.label == "behind-default").expect("default").app_answering);

    // Disabled, the firewall lets everything through; a rule for one address only does not
    // let an outside probe in.
    let own_id = inspected.firewalls.iter().find(|f| f.label == "app-web").expect("fw").id;
    let mut narrow = firewall_body("x", "80")["rules"].clone();
    narrow["inbound"][0]["addresses"] = json!({ "ipv4": ["198.51.100.9/32"] });
    put(&sb, &token, &format!("/networking/firewalls/{own_id}/rules"), narrow).await;
    assert_eq!(ask(ip.clone()).await, StatusCode::BAD_GATEWAY);
    put(&sb, &token, &format!("/networking/firewalls/{own_id}"), json!({ "status": "disabled" })).await;
    assert_eq!(ask(ip).await, StatusCode::OK);
}

#[tokio::test]
async fn rate_limits_of_2026_per_class_and_switchable_off() {
    let sb = start().await;
    let images = format!("{}/images", sb.api_base());
    for n in 0..20 {
        let response = http().get(&images).send().await.expect("images");
        assert_eq!(response.status(), StatusCode::OK, "request {n}");
        assert_eq!(response.headers()["x-ratelimit-limit"], "20");
    }
    let refused = http().get(&images).send().await.expect("images");
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"].to_str().expect("ascii").parse().expect("secs");
    assert!((1..=60).contains(&retry));
    assert_eq!(reasons(&refused.json().await.expect("json")), [(None, "Too many requests".to_owned())]);
    // Other classes count apart.
    let regions = http().get(format!("{}/regions", sb.api_base())).send().await.expect("regions");
    assert_eq!(regions.status(), StatusCode::OK);
    assert_eq!(regions.headers()["x-ratelimit-limit"], "200");
    let one = http().get(format!("{images}/linode/debian12")).send().await.expect("image");
    assert_eq!(one.headers()["x-ratelimit-limit"], "1600");

    let off = start_with(Config { rate_limits: sandbox::RateLimits::off(), ..fast_config() }).await;
    for _ in 0..30 {
        let response = http().get(format!("{}/images", off.api_base())).send().await.expect("images");
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers().get("x-ratelimit-limit").is_none());
    }
}

#[tokio::test]
async fn unknown_routes_answer_linodes_json_404() {
    let sb = start().await;
    for path in ["/v4/nothing/here", "/v4/linode/instances/1/configs/2/unknown", "/v4/networking/vpcs"] {
        let response = http().get(format!("{}{path}", sb.root_url())).send().await.expect("get");
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("application/json"));
        let body: Value = response.json().await.expect("json");
        assert_eq!(body, json!({ "errors": [{ "reason": "Not found" }] }));
    }
}

#[tokio::test]
async fn users_and_rate_limits_are_set_through_the_admin_listener() {
    let sb = start().await;
    let admin = sb.admin_url();
    // A restricted user given the Linode creator role may create.
    let users = json!([{ "username": "creator", "restricted": true, "roles": ["account_linode_creator"] },
                       { "username": "viewer", "restricted": true, "roles": ["account_event_viewer"] }]);
    let set = http().put(format!("{admin}/__sandbox/users")).json(&users).send().await.expect("users");
    assert_eq!(set.status(), StatusCode::OK);
    let creator = token_as(&sb, "linodes:read_write", "creator").await;
    assert_eq!(post(&sb, &creator, "/linode/instances", create_body()).await.0, StatusCode::OK);
    let viewer = token_as(&sb, "linodes:read_write", "viewer").await;
    assert_eq!(post(&sb, &viewer, "/linode/instances", create_body()).await.0, StatusCode::FORBIDDEN);

    let limits = json!({ "create_linode": { "requests": 1, "window": { "secs": 60, "nanos": 0 } },
                         "list_images": null, "list_stackscripts": null, "paginated_list": null, "other": null });
    assert_eq!(
        http().put(format!("{admin}/__sandbox/rate-limits")).json(&limits).send().await.expect("limits").status(),
        StatusCode::OK
    );
    let mut body = create_body();
    body["label"] = json!("one-only");
    assert_eq!(post(&sb, &creator, "/linode/instances", body.clone()).await.0, StatusCode::OK);
    body["label"] = json!("two-refused");
    assert_eq!(post(&sb, &creator, "/linode/instances", body).await.0, StatusCode::TOO_MANY_REQUESTS);
    let shown: Value =
        http().get(format!("{admin}/__sandbox/rate-limits")).send().await.expect("limits").json().await.expect("json");
    assert_eq!(shown, limits);
}

#[tokio::test]
async fn firewall_defaults_take_null_as_linode_api4_sends_it_and_profiles_say_restricted() {
    let sb = start_with(config(AccountPreset::New2026)).await;
    let token = token(&sb, ALL_SCOPES).await;
    let all = json!({ "default_firewall_ids": { "linode": null, "nodebalancer": null, "public_interface": null, "vpc_interface": null } });
    let (status, set) = put(&sb, &token, "/networking/firewalls/settings", all).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["default_firewall_ids"]["linode"], Value::Null);
    refused(
        put(&sb, &token, "/networking/firewalls/settings", json!({ "default_firewall_ids": { "linode": "three" } }))
            .await,
        "default_firewall_ids.linode",
        "Must be a firewall id",
    );
    let restricted = token_as(&sb, "linodes:read_only", sandbox::RESTRICTED_USER).await;
    assert_eq!(get(&sb, &restricted, "/profile").await.1["restricted"], true);
    assert_eq!(get(&sb, &token, "/profile").await.1["restricted"], false);
}

#[tokio::test]
async fn the_default_account_is_a_new_2026_one() {
    let sb = sandbox::spawn(Config::default()).await.expect("sandbox");
    let token = token(&sb, ALL_SCOPES).await;
    let (_, settings) = get(&sb, &token, "/account/settings").await;
    assert_eq!(settings["interfaces_for_new_linodes"], "linode_default_but_legacy_config_allowed");
    let (_, defaults) = get(&sb, &token, "/networking/firewalls/settings").await;
    assert!(defaults["default_firewall_ids"]["linode"].as_u64().is_some());
    // A 2024-style create on it: a Linode-Interfaces Linode with no interface, behind nothing.
    let (_, linode) = post(&sb, &token, "/linode/instances", create_body()).await;
    assert_eq!((linode["interface_generation"].as_str(), linode["ipv4"].clone()), (Some("linode"), json!([])));
}
