//! Step 3: Linode sends the browser back here. Server-side only: exchange the code with the client
//! secret, check the granted scopes, create the Linode, and revoke the token on every path — after
//! answering, off the person's critical path. The browser is then sent to `/deployment`
//! (post/redirect/get), so reloading the result never repeats any of this.

use std::time::Duration;

use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
};
use linode::{AccessToken, ApiError, CreateInstance, LoginError, ScopeLevel};
use secrecy::SecretString;
use serde::Deserialize;
use tokio::sync::watch;

use super::{
    credentials,
    flow::{state_key, PendingFlow},
    outcome::{Claim, OutcomeId},
    session::{FLOW_COOKIE, OUTCOME_COOKIE},
    AppState, DeployService,
};
use crate::model::{DeployedLinode, Failure, Outcome, Progress};

/// Where the result is shown.
pub const RESULT_PATH: &str = "/deployment";
/// How long a replayed callback waits for the original one to finish.
const REPLAY_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`
pub async fn auth_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let deploy = &state.deploy;
    // A malformed query is treated like an empty one: it lacks the `state` we need.
    let params: CallbackParams =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let flow: Option<PendingFlow> = deploy.sealer.open(&headers, FLOW_COOKIE);

    let Some(oauth_state) = params.state.clone().filter(|s| !s.is_empty()) else {
        let id = record(deploy, Err(FlowFailure::MissingState));
        return show_outcome(deploy, &id, false);
    };

    let spends_flow = flow.as_ref().is_some_and(|flow| flow.matches(&oauth_state));
    let key = state_key(&oauth_state);

    if spends_flow {
        // Exactly one request runs the flow; a concurrent twin (double click, reload) waits for
        // its outcome instead of creating a second Linode.
        return match deploy.outcomes.claim(&key) {
            Claim::Mine(ticket) => {
                let result = deploy_linode(deploy, flow, &oauth_state, params).await;
                let id = record(deploy, result);
                deploy.outcomes.finish(ticket, &id);
                show_outcome(deploy, &id, true)
            }
            Claim::Taken(receiver) => replay(deploy, receiver, true).await,
        };
    }
    // Not this browser's pending deployment. A replay of a finished callback shows its outcome
    // only to the browser that holds it; anything else is refused without touching the
    // deployment this browser may be waiting for.
    if let Some(receiver) = deploy.outcomes.claimed(&key) {
        let own: Option<OutcomeId> = deploy.sealer.open(&headers, OUTCOME_COOKIE);
        return replay_for(deploy, receiver, own).await;
    }
    let id = record(deploy, deploy_linode(deploy, flow, &oauth_state, params).await);
    show_outcome(deploy, &id, false)
}

/// Waits for the outcome of a flow another request is running or has run.
async fn wait_for_outcome(mut receiver: watch::Receiver<Option<OutcomeId>>) -> Option<OutcomeId> {
    match tokio::time::timeout(REPLAY_WAIT, receiver.wait_for(Option::is_some)).await {
        Ok(Ok(id)) => id.clone(),
        _ => None,
    }
}

async fn replay(deploy: &DeployService, receiver: watch::Receiver<Option<OutcomeId>>, spends_flow: bool) -> Response {
    tracing::info!("callback repeated; showing the outcome already obtained");
    let id = wait_for_outcome(receiver).await.unwrap_or_else(|| record(deploy, Err(FlowFailure::StillRunning)));
    show_outcome(deploy, &id, spends_flow)
}

async fn replay_for(
    deploy: &DeployService,
    receiver: watch::Receiver<Option<OutcomeId>>,
    own: Option<OutcomeId>,
) -> Response {
    let id = match wait_for_outcome(receiver).await {
        Some(id) if own.as_ref() == Some(&id) => id,
        Some(_) => record(deploy, Err(FlowFailure::AlreadyUsed)),
        None => record(deploy, Err(FlowFailure::StillRunning)),
    };
    show_outcome(deploy, &id, false)
}

/// A Linode that was just created, with what only this request may hand on.
pub struct Created {
    linode: DeployedLinode,
    root_password: SecretString,
    /// Kept (server-side only) to follow the Linode to `running`, then revoked.
    token: AccessToken,
}

fn record(deploy: &DeployService, result: Result<Created, FlowFailure>) -> OutcomeId {
    match result {
        Ok(Created { linode, root_password, token }) => {
            tracing::info!(linode_id = linode.id, "deployment succeeded");
            let first = Progress { status: linode.status.clone(), ipv4: linode.ipv4.clone(), following: true };
            let linode_id = linode.id;
            let id = deploy.outcomes.store(Outcome::Deployed(linode), Some(root_password));
            deploy.progress.follow(&deploy.revoker, &id, linode_id, first, token);
            id
        }
        Err(failure) => {
            tracing::info!(kind = failure.kind(), %failure, "deployment did not happen");
            deploy.outcomes.store(Outcome::Failed(failure.to_view(&deploy.settings.app_name)), None)
        }
    }
}

/// 303 to the result page, with the outcome cookie set and, once spent, the flow cookie removed.
fn show_outcome(deploy: &DeployService, id: &OutcomeId, spends_flow: bool) -> Response {
    let mut response = Redirect::to(RESULT_PATH).into_response();
    let headers = response.headers_mut();
    if let Some(cookie) = deploy.sealer.seal(OUTCOME_COOKIE, id, deploy.settings.outcome_ttl) {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    if spends_flow {
        if let Ok(value) = HeaderValue::from_str(&deploy.sealer.removal(FLOW_COOKIE)) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn deploy_linode(
    deploy: &DeployService,
    flow: Option<PendingFlow>,
    oauth_state: &str,
    params: CallbackParams,
) -> Result<Created, FlowFailure> {
    let flow = flow.ok_or(FlowFailure::NoPendingFlow)?;
    if !flow.matches(oauth_state) {
        return Err(FlowFailure::StateMismatch);
    }
    if flow.is_expired(deploy.settings.flow_ttl) {
        return Err(FlowFailure::Expired);
    }
    if let Some(error) = params.error {
        return Err(if error == "access_denied" { FlowFailure::Denied } else { FlowFailure::LoginRefused(error) });
    }
    let code = params.code.filter(|code| !code.is_empty()).ok_or(FlowFailure::MissingCode)?;

    let grant = deploy
        .login
        .exchange_code(&code, &deploy.settings.redirect_uri)
        .await
        .map_err(FlowFailure::Exchange)?;
    let token = grant.access_token;
    if !grant.scopes.allows("linodes", ScopeLevel::ReadWrite) {
        deploy.revoker.revoke_later(token);
        return Err(FlowFailure::InsufficientScope);
    }
    match create(deploy, &token, &flow).await {
        Ok((linode, root_password)) => Ok(Created { linode, root_password, token }),
        Err(failure) => {
            deploy.revoker.revoke_later(token);
            Err(failure)
        }
    }
}

async fn create(
    deploy: &DeployService,
    token: &AccessToken,
    flow: &PendingFlow,
) -> Result<(DeployedLinode, SecretString), FlowFailure> {
    let settings = &deploy.settings;
    let selection = &flow.selection;
    let root_password = credentials::root_password();
    let request = CreateInstance {
        type_id: selection.plan.clone(),
        region: selection.region.clone(),
        image: Some(selection.image.clone()),
        root_pass: Some(root_password.clone()),
        authorized_keys: selection.authorized_keys.clone(),
        stackscript_id: Some(settings.stackscript_id),
        stackscript_data: Some(selection.stackscript_data.clone()).filter(|data| !data.is_empty()),
        label: Some(
            selection.label.clone().unwrap_or_else(|| credentials::linode_label(&settings.app_name, &selection.region)),
        ),
        tags: vec![credentials::app_tag(&settings.app_name)],
        booted: Some(true),
    };
    let instance = deploy.api.create_instance(token, &request).await.map_err(FlowFailure::Create)?;

    // Human names from the cached catalog; the ids are a fine fallback.
    let catalog = deploy.catalog.get().await.ok();
    let form = catalog.as_ref().map(|c| &c.form);
    let plan = form.and_then(|f| f.plan(&instance.type_id)).map(|p| p.label.clone());
    let region = form.and_then(|f| f.region(&instance.region)).map(|r| r.description());
    let image = instance.image.clone().unwrap_or_else(|| selection.image.clone());
    let image = form.and_then(|f| f.image(&image)).map_or(image, |i| i.label.clone());
    let linode = DeployedLinode {
        id: instance.id,
        label: instance.label.clone(),
        tags: instance.tags.clone(),
        plan: plan.unwrap_or_else(|| instance.type_id.clone()),
        region: region.unwrap_or_else(|| instance.region.clone()),
        image,
        ipv4: instance.public_ipv4().map(str::to_owned),
        status: instance.status.clone(),
        root_password: None,
        ssh_keys: selection.authorized_keys.len(),
    };
    Ok((linode, root_password))
}

/// Why a deployment did not happen. Each maps to a message the person can act on.
#[derive(Debug, thiserror::Error)]
pub enum FlowFailure {
    #[error("the callback carried no state")]
    MissingState,
    #[error("no pending deployment in this browser")]
    NoPendingFlow,
    #[error("state does not match the pending deployment")]
    StateMismatch,
    #[error("the pending deployment expired")]
    Expired,
    #[error("the person denied access")]
    Denied,
    #[error("the login server answered with error {0:?}")]
    LoginRefused(String),
    #[error("the callback carried no code")]
    MissingCode,
    #[error("code exchange failed: {0}")]
    Exchange(LoginError),
    #[error("linodes:read_write was not granted")]
    InsufficientScope,
    #[error("create failed: {0}")]
    Create(ApiError),
    #[error("a replay waited too long for the original callback")]
    StillRunning,
    #[error("the callback was already used by another browser")]
    AlreadyUsed,
}

impl FlowFailure {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingState => "missing_state",
            Self::NoPendingFlow => "no_pending_deployment",
            Self::StateMismatch => "state_mismatch",
            Self::Expired => "expired",
            Self::Denied => "access_denied",
            Self::LoginRefused(_) => "login_error",
            Self::MissingCode => "missing_code",
            Self::Exchange(_) => "exchange_failed",
            Self::InsufficientScope => "insufficient_scope",
            Self::Create(_) => "linode_error",
            Self::StillRunning => "still_running",
            Self::AlreadyUsed => "already_used",
        }
    }

    pub fn to_view(&self, app_name: &str) -> Failure {
        let nothing = "Nothing was created on your Linode account.";
        let (title, message) = match self {
            Self::MissingState | Self::StateMismatch => (
                "This login does not belong to this browser".to_owned(),
                format!("The answer from Linode does not match the deployment started here, so it was ignored. It may come from another tab or a forged link. {nothing} Start again from the form."),
            ),
            Self::NoPendingFlow => (
                "No deployment was started in this browser".to_owned(),
                format!("This browser has no deployment waiting for Linode's answer: it was already completed, or it was started in another browser, or cookies are blocked. {nothing}"),
            ),
            Self::Expired => (
                "Your selection expired".to_owned(),
                format!("More than 15 minutes passed between clicking Deploy and coming back from Linode. {nothing} Please choose again and deploy."),
            ),
            Self::Denied => (
                "Login was cancelled".to_owned(),
                format!("You did not allow {app_name} to create a Linode. {nothing} You can start again whenever you are ready."),
            ),
            Self::LoginRefused(error) => (
                "Linode's login did not succeed".to_owned(),
                format!("Linode's login service reported “{}”. {nothing} Please start again.", sanitize(error)),
            ),
            Self::MissingCode => (
                "Linode's answer was incomplete".to_owned(),
                format!("Linode sent the browser back without an authorization code. {nothing} Please start again."),
            ),
            Self::Exchange(error) => (
                "Linode did not accept the login".to_owned(),
                format!("Exchanging the login for an access token failed: {error}. {nothing} Please start again."),
            ),
            Self::InsufficientScope => (
                format!("Insufficient scopes granted to deploy {app_name}"),
                format!("{app_name} needs the permission to create Linodes (linodes:read_write), and it was not granted. {nothing} Start again and keep that permission ticked."),
            ),
            Self::Create(error) => ("Linode could not create the Linode".to_owned(), create_message(error)),
            Self::AlreadyUsed => (
                "This login was already used".to_owned(),
                "This answer from Linode was already used to deploy, from another browser, and cannot be used again. Nothing more was created. Start again from the form to deploy another Linode.".to_owned(),
            ),
            Self::StillRunning => (
                "Still working on it".to_owned(),
                "This deployment is still being processed in another request. Wait a few seconds and reload this page.".to_owned(),
            ),
        };
        Failure { title, message, kind: self.kind().to_owned() }
    }
}

fn create_message(error: &ApiError) -> String {
    match error {
        // The request may have reached Linode: say so rather than invite a second Linode.
        ApiError::Timeout | ApiError::Network(_) => format!(
            "{error}. The Linode may or may not have been created: check your Linodes in Cloud Manager before trying again."
        ),
        _ => format!("{error}. Nothing was created on your Linode account; you can start again."),
    }
}

/// Linode's `error` parameter is reflected to the person: keep it short and plain.
fn sanitize(text: &str) -> String {
    text.chars().filter(|c| c.is_ascii_alphanumeric() || "_- .".contains(*c)).take(64).collect()
}
