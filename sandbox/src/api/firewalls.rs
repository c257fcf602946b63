//! Cloud Firewalls: `POST/GET /networking/firewalls`, `GET/PUT/DELETE
//! /networking/firewalls/{id}`, its `rules` and `devices`, and a Linode's own
//! `GET/PUT /linode/instances/{id}/firewalls`. Texts of refusals are the sandbox's own where
//! Linode's are [undocumented].

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{
    require, require_permission, with_scope_headers, FIREWALL_READ, FIREWALL_WRITE, LINODES_READ, LINODES_WRITE,
};
use crate::account::{InterfaceGeneration, Permission};
use crate::errors::{ApiError, FieldError};
use crate::firewall::{check_label, Device, DeviceEntity, FirewallRecord, FirewallStatus, Rules, RulesBody};
use crate::pagination::list;
use crate::state::{AppState, InterfaceKind, Store};

const FIREWALL_FIELDS: &[&str] = &["id", "label", "status", "tags"];

fn bad_body(error: serde_json::Error) -> ApiError {
    ApiError::BadRequest(vec![FieldError { reason: format!("Malformed request body: {error}"), field: None }])
}

fn parse_id(text: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| ApiError::NotFound)
}

impl Store {
    fn label_of(&self, linode_id: u64) -> Option<String> {
        self.instances.iter().find(|i| i.id == linode_id).map(|i| i.label.clone())
    }

    pub(crate) fn firewall_json(&self, firewall: &FirewallRecord) -> Value {
        firewall.to_json(|id| self.label_of(id))
    }

    fn firewall_mut(&mut self, id: u64) -> Result<&mut FirewallRecord, ApiError> {
        self.firewalls.iter_mut().find(|f| f.id == id).ok_or(ApiError::NotFound)
    }

    /// A firewall label's problem, if any: Linode's label rules at 3–32 characters, and unique
    /// among the account's firewalls but `renamed` (the one being relabelled).
    fn check_firewall_label(&self, label: &str, renamed: Option<u64>) -> Option<FieldError> {
        if let Err(reason) = check_label(label, 3..=32) {
            return Some(FieldError::new("label", reason));
        }
        self.firewalls
            .iter()
            .any(|f| Some(f.id) != renamed && f.label == label)
            .then(|| FieldError::new("label", "Label must be unique among your Firewalls"))
    }

    fn is_default_firewall(&self, id: u64) -> bool {
        let d = self.default_firewalls;
        [d.linode, d.nodebalancer, d.public_interface, d.vpc_interface].contains(&Some(id))
    }

    /// What a device request names, checked: a Linode with legacy interfaces, or a public or
    /// VPC Linode Interface; each may have at most one enabled firewall.
    fn device_entity(&self, kind: &str, id: u64, field: &str) -> Result<DeviceEntity, FieldError> {
        let entity = match kind {
            "linode" => {
                let linode = self
                    .instances
                    .iter()
                    .find(|i| i.id == id)
                    .ok_or_else(|| FieldError::new(field, format!("Linode {id} not found")))?;
                if linode.interface_generation == InterfaceGeneration::Linode {
                    return Err(FieldError::new(
                        field,
                        format!("Linode {id} uses Linode Interfaces: assign the firewall to its interface instead"),
                    ));
                }
                DeviceEntity::Linode { linode_id: id }
            }
            "linode_interface" => {
                let (linode, interface) = self
                    .instances
                    .iter()
                    .find_map(|i| i.interfaces.iter().find(|x| x.id == id).map(|x| (i, x)))
                    .ok_or_else(|| FieldError::new(field, format!("Linode Interface {id} not found")))?;
                if matches!(interface.kind, InterfaceKind::Vlan { .. }) {
                    return Err(FieldError::new(field, "VLAN interfaces cannot have a firewall"));
                }
                DeviceEntity::LinodeInterface { interface_id: id, linode_id: linode.id }
            }
            "nodebalancer" => return Err(FieldError::new(field, format!("NodeBalancer {id} not found"))),
            _ => return Err(FieldError::new(field, "Must be one of linode, linode_interface, nodebalancer")),
        };
        if self.firewalls.iter().any(|f| f.status == FirewallStatus::Enabled && f.protects(entity)) {
            return Err(FieldError::new(field, "This device already has an active firewall"));
        }
        Ok(entity)
    }
}

