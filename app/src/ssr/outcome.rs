//! Adapters for the result page and its progress poll: read the browser's cookies, ask the
//! deploy service, and keep the page out of every cache.

use http::{header::CACHE_CONTROL, HeaderValue};

use super::{
    context,
    flow::PendingFlow,
    service::ResultRef,
    session::{FLOW_COOKIE, OUTCOME_COOKIE},
    store::StoreError,
};
use crate::{
    error::AppError,
    model::{Outcome, Progress},
};

/// Body of the result page's outcome read (a plain server-side function: the root password
/// must have no second way out).
pub async fn deployment_outcome() -> Result<Option<Outcome>, AppError> {
    let deploy = context::deploy()?;
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        // The page may carry a root password: never cache it anywhere.
        response.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let parts: http::request::Parts =
        leptos_axum::extract().await.map_err(|error| AppError::Transport(error.to_string()))?;
    let result: Option<ResultRef> = deploy.sealer().open(&parts.headers, OUTCOME_COOKIE);
    let flow: Option<PendingFlow> = deploy.sealer().open(&parts.headers, FLOW_COOKIE);
    deploy.take_outcome(result, flow).await.map_err(|error| {
        tracing::error!(%error, "could not read an outcome");
        match error {
            StoreError::Corrupt(_) => AppError::StoredRecordUnreadable,
            _ => AppError::StoreUnavailable,
        }
    })
}

/// Body of the `deployment_progress` server function.
pub async fn deployment_progress() -> Result<Option<Progress>, AppError> {
    let deploy = context::deploy()?;
    let parts: http::request::Parts =
        leptos_axum::extract().await.map_err(|error| AppError::Transport(error.to_string()))?;
    let result: Option<ResultRef> = deploy.sealer().open(&parts.headers, OUTCOME_COOKIE);
    let flow: Option<PendingFlow> = deploy.sealer().open(&parts.headers, FLOW_COOKIE);
    deploy.progress(result, flow).await.map_err(|error| {
        tracing::warn!(%error, "could not read a deployment's progress");
        AppError::StoreUnavailable
    })
}
