//! The deployment's one interface: start a flow, complete Linode's callback, take the outcome,
//! read the progress. Server functions, the callback handler and middleware are thin adapters
//! around it (cookies, redirects, status codes); everything behind it is private to the flow.

use std::{sync::Arc, time::Duration};

use linode::{ApiClient, LoginClient};
use tokio::sync::watch;
use tokio_util::{sync::CancellationToken, task::TaskTracker};
use url::Url;

use super::{
    catalog::{Catalog, CatalogCache, CatalogError},
    failure::FlowFailure,
    ids::{OutcomeId, ReplicaId, StateKey},
    pending_flow::PendingFlow,
    readiness::{self, Prober},
    recovery::Upkeep,
    result_ref::ResultRef,
    revoke::Revoker,
    runner::{FlowRunner, RunnerParts},
    sealed::Sealer,
    settings::DeploySettings,
    store::{Claim, Store, StoreError},
};
use domain::{DeployForm, Failure, LinodeRequest, Outcome, Progress, SiteInfo};

/// How long a callback waits for the outcome of a flow (its own, or one another request runs).
const OUTCOME_WAIT: Duration = Duration::from_secs(60);
/// How often a request waiting on a flow run by another replica looks for its outcome.
const OUTCOME_POLL: Duration = Duration::from_millis(100);

/// The callback's answer, for the adapter to turn into cookies and a redirect.
#[derive(Debug)]
pub enum CallbackReply {
    /// This browser's flow: show its result page (303) with this outcome cookie.
    Result {
        result: ResultRef,
        /// The browser's pending flow is used up: remove its cookie.
        spends_flow: bool,
    },
    /// Not this browser's flow (a junk or forged link, another browser's replay): answered
    /// with the failure itself, storing nothing and touching no cookie, so it cannot displace
    /// a result this browser has not seen yet.
    Refused(Failure),
}

/// What Linode's redirect carried.
#[derive(Debug, Default, serde::Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// The operator's secret, and during a rotation the ones it replaced.
#[derive(Clone, Copy)]
pub struct SessionKeys<'a> {
    pub current: &'a [u8],
    pub previous: &'a [&'a [u8]],
}

impl std::fmt::Debug for SessionKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys").field("previous", &self.previous.len()).finish_non_exhaustive()
    }
}

/// The deploy engine's one door, built once at start-up and shared by every request. It answers
/// the adapters itself (the catalog, the outcome, progress) and hands the rest to the two that
/// do the work: the [`FlowRunner`] runs each flow detached from its request, the [`Upkeep`]
/// renews leases and finishes what dead replicas left.
pub struct DeployService {
    settings: DeploySettings,
    login: LoginClient,
    catalog: CatalogCache,
    sealer: Arc<Sealer>,
    store: Arc<Store>,
    /// Settles a readiness check whose checker stopped, at read time.
    prober: Option<Arc<Prober>>,
    runner: Arc<FlowRunner>,
    upkeep: Arc<Upkeep>,
    /// Every detached flow, follower and revocation: shutdown waits for them.
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl DeployService {
    /// `keys`: `SESSION_KEY` and the keys it replaced (still opened, never used to seal).
    /// `prober`: checks, after each Linode runs, whether its application answers, when the
    /// operator declared how.
    pub fn new(
        settings: DeploySettings,
        login: LoginClient,
        api: ApiClient,
        keys: SessionKeys<'_>,
        store: Store,
        prober: Option<Prober>,
    ) -> Self {
        let catalog = CatalogCache::new(api.clone(), settings.clone());
        let sealer = Arc::new(Sealer::new(keys.current, settings.secure_cookies).with_previous(keys.previous));
        let tasks = TaskTracker::new();
        let shutdown = CancellationToken::new();
        let store = Arc::new(store);
        let revoker = Revoker::new(login.clone(), store.clone(), tasks.clone());
        let replica = ReplicaId::random();
        let prober = prober.map(Arc::new);
        let runner = Arc::new(FlowRunner::new(RunnerParts {
            settings: settings.clone(),
            login: login.clone(),
            api,
            catalog: catalog.clone(),
            sealer: sealer.clone(),
            store: store.clone(),
            revoker: revoker.clone(),
            replica: replica.clone(),
            prober: prober.clone(),
            tasks: tasks.clone(),
            shutdown: shutdown.clone(),
        }));
        let upkeep = Arc::new(Upkeep::new(
            runner.clone(),
            store.clone(),
            settings.clone(),
            replica,
            revoker,
            tasks.clone(),
            shutdown.clone(),
        ));
        Self { settings, login, catalog, sealer, store, prober, runner, upkeep, tasks, shutdown }
    }

    pub fn settings(&self) -> &DeploySettings {
        &self.settings
    }

    /// The cookie sealer the adapters use.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    pub fn site_info(&self) -> SiteInfo {
        self.settings.site_info()
    }

