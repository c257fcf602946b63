//! Step 3, detached from the request: exchange the code (with the client secret, server-side
//! only), journal the token before anything is created with it, check the granted scopes,
//! create the Linode, record the outcome, then follow the Linode to `running` and revoke the
//! token. It runs as a task on the server's tracker, so a browser that gives up half-way does
//! not cancel it, and graceful shutdown waits for it.

use std::{
    collections::HashMap,
    net::Ipv4Addr,
    sync::{Arc, Mutex},
    time::Duration,
};

use backon::{ExponentialBuilder, Retryable};
use linode::{ApiClient, ApiError, CreateInstance, Instance, LoginClient, ScopeLevel};
use secrecy::SecretString;
use tokio::sync::watch;
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    app_firewall,
    catalog::CatalogCache,
    failure::{retry_link, FlowFailure, Texts},
    follower::Followed,
    ids::{OutcomeId, ReplicaId},
    linode_request::{self, NetworkPlan},
    new_linode,
    pending_flow::PendingFlow,
    readiness::Prober,
    result_ref::ResultRef,
    revoke::Revoker,
    sealed::Sealer,
    settings::DeploySettings,
    store::{HeldToken, NewJournalEntry, Store, StoreError},
};
use domain::{
    DefaultFirewallWhy, DeployedLinode, FirewallUsed, InstanceStatus, Outcome, Progress, Readiness, RootLogin,
};

/// How long the flow waits in all for Linode's rate limit on creates to lift (`Retry-After`)
/// before it says so: a 429 means nothing was created, so the same request is sent again, but
/// the person is waiting for the result (a callback waits a minute at most for its flow).
const CREATE_RATE_LIMIT_WAIT: Duration = Duration::from_secs(20);

/// Writing a new Linode's outcome is retried this many times: giving up loses the one-time view
/// of its root password.
const RECORD_ATTEMPTS: usize = 4;

/// What the flow hands on: the browser's result, and the Linode to follow, if one was created.
struct Ran {
    result: ResultRef,
    follow: Option<Followed>,
}

/// Flows this replica is running, by outcome: a replay on this replica is woken the moment the
/// outcome is known (replays on other replicas poll the store).
#[derive(Default)]
struct Running(Mutex<HashMap<OutcomeId, watch::Receiver<Option<ResultRef>>>>);

impl Running {
    fn insert(&self, id: &OutcomeId, receiver: watch::Receiver<Option<ResultRef>>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), receiver);
    }

    fn remove(&self, id: &OutcomeId) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    fn get(&self, id: &OutcomeId) -> Option<watch::Receiver<Option<ResultRef>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }
}

/// What a flow and its follower use: the clients, the store and the token's revoker, and the
/// replica's task tracker and shutdown signal. [`DeployService`](super::DeployService) starts
/// flows on it; the upkeep ([`Upkeep`](super::recovery::Upkeep)) resumes, with the same steps,
/// the flows a dead replica left.
pub(crate) struct FlowRunner {
    settings: DeploySettings,
    login: LoginClient,
    api: ApiClient,
    /// Human names for the new Linode's plan, region and image.
    catalog: CatalogCache,
    /// Seals the retry link of a failure.
    sealer: Arc<Sealer>,
    store: Arc<Store>,
    revoker: Revoker,
    replica: ReplicaId,
    running: Running,
    /// Checks whether deployed applications answer, when the operator declared how.
    prober: Option<Arc<Prober>>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

/// The handles a [`FlowRunner`] is built from.
pub(crate) struct RunnerParts {
    pub settings: DeploySettings,
    pub login: LoginClient,
    pub api: ApiClient,
    pub catalog: CatalogCache,
    pub sealer: Arc<Sealer>,
    pub store: Arc<Store>,
    pub revoker: Revoker,
    pub replica: ReplicaId,
    pub prober: Option<Arc<Prober>>,
    pub tasks: TaskTracker,
    pub shutdown: CancellationToken,
}

impl FlowRunner {
    pub(crate) fn new(parts: RunnerParts) -> Self {
        let RunnerParts { settings, login, api, catalog, sealer, store, revoker, replica, prober, tasks, shutdown } =
            parts;
        Self {
            settings,
            login,
            api,
            catalog,
            sealer,
            store,
            revoker,
            replica,
            running: Running::default(),
            prober,
            tasks,
            shutdown,
        }
    }

