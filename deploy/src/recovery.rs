//! The store's upkeep, on every replica: renew the leases of the tokens this replica holds, take
//! over tokens whose holder is gone (killed, out of memory, rebooted, cut off from the database)
//! and finish what it left — follow the Linode again while inside the follow bound, else revoke —
//! record an outcome for flows whose request died before it journaled a token, and forget what
//! has expired.

use std::{sync::Arc, time::Duration};

use domain::Outcome;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    follower::Followed,
    ids::{OutcomeId, ReplicaId},
    revoke::Revoker,
    runner::FlowRunner,
    settings::DeploySettings,
    store::{now_ms, Backend, JournalEntry, Resealed, Store},
};

/// How often the upkeep runs; a lapsed lease is taken over within this much of lapsing.
const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Tokens taken over per sweep, so one replica does not take everything at once.
const TAKE_PER_SWEEP: u32 = 50;
/// A claim this old without an outcome or a journaled token belongs to a request that died
/// before it could create anything (the code exchange is bounded well below this).
const ORPHAN_AGE: Duration = Duration::from_secs(90);
/// Expired rows are removed every this many sweeps.
const PURGE_EVERY: u32 = 12;

/// The replica's upkeep: renews its leases, takes over the tokens of replicas that died and
/// finishes their flows (with the [`FlowRunner`]'s own steps), records flows that died before
/// journaling anything, and removes expired rows.
pub(crate) struct Upkeep {
    runner: Arc<FlowRunner>,
    store: Arc<Store>,
    settings: DeploySettings,
    replica: ReplicaId,
    revoker: Revoker,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Upkeep {
    pub(crate) fn new(
        runner: Arc<FlowRunner>,
        store: Arc<Store>,
        settings: DeploySettings,
        replica: ReplicaId,
        revoker: Revoker,
        tasks: TaskTracker,
        shutdown: CancellationToken,
    ) -> Self {
        Self { runner, store, settings, replica, revoker, tasks, shutdown }
    }

    /// Runs until shutdown: leases renewed every third of a lease, a sweep every few seconds.
    pub(crate) async fn maintain(self: Arc<Self>) {
        // After a SESSION_KEY rotation, what the previous key sealed is sealed again with the
        // new one first, so the previous key is needed by nothing stored once this has run.
        match self.store.reseal().await {
            Ok(Resealed { resealed: 0, unreadable: 0 }) => {}
            Ok(Resealed { resealed, unreadable }) => tracing::warn!(
                resealed,
                unreadable,
                "rows sealed with a previous SESSION_KEY are now sealed with the current one"
            ),
            Err(error) => tracing::error!(%error, "could not seal stored rows again with the current SESSION_KEY"),
        }
        // A SQLite file has one server process: whatever another holder left is from a process
        // that is gone, so it is taken over now rather than when its lease lapses.
        if self.store.backend() == Backend::Sqlite {
            match self.store.lapse_others(&self.replica).await {
                Ok(0) => {}
                Ok(count) => tracing::warn!(count, "taking over tokens left by a previous run"),
                Err(error) => tracing::error!(%error, "could not read the token journal at start-up"),
            }
        }
        // Leases are renewed on their own beat, so a slow sweep cannot let this replica's own
        // tokens lapse while it still works on them.
        let this = self.clone();
        self.tasks.spawn(async move {
            loop {
                this.renew().await;
                tokio::select! {
                    () = tokio::time::sleep(this.settings.lease / 3) => {}
                    () = this.shutdown.cancelled() => return,
                }
            }
        });
        let mut sweeps: u32 = 0;
        loop {
            self.sweep(sweeps).await;
            sweeps = sweeps.wrapping_add(1);
            tokio::select! {
                () = tokio::time::sleep(SWEEP_EVERY) => {}
                () = self.shutdown.cancelled() => return,
            }
        }
    }

    pub(crate) async fn renew(&self) {
        match self.store.renew_leases(&self.replica, self.settings.lease).await {
            Ok(held) => super::metrics::tokens_held(held),
            Err(error) => tracing::warn!(%error, "could not renew this replica's token leases"),
        }
    }

    async fn sweep(self: &Arc<Self>, sweeps: u32) {
        match self.store.take_over_lapsed(&self.replica, self.settings.lease, TAKE_PER_SWEEP).await {
            Ok(taken) => {
                for entry in taken {
                    match entry {
                        Ok(entry) => {
                            let this = self.clone();
                            self.tasks.spawn(async move { this.recover(entry).await });
                        }
                        // Sealed with another SESSION_KEY (a replica configured differently)
                        // or altered: refused, and left for a replica that can read it.
                        // The embedded sandbox starts empty and with a new key each run: what an
                        // earlier run journaled names tokens of a sandbox that is gone.
                        Err((id, _)) if self.settings.sandbox => {
                            tracing::info!("dropping a token journaled by an earlier run of the embedded sandbox");
                            let _ = self.store.forget_token(&id).await;
                        }
                        Err((id, error)) => {
                            tracing::error!(%error, "a journaled token cannot be read here");
                            super::metrics::journal_unreadable();
                            let _ = self.store.defer_token(&id, Duration::from_secs(600)).await;
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "could not look for tokens to take over"),
        }
        match self.store.orphan_claims(ORPHAN_AGE).await {
            Ok(orphans) => {
                for id in orphans {
                    self.runner.record_interrupted(&id, None).await;
                }
            }
            Err(error) => tracing::warn!(%error, "could not look for interrupted flows"),
        }
        if sweeps.is_multiple_of(PURGE_EVERY) {
            if let Err(error) = self.store.purge_expired().await {
                tracing::warn!(%error, "could not remove expired rows");
            }
        }
    }

    /// The id of the Linode the outcome `id` records as deployed, if it does.
    async fn recorded_linode(&self, id: &OutcomeId) -> Option<u64> {
        match self.store.outcome(id).await {
            Ok(Some(stored)) => match stored.outcome {
                Outcome::Deployed(linode) => Some(linode.id),
                Outcome::Failed(_) => None,
            },
            _ => None,
        }
    }

    /// Finishes what the token's previous holder left.
    async fn recover(self: Arc<Self>, entry: JournalEntry) {
        let JournalEntry { id, outcome_id, held, linode_id, follow_until, created_at: entry_created_at } = entry;
        let settles_ms = i64::try_from(self.settings.create_settles.as_millis()).unwrap_or(i64::MAX);
        tracing::info!(?linode_id, "took over a journaled token");
        // The flow journals the Linode's id only after the person has their result, so a holder
        // killed just then leaves it only in the stored outcome, written before the result.
        let linode_id = match linode_id {
            Some(linode_id) => Some(linode_id),
            None => {
                let recorded = self.recorded_linode(&outcome_id).await;
                if let Some(recorded) = recorded {
                    let _ = self.store.journal_linode(&id, recorded).await;
                }
                recorded
            }
        };
        let linode_id = match linode_id {
            Some(linode_id) => Some(linode_id),
            // The create call may still be running on its holder (a lease can lapse during a
            // slow call): decide nothing before that call must have ended.
            None if now_ms() < entry_created_at + settles_ms => {
                let wait = Duration::from_millis(u64::try_from(entry_created_at + settles_ms - now_ms()).unwrap_or(0));
                let _ = self.store.defer_token(&id, wait).await;
                return;
            }
            // The holder died around the create call: ask Linode whether the Linode exists.
            None => match self.runner.find_created(&held).await {
                Ok(Some(instance)) => {
                    let linode = self.runner.describe(&instance, held.ssh_keys).await;
                    self.runner.record_deployed(&outcome_id, &linode, held.root_password.as_ref()).await;
                    let _ = self.store.journal_linode(&id, instance.id).await;
                    Some(instance.id)
                }
                Ok(None) => {
                    // No Linode: nor should its firewall be left, if one was made.
                    self.runner.discard_firewall(&held).await;
                    self.runner.record_interrupted(&outcome_id, None).await;
                    None
                }
                Err(error) if error.is_retryable() => {
                    tracing::warn!(%error, "could not ask Linode about an interrupted deployment; later");
                    let _ = self.store.defer_token(&id, SWEEP_EVERY * 2).await;
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "Linode refused to say whether an interrupted deployment created anything");
                    self.runner.record_interrupted(&outcome_id, Some(held.label.clone())).await;
                    None
                }
            },
        };
        let Some(linode_id) = linode_id else {
            self.revoker.revoke(Some(&id), &held.access).await;
            return;
        };
        let followed = Followed::resumed(id, outcome_id, linode_id, held.access, follow_until);
        if now_ms() < follow_until {
            self.runner.follow_then_revoke(followed).await;
        } else {
            self.revoker.revoke(Some(&followed.journal), &followed.token).await;
            followed.finish(&self.store, |_| domain::Readiness::NotChecked).await;
        }
    }
}
