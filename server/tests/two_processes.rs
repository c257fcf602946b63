//! Two server processes that share nothing but `SESSION_KEY` (as behind a load balancer), both
//! talking to one standalone sandbox: a deployment started on the first finishes on the second.

mod support;

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use support::{browser, hidden_inputs, location};

const SESSION_KEY: &str = "two-processes-session-key-0123456789abcdef0123456789abcdef";

/// A `server` process, killed when dropped.
struct ServerProcess {
    child: Child,
    base: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn start_server(port: u16, public_base: &str, sandbox: &sandbox::RunningSandbox) -> ServerProcess {
    // Each process has a SQLite store of its own: they share nothing but the key.
    let data = support::temp_dir("two-processes");
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("DATA_DIR", &data)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_OUTPUT_NAME", "install-on-linode")
        .env("LEPTOS_SITE_ROOT", std::env::temp_dir().join("install-on-linode-no-site"))
        .env("LEPTOS_HASH_FILES", "false")
        .env("PUBLIC_BASE_URL", public_base)
        .env("APP_NAME", "Test App")
        .env("LINODE_CLIENT_ID", sandbox::DEFAULT_CLIENT_ID)
        .env("LINODE_CLIENT_SECRET", sandbox::DEFAULT_CLIENT_SECRET)
        .env("LINODE_LOGIN_URL", sandbox.login_base())
        .env("LINODE_API_URL", sandbox.api_base())
        .env("LINODE_STACKSCRIPT_ID", sandbox::STACKSCRIPT_NO_INPUT.to_string())
        .env("SESSION_KEY", SESSION_KEY)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let mut server = ServerProcess { child, base: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(server.child.try_wait().unwrap().is_none(), "the server on port {port} exited");
        if client.get(format!("{}/healthz", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        assert!(Instant::now() < deadline, "the server on port {port} did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_deployment_started_on_one_process_finishes_on_the_other() {
    let (port_a, port_b) = (free_port(), free_port());
    // Both processes stand behind one public address; Linode knows only that one.
    let public_base = format!("http://127.0.0.1:{port_a}");
    let client = sandbox::ClientConfig {
        redirect_uri: format!("{public_base}/auth/callback"),
        ..sandbox::ClientConfig::default()
    };
    let mut config = sandbox::Config { clients: vec![client], ..Default::default() };
    config.timings.provisioning = Duration::from_millis(300);
    config.timings.booting = Duration::from_millis(300);
    let sandbox = sandbox::spawn(config).await.unwrap();
    let a = start_server(port_a, &public_base, &sandbox).await;
    let b = start_server(port_b, &public_base, &sandbox).await;
    let browser = browser();

    // The form post and the login on A.
    let response = browser
        .post(format!("{}/api/start_deploy", a.base))
        .header("Accept", "text/html")
        .header("Referer", format!("{}/", a.base))
        .form(&[("plan", "g6-nanode-1"), ("region", "us-east"), ("image", "linode/debian12")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let authorize = location(&response);
    assert!(authorize.starts_with(&sandbox.login_base()), "{authorize}");
    let consent = browser.get(&authorize).send().await.unwrap().text().await.unwrap();
    let mut form = hidden_inputs(&consent);
    form.extend(
        [("username", "tester"), ("scope", "linodes:read_write"), ("decision", "approve")]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let response = browser.post(&authorize).form(&form).send().await.unwrap();
    let callback = location(&response);
    assert!(callback.starts_with(&format!("{public_base}/auth/callback?")), "{callback}");

    // Linode's redirect reaches B instead; B holds no memory of the flow, only the key.
    let callback_on_b = callback.replacen(&public_base, &b.base, 1);
    let response = browser.get(&callback_on_b).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/deployment");
    // Outcomes live in the store of the process that ran the callback.
    let html = browser.get(format!("{}/deployment", b.base)).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"deployed\""), "{html}");

    let inspection = sandbox.sandbox.inspect();
    assert_eq!(inspection.instances.len(), 1);
    assert_eq!(inspection.tokens.len(), 1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !sandbox.sandbox.inspect().tokens.iter().all(|t| t.revoked) {
        assert!(Instant::now() < deadline, "the token was not revoked");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop((a, b));
}
