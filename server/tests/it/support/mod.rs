//! Spawns the real server (with its embedded sandbox) on a random port and drives it over HTTP
//! the way a browser would: cookies kept, redirects followed by hand so each hop can be checked.

#![allow(dead_code)] // logs.rs uses a few of these helpers, the `it` binary all of them

pub(crate) mod postgres;
pub(crate) mod process;

use std::collections::HashMap;

use leptos::prelude::LeptosOptions;
use reqwest::{header::LOCATION, redirect::Policy, Client, Response, StatusCode};
use server::{Application, Config};

pub(crate) const CLIENT_SECRET: &str = "test-client-secret-0123456789abcdef0123456789abcdef";

pub(crate) struct TestApp {
    pub base: String,
    pub sandbox: sandbox::Sandbox,
    /// The embedded sandbox's admin endpoints (loopback only, never on `base`).
    pub sandbox_admin: String,
    pub browser: Client,
}

pub(crate) async fn spawn_app(extra: &[(&str, &str)]) -> TestApp {
    let (app, application) = build_app(extra).await;
    tokio::spawn(application.run_until(std::future::pending()));
    app
}

/// A server that stops when `stop` is sent; `server` ends when its shutdown has finished.
pub(crate) struct StoppableApp {
    pub app: TestApp,
    pub stop: tokio::sync::oneshot::Sender<()>,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub(crate) async fn spawn_stoppable_app(extra: &[(&str, &str)]) -> StoppableApp {
    let (app, application) = build_app(extra).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async {
        let _ = stopped.await;
    }));
    StoppableApp { app, stop, server }
}

async fn build_app(extra: &[(&str, &str)]) -> (TestApp, Application) {
    let mut vars: HashMap<String, String> = HashMap::from([
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        ("APP_NAME".into(), "Test App".into()),
        ("SANDBOX_CLIENT_SECRET".into(), CLIENT_SECRET.into()),
        ("SANDBOX_PROVISIONING_SECS".into(), "0.3".into()),
        ("SANDBOX_BOOTING_SECS".into(), "0.3".into()),
        // Follow new Linodes closely so tests see them reach `running` quickly.
        ("FOLLOW_POLL_SECS".into(), "0.1".into()),
    ]);
    for (key, value) in extra {
        vars.insert((*key).into(), (*value).into());
    }
    // Each server gets a store of its own, unless the test names one: a database in the
    // cluster scripts/with-postgres.sh started, or else a SQLite file.
    if !vars.contains_key("DATABASE_URL") && !vars.contains_key("DATA_DIR") {
        match std::env::var("TEST_POSTGRES_PORT") {
            Ok(port) => {
                let url = postgres::database_on(port.parse().expect("TEST_POSTGRES_PORT is a port"));
                vars.insert("DATABASE_URL".into(), url);
            }
            Err(_) => {
                vars.insert("DATA_DIR".into(), temp_dir("data").display().to_string());
            }
        }
    }
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("valid test configuration");
    let options = LeptosOptions::builder().output_name("install-on-linode").build();
    let application = Application::build(config, options).await.expect("the app starts");
    let base = format!("http://{}", application.local_addr());
    let sandbox = application.sandbox().expect("no credentials means the embedded sandbox").clone();
    let sandbox_admin = application.sandbox_admin_url().expect("the embedded sandbox has an admin listener");
    (TestApp { base, sandbox, sandbox_admin, browser: browser() }, application)
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh, empty directory under the system's temp dir (left for the OS to clean).
pub(crate) fn temp_dir(what: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "iol-test-{what}-{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos() as u64)
}

/// The `data-kind` of the failure the result page shows.
pub(crate) fn failure_kind(html: &str) -> Option<&str> {
    let start = html.find("data-kind=\"")? + "data-kind=\"".len();
    Some(&html[start..start + html[start..].find('"')?])
}

/// The text of the element marked `data-testid="{testid}"`, tags stripped.
pub(crate) fn testid_text(html: &str, testid: &str) -> Option<String> {
    let marker = format!("data-testid=\"{testid}\"");
    let start = html.find(&marker)?;
    let open_end = html[start..].find('>')? + start + 1;
    let close = html[open_end..].find('<')? + open_end;
    Some(html[open_end..close].replace("&amp;", "&").trim().to_owned())
}

/// The name of the app's state in a progress answer: `"not_checked"`, or the key of
/// `{"ready": {…}}`.
pub(crate) fn app_state_name(app: &serde_json::Value) -> &str {
    app.as_str().or_else(|| app.as_object().and_then(|state| state.keys().next()).map(String::as_str)).unwrap_or("")
}

/// See [`TestApp::refused`], for any client.
pub(crate) async fn refused_with(client: &Client, callback: &str) -> String {
    let response = client.get(callback).send().await.expect("callback");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "a refused callback answers 400 itself");
    assert!(response.headers().get("set-cookie").is_none(), "a refused callback touches no cookie");
    response.text().await.expect("refusal page")
}

