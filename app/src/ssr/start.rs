//! Step 2: from the form to Linode's login page.

use http::header::{ACCEPT, SET_COOKIE};
use http::HeaderValue;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::{context, session::FLOW_COOKIE};
use crate::{
    error::AppError,
    selection::{DeployRequest, Selection},
};

/// The only permission the flow needs: creating (and reading) Linodes.
pub const SCOPES: &str = "linodes:read_write";
/// What every browser keeps of one cookie (RFC 6265 §6.1 asks for at least 4096 bytes).
const MAX_COOKIE: usize = 4000;
const COOKIE_GRACE: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Body of the `start_deploy` server function.
pub async fn start_deploy(request: DeployRequest) -> Result<String, AppError> {
    let deploy = context::deploy()?;
    let response = use_context::<ResponseOptions>()
        .ok_or_else(|| AppError::Transport("no response to set the session cookie on".into()))?;
    let html_form = accepts_html().await;
    let catalog = deploy.catalog().await.inspect_err(|_| {
        // Linode being down is not the server's fault: 503, not server_fn's default 500.
        if !html_form {
            response.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
        }
    })?;
    // A plain form post must keep server_fn's redirect back to the form, which carries the error
    // in its query so the re-rendered form shows it; a fetch from the hydrated page gets a 400, a
    // client error, rather than server_fn's default 500.
    let reject = |error: AppError| {
        if !html_form {
            response.set_status(http::StatusCode::BAD_REQUEST);
        }
        error
    };
    let selection = Selection::parse(&catalog.form, &request).map_err(|invalid| reject(invalid.into()))?;
    let (url, flow) = deploy.begin(selection);

    // The cookie outlives the flow so that a late return gets "expired", not "no deployment";
    // the server enforces the flow's own lifetime from `started_at`.
    let cookie = deploy
        .sealer()
        .seal(FLOW_COOKIE, &flow, deploy.settings().flow_ttl + COOKIE_GRACE)
        .and_then(|cookie| HeaderValue::from_str(&cookie).ok())
        .ok_or_else(|| AppError::Transport("could not prepare the session cookie".into()))?;
    if cookie.len() > MAX_COOKIE {
        // Browsers drop larger cookies silently; the person would come back to "no deployment".
        return Err(reject(AppError::InvalidSelection {
            field: "ssh_keys".into(),
            message: "The SSH keys and inputs are too long to carry through Linode's login. Use fewer or shorter keys (ssh-ed25519 keys are short).".into(),
        }));
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
        headers
            .get(ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}
