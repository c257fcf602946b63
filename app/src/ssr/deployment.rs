//! Step 3, detached from the request: exchange the code (with the client secret, server-side
//! only), journal the token before anything is created with it, check the granted scopes,
//! create the Linode, record the outcome, then follow the Linode to `running` and revoke the
//! token. It runs as a task on the server's tracker, so a browser that gives up half-way does
//! not cancel it, and graceful shutdown waits for it.

use std::{net::Ipv4Addr, sync::Arc, time::Duration};

use backon::{ExponentialBuilder, Retryable};
use linode::{CreateInstance, Instance, ScopeLevel};
use secrecy::SecretString;
use tokio::sync::watch;

use super::{
    credentials,
    failure::{retry_link, FlowFailure},
    flow::PendingFlow,
    ids::OutcomeId,
    linode_request,
    progress::Followed,
    service::ResultRef,
    store::{HeldToken, NewJournalEntry, StoreError},
    DeployService,
};
use crate::model::{DeployedLinode, InstanceStatus, Outcome, Progress, Readiness};

/// Writing a new Linode's outcome is retried this many times: giving up loses the one-time view
/// of its root password.
const RECORD_ATTEMPTS: usize = 4;

/// What the flow hands on: the browser's result, and the Linode to follow, if one was created.
pub(super) struct Ran {
    result: ResultRef,
    follow: Option<Followed>,
}

impl DeployService {
    /// Starts the flow of outcome `id` as a task; the receiver gets its result.
    pub(super) fn spawn_flow(
        self: &Arc<Self>,
        id: OutcomeId,
        flow: PendingFlow,
        code: String,
    ) -> watch::Receiver<Option<ResultRef>> {
        let (sender, receiver) = watch::channel(None);
        self.running.insert(&id, receiver.clone());
        let this = self.clone();
        self.tasks.spawn(async move {
            let ran = this.run_flow(&id, &flow, &code).await;
            sender.send_replace(Some(ran.result));
            this.running.remove(&id);
            if let Some(followed) = ran.follow {
                this.follow_then_revoke(followed).await;
            }
        });
        receiver
    }

    async fn run_flow(self: &Arc<Self>, id: &OutcomeId, flow: &PendingFlow, code: &str) -> Ran {
        let grant = match self.login.exchange_code(code, &self.settings.redirect_uri, flow.pkce().as_ref()).await {
            Ok(grant) => grant,
            Err(error) => return self.record_failure(id, FlowFailure::Exchange(error), Some(&flow.selection)).await,
        };
        let selection = &flow.selection;
        let held = HeldToken {
            access: grant.access_token,
            refresh: grant.refresh_token,
            root_password: credentials::root_password(),
            label: selection
                .label
                .clone()
                .unwrap_or_else(|| credentials::linode_label(&self.settings.app_name, &selection.region)),
            ssh_keys: selection.authorized_keys.len(),
        };
        // Journaled before anything is done with it: from here on, a crash leaves the token to
        // whichever replica takes it over.
        let entry = NewJournalEntry {
            outcome_id: id,
            held: &held,
            holder: &self.replica,
            lease: self.settings.lease,
            follow_bound: self.settings.follow.bound,
        };
        let journal = match self.store.journal_token(entry).await {
            Ok(journal) => journal,
            Err(error) => {
                tracing::error!(%error, "could not journal the token; revoking it before anything is created");
                self.revoker.revoke(None, &held.access).await;
                let failure = FlowFailure::StoreUnavailable(error.to_string());
                return Ran { result: self.shown_for(failure, Some(selection)), follow: None };
            }
        };
        // A lease can lapse (a stalled database, a paused process): then another replica owns
        // the token, and creating with it here could contradict what that replica decides.
        if !self.store.holds(&journal, &self.replica).await.unwrap_or(false) {
            tracing::warn!("lost the token's lease before creating; leaving it to its new holder");
            return Ran { result: self.shown(FlowFailure::StillRunning), follow: None };
        }
        if !grant.scopes.allows("linodes", ScopeLevel::ReadWrite) {
            self.revoker.revoke_later(Some(journal), held.access);
            return self.record_failure(id, FlowFailure::InsufficientScope, Some(selection)).await;
        }
        let request =
            linode_request::create_instance(&self.settings, selection, held.label.clone(), held.root_password.clone());
        let instance = match self.create(&request, &held).await {
            Ok(instance) => instance,
            // The call may have reached Linode (a timeout, a broken connection, a 5xx, an
            // unreadable answer): look for the Linode before saying it does not exist.
            Err(FlowFailure::Create(error)) if error.may_have_happened() => match self.created_anyway(&held).await {
                Some(instance) => instance,
                None => {
                    self.revoker.revoke_later(Some(journal), held.access);
                    return self.record_failure(id, FlowFailure::Create(error), Some(selection)).await;
                }
            },
            Err(failure) => {
                self.revoker.revoke_later(Some(journal), held.access);
                return self.record_failure(id, failure, Some(selection)).await;
            }
        };
        tracing::info!(linode_id = instance.id, "deployment succeeded");
        super::metrics::deploy_completed();
        let mut linode = self.describe(&instance, held.ssh_keys).await;
        linode.extra_grant = grant.scopes.beyond("linodes");
        linode.sent = Some(linode_request::described(&request, selection));
        if !linode.extra_grant.is_empty() {
            tracing::warn!(extra = ?linode.extra_grant, "Linode granted more than was asked for");
        }
        let result = self.record_deployed(id, &linode, &held.root_password).await;
        if let Err(error) = self.store.journal_linode(&journal, instance.id).await {
            // Recovery can still find the Linode by its label.
            tracing::warn!(%error, "could not note the new Linode's id in the journal");
        }
        let follow = Followed::new(journal, id.clone(), instance.id, held.access, self.settings.follow.bound);
        Ran { result, follow: Some(follow) }
    }

