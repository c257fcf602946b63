//! `GET /profile`: always allowed with any live token, whatever its scopes (spec v4.176.0).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{require, with_scope_headers};
use crate::errors::ApiError;
use crate::state::{token_id, AppState};

pub(crate) async fn profile(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, None)?;
    // The account is whoever signed in on the consent page; ids are derived from the name
    // so they are stable across tokens.
    let referral = token_id(&format!("referral-{}", caller.username));
    let uid = u32::from_str_radix(&token_id(&caller.username)[..6], 16).unwrap_or(1234);
    let restricted = app.store().user(&caller.username).restricted;
    let body = json!({
        "uid": uid,
        "username": caller.username,
        "email": format!("{}@example.com", caller.username),
        "timezone": "UTC",
        "email_notifications": true,
        "ip_whitelist_enabled": false,
        "lish_auth_method": "keys_only",
        "authorized_keys": null,
        "two_factor_auth": false,
        "restricted": restricted,
        "authentication_type": "password",
        "verified_phone_number": null,
        "referrals": {
            "code": referral,
            "url": format!("https://www.linode.com/?r={referral}"),
            "total": 0,
            "completed": 0,
            "pending": 0,
            "credit": 0
        }
    });
    Ok(with_scope_headers(Json(body).into_response(), Some(&caller), None))
}