#[derive(Deserialize)]
struct CreateFirewall {
    label: Option<String>,
    rules: Option<RulesBody>,
    #[serde(default)]
    tags: Vec<String>,
    devices: Option<Devices>,
}

#[derive(Default, Deserialize)]
struct Devices {
    #[serde(default)]
    linodes: Vec<u64>,
    #[serde(default)]
    linode_interfaces: Vec<u64>,
    #[serde(default)]
    nodebalancers: Vec<u64>,
}

pub(crate) async fn create(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_WRITE))?;
    require_permission(&app, &caller, Permission::CreateFirewall)?;
    let body: CreateFirewall = serde_json::from_slice(&body).map_err(bad_body)?;
    let mut store = app.store();
    let mut errors = Vec::new();
    match body.label.as_deref() {
        None => errors.push(FieldError::new("label", "label is required")),
        Some(label) => errors.extend(store.check_firewall_label(label, None)),
    }
    let rules = match body.rules {
        None => {
            errors.push(FieldError::new("rules", "rules is required"));
            None
        }
        Some(rules) => Rules::parse(rules, "rules.", 1).map_err(|mut found| errors.append(&mut found)).ok(),
    };
    let devices = body.devices.unwrap_or_default();
    let mut entities = Vec::new();
    let named = [("linode", &devices.linodes), ("linode_interface", &devices.linode_interfaces)];
    for (kind, ids) in named.into_iter().chain([("nodebalancer", &devices.nodebalancers)]) {
        for id in ids {
            match store.device_entity(kind, *id, &format!("devices.{kind}s")) {
                Ok(entity) => entities.push(entity),
                Err(error) => errors.push(error),
            }
        }
    }
    let (Some(label), Some(rules), true) = (body.label, rules, errors.is_empty()) else {
        return Err(ApiError::BadRequest(errors));
    };
    let id = store.next_id();
    let now = OffsetDateTime::now_utc();
    let mut firewall = FirewallRecord {
        id,
        label,
        status: FirewallStatus::Enabled,
        tags: body.tags,
        rules,
        devices: Vec::new(),
        created: now,
        updated: now,
    };
    for entity in entities {
        let device_id = store.next_id();
        firewall.devices.push(Device { id: device_id, entity, created: now });
    }
    let reply = store.firewall_json(&firewall);
    store.firewalls.push(firewall);
    Ok(with_scope_headers(Json(reply).into_response(), Some(&caller), Some(FIREWALL_WRITE)))
}

pub(crate) async fn list_firewalls(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_READ))?;
    let items = {
        let store = app.store();
        store.firewalls.iter().map(|f| store.firewall_json(f)).collect()
    };
    let page = list(items, FIREWALL_FIELDS, &headers, &query)?;
    Ok(with_scope_headers(Json(page).into_response(), Some(&caller), Some(FIREWALL_READ)))
}

pub(crate) async fn get_firewall(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_READ))?;
    let id = parse_id(&id)?;
    let store = app.store();
    let firewall = store.firewalls.iter().find(|f| f.id == id).ok_or(ApiError::NotFound)?;
    let reply = store.firewall_json(firewall);
    Ok(with_scope_headers(Json(reply).into_response(), Some(&caller), Some(FIREWALL_READ)))
}

#[derive(Deserialize)]
struct UpdateFirewall {
    label: Option<String>,
    status: Option<String>,
    tags: Option<Vec<String>>,
}