/// A cookie-keeping client that does not follow redirects.
pub(crate) fn browser() -> Client {
    // A request that hangs fails the test with its URL instead of hanging the suite.
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("client")
}

pub(crate) fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{} without Location", response.status()))
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Posts the deploy form as a browser without WASM does.
    pub(crate) async fn submit_form(&self, plan: &str, region: &str, image: &str) -> Response {
        self.browser
            .post(self.url("/api/start_deploy"))
            .header("Accept", "text/html")
            .header("Referer", self.url("/"))
            .form(&[("plan", plan), ("region", region), ("image", image)])
            .send()
            .await
            .expect("form post")
    }

    /// Posts any form fields as a browser without WASM does.
    pub(crate) async fn submit(&self, fields: &[(&str, &str)]) -> Response {
        self.browser
            .post(self.url("/api/start_deploy"))
            .header("Accept", "text/html")
            .header("Referer", self.url("/"))
            .form(fields)
            .send()
            .await
            .expect("form post")
    }

    /// What the success view's follower reports (the hydrated page asks this every two seconds).
    pub(crate) async fn progress(&self) -> serde_json::Value {
        let response = self
            .browser
            .post(self.url("/api/deployment_progress"))
            .header("Origin", &self.base)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send()
            .await
            .expect("progress");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("progress json")
    }

    /// Submits the form and returns Linode's (the sandbox's) authorize URL.
    pub(crate) async fn start(&self) -> String {
        let response = self.submit_form("g6-nanode-1", "us-east", "linode/debian12").await;
        assert_eq!(response.status(), StatusCode::FOUND);
        let authorize = location(&response);
        assert!(authorize.contains("/sandbox/login/oauth/authorize?"), "{authorize}");
        authorize
    }

    /// Answers the consent page; `scopes` are the boxes left ticked. Returns the callback URL.
    pub(crate) async fn consent(&self, authorize: &str, decision: &str, scopes: &[&str]) -> String {
        self.consent_as(authorize, "tester", decision, scopes).await
    }

    /// Answers the consent page signed in as `username` (the sandbox's `sandbox-restricted` is
    /// a restricted IAM user who may not create Linodes; other names are unrestricted).
    pub(crate) async fn consent_as(&self, authorize: &str, username: &str, decision: &str, scopes: &[&str]) -> String {
        let page = self.browser.get(authorize).send().await.expect("consent page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("consent html");
        let mut form: Vec<(String, String)> = testkit::hidden_inputs(&html);
        form.push(("username".into(), username.into()));
        for scope in scopes {
            form.push(("scope".into(), (*scope).into()));
        }
        form.push(("decision".into(), decision.into()));
        let response = self.browser.post(authorize).form(&form).send().await.expect("consent post");
        assert!(response.status().is_redirection(), "consent answered {}", response.status());
        location(&response)
    }

    /// A token for the embedded sandbox's account with `scopes`, got the way any client of the
    /// login server gets one (consent page, code, exchange) over its loopback listener: how a
    /// test sets the account up through Linode's own API (settings, firewalls).
    pub(crate) async fn account_token(&self, scopes: &[&str]) -> String {
        let http = browser();
        let authorize = format!("{}/login/oauth/authorize", self.sandbox_admin);
        let joined = scopes.join(" ");
        let query = [("client_id", sandbox::DEFAULT_CLIENT_ID), ("response_type", "code"), ("scopes", joined.as_str())];
        let html = http.get(&authorize).query(&query).send().await.expect("page").text().await.expect("html");
        let mut form = testkit::hidden_inputs(&html);
        form.push(("decision".into(), "approve".into()));
        form.extend(scopes.iter().map(|scope| ("scope".to_owned(), (*scope).to_owned())));
        let answer = http.post(&authorize).query(&query).form(&form).send().await.expect("consent");
        let location = reqwest::Url::parse(&location(&answer)).expect("callback URL");
        let code = location.query_pairs().find(|(name, _)| name == "code").expect("a code").1.into_owned();
        let token: serde_json::Value = http
            .post(format!("{}/login/oauth/token", self.sandbox_admin))
            .form(&[("client_id", sandbox::DEFAULT_CLIENT_ID), ("client_secret", CLIENT_SECRET), ("code", &code)])
            .send()
            .await
            .expect("exchange")
            .json()
            .await
            .expect("token json");
        token["access_token"].as_str().expect("a token").to_owned()
    }

    /// Revokes a token got with [`TestApp::account_token`], as its client would.
    pub(crate) async fn revoke_account_token(&self, token: &str) {
        let revoked = browser()
            .post(format!("{}/login/oauth/revoke", self.sandbox_admin))
            .form(&[("client_id", sandbox::DEFAULT_CLIENT_ID), ("client_secret", CLIENT_SECRET), ("token", token)])
            .send()
            .await
            .expect("revoke");
        assert_eq!(revoked.status(), StatusCode::OK);
    }

    /// A call to the embedded sandbox's API v4 with `token`; the status and JSON body.
    pub(crate) async fn sandbox_api(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let mut request = browser().request(method, format!("{}/v4{path}", self.sandbox_admin)).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("sandbox call");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// Follows the callback; returns the page it redirects to (`/deployment`), rendered.
    pub(crate) async fn finish(&self, callback: &str) -> String {
        let response = self.browser.get(callback).send().await.expect("callback");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "callback status");
        assert_eq!(location(&response), "/deployment");
        self.result_page().await
    }

    /// Follows a callback that is not this browser's flow: answered directly (400) with the
    /// failure page, no cookie set or removed. Returns the page.
    pub(crate) async fn refused(&self, callback: &str) -> String {
        refused_with(&self.browser, callback).await
    }

    pub(crate) async fn result_page(&self) -> String {
        let page = self.browser.get(self.url("/deployment")).send().await.expect("result page");
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers().get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
        page.text().await.expect("result html")
    }

    /// The whole flow with the consent approved as asked: every permission the login page
    /// requests left ticked, as a person who accepts its defaults does.
    pub(crate) async fn deploy(&self) -> String {
        self.deploy_granting(&["linodes:read_write", "firewall:read_write"]).await
    }

    /// The whole flow with only `scopes` left ticked on the consent page (without
    /// `firewall:read_write`, the Linode gets the account's default firewall).
    pub(crate) async fn deploy_granting(&self, scopes: &[&str]) -> String {
        let authorize = self.start().await;
        let callback = self.consent(&authorize, "approve", scopes).await;
        self.finish(&callback).await
    }

    /// Asks the progress endpoint until the app's state is `state` (see [`app_state_name`]), at
    /// most `limit`.
    pub(crate) async fn app_state_until(&self, limit: std::time::Duration, state: &str) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let progress = self.progress().await;
            if app_state_name(&progress["app"]) == state {
                return progress;
            }
            assert!(tokio::time::Instant::now() < deadline, "the app's state stayed {progress}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Gives the embedded sandbox's account, through Linode's own API and with `token`
    /// (`account:read_write firewall:read_write`), a default firewall for Linodes and public
    /// interfaces that accepts SSH only (what a new 2026 account may have); returns its id.
    pub(crate) async fn ssh_only_default_firewall(&self, token: &str) -> u64 {
        let rules = serde_json::json!({
            "inbound_policy": "DROP",
            "inbound": [{ "action": "ACCEPT", "protocol": "TCP", "ports": "22", "addresses": { "ipv4": ["0.0.0.0/0"] } }],
            "outbound_policy": "ACCEPT",
            "outbound": []
        });
        let firewall = serde_json::json!({ "label": "ssh-only", "rules": rules });
        let (_, created) =
            self.sandbox_api(token, reqwest::Method::POST, "/networking/firewalls", Some(firewall)).await;
        let id = created["id"].as_u64().expect("a firewall");
        let defaults = serde_json::json!({ "default_firewall_ids": { "linode": id, "public_interface": id } });
        let (status, _) =
            self.sandbox_api(token, reqwest::Method::PUT, "/networking/firewalls/settings", Some(defaults)).await;
        assert_eq!(status, StatusCode::OK);
        id
    }

    pub(crate) async fn assert_all_tokens_revoked_within(&self, limit: std::time::Duration) {
        process::await_all_revoked(&self.sandbox, limit).await;
    }

    /// Waits until every token the sandbox issued is revoked (revocation runs after the response).
    pub(crate) async fn assert_all_tokens_revoked(&self) {
        for _ in 0..100 {
            let inspection = self.sandbox.inspect();
            if inspection.tokens.iter().all(|token| token.revoked) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("tokens left alive: {:?}", self.sandbox.inspect().tokens);
    }
}
