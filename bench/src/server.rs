//! The release server as a child process, configured like a production server whose "Linode" is
//! the benchmark's sandbox.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use sandbox::RunningSandbox;

use crate::Result;

/// A 64-character key shared by every server the benchmark starts.
const SESSION_KEY: &str = "bench-session-key-0123456789abcdef0123456789abcdef0123456789abcd";
pub(crate) const APP_NAME: &str = "Bench App";

pub(crate) struct ServerProcess {
    child: Child,
    pub base: String,
}

impl ServerProcess {
    /// Registers the sandbox client for a fresh port, starts the server there and waits until it
    /// answers `/healthz`.
    /// `store` names the deploy flow's store: `DATA_DIR` (SQLite) or `DATABASE_URL`.
    pub(crate) async fn start(
        exe: &Path,
        site_root: &Path,
        sandbox: &RunningSandbox,
        store: (&str, &str),
    ) -> Result<Self> {
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        sandbox.sandbox.register_client(sandbox::ClientConfig {
            id: sandbox::DEFAULT_CLIENT_ID.to_owned(),
            secret: sandbox::DEFAULT_CLIENT_SECRET.to_owned(),
            redirect_uri: format!("{base}/auth/callback"),
            label: APP_NAME.to_owned(),
            public: false,
        });
        // The per-address limits are off: wrk and the simulated visitors all come from 127.0.0.1.
        let child = Command::new(exe)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(testkit::server_env(port, APP_NAME, SESSION_KEY, sandbox))
            .env("LEPTOS_SITE_ROOT", site_root)
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_ENV", "PROD")
            .env(store.0, store.1)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", exe.display()))?;
        let mut server = Self { child, base };
        server.wait_ready().await?;
        Ok(server)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory (`VmRSS`) and its peak so far (`VmHWM`), in KiB.
    pub(crate) fn memory_kib(&self) -> Option<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find(|line| line.starts_with(name))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        };
        Some((field("VmRSS:")?, field("VmHWM:")?))
    }

    async fn wait_ready(&mut self) -> Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Err(format!("the server exited during start-up: {status}").into());
            }
            if client.get(self.url("/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err("the server did not answer /healthz within 20 s".into())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// `path` made absolute against the current directory.
pub(crate) fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().map(|dir| dir.join(path)).unwrap_or_else(|_| path.to_owned())
    }
}