pub(crate) async fn update_firewall(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_WRITE))?;
    let id = parse_id(&id)?;
    let update: UpdateFirewall = serde_json::from_slice(&body).map_err(bad_body)?;
    let mut store = app.store();
    store.firewall_mut(id)?;
    let mut errors = Vec::new();
    if let Some(label) = &update.label {
        errors.extend(store.check_firewall_label(label, Some(id)));
    }
    let status = match update.status.as_deref() {
        None => None,
        Some("enabled") => Some(FirewallStatus::Enabled),
        Some("disabled") if store.is_default_firewall(id) => {
            errors.push(FieldError::new("status", "A default firewall cannot be disabled"));
            None
        }
        Some("disabled") => Some(FirewallStatus::Disabled),
        Some(_) => {
            errors.push(FieldError::new("status", "Must be one of enabled, disabled"));
            None
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(errors));
    }
    let firewall = store.firewall_mut(id)?;
    if let Some(label) = update.label {
        firewall.label = label;
    }
    if let Some(status) = status {
        firewall.status = status;
    }
    if let Some(tags) = update.tags {
        firewall.tags = tags;
    }
    firewall.updated = OffsetDateTime::now_utc();
    let firewall = firewall.clone();
    let reply = store.firewall_json(&firewall);
    Ok(with_scope_headers(Json(reply).into_response(), Some(&caller), Some(FIREWALL_WRITE)))
}

pub(crate) async fn delete_firewall(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_WRITE))?;
    let id = parse_id(&id)?;
    let mut store = app.store();
    store.firewall_mut(id)?;
    if store.is_default_firewall(id) {
        return Err(ApiError::field(
            "id",
            "This firewall is a default firewall of the account and cannot be deleted; \
choose another default first",
        ));
    }
    store.firewalls.retain(|f| f.id != id);
    Ok(with_scope_headers(Json(json!({})).into_response(), Some(&caller), Some(FIREWALL_WRITE)))
}

pub(crate) async fn get_rules(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_READ))?;
    let id = parse_id(&id)?;
    let rules = app.store().firewall_mut(id)?.rules.to_json();
    Ok(with_scope_headers(Json(rules).into_response(), Some(&caller), Some(FIREWALL_READ)))
}

pub(crate) async fn put_rules(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_WRITE))?;
    let id = parse_id(&id)?;
    let body: RulesBody = serde_json::from_slice(&body).map_err(bad_body)?;
    let mut store = app.store();
    let firewall = store.firewall_mut(id)?;
    let rules = Rules::parse(body, "", firewall.rules.version + 1).map_err(ApiError::BadRequest)?;
    firewall.rules = rules;
    firewall.updated = OffsetDateTime::now_utc();
    let reply = firewall.rules.to_json();
    Ok(with_scope_headers(Json(reply).into_response(), Some(&caller), Some(FIREWALL_WRITE)))
}

pub(crate) async fn list_devices(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_READ))?;
    let id = parse_id(&id)?;
    let items = {
        let mut store = app.store();
        let devices = store.firewall_mut(id)?.devices.clone();
        devices.iter().map(|d| d.to_json(store.label_of(d.entity.linode_id()).as_deref())).collect()
    };
    let page = list(items, &["id"], &headers, &query)?;
    Ok(with_scope_headers(Json(page).into_response(), Some(&caller), Some(FIREWALL_READ)))
}

#[derive(Deserialize)]
struct NewDevice {
    id: Option<u64>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

pub(crate) async fn add_device(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_WRITE))?;
    let id = parse_id(&id)?;
    let device: NewDevice = serde_json::from_slice(&body).map_err(bad_body)?;
    let (Some(entity_id), Some(kind)) = (device.id, device.kind) else {
        return Err(ApiError::BadRequest(vec![
            FieldError::new("id", "id is required"),
            FieldError::new("type", "type is required"),
        ]));
    };
    let mut store = app.store();
    store.firewall_mut(id)?;
    let entity = store.device_entity(&kind, entity_id, "id").map_err(|e| ApiError::BadRequest(vec![e]))?;
    let device = Device { id: store.next_id(), entity, created: OffsetDateTime::now_utc() };
    let reply = device.to_json(store.label_of(entity.linode_id()).as_deref());
    store.firewall_mut(id)?.devices.push(device);
    Ok(with_scope_headers(Json(reply).into_response(), Some(&caller), Some(FIREWALL_WRITE)))
}