    /// The catalog as cached (a page view never waits on Linode once it is warm).
    pub async fn catalog(&self) -> Result<Arc<Catalog>, CatalogError> {
        self.catalog.get().await
    }

    pub async fn deploy_form(&self) -> Result<DeployForm, CatalogError> {
        let catalog = self.catalog.get().await?;
        let mut form = catalog.form.clone();
        form.stale = catalog.stale;
        Ok(form)
    }

    /// Which catalog snapshot a page rendered now would show: what the rendered form page is
    /// cached under. Like a page view, it refreshes the catalog in the background when due.
    pub async fn catalog_version(&self) -> Option<u64> {
        self.catalog.get().await.ok().map(|catalog| catalog.version)
    }

    /// The create request `request` would send as it stands, masked (the form's preview).
    pub fn preview(&self, form: &DeployForm, request: &domain::selection::DeployRequest) -> LinodeRequest {
        let selection = domain::selection::Selection::as_typed(form, request);
        super::linode_request::preview(&self.settings, &selection)
    }

    /// The firewall made for the app before each Linode, as the form shows it; `None` when the
    /// account's default is kept.
    pub fn firewall_preview(&self) -> Option<LinodeRequest> {
        super::linode_request::firewall_preview(&self.settings)
    }

    /// Loads the catalog in the background and starts the store's upkeep (lease renewal,
    /// recovery of tokens whose holder is gone, expiry).
    pub fn start_background(self: &Arc<Self>) {
        self.catalog.warm();
        let upkeep = self.upkeep.clone();
        self.tasks.spawn(upkeep.maintain());
    }

    /// Where Linode's login page is for a new flow, and the flow to seal in the browser.
    pub fn begin(&self, selection: domain::selection::Selection) -> (Url, PendingFlow) {
        let flow = PendingFlow::new(selection, self.settings.pkce);
        let url = self.login.authorize_url(
            self.settings.scopes(),
            &self.settings.redirect_uri,
            &flow.state,
            flow.pkce().as_ref(),
        );
        (url, flow)
    }

    fn shown_for(&self, failure: FlowFailure, selection: Option<&domain::selection::Selection>) -> ResultRef {
        self.runner.shown_for(failure, selection)
    }