    /// The result of a flow running on this replica, to wait on.
    pub(crate) fn running(&self, id: &OutcomeId) -> Option<watch::Receiver<Option<ResultRef>>> {
        self.running.get(id)
    }

    fn texts(&self) -> Texts<'_> {
        Texts { app_name: &self.settings.app_name, flow_ttl: self.settings.flow_ttl }
    }

    /// A failure shown without the store; with `selection`, it offers to try again with it.
    pub(crate) fn shown_for(
        &self,
        failure: FlowFailure,
        selection: Option<&domain::selection::Selection>,
    ) -> ResultRef {
        tracing::info!(kind = %failure.kind(), %failure, "deployment did not happen");
        if failure.kind() != domain::FailureKind::StillRunning {
            super::metrics::deploy_failed(failure.kind());
        }
        let mut view = failure.to_view(&self.texts());
        view.retry = selection.map(|selection| retry_link(selection, &self.sealer, None));
        ResultRef::Shown(view)
    }

    pub(crate) fn shown(&self, failure: FlowFailure) -> ResultRef {
        self.shown_for(failure, None)
    }

    /// A callback refused before any flow (not this browser's, or a forged one).
    pub(crate) fn refused(&self, failure: FlowFailure) -> domain::Failure {
        tracing::info!(kind = %failure.kind(), %failure, "callback refused");
        super::metrics::callback_refused(failure.kind());
        failure.to_view(&self.texts())
    }

