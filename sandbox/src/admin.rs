//! The admin endpoints under `/__sandbox`: inspection, faults at run time, reset, when the
//! installed apps answer. They are
//! neither faulted nor logged, so a test can always clean up.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::account::User;
use crate::errors::ApiError;
use crate::fault_rules::{ActiveFault, FaultRule};
use crate::inspect::Inspection;
use crate::rate_limit::{Limiter, RateLimits};
use crate::state::AppState;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/__sandbox/inspect", get(inspect))
        .route("/__sandbox/faults", get(list_faults).post(add_faults).delete(clear_faults))
        .route("/__sandbox/reset", post(reset))
        .route("/__sandbox/app", get(crate::installed_app::show_behaviour).put(crate::installed_app::set_behaviour))
        .route("/__sandbox/users", get(list_users).put(set_users))
        .route("/__sandbox/rate-limits", get(show_rate_limits).put(set_rate_limits))
}

/// The account's IAM users (what Linode manages under `/iam`, which the sandbox does not
/// serve): `[{"username", "restricted", "roles": [...]}]`. A `PUT` replaces the list.
async fn list_users(State(app): State<Arc<AppState>>) -> Json<Vec<User>> {
    Json(app.store().users.clone())
}

async fn set_users(State(app): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Vec<User>>(&body) {
        Ok(users) => {
            app.store().users = users.clone();
            Json(users).into_response()
        }
        Err(e) => ApiError::field("body", format!("Not a list of users: {e}")).into_response(),
    }
}

/// Linode's rate limits in force; a `PUT` replaces them (`null` switches a class off).
async fn show_rate_limits(State(app): State<Arc<AppState>>) -> Json<RateLimits> {
    Json(app.store().limits.limits.clone())
}

async fn set_rate_limits(State(app): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<RateLimits>(&body) {
        Ok(limits) => {
            app.store().limits = Limiter::new(limits.clone());
            Json(limits).into_response()
        }
        Err(e) => ApiError::field("body", format!("Not rate limits: {e}")).into_response(),
    }
}

async fn inspect(State(app): State<Arc<AppState>>) -> Json<Inspection> {
    Json(Inspection::capture(&app))
}

async fn list_faults(State(app): State<Arc<AppState>>) -> Json<Vec<ActiveFault>> {
    Json(app.store().faults.clone())
}

/// One rule or a list of rules.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(FaultRule),
    Many(Vec<FaultRule>),
}

async fn add_faults(State(app): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    let rules = match serde_json::from_slice::<OneOrMany>(&body) {
        Ok(OneOrMany::One(rule)) => vec![rule],
        Ok(OneOrMany::Many(rules)) => rules,
        Err(e) => return ApiError::field("body", format!("Not a fault rule: {e}")).into_response(),
    };
    if let Some(reason) = rules.iter().find_map(|r| r.validate().err()) {
        return ApiError::field("status", reason).into_response();
    }
    let mut store = app.store();
    store.faults.extend(rules.into_iter().map(ActiveFault::new));
    (StatusCode::CREATED, Json(store.faults.clone())).into_response()
}

async fn clear_faults(State(app): State<Arc<AppState>>) -> StatusCode {
    app.store().faults.clear();
    StatusCode::NO_CONTENT
}

async fn reset(State(app): State<Arc<AppState>>) -> StatusCode {
    app.store().reset(&app.config);
    StatusCode::NO_CONTENT
}