    /// Linode sent the browser back. Exactly one request per `state`, on any replica, runs the
    /// flow, detached from the request: a browser that goes away does not stop it, and its
    /// outcome is there when the browser comes back.
    pub async fn complete_callback(
        self: &Arc<Self>,
        flow: Option<PendingFlow>,
        own: Option<ResultRef>,
        params: CallbackParams,
    ) -> CallbackReply {
        let Some(state) = params.state.clone().filter(|s| !s.is_empty()) else {
            return CallbackReply::Refused(self.runner.refused(FlowFailure::MissingState));
        };
        let key = StateKey::of(&state);
        let had_flow = flow.is_some();
        let Some(flow) = flow.filter(|flow| flow.matches(&state)) else {
            return self.foreign_callback(&key, own, !had_flow).await;
        };
        let spent = |result| CallbackReply::Result { result, spends_flow: true };
        if flow.is_expired(self.settings.flow_ttl) {
            return spent(self.shown_for(FlowFailure::Expired, Some(&flow.selection)));
        }
        if let Some(error) = params.error {
            let failure = if error == "access_denied" { FlowFailure::Denied } else { FlowFailure::LoginRefused(error) };
            return spent(self.shown_for(failure, Some(&flow.selection)));
        }
        let Some(code) = params.code.filter(|code| !code.is_empty()) else {
            return spent(self.shown_for(FlowFailure::MissingCode, Some(&flow.selection)));
        };
        let result = match self.store.claim(&key, self.settings.flow_ttl + self.settings.outcome_ttl).await {
            Ok(Claim::Mine(id)) => {
                let receiver = self.runner.spawn_flow(id.clone(), flow, code);
                self.wait_for(&id, Some(receiver)).await
            }
            Ok(Claim::Taken(id)) => {
                tracing::info!("callback repeated; showing the outcome of the first");
                self.wait_for(&id, None).await
            }
            // Nothing ran: keep the flow, so that a reload retries with the same (unused) code.
            Err(error) => {
                tracing::error!(%error, "could not claim the flow");
                let result = self.shown_for(FlowFailure::StoreUnavailable(error.to_string()), Some(&flow.selection));
                return CallbackReply::Result { result, spends_flow: false };
            }
        };
        // While the flow still runs, the flow cookie is what finds its outcome later.
        let spends_flow = !matches!(&result, ResultRef::Shown(f) if f.kind == domain::FailureKind::StillRunning);
        CallbackReply::Result { result, spends_flow }
    }

    /// A callback that is not this browser's pending flow: a replay of a finished one shows its
    /// outcome only to the browser that holds it; anything else is refused.
    async fn foreign_callback(&self, key: &StateKey, own: Option<ResultRef>, no_flow: bool) -> CallbackReply {
        let failure = match self.store.claimed(key).await {
            Ok(Some(id)) if own == Some(ResultRef::Stored(id.clone())) => {
                return CallbackReply::Result { result: self.wait_for(&id, None).await, spends_flow: false };
            }
            Ok(Some(_)) => FlowFailure::AlreadyUsed,
            Ok(None) if no_flow => FlowFailure::NoPendingFlow,
            Ok(None) => FlowFailure::StateMismatch,
            Err(error) => FlowFailure::StoreUnavailable(error.to_string()),
        };
        CallbackReply::Refused(self.runner.refused(failure))
    }

