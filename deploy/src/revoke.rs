//! Revoking access tokens, retried when Linode is briefly unwell. A journaled token's row is
//! removed only once Linode confirmed the revocation; when it cannot be confirmed, the row is
//! handed back to the journal for a later attempt by any replica.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use linode::{AccessToken, LoginClient};
use tokio_util::task::TaskTracker;

use std::sync::Arc;

use super::{ids::JournalId, store::Store};

const ATTEMPTS: usize = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// When every attempt failed: how long before the journal offers the token again.
const RETRY_LATER: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Revoker {
    login: LoginClient,
    store: Arc<Store>,
    tasks: TaskTracker,
}

impl Revoker {
    pub fn new(login: LoginClient, store: Arc<Store>, tasks: TaskTracker) -> Self {
        Self { login, store, tasks }
    }

    /// Revokes `token` and, once confirmed, forgets its journal row. Returns whether Linode
    /// confirmed it.
    pub async fn revoke(&self, journal: Option<&JournalId>, token: &AccessToken) -> bool {
        let store = &self.store;
        let revoked = revoke_with_retries(&self.login, token).await;
        super::metrics::token_revocation(revoked);
        match (journal, revoked) {
            (Some(id), true) => {
                if let Err(error) = store.forget_token(id).await {
                    // The row stays; whoever takes it over revokes again, which Linode accepts.
                    tracing::warn!(%error, "could not remove a revoked token from the journal");
                }
            }
            (Some(id), false) => {
                if let Err(error) = store.defer_token(id, RETRY_LATER).await {
                    tracing::warn!(%error, "could not hand an unrevoked token back to the journal");
                }
            }
            (None, true) => {}
            (None, false) => tracing::error!("an unjournaled token could not be revoked; it expires on its own"),
        }
        revoked
    }

    /// Revokes in the background, off the person's critical path.
    pub fn revoke_later(&self, journal: Option<JournalId>, token: AccessToken) {
        let revoker = self.clone();
        self.tasks.spawn(async move {
            revoker.revoke(journal.as_ref(), &token).await;
        });
    }
}

async fn revoke_with_retries(login: &LoginClient, token: &AccessToken) -> bool {
    let backoff = ExponentialBuilder::default().with_min_delay(FIRST_BACKOFF).with_max_times(ATTEMPTS - 1);
    let revoked = (|| login.revoke(token))
        .retry(backoff)
        .notify(|error, wait| tracing::warn!(%error, wait_ms = wait.as_millis() as u64, "token revocation failed; retrying"))
        .await;
    match revoked {
        Ok(()) => {
            tracing::info!("access token revoked");
            true
        }
        Err(error) => {
            tracing::error!(%error, "token revocation failed; the journal keeps the token");
            false
        }
    }
}
