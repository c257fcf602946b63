//! The real `server` binary as a child process (killed with SIGKILL when dropped), in "real"
//! mode against a standalone sandbox: what crash and replica tests need.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub(crate) const SESSION_KEY: &str = "process-tests-session-key-0123456789abcdef0123456789abcdef";

pub(crate) struct ServerProcess {
    child: Child,
    pub base: String,
    pub port: u16,
}

impl ServerProcess {
    /// Starts the server on `port` with the real-mode environment plus `extra`, and waits until
    /// it answers `/healthz`.
    pub(crate) async fn start(
        port: u16,
        public_base: &str,
        sandbox: &sandbox::RunningSandbox,
        extra: &[(&str, String)],
    ) -> Self {
        let child = command(port, public_base, sandbox, extra).spawn().expect("the server binary starts");
        let mut server = ServerProcess { child, base: format!("http://127.0.0.1:{port}"), port };
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

    /// SIGKILL: no graceful shutdown, nothing flushed, as an OOM kill or a power cut.
    pub(crate) fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `server` binary with the real-mode environment plus `extra` (stdout discarded).
pub(crate) fn command(
    port: u16,
    public_base: &str,
    sandbox: &sandbox::RunningSandbox,
    extra: &[(&str, String)],
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .env_clear()
        .envs(testkit::server_env(port, "Test App", SESSION_KEY, sandbox))
        .env("LEPTOS_SITE_ROOT", std::env::temp_dir().join("install-on-linode-no-site"))
        .env("LEPTOS_HASH_FILES", "false")
        .env("PUBLIC_BASE_URL", public_base)
        .env("FOLLOW_POLL_SECS", "0.2")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (key, value) in extra {
        command.env(key, value);
    }
    command
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A sandbox on its own port whose only client sends people back to `public_base`.
pub(crate) async fn standalone_sandbox(
    public_base: &str,
    provisioning: Duration,
    booting: Duration,
) -> sandbox::RunningSandbox {
    let client = sandbox::ClientConfig {
        redirect_uri: format!("{public_base}/auth/callback"),
        ..sandbox::ClientConfig::default()
    };
    let mut config = sandbox::Config { clients: vec![client], ..Default::default() };
    config.timings.provisioning = provisioning;
    config.timings.booting = booting;
    sandbox::spawn(config).await.expect("sandbox")
}

/// Waits until no token the sandbox issued is alive, or panics after `limit`.
pub(crate) async fn await_all_revoked(sandbox: &sandbox::Sandbox, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let tokens = sandbox.inspect().tokens;
        if tokens.iter().all(|t| t.revoked) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "{} of {} tokens still alive after {limit:?}",
            tokens.iter().filter(|t| !t.revoked).count(),
            tokens.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn live_tokens(sandbox: &sandbox::Sandbox) -> usize {
    sandbox.inspect().tokens.iter().filter(|t| !t.revoked).count()
}

/// One person's flow against `base`, which is also the public address: see [`until_callback_on`].
pub(crate) async fn until_callback(browser: &reqwest::Client, base: &str) -> (String, String) {
    until_callback_on(browser, base, base, &["linodes:read_write"]).await
}

/// [`until_callback`], leaving `scopes` ticked on the consent page.
pub(crate) async fn until_callback_granting(
    browser: &reqwest::Client,
    base: &str,
    scopes: &[&str],
) -> (String, String) {
    until_callback_on(browser, base, base, scopes).await
}

/// One person's flow against `base` (any replica) behind `public_base` (the address the browser
/// is on, hence its `Referer`): the form post, then the consent on the sandbox's page with
/// `scopes` left ticked. Returns the authorize URL the form sent the browser to, and the callback
/// URL Linode's redirect carries (to the public address).
pub(crate) async fn until_callback_on(
    browser: &reqwest::Client,
    base: &str,
    public_base: &str,
    scopes: &[&str],
) -> (String, String) {
    let response = browser
        .post(format!("{base}/api/start_deploy"))
        .header("Accept", "text/html")
        .header("Referer", format!("{public_base}/"))
        .form(&[("plan", "g6-nanode-1"), ("region", "us-east"), ("image", "linode/debian12")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::FOUND);
    let authorize = super::location(&response);
    let consent = browser.get(&authorize).send().await.unwrap().text().await.unwrap();
    let mut form = testkit::hidden_inputs(&consent);
    form.extend([("username", "tester"), ("decision", "approve")].map(|(k, v)| (k.to_owned(), v.to_owned())));
    form.extend(scopes.iter().map(|scope| ("scope".to_owned(), (*scope).to_owned())));
    let callback = super::location(&browser.post(&authorize).form(&form).send().await.unwrap());
    (authorize, callback)
}