    /// Waits for outcome `id`: woken by the local flow when it runs here, else by polling the
    /// store (the flow runs on another replica, or ran before a restart).
    async fn wait_for(&self, id: &OutcomeId, receiver: Option<watch::Receiver<Option<ResultRef>>>) -> ResultRef {
        let deadline = tokio::time::Instant::now() + OUTCOME_WAIT;
        let mut receiver = receiver;
        loop {
            if let Some(mut local) = receiver.take().or_else(|| self.runner.running(id)) {
                let waited = tokio::time::timeout_at(deadline, local.wait_for(Option::is_some))
                    .await
                    .map(|seen| seen.map(|result| result.clone()));
                return match waited {
                    Ok(Ok(result)) => result.unwrap_or_else(|| ResultRef::Stored(id.clone())),
                    // The flow's task ended without a word (it panicked): its outcome, if any,
                    // is in the store.
                    Ok(Err(_)) => match self.store.outcome_exists(id).await {
                        Ok(true) => ResultRef::Stored(id.clone()),
                        _ => self.runner.shown(FlowFailure::StillRunning),
                    },
                    Err(_) => self.runner.shown(FlowFailure::StillRunning),
                };
            }
            match self.store.outcome_exists(id).await {
                Ok(true) => return ResultRef::Stored(id.clone()),
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "looking for an outcome failed; will retry"),
            }
            if tokio::time::Instant::now() >= deadline {
                return self.runner.shown(FlowFailure::StillRunning);
            }
            tokio::time::sleep(OUTCOME_POLL).await;
        }
    }

    /// What a browser holding `result` (and maybe a pending flow) is shown: a stored outcome
    /// with its root password the first time only, and where its Linode is now. Only a page
    /// view by the person (`reveal`) takes the password; any other request (HEAD, a prefetch)
    /// leaves it kept and says so.
    pub async fn take_outcome(
        &self,
        result: Option<ResultRef>,
        flow: Option<PendingFlow>,
        reveal: bool,
    ) -> Result<Option<Outcome>, StoreError> {
        // A browser that went away during the callback never got its outcome cookie; its flow
        // cookie still names the flow, whose outcome may be stored by now.
        let from_flow = match &flow {
            Some(flow) if !matches!(result, Some(ResultRef::Stored(_))) => {
                match self.store.claimed(&StateKey::of(&flow.state)).await {
                    Ok(Some(id)) => self.store.outcome(&id).await?.map(|stored| (id, stored)),
                    Ok(None) => None,
                    // What the cookie says is still worth showing (the database may be why).
                    Err(_) if result.is_some() => None,
                    Err(error) => return Err(error),
                }
            }
            _ => None,
        };
        let (id, stored) = match (from_flow, result) {
            (Some(found), _) => found,
            (None, Some(ResultRef::Stored(id))) => match self.store.outcome(&id).await? {
                Some(stored) => (id, stored),
                None => return Ok(None),
            },
            (None, Some(ResultRef::Shown(failure))) => return Ok(Some(Outcome::Failed(failure))),
            (None, None) => return Ok(None),
        };
        let mut outcome = stored.outcome;
        if let Outcome::Deployed(linode) = &mut outcome {
            if !reveal {
                // Nobody watches through a HEAD or a prefetch: the follower's idle clock runs on.
                linode.password_kept = self.store.password_kept(&id).await?;
            } else {
                if let Err(error) = self.store.touch(&id).await {
                    tracing::warn!(%error, "could not note that the deployment is watched");
                }
                if let Some(password) = self.store.take_password(&id).await? {
                    use secrecy::ExposeSecret;
                    linode.root_password = Some(password.expose_secret().to_owned());
                }
            }
            if let Some(mut progress) = stored.progress {
                readiness::settle(&mut progress, self.prober.as_deref());
                linode.status = progress.status;
                linode.ipv4 = progress.ipv4.or(linode.ipv4.take());
                linode.app = progress.app;
            }
        }
        Ok(Some(outcome))
    }

    /// Where the Linode of the outcome in `result` is, as its follower last saw it; asking
    /// counts as the person still watching.
    pub async fn progress(
        &self,
        result: Option<ResultRef>,
        flow: Option<PendingFlow>,
    ) -> Result<Option<Progress>, StoreError> {
        let id = match (result, flow) {
            (Some(ResultRef::Stored(id)), _) => id,
            // A browser told "still working" holds its flow cookie, which names the flow.
            (_, Some(flow)) => match self.store.claimed(&StateKey::of(&flow.state)).await? {
                Some(id) => id,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let mut progress = self.store.progress(&id).await?;
        if let Some(progress) = &mut progress {
            readiness::settle(progress, self.prober.as_deref());
        }
        if progress.is_some() {
            if let Err(error) = self.store.touch(&id).await {
                tracing::warn!(%error, "could not note that the deployment is watched");
            }
        }
        Ok(progress)
    }

    /// Graceful shutdown: followers give their tokens up (revoked), and the flows, followers and
    /// revocations still running are waited for, at most `limit`.
    pub async fn drain(&self, limit: Duration) {
        self.shutdown.cancel();
        self.tasks.close();
        // Tokens still held by the tasks being waited for keep their leases meanwhile, so no
        // other replica takes them over while this one is finishing with them.
        let renewing = async {
            loop {
                self.upkeep.renew().await;
                tokio::time::sleep(self.settings.lease / 3).await;
            }
        };
        tokio::select! {
            _ = tokio::time::timeout(limit, self.tasks.wait()) => {}
            () = renewing => {}
        }
    }
}
