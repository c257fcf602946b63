//! Revoking access tokens off the person's critical path, retried when Linode is briefly unwell.

use std::time::Duration;

use linode::{AccessToken, LoginClient};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Owns every live token's way out: tokens are revoked right away, or held by a background task
/// (see `progress`) that must end in a revoke, which shutdown waits for.
#[derive(Clone)]
pub struct Revoker {
    login: LoginClient,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Revoker {
    pub fn new(login: LoginClient) -> Self {
        Self { login, tasks: TaskTracker::new(), shutdown: CancellationToken::new() }
    }

    /// Revokes `token` in the background; the caller answers the person without waiting.
    pub fn revoke_later(&self, token: AccessToken) {
        let login = self.login.clone();
        self.tasks.spawn(async move { revoke_with_retries(&login, &token).await });
    }

    /// Runs `work` with `token` in the background, then revokes it whatever `work` did. `work`
    /// should end early once [`Self::shutting_down`] fires.
    pub fn hold<F>(&self, token: AccessToken, work: impl FnOnce(AccessToken) -> F)
    where
        F: std::future::Future<Output = AccessToken> + Send + 'static,
    {
        let login = self.login.clone();
        let work = work(token);
        self.tasks.spawn(async move {
            let token = work.await;
            revoke_with_retries(&login, &token).await;
        });
    }

    /// Fires when the server starts shutting down: tokens held for later must be given up now.
    pub fn shutting_down(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Ends held work and waits for revocations still running (graceful shutdown), at most `limit`.
    pub async fn drain(&self, limit: Duration) {
        self.shutdown.cancel();
        self.tasks.close();
        let _ = tokio::time::timeout(limit, self.tasks.wait()).await;
    }
}

async fn revoke_with_retries(login: &LoginClient, token: &AccessToken) {
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        match login.revoke(token).await {
            Ok(()) => {
                tracing::info!(attempt, "access token revoked");
                return;
            }
            Err(error) if attempt < ATTEMPTS => {
                tracing::warn!(attempt, %error, "token revocation failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(error) => {
                // The token still expires on its own after two hours.
                tracing::error!(attempt, %error, "token revocation failed; giving up");
            }
        }
    }
}