pub(crate) async fn get_device(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, device_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_READ))?;
    let (id, device_id) = (parse_id(&id)?, parse_id(&device_id)?);
    let mut store = app.store();
    let device =
        store.firewall_mut(id)?.devices.iter().find(|d| d.id == device_id).cloned().ok_or(ApiError::NotFound)?;
    let reply = device.to_json(store.label_of(device.entity.linode_id()).as_deref());
    Ok(with_scope_headers(Json(reply).into_response(), Some(&caller), Some(FIREWALL_READ)))
}

pub(crate) async fn remove_device(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, device_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(FIREWALL_WRITE))?;
    let (id, device_id) = (parse_id(&id)?, parse_id(&device_id)?);
    let mut store = app.store();
    let firewall = store.firewall_mut(id)?;
    let before = firewall.devices.len();
    firewall.devices.retain(|d| d.id != device_id);
    if firewall.devices.len() == before {
        return Err(ApiError::NotFound);
    }
    Ok(with_scope_headers(Json(json!({})).into_response(), Some(&caller), Some(FIREWALL_WRITE)))
}

/// `GET /linode/instances/{id}/firewalls`: the firewalls protecting the Linode or one of its
/// interfaces.
pub(crate) async fn of_linode(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(LINODES_READ))?;
    let id = parse_id(&id)?;
    let items = {
        let store = app.store();
        if !store.instances.iter().any(|i| i.id == id) {
            return Err(ApiError::NotFound);
        }
        store.firewalls_of(id).map(|f| store.firewall_json(f)).collect()
    };
    let page = list(items, FIREWALL_FIELDS, &headers, &query)?;
    Ok(with_scope_headers(Json(page).into_response(), Some(&caller), Some(LINODES_READ)))
}

#[derive(Deserialize)]
struct LinodeFirewalls {
    firewall_ids: Option<Vec<u64>>,
}

/// `PUT /linode/instances/{id}/firewalls`: replaces the firewalls of a Linode with legacy
/// interfaces (needs only `linodes:read_write`); at most one of them may be enabled.
pub(crate) async fn set_of_linode(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(LINODES_WRITE))?;
    let id = parse_id(&id)?;
    let body: LinodeFirewalls = serde_json::from_slice(&body).map_err(bad_body)?;
    let Some(ids) = body.firewall_ids else {
        return Err(ApiError::field("firewall_ids", "firewall_ids is required"));
    };
    let mut store = app.store();
    let linode = store.instances.iter().find(|i| i.id == id).ok_or(ApiError::NotFound)?;
    if linode.interface_generation == InterfaceGeneration::Linode {
        return Err(ApiError::field(
            "firewall_ids",
            "This Linode uses Linode Interfaces: assign firewalls to its interfaces instead",
        ));
    }
    let mut errors = Vec::new();
    let mut enabled = 0;
    for firewall_id in &ids {
        match store.firewalls.iter().find(|f| f.id == *firewall_id) {
            None => errors.push(FieldError::new("firewall_ids", format!("Firewall {firewall_id} not found"))),
            Some(f) if f.status == FirewallStatus::Enabled => enabled += 1,
            Some(_) => {}
        }
    }
    if enabled > 1 {
        errors.push(FieldError::new("firewall_ids", "A Linode can have only one active firewall"));
    }
    if !errors.is_empty() {
        return Err(ApiError::BadRequest(errors));
    }
    let entity = DeviceEntity::Linode { linode_id: id };
    let now = OffsetDateTime::now_utc();
    for firewall in &mut store.firewalls {
        firewall.devices.retain(|d| d.entity != entity);
    }
    for firewall_id in &ids {
        let device_id = store.next_id();
        if let Ok(firewall) = store.firewall_mut(*firewall_id) {
            firewall.devices.push(Device { id: device_id, entity, created: now });
        }
    }
    let items: Vec<Value> = store.firewalls_of(id).map(|f| store.firewall_json(f)).collect();
    let page = list(items, FIREWALL_FIELDS, &headers, &HashMap::new())?;
    Ok(with_scope_headers(Json(page).into_response(), Some(&caller), Some(LINODES_WRITE)))
}