    /// The Linode a create call that failed in transit made after all, if it did: ours has the
    /// label we chose and the app's tag.
    async fn created_anyway(&self, held: &HeldToken) -> Option<Instance> {
        let tag = credentials::app_tag(&self.settings.app_name);
        match self.api.instances_labelled(&held.access, &held.label).await {
            Ok(found) => found.into_iter().find(|instance| instance.tags.contains(&tag)),
            Err(error) => {
                tracing::warn!(%error, "could not check whether the failed create made a Linode");
                None
            }
        }
    }

    async fn create(&self, request: &CreateInstance, held: &HeldToken) -> Result<Instance, FlowFailure> {
        self.api.create_instance(&held.access, request).await.map_err(FlowFailure::Create)
    }

    /// The new Linode as the person reads it: human names from the cached catalog, the ids as a
    /// fallback.
    pub(super) async fn describe(&self, instance: &Instance, ssh_keys: usize) -> DeployedLinode {
        let catalog = self.catalog.get().await.ok();
        let form = catalog.as_ref().map(|c| &c.form);
        let plan = form.and_then(|f| f.plan(&instance.type_id)).map(|p| p.label.clone());
        let region = form.and_then(|f| f.region(&instance.region)).map(|r| r.description());
        let image = instance.image.clone().unwrap_or_default();
        let image = form.and_then(|f| f.image(&image)).map_or(image, |i| i.label.clone());
        DeployedLinode {
            id: instance.id,
            label: instance.label.clone(),
            tags: instance.tags.clone(),
            plan: plan.unwrap_or_else(|| instance.type_id.clone()),
            region: region.unwrap_or_else(|| instance.region.clone()),
            image,
            ipv4: instance.public_ipv4().map(str::to_owned),
            status: InstanceStatus::from(instance.status.as_str()),
            root_password: None,
            password_kept: false,
            ssh_keys,
            extra_grant: Vec::new(),
            checks_app: self.prober.is_some(),
            app: Readiness::NotChecked,
            sent: None,
        }
    }

