//! Following a new Linode from `provisioning` to `running`, so the success view can show it coming
//! up. One background task per deployment polls Linode with the deployment's token; browsers only
//! read what that task last saw, so any number of open tabs cost Linode nothing more. The token is
//! revoked as soon as the Linode runs, the person stops watching, the time bound passes or the
//! server shuts down, whichever comes first.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use linode::{AccessToken, ApiClient};
use tokio::sync::watch;

use super::{context, outcome::OutcomeId, revoke::Revoker, session::OUTCOME_COOKIE};
use crate::{error::AppError, model::Progress};

/// Beyond this many followed deployments the oldest are forgotten; it bounds memory under abuse.
const CAPACITY: usize = 50_000;

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

struct Followed {
    progress: watch::Receiver<Progress>,
    last_seen: Arc<Mutex<Instant>>,
    since: Instant,
}

pub struct ProgressBoard {
    api: ApiClient,
    limits: FollowLimits,
    /// Kept viewable this long after the deployment, like its outcome.
    ttl: Duration,
    followed: Mutex<HashMap<OutcomeId, Followed>>,
}

impl ProgressBoard {
    pub fn new(api: ApiClient, limits: FollowLimits, ttl: Duration) -> Self {
        Self { api, limits, ttl, followed: Mutex::default() }
    }

    /// Starts following Linode `linode_id` for outcome `id`; `token` is revoked when it ends.
    pub fn follow(&self, revoker: &Revoker, id: &OutcomeId, linode_id: u64, first: Progress, token: AccessToken) {
        let (sender, receiver) = watch::channel(first);
        let last_seen = Arc::new(Mutex::new(Instant::now()));
        {
            let mut followed = self.followed.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if followed.len() >= CAPACITY / 2 {
                followed.retain(|_, entry| entry.since.elapsed() <= self.ttl);
            }
            while followed.len() >= CAPACITY {
                let Some(oldest) = followed.iter().min_by_key(|(_, e)| e.since).map(|(k, _)| k.clone()) else { break };
                followed.remove(&oldest);
            }
            followed.insert(id.clone(), Followed { progress: receiver, last_seen: last_seen.clone(), since: Instant::now() });
        }
        let api = self.api.clone();
        let limits = self.limits;
        let shutdown = revoker.shutting_down();
        revoker.hold(token, move |token| async move {
            let started = Instant::now();
            let stop = tokio::select! {
                stop = follow(&api, &token, linode_id, limits, &sender, &last_seen, started) => stop,
                () = shutdown.cancelled() => "server shutting down",
            };
            tracing::info!(linode_id, stop, elapsed_ms = started.elapsed().as_millis() as u64, "stopped following the Linode");
            sender.send_modify(|progress| progress.following = false);
            token
        });
    }

    /// What the follower last saw for outcome `id`; asking counts as the person still watching.
    pub fn view(&self, id: &OutcomeId) -> Option<Progress> {
        let followed = self.followed.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = followed.get(id)?;
        if entry.since.elapsed() > self.ttl {
            return None;
        }
        *entry.last_seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now();
        let progress = entry.progress.borrow().clone();
        Some(progress)
    }
}

/// Polls until the Linode runs or a limit is reached; returns why it stopped.
async fn follow(
    api: &ApiClient,
    token: &AccessToken,
    linode_id: u64,
    limits: FollowLimits,
    sender: &watch::Sender<Progress>,
    last_seen: &Mutex<Instant>,
    started: Instant,
) -> &'static str {
    loop {
        tokio::time::sleep(limits.poll).await;
        if started.elapsed() >= limits.bound {
            return "time bound reached";
        }
        let idle = last_seen.lock().map(|seen| seen.elapsed()).unwrap_or_default();
        if idle >= limits.idle {
            return "nobody is watching";
        }
        match api.instance(token, linode_id).await {
            Ok(instance) => {
                let status = instance.status.clone();
                sender.send_modify(|progress| {
                    progress.status = status.clone();
                    progress.ipv4 = instance.public_ipv4().map(str::to_owned).or(progress.ipv4.take());
                });
                match status.as_str() {
                    "running" => return "running",
                    "offline" | "stopped" | "deleting" => return "not coming up",
                    _ => {}
                }
            }
            // A brief failure is retried on the next tick; a lasting one (revoked token, deleted
            // Linode) ends the following.
            Err(error) if error.is_retryable() => tracing::warn!(%error, "reading the Linode failed; will retry"),
            Err(error) => {
                tracing::warn!(%error, "reading the Linode failed; stopping");
                return "Linode refused the read";
            }
        }
    }
}

/// Body of the `deployment_progress` server function.
pub async fn deployment_progress() -> Result<Option<Progress>, AppError> {
    let deploy = context::deploy()?;
    let parts: http::request::Parts = leptos_axum::extract()
        .await
        .map_err(|error| AppError::Transport(error.to_string()))?;
    let Some(id) = deploy.sealer.open::<OutcomeId>(&parts.headers, OUTCOME_COOKIE) else {
        return Ok(None);
    };
    Ok(deploy.progress.view(&id))
}
