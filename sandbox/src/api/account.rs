//! `GET/PUT /account/settings`, `GET/PUT /networking/firewalls/settings` and
//! `GET /profile/grants`: what a client can read and change of the account itself, so an
//! unmodified client can set a scenario up through Linode's own API.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{require, with_scope_headers, Caller, Scope, ACCOUNT_READ, ACCOUNT_WRITE, FIREWALL_READ};
use crate::account::{DefaultFirewalls, InterfacesForNewLinodes, MaintenancePolicy};
use crate::errors::{ApiError, FieldError};
use crate::state::AppState;

/// Account-level endpoints are for unrestricted users: IAM gives a new restricted user no
/// account role that reads or changes settings.
fn require_unrestricted(app: &AppState, headers: &HeaderMap, scope: Scope) -> Result<Caller, ApiError> {
    let caller = require(app, headers, Some(scope))?;
    if app.store().user(&caller.username).restricted {
        return Err(ApiError::Forbidden);
    }
    Ok(caller)
}

fn reply(body: Value, caller: &Caller, scope: Scope) -> Response {
    with_scope_headers(Json(body).into_response(), Some(caller), Some(scope))
}

pub(crate) async fn get_settings(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = require_unrestricted(&app, &headers, ACCOUNT_READ)?;
    let settings = serde_json::to_value(&app.store().account).unwrap_or_default();
    Ok(reply(settings, &caller, ACCOUNT_READ))
}

/// The writable fields; the read-only ones (`managed`, `longview_subscription`,
/// `object_storage`) are ignored when sent, as are unknown ones.
#[derive(Deserialize)]
struct SettingsUpdate {
    backups_enabled: Option<bool>,
    interfaces_for_new_linodes: Option<InterfacesForNewLinodes>,
    maintenance_policy: Option<MaintenancePolicy>,
    network_helper: Option<bool>,
}

pub(crate) async fn put_settings(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require_unrestricted(&app, &headers, ACCOUNT_WRITE)?;
    let update: SettingsUpdate = serde_json::from_slice(&body).map_err(|error| {
        ApiError::BadRequest(vec![FieldError { reason: format!("Invalid account settings: {error}"), field: None }])
    })?;
    let mut store = app.store();
    let settings = &mut store.account;
    if let Some(value) = update.backups_enabled {
        settings.backups_enabled = value;
    }
    if let Some(value) = update.interfaces_for_new_linodes {
        settings.interfaces_for_new_linodes = value;
    }
    if let Some(value) = update.maintenance_policy {
        settings.maintenance_policy = value;
    }
    if let Some(value) = update.network_helper {
        settings.network_helper = value;
    }
    let settings = serde_json::to_value(&*settings).unwrap_or_default();
    Ok(reply(settings, &caller, ACCOUNT_WRITE))
}

fn firewall_settings_json(defaults: DefaultFirewalls) -> Value {
    json!({ "default_firewall_ids": defaults })
}

pub(crate) async fn get_firewall_settings(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_READ))?;
    let defaults = app.store().default_firewalls;
    Ok(reply(firewall_settings_json(defaults), &caller, FIREWALL_READ))
}

#[derive(Deserialize)]
struct FirewallSettingsUpdate {
    default_firewall_ids: Option<serde_json::Map<String, Value>>,
}

/// Changing the defaults needs `account:read_write` (spec 4.234.0); each id must name one of
/// the account's firewalls, or be `null` for none. Omitted kinds keep their default.
pub(crate) async fn put_firewall_settings(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require_unrestricted(&app, &headers, ACCOUNT_WRITE)?;
    let update: FirewallSettingsUpdate = serde_json::from_slice(&body).map_err(|error| {
        ApiError::BadRequest(vec![FieldError { reason: format!("Invalid firewall settings: {error}"), field: None }])
    })?;
    let mut store = app.store();
    let mut defaults = store.default_firewalls;
    let mut errors = Vec::new();
    for (kind, value) in update.default_firewall_ids.unwrap_or_default() {
        let field = format!("default_firewall_ids.{kind}");
        let slot = match kind.as_str() {
            "linode" => &mut defaults.linode,
            "nodebalancer" => &mut defaults.nodebalancer,
            "public_interface" => &mut defaults.public_interface,
            "vpc_interface" => &mut defaults.vpc_interface,
            _ => {
                errors.push(FieldError::new(&field, "Unknown kind of default firewall"));
                continue;
            }
        };
        match value.as_u64() {
            Some(id) if store.firewalls.iter().any(|f| f.id == id) => *slot = Some(id),
            Some(id) => errors.push(FieldError::new(&field, format!("Firewall {id} not found"))),
            // `null`: no default of that kind. linode_api4 (5.48) always sends all four ids,
            // `null` for those the account has none of, so production takes it [inferred].
            None if value.is_null() => *slot = None,
            None => errors.push(FieldError::new(&field, "Must be a firewall id")),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(errors));
    }
    store.default_firewalls = defaults;
    Ok(reply(firewall_settings_json(defaults), &caller, ACCOUNT_WRITE))
}

/// `GET /profile/grants`, open to any token: 204 for an unrestricted user (who may do
/// everything), the grants of a restricted one otherwise. Under IAM the legacy `global` grants
/// mirror the user's roles (`add_linodes` is whether it may create Linodes).
pub(crate) async fn grants(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Result<Response, ApiError> {
    use crate::account::Permission;
    let caller = require(&app, &headers, None)?;
    let user = app.store().user(&caller.username);
    if !user.restricted {
        return Ok(with_scope_headers(StatusCode::NO_CONTENT.into_response(), Some(&caller), None));
    }
    let body = json!({
        "global": {
            "account_access": null,
            "add_databases": false,
            "add_domains": false,
            "add_firewalls": user.may(Permission::CreateFirewall),
            "add_images": false,
            "add_linodes": user.may(Permission::CreateLinode),
            "add_longview": false,
            "add_nodebalancers": false,
            "add_stackscripts": false,
            "add_volumes": false,
            "add_vpcs": false,
            "cancel_account": false,
            "child_account_access": null,
            "longview_subscription": false
        },
        "database": [],
        "domain": [],
        "firewall": [],
        "image": [],
        "linode": [],
        "longview": [],
        "nodebalancer": [],
        "stackscript": [],
        "volume": [],
        "vpc": []
    });
    Ok(with_scope_headers(Json(body).into_response(), Some(&caller), None))
}
