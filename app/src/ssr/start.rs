//! Step 2: from the form to Linode's login page.

use http::header::{ACCEPT, SET_COOKIE};
use http::HeaderValue;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::{context, flow::PendingFlow, selection::Selection, session::FLOW_COOKIE};
use crate::error::AppError;

/// The only permission the flow needs: creating (and reading) Linodes.
pub const SCOPES: &str = "linodes:read_write";
const COOKIE_GRACE: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Body of the `start_deploy` server function.
pub async fn start_deploy(plan: String, region: String, image: String) -> Result<String, AppError> {
    let deploy = context::deploy()?;
    let response = use_context::<ResponseOptions>()
        .ok_or_else(|| AppError::Transport("no response to set the session cookie on".into()))?;
    let html_form = accepts_html().await;
    let catalog = deploy.catalog.get().await.inspect_err(|_| {
        // Linode being down is not the server's fault: 503, not server_fn's default 500.
        if !html_form {
            response.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
        }
    })?;
    let selection = Selection::parse(&catalog, plan.trim(), region.trim(), image.trim()).inspect_err(|_| {
        // A plain form post must keep server_fn's redirect back to the form, which carries the error
        // in its query so the re-rendered form shows it; a fetch from the hydrated page gets a 400,
        // a client error, rather than server_fn's default 500.
        if !html_form {
            response.set_status(http::StatusCode::BAD_REQUEST);
        }
    })?;
    let flow = PendingFlow::new(selection);
    let url = deploy.login.authorize_url(SCOPES, &deploy.settings.redirect_uri, &flow.state);

    // The cookie outlives the flow so that a late return gets "expired", not "no deployment";
    // the server enforces the flow's own lifetime from `started_at`.
    let cookie = deploy
        .sealer
        .seal(FLOW_COOKIE, &flow, deploy.settings.flow_ttl + COOKIE_GRACE)
        .and_then(|cookie| HeaderValue::from_str(&cookie).ok())
        .ok_or_else(|| AppError::Transport("could not prepare the session cookie".into()))?;
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
