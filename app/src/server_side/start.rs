//! Step 2: from the form to Linode's login page.

use http::header::{ACCEPT, SET_COOKIE};
use http::HeaderValue;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use deploy::{
    result_ref::ResultRef,
    sealed::{FlowCookie, OutcomeCookie},
};
use domain::selection::{DeployRequest, Selection};

use super::context;
use crate::error::AppError;

const COOKIE_GRACE: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// The query parameter that carries a refusal back to the no-JavaScript form, sealed.
pub const REFUSED_PARAM: &str = "refused";
/// How long a sealed refusal is shown: long enough to read it after a slow redirect.
const REFUSAL_TTL_SECS: u64 = 10 * 60;

/// A refusal as sealed into the form's URL.
#[derive(serde::Serialize, serde::Deserialize)]
struct Refusal {
    error: AppError,
    at: u64,
}

/// Body of the `start_deploy` server function.
pub async fn start_deploy(request: DeployRequest) -> Result<String, AppError> {
    let html_form = accepts_html().await;
    let result = start(request, html_form).await;
    match result {
        // A plain form post goes back to the form with the refusal sealed in its URL: only texts
        // this server wrote (and sealed) reach the form's error box. server_fn's own way (the
        // error as plain base64 in `__err`) would show whatever a crafted link puts there.
        Err(error) if html_form => {
            let Ok(deploy) = context::deploy() else { return Err(error) };
            let sealed = deploy.sealer().seal_token(REFUSED_PARAM, &Refusal { error: error.clone(), at: now_secs() });
            let back = form_url(&sealed.unwrap_or_default()).await;
            leptos_axum::redirect(&back);
            Ok(String::new())
        }
        other => other,
    }
}

/// The text of a refusal sealed by this server, if `token` is one and still fresh.
pub fn open_refusal(token: &str) -> Option<String> {
    let deploy = context::deploy().ok()?;
    let refusal: Refusal = deploy.sealer().open_token(REFUSED_PARAM, token)?;
    (now_secs().saturating_sub(refusal.at) <= REFUSAL_TTL_SECS).then(|| refusal.error.to_string())
}

/// How long a retry link's sealed SSH keys are taken: a day, so the link still works from the
/// browser's history the next morning.
const RETRY_KEYS_TTL_SECS: u64 = 24 * 60 * 60;

/// The SSH keys a retry link of this server carries, one per line, if `token` is one, still fresh,
/// and made for this browser: its outcome cookie names the failed deployment the link came from
/// (or, for a failure shown without the store, holds this very link). Anyone else who follows the
/// link gets its other choices, not its keys.
pub fn open_retry_keys(token: &str) -> Option<(String, domain::RootLogin)> {
    use deploy::failure::{RetryKeys, RETRY_KEYS_PARAM};
    let deploy = context::deploy().ok()?;
    let sealed: RetryKeys = deploy.sealer().open_token(RETRY_KEYS_PARAM, token)?;
    let parts = use_context::<http::request::Parts>()?;
    let own = deploy.sealer().open::<OutcomeCookie>(&parts.headers);
    let for_this_browser = match (own, &sealed.outcome) {
        (Some(ResultRef::Stored(id)), Some(failed)) => id == *failed,
        (Some(ResultRef::Shown(failure)), None) => failure.retry.as_deref().is_some_and(|link| carries(link, token)),
        _ => false,
    };
    let fresh = now_secs().saturating_sub(sealed.at) <= RETRY_KEYS_TTL_SECS;
    (for_this_browser && fresh).then(|| (sealed.keys.join("\n"), sealed.root_login))
}

/// `link`'s query holds `token` as its sealed keys.
fn carries(link: &str, token: &str) -> bool {
    let query = link.split_once('?').map(|(_, query)| query).unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .any(|(name, value)| name == deploy::failure::RETRY_KEYS_PARAM && value == token)
}

/// The page the form was posted from (its query keeps the shared-link choices), with the sealed
/// refusal; the form at `/` when that page is not known or not this site's.
async fn form_url(sealed: &str) -> String {
    let referer = leptos_axum::extract::<http::HeaderMap>()
        .await
        .ok()
        .and_then(|headers| headers.get(http::header::REFERER).and_then(|r| r.to_str().ok()).map(str::to_owned))
        .and_then(|referer| url::Url::parse(&referer).ok());
    let mut pairs: Vec<(String, String)> = referer
        .as_ref()
        .filter(|url| url.path() == "/")
        .map(|url| {
            url.query_pairs().into_owned().filter(|(key, _)| key != REFUSED_PARAM && !key.starts_with("__")).collect()
        })
        .unwrap_or_default();
    pairs.push((REFUSED_PARAM.to_owned(), sealed.to_owned()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    format!("/?{query}")
}

fn now_secs() -> u64 {
    deploy::pending_flow::now_secs()
}

async fn start(request: DeployRequest, html_form: bool) -> Result<String, AppError> {
    let deploy = context::deploy()?;
    let response = use_context::<ResponseOptions>()
        .ok_or_else(|| AppError::Transport("no response to set the session cookie on".into()))?;
    // An error's status is set by the server's middleware (`AppError::status`); a plain form post
    // is answered with the form again (`start_deploy`).
    let catalog = deploy.catalog().await?;
    let selection = Selection::parse(&catalog.form, &request)?;
    let (url, flow) = deploy.begin(selection);
    deploy::metrics::deploy_started();

    // The cookie outlives the flow so that a late return gets "expired", not "no deployment";
    // the server enforces the flow's own lifetime from `started_at`.
    let cookie = deploy
        .sealer()
        .seal::<FlowCookie>(&flow, deploy.settings().flow_ttl + COOKIE_GRACE)
        .and_then(|cookie| HeaderValue::from_str(&cookie).ok())
        .ok_or_else(|| AppError::Transport("could not prepare the session cookie".into()))?;
    if cookie.len() > deploy::sealed::MAX_COOKIE {
        // Browsers drop larger cookies silently; the person would come back to "no deployment".
        return Err(AppError::InvalidSelection {
            field: "ssh_keys".into(),
            message: "The SSH keys and inputs are too long to carry through Linode's login. Use fewer or shorter keys (ssh-ed25519 keys are short).".into(),
        });
    }
    response.append_header(SET_COOKIE, cookie);

    // A plain form post (no WASM yet) gets a real redirect; the hydrated page navigates itself.
    if html_form {
        leptos_axum::redirect(url.as_str());
    }
    Ok(url.to_string())
}

async fn accepts_html() -> bool {
    leptos_axum::extract::<http::HeaderMap>().await.is_ok_and(|headers| {
        headers.get(ACCEPT).and_then(|accept| accept.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Body of the `preview_request` server function: what the form as it stands would send.
pub async fn preview(request: &DeployRequest) -> Result<domain::LinodeRequest, AppError> {
    let deploy = context::deploy()?;
    // The cached catalog itself: no copy of the form per keystroke.
    let catalog = deploy.catalog().await?;
    Ok(deploy.preview(&catalog.form, request))
}
