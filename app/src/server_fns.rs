//! The form's two server functions, in one place that both the page (which posts to
//! `start_deploy`) and its islands (which ask `preview_request` after every change) import, so
//! neither imports the other. Each is one line: the work is in `server_side::start`.

use leptos::prelude::*;

use crate::error::AppError;
use domain::selection::DeployRequest;
#[cfg(doc)]
use domain::LinodeRequest;

/// Validates the request against the catalog, remembers it with a fresh `state` in an encrypted
/// cookie and answers with Linode's authorize URL. A plain HTML form post gets a 302 to it; the
/// hydrated page gets the URL back and navigates itself, because the router would otherwise try to
/// handle a same-origin URL (the embedded sandbox) as one of its own routes. The form's fields are
/// [`DeployRequest`]'s, each with a default (a forged post that leaves one out gets the same clear
/// message as a wrong value).
#[server(endpoint = "start_deploy")]
pub async fn start_deploy(#[server(flatten)] request: DeployRequest) -> Result<String, AppError> {
    crate::server_side::start::start_deploy(request).await
}

/// The create request the form's current values would send, masked: what the form's preview
/// shows after each change, as [`LinodeRequest::to_wire`]. Calls nothing at Linode.
#[server(endpoint = "preview_request")]
pub async fn preview_request(#[server(flatten)] request: DeployRequest) -> Result<String, AppError> {
    crate::server_side::start::preview(&request).await.map(|preview| preview.to_wire())
}