    /// Stores a new Linode's outcome, retrying a little: the Linode exists, and only the stored
    /// outcome can show its root password.
    pub(super) async fn record_deployed(
        &self,
        id: &OutcomeId,
        linode: &DeployedLinode,
        root_password: &SecretString,
    ) -> ResultRef {
        let progress = Progress {
            status: linode.status.clone(),
            ipv4: linode.ipv4.clone(),
            following: true,
            app: Readiness::NotChecked,
        };
        let outcome = Outcome::Deployed(linode.clone());
        let put =
            || self.store.put_outcome(id, &outcome, Some(root_password), Some(&progress), self.settings.outcome_ttl);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(250))
            .with_max_times(RECORD_ATTEMPTS - 1);
        let recorded = put
            .retry(backoff)
            .notify(|error: &StoreError, _| tracing::warn!(%error, "could not record the new Linode's outcome"))
            .await;
        match recorded {
            Ok(_) => ResultRef::Stored(id.clone()),
            Err(error) => {
                tracing::error!(%error, "gave up recording a new Linode's outcome");
                self.shown(FlowFailure::NotRecorded { label: linode.label.clone() })
            }
        }
    }

    /// Stores a failure, so a replay anywhere finds it; shown directly if the store is down.
    /// Also how recovery records an interrupted flow (it has no request to hand the result to).
    pub(super) async fn record_failure(
        &self,
        id: &OutcomeId,
        failure: FlowFailure,
        retry: Option<&crate::selection::Selection>,
    ) -> Ran {
        tracing::info!(kind = %failure.kind(), %failure, "deployment did not happen");
        super::metrics::deploy_failed(failure.kind());
        let mut view = failure.to_view(&self.texts());
        view.retry = retry.map(|selection| retry_link(selection, &self.sealer, Some(id)));
        let result = match self
            .store
            .put_outcome(id, &Outcome::Failed(view.clone()), None, None, self.settings.outcome_ttl)
            .await
        {
            Ok(_) => ResultRef::Stored(id.clone()),
            Err(error) => {
                tracing::warn!(%error, "could not record a failed deployment");
                ResultRef::Shown(view)
            }
        };
        Ran { result, follow: None }
    }

    /// Follows the Linode until it runs or a limit is reached, then revokes the token; then,
    /// without it, checks whether the application answers (when a check is configured).
    pub(super) async fn follow_then_revoke(&self, followed: Followed) {
        let stop = tokio::select! {
            stop = followed.follow(&self.api, &self.store, self.settings.follow) => stop,
            () = self.shutdown.cancelled() => "server shutting down",
        };
        tracing::info!(linode_id = followed.linode_id, stop, "stopped following the Linode");
        self.revoker.revoke(Some(&followed.journal), &followed.token).await;
        let check = self.prober.as_ref().filter(|_| !self.shutdown.is_cancelled());
        let slot = check.and_then(|prober| prober.slot());
        let address = |progress: &Progress| {
            let running = progress.status == InstanceStatus::Running;
            progress.ipv4.as_deref().and_then(|ip| ip.parse::<Ipv4Addr>().ok()).filter(|_| running)
        };
        // A deployment followed again (its token taken over after a failed revocation) may have
        // been checked already: that check stands, and no second one starts.
        let mut fresh = false;
        let last = followed
            .finish(&self.store, |progress| match (check, &slot, address(progress), &progress.app) {
                (_, _, _, app) if *app != Readiness::NotChecked => app.clone(),
                (Some(prober), Some(_), Some(_), _) => {
                    fresh = true;
                    prober.installing()
                }
                _ => Readiness::NotChecked,
            })
            .await;
        if check.is_some() && slot.is_none() {
            tracing::warn!("too many deployments being checked; not checking this one's application");
        }
        let (Some(prober), Some(_slot), Some(progress), true) = (check, slot, last, fresh) else { return };
        let Some(ip) = address(&progress) else { return };
        let record = |state: Readiness| {
            let (store, outcome, mut progress) = (self.store.clone(), followed.outcome.clone(), progress.clone());
            async move {
                progress.app = state;
                if let Err(error) = store.set_progress(&outcome, &progress).await {
                    tracing::warn!(%error, "could not record whether the application answers");
                }
            }
        };
        // At shutdown nothing is concluded: the page sees the check abandoned once it stops
        // being renewed.
        if let Some(state) = prober.until_ready(ip, &self.shutdown, &record).await {
            super::metrics::app_check(&state);
            record(state).await;
        }
    }
}
