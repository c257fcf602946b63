//! Following a new Linode from `provisioning` to `running`, so the success view can show it coming
//! up. One task per deployment (on whichever replica holds its token) polls Linode and writes what
//! it sees to the store; browsers, on any replica, read that, so open tabs cost Linode nothing.
//! The token is given up as soon as the Linode runs, the person stops watching, the time bound
//! passes or the server shuts down, whichever comes first.

use std::time::Duration;

use linode::{AccessToken, ApiClient};

use super::{
    ids::{JournalId, OutcomeId},
    store::{now_ms, Store},
};
use domain::{InstanceStatus, Progress, Readiness};

/// How the following is paced and bounded.
#[derive(Clone, Copy, Debug)]
pub struct FollowLimits {
    /// Time between two reads of the Linode.
    pub poll: Duration,
    /// The longest the token is kept after the Linode was created.
    pub bound: Duration,
    /// With no browser asking for this long, the person has left: stop.
    pub idle: Duration,
}

impl Default for FollowLimits {
    fn default() -> Self {
        Self { poll: Duration::from_secs(3), bound: Duration::from_secs(10 * 60), idle: Duration::from_secs(30) }
    }
}

/// A Linode being followed with its deployment's token.
pub struct Followed {
    pub(crate) journal: JournalId,
    pub(crate) outcome: OutcomeId,
    pub(crate) linode_id: u64,
    pub(crate) token: AccessToken,
    /// Milliseconds since the epoch after which following stops.
    until: i64,
}

impl Followed {
    pub fn new(journal: JournalId, outcome: OutcomeId, linode_id: u64, token: AccessToken, bound: Duration) -> Self {
        let until = now_ms() + i64::try_from(bound.as_millis()).unwrap_or(i64::MAX);
        Self { journal, outcome, linode_id, token, until }
    }

    /// Resumes following a token taken over from the journal, within the bound it was given.
    pub fn resumed(journal: JournalId, outcome: OutcomeId, linode_id: u64, token: AccessToken, until: i64) -> Self {
        Self { journal, outcome, linode_id, token, until }
    }

    /// Polls until the Linode runs or a limit is reached; returns why it stopped.
    pub async fn follow(&self, api: &ApiClient, store: &Store, limits: FollowLimits) -> &'static str {
        let mut last: Option<Progress> = None;
        loop {
            tokio::time::sleep(limits.poll).await;
            let now = now_ms();
            if now >= self.until {
                return "time bound reached";
            }
            match store.watched_at(&self.outcome).await {
                Ok(Some(seen)) if now - seen >= i64::try_from(limits.idle.as_millis()).unwrap_or(i64::MAX) => {
                    return "nobody is watching";
                }
                Ok(_) => {}
                // Not knowing whether anyone watches is no reason to stop: the bound still holds.
                Err(error) => tracing::warn!(%error, "could not read when the outcome was last watched"),
            }
            match api.instance(&self.token, self.linode_id).await {
                Ok(instance) => {
                    let status = InstanceStatus::from(instance.status.as_str());
                    let ipv4 = instance.public_ipv4().map(str::to_owned).or(last.as_ref().and_then(|p| p.ipv4.clone()));
                    let progress = Progress { status: status.clone(), ipv4, following: true, app: Default::default() };
                    if last.as_ref() != Some(&progress) {
                        if let Err(error) = store.set_progress(&self.outcome, &progress).await {
                            tracing::warn!(%error, "could not record the Linode's progress");
                        }
                        last = Some(progress);
                    }
                    if status == InstanceStatus::Running {
                        return "running";
                    }
                    if status.is_not_coming_up() {
                        return "not coming up";
                    }
                }
                // A brief failure is retried on the next tick; a lasting one (revoked token,
                // deleted Linode) ends the following.
                Err(error) if error.is_retryable() => tracing::warn!(%error, "reading the Linode failed; will retry"),
                Err(error) => {
                    tracing::warn!(%error, "reading the Linode failed; stopping");
                    return "Linode refused the read";
                }
            }
        }
    }

    /// Tells browsers the server no longer follows (nor holds access to) the Linode, and, in the
    /// same write, what `app` says of its application (so a page never sees a moment with
    /// neither going on). Returns the Linode's last progress.
    pub async fn finish(&self, store: &Store, app: impl FnOnce(&Progress) -> Readiness) -> Option<Progress> {
        let mut progress = store.progress(&self.outcome).await.ok().flatten()?;
        progress.following = false;
        progress.app = app(&progress);
        if let Err(error) = store.set_progress(&self.outcome, &progress).await {
            tracing::warn!(%error, "could not record that following stopped");
        }
        Some(progress)
    }
}
