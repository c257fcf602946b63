//! Why a deployment did not happen, and what the person is told: each failure has a typed kind
//! and a message they can act on, built from the configuration it depends on.

use std::time::Duration;

use linode::{ApiError, LoginError};

pub use domain::prefill::RETRY_KEYS_PARAM;
use domain::{selection::Selection, Failure, FailureKind};

/// SSH keys as sealed into a retry link. They are put back in the form only for the browser whose
/// deployment failed (see `start::open_retry_keys`): a sealed token proves this server made it,
/// not for whom, and anyone can make one with their own key by failing a deployment of their own.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct RetryKeys {
    pub keys: Vec<String>,
    /// Seconds since the epoch.
    pub at: u64,
    /// The failed deployment's outcome, when it was stored: the browser's outcome cookie must
    /// name it. A failure shown without the store carries this link in that cookie itself.
    #[serde(default)]
    pub outcome: Option<super::ids::OutcomeId>,
    /// Whether the keys were to be root's only way in (links sealed before the choice: no).
    #[serde(default)]
    pub root_login: domain::RootLogin,
}

/// The form again with the same choices, as a shareable link pre-selects them: plan, region,
/// image, label, every input that is not secret, and the SSH keys sealed (see
/// [`RETRY_KEYS_PARAM`]).
pub fn retry_link(
    selection: &Selection,
    sealer: &super::sealed::Sealer,
    outcome: Option<&super::ids::OutcomeId>,
) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("type", &selection.plan);
    query.append_pair("region", &selection.region);
    query.append_pair("image", &selection.image);
    if let Some(label) = &selection.label {
        query.append_pair("label", label);
    }
    for (name, value) in &selection.stackscript_data {
        if !selection.is_secret(name) {
            query.append_pair(name, value);
        }
    }
    if !selection.authorized_keys.is_empty() {
        let sealed = RetryKeys {
            keys: selection.authorized_keys.clone(),
            at: super::pending_flow::now_secs(),
            outcome: outcome.cloned(),
            root_login: selection.root_login,
        };
        if let Some(token) = sealer.seal_token(RETRY_KEYS_PARAM, &sealed) {
            query.append_pair(RETRY_KEYS_PARAM, &token);
        }
    }
    format!("/?{}", query.finish())
}

/// What the texts depend on.
pub struct Texts<'a> {
    pub app_name: &'a str,
    pub flow_ttl: Duration,
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
    #[error("the person's Linode user may not create Linodes (403)")]
    NotPermitted,
    #[error("a replay waited too long for the original callback")]
    StillRunning,
    #[error("the callback was already used by another browser")]
    AlreadyUsed,
    #[error("the store could not record the deployment: {0}")]
    StoreUnavailable(String),
    #[error("the server handling the deployment stopped before it finished")]
    Interrupted { created: Option<String> },
    #[error("the Linode was created but its result could not be recorded")]
    NotRecorded { label: String },
}

impl FlowFailure {
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::MissingState => FailureKind::MissingState,
            Self::NoPendingFlow => FailureKind::NoPendingDeployment,
            Self::StateMismatch => FailureKind::StateMismatch,
            Self::Expired => FailureKind::Expired,
            Self::Denied => FailureKind::AccessDenied,
            Self::LoginRefused(_) => FailureKind::LoginError,
            Self::MissingCode => FailureKind::MissingCode,
            Self::Exchange(_) => FailureKind::ExchangeFailed,
            Self::InsufficientScope => FailureKind::InsufficientScope,
            Self::Create(_) => FailureKind::LinodeError,
            Self::NotPermitted => FailureKind::NotPermitted,
            Self::StillRunning => FailureKind::StillRunning,
            Self::AlreadyUsed => FailureKind::AlreadyUsed,
            Self::StoreUnavailable(_) => FailureKind::StoreUnavailable,
            Self::Interrupted { .. } | Self::NotRecorded { .. } => FailureKind::Interrupted,
        }
    }

    pub fn to_view(&self, texts: &Texts<'_>) -> Failure {
        let app_name = texts.app_name;
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
                format!("More than {} passed between clicking Deploy and coming back from Linode. {nothing} Please choose again and deploy.", minutes(texts.flow_ttl)),
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
            Self::NotPermitted => (
                "Your Linode user may not create Linodes".to_owned(),
                format!("You signed in at Linode as a user whose roles do not allow creating Linodes, so Linode refused. An administrator of your Linode account can give your user the Linode creator role (Cloud Manager → Identity and Access), or you can sign in as a user who may create Linodes. {nothing} Your choices are kept below for when you try again."),
            ),
            Self::AlreadyUsed => (
                "This login was already used".to_owned(),
                "This answer from Linode was already used to deploy, from another browser, and cannot be used again. Nothing more was created. Start again from the form to deploy another Linode.".to_owned(),
            ),
            Self::StillRunning => (
                "Still working on it".to_owned(),
                "This deployment is still being processed. Wait a few seconds and reload this page.".to_owned(),
            ),
            Self::StoreUnavailable(_) => (
                "We could not record your deployment".to_owned(),
                format!("This site could not reach its database, so it did not start the deployment. {nothing} Reload this page in a minute to try again with the same login, or start again from the form."),
            ),
            Self::Interrupted { created: None } => (
                "The deployment was interrupted".to_owned(),
                format!("The server handling your deployment stopped before it could create the Linode, and its access was revoked. {nothing} Start again from the form."),
            ),
            Self::Interrupted { created: Some(label) } => (
                "The deployment was interrupted".to_owned(),
                format!("The server handling your deployment stopped while Linode was creating {label}; check your Linodes in Cloud Manager before trying again. This site's access to your account was revoked."),
            ),
            Self::NotRecorded { label } => (
                "Your Linode was created, but its details could not be kept".to_owned(),
                format!("Linode created {label}, but this site could not record the result, so its details (and its root password, if it has one) cannot be shown. Find it in Cloud Manager, where you can reset the root password (or log in with your SSH key)."),
            ),
        };
        Failure { title, message, kind: self.kind(), retry: None }
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

/// `15 minutes`, `1 minute`, `90 seconds`, `one hour`, `2 hours`: how a duration from the
/// configuration reads.
pub fn minutes(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        3600 => "one hour".to_owned(),
        s if s > 3600 && s.is_multiple_of(3600) => format!("{} hours", s / 3600),
        60 => "1 minute".to_owned(),
        s if s.is_multiple_of(60) => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expiry_text_follows_the_configured_lifetime() {
        let texts = Texts { app_name: "App", flow_ttl: Duration::from_secs(5 * 60) };
        assert!(FlowFailure::Expired.to_view(&texts).message.contains("More than 5 minutes passed"));
        let texts = Texts { app_name: "App", flow_ttl: Duration::from_secs(90) };
        assert!(FlowFailure::Expired.to_view(&texts).message.contains("More than 90 seconds passed"));
        assert_eq!(minutes(Duration::from_secs(3600)), "one hour");
        assert_eq!(minutes(Duration::from_secs(7200)), "2 hours");
    }
}