    /// Starts the flow of outcome `id` as a task; the receiver gets its result.
    pub(crate) fn spawn_flow(
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
                // Off the person's critical path (one database write less before the success
                // view): until it lands, recovery reads the id from the stored outcome.
                if let Err(error) = this.store.journal_linode(&followed.journal, followed.linode_id).await {
                    tracing::warn!(%error, "could not note the new Linode's id in the journal");
                }
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
        let label = selection
            .label
            .clone()
            .unwrap_or_else(|| new_linode::linode_label(&self.settings.app_name, &selection.region));
        // The app's firewall is made only with the person's leave; its label is journaled with
        // the token, before it exists, so a crash cannot leave one behind unknown.
        let firewall_label = self
            .settings
            .firewall
            .as_ref()
            .filter(|_| grant.scopes.allows("firewall", ScopeLevel::ReadWrite))
            .map(|_| app_firewall::label_for(&label, &super::pending_flow::random_hex(3)));
        let held = HeldToken {
            access: grant.access_token,
            refresh: grant.refresh_token,
            root_password: match selection.root_login {
                RootLogin::Password => Some(new_linode::root_password()),
                RootLogin::KeysOnly => None,
            },
            label,
            ssh_keys: selection.authorized_keys.len(),
            firewall_label,
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
        let firewall = self.make_firewall(&held).await;
        let own = match &firewall {
            FirewallUsed::Own { id, .. } => Some(*id),
            FirewallUsed::AccountDefault { .. } => None,
        };
        let request =
            linode_request::create_instance(&self.settings, selection, held.label.clone(), held.root_password.clone());
        let request = NetworkPlan::FIRST.applied(request, own);
        let (instance, request) = match self.create(request, &held, own).await {
            Ok(created) => created,
            // The call may have reached Linode (a timeout, a broken connection, a 5xx, an
            // unreadable answer): look for the Linode before saying it does not exist.
            Err((FlowFailure::Create(error), request)) if error.may_have_happened() => {
                match self.created_anyway(&held).await {
                    Some(instance) => (instance, request),
                    None => {
                        self.discard_firewall(&held).await;
                        self.revoker.revoke_later(Some(journal), held.access);
                        return self.record_failure(id, FlowFailure::Create(error), Some(selection)).await;
                    }
                }
            }
            Err((failure, _)) => {
                self.discard_firewall(&held).await;
                self.revoker.revoke_later(Some(journal), held.access);
                return self.record_failure(id, failure, Some(selection)).await;
            }
        };
        tracing::info!(linode_id = instance.id, "deployment succeeded");
        super::metrics::deploy_completed();
        let mut linode = self.describe(&instance, held.ssh_keys).await;
        // More than was asked for: beyond Linodes, and beyond firewalls when a firewall is made.
        let asked_firewall = self.settings.firewall.is_some();
        linode.extra_grant = grant
            .scopes
            .beyond("linodes")
            .into_iter()
            .filter(|scope| !(asked_firewall && scope.split(':').next() == Some("firewall")))
            .collect();
        linode.sent = Some(linode_request::described(&request, selection));
        linode.firewall = Some(firewall);
        if !linode.extra_grant.is_empty() {
            tracing::warn!(extra = ?linode.extra_grant, "Linode granted more than was asked for");
        }
        let result = self.record_deployed(id, &linode, held.root_password.as_ref()).await;
        // The Linode's id goes into the journal once the person has their result (see
        // `spawn_flow`): recovery reads it from the stored outcome until then.
        let follow = Followed::new(journal, id.clone(), instance.id, held.access, self.settings.follow.bound);
        Ran { result, follow: Some(follow) }
    }

    /// Makes the app's firewall, when the person allowed it (its label was journaled with the
    /// token): the firewall the Linode is created behind. When Linode does not make it, the
    /// Linode gets the account's default firewall, and the success view says why.
    async fn make_firewall(&self, held: &HeldToken) -> FirewallUsed {
        let Some(ports) = &self.settings.firewall else {
            return FirewallUsed::AccountDefault { why: DefaultFirewallWhy::Configured };
        };
        let Some(label) = &held.firewall_label else {
            return FirewallUsed::AccountDefault { why: DefaultFirewallWhy::NotGranted };
        };
        let request = ports.request(label, &new_linode::app_tag(&self.settings.app_name));
        let own = |firewall: linode::Firewall| FirewallUsed::Own {
            id: firewall.id,
            label: firewall.label,
            ports: ports.describe(),
        };
        match self.api.create_firewall(&held.access, &request).await {
            Ok(firewall) => own(firewall),
            // The call may have reached Linode: the firewall is found by its label, or not made.
            Err(error) if error.may_have_happened() => match self.our_firewall(held, label).await {
                Some(firewall) => own(firewall),
                None => FirewallUsed::AccountDefault { why: DefaultFirewallWhy::NotCreated(error.to_string()) },
            },
            Err(ApiError::Rejected { status: 403, .. }) => FirewallUsed::AccountDefault {
                why: DefaultFirewallWhy::NotCreated("your Linode user may not create firewalls".to_owned()),
            },
            Err(error) => {
                tracing::warn!(%error, "Linode did not create the app's firewall; the account's default applies");
                FirewallUsed::AccountDefault { why: DefaultFirewallWhy::NotCreated(error.to_string()) }
            }
        }
    }

    /// The app's firewall labelled `label`, if Linode has it: the label and the app's tag.
    async fn our_firewall(&self, held: &HeldToken, label: &str) -> Option<linode::Firewall> {
        let tag = new_linode::app_tag(&self.settings.app_name);
        match self.api.firewalls_labelled(&held.access, label).await {
            Ok(found) => found.into_iter().find(|firewall| firewall.label == label && firewall.tags.contains(&tag)),
            Err(error) => {
                tracing::warn!(%error, "could not look for the app's firewall");
                None
            }
        }
    }

    /// Removes the app's firewall of a deployment that created no Linode, if it was made and
    /// protects nothing: one firewall per Linode, none without one.
    pub(crate) async fn discard_firewall(&self, held: &HeldToken) {
        let Some(label) = &held.firewall_label else { return };
        let Some(firewall) = self.our_firewall(held, label).await else { return };
        if !firewall.entities.is_empty() {
            tracing::warn!(firewall_id = firewall.id, "the app's firewall protects something; kept");
            return;
        }
        match self.api.delete_firewall(&held.access, firewall.id).await {
            Ok(()) => {
                tracing::info!(firewall_id = firewall.id, "removed the firewall of a deployment that created no Linode")
            }
            Err(error) => {
                tracing::warn!(%error, firewall_id = firewall.id, "could not remove the app's unused firewall")
            }
        }
    }

    /// The Linode this deployment created, if Linode has it: ours has the label we chose and the
    /// app's tag. How a create that failed in transit, and recovery, find out whether it exists.
    pub(crate) async fn find_created(&self, held: &HeldToken) -> Result<Option<Instance>, ApiError> {
        let tag = new_linode::app_tag(&self.settings.app_name);
        let found = self.api.instances_labelled(&held.access, &held.label).await?;
        Ok(found.into_iter().find(|instance| instance.tags.contains(&tag)))
    }

    /// The Linode a create call that failed in transit made after all, if it did.
    async fn created_anyway(&self, held: &HeldToken) -> Option<Instance> {
        self.find_created(held).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "could not check whether the failed create made a Linode");
            None
        })
    }

    /// Creates the Linode, saying how it gets its network: the next [`NetworkPlan`] when Linode
    /// refuses one for its network (a 400 creates nothing, so no try makes a second Linode).
    /// Returns the request Linode accepted, or the last one tried with why it failed.
    async fn create(
        &self,
        mut request: CreateInstance,
        held: &HeldToken,
        own_firewall: Option<u64>,
    ) -> Result<(Instance, CreateInstance), (FlowFailure, CreateInstance)> {
        let mut plan = NetworkPlan::FIRST;
        let mut waited = Duration::ZERO;
        loop {
            match self.api.create_instance(&held.access, &request).await {
                Ok(instance) => return Ok((instance, request)),
                // Linode refused to look at the request: nothing was created. Sent again once
                // the limit lifts, if that is soon; never blindly.
                Err(ApiError::RateLimited { retry_after: Some(wait) })
                    if waited + wait <= CREATE_RATE_LIMIT_WAIT && !self.shutdown.is_cancelled() =>
                {
                    tracing::info!(
                        wait_ms = wait.as_millis() as u64,
                        "Linode is rate-limiting creates; waiting as it asks"
                    );
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
                Err(error) if NetworkPlan::refused_for_network(&error) => match plan.next(own_firewall.is_some()) {
                    Some(next) => {
                        tracing::info!(?plan, ?next, %error, "Linode refused the Linode's network; trying the next way");
                        plan = next;
                        request = next.applied(request, own_firewall);
                    }
                    None => return Err((FlowFailure::Create(error), request)),
                },
                // IAM: the person's Linode user may not create Linodes (a restricted user
                // without a creator role). Nothing was created.
                Err(ApiError::Rejected { status: 403, .. }) => return Err((FlowFailure::NotPermitted, request)),
                Err(error) => return Err((FlowFailure::Create(error), request)),
            }
        }
    }

    /// The new Linode as the person reads it: human names from the cached catalog, the ids as a
    /// fallback.
    pub(crate) async fn describe(&self, instance: &Instance, ssh_keys: usize) -> DeployedLinode {
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
            root_login: RootLogin::Password,
            extra_grant: Vec::new(),
            checks_app: self.prober.is_some(),
            app: Readiness::NotChecked,
            sent: None,
            firewall: None,
        }
    }

    /// Stores a new Linode's outcome, retrying a little: the Linode exists, and only the stored
    /// outcome can show its root password.
    pub(crate) async fn record_deployed(
        &self,
        id: &OutcomeId,
        linode: &DeployedLinode,
        root_password: Option<&SecretString>,
    ) -> ResultRef {
        let progress = Progress {
            status: linode.status.clone(),
            ipv4: linode.ipv4.clone(),
            following: true,
            app: Readiness::NotChecked,
        };
        let root_login = if root_password.is_some() { RootLogin::Password } else { RootLogin::KeysOnly };
        let outcome = Outcome::Deployed(DeployedLinode { root_login, ..linode.clone() });
        let put = || self.store.put_outcome(id, &outcome, root_password, Some(&progress), self.settings.outcome_ttl);
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
    async fn record_failure(
        &self,
        id: &OutcomeId,
        failure: FlowFailure,
        retry: Option<&domain::selection::Selection>,
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

    /// Records a flow that was interrupted (recovery has no request to hand the result to).
    pub(crate) async fn record_interrupted(&self, id: &OutcomeId, created: Option<String>) {
        self.record_failure(id, FlowFailure::Interrupted { created }, None).await;
    }

    /// Follows the Linode until it runs or a limit is reached, then revokes the token; then,
    /// without it, checks whether the application answers (when a check is configured).
    pub(crate) async fn follow_then_revoke(&self, followed: Followed) {
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
