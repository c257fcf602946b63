//! Revoking access tokens off the person's critical path, retried when Linode is briefly unwell.

use std::time::Duration;

use linode::{AccessToken, LoginClient};

const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub struct Revoker {
    login: LoginClient,
    tasks: tokio_util::task::TaskTracker,
}

impl Revoker {
    pub fn new(login: LoginClient) -> Self {
        Self { login, tasks: tokio_util::task::TaskTracker::new() }
    }

    /// Revokes `token` in the background; the caller answers the person without waiting.
    pub fn revoke_later(&self, token: AccessToken) {
        let login = self.login.clone();
        self.tasks.spawn(async move { revoke_with_retries(&login, &token).await });
    }

    /// Waits for revocations still running (graceful shutdown), at most `limit`.
    pub async fn drain(&self, limit: Duration) {
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
