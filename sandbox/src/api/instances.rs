//! `POST /linode/instances`, `GET /linode/instances` and `GET /linode/instances/{id}`.
//! Status is computed from the creation time at read time: `provisioning`, then `booting`,
//! then `running` (or `offline` when created with `booted: false`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::create::{parse_body, validate, Account, ValidCreate};
use super::{require, require_permission, with_scope_headers, Caller, LINODES_READ, LINODES_WRITE};
use crate::account::{InterfaceGeneration, Permission};
use crate::config::Timings;
use crate::errors::ApiError;
use crate::firewall::{Device, DeviceEntity};
use crate::pagination::list;
use crate::records::linode_time;
use crate::state::{AppState, InstanceRecord, InterfaceKind, InterfaceRecord, Store};

const INSTANCE_FIELDS: &[&str] = &["id", "label", "group", "tags", "region", "type", "image", "status"];

impl InstanceRecord {
    pub(crate) fn status(&self, timings: &Timings, now: Instant) -> &'static str {
        let age = now.saturating_duration_since(self.created_at);
        if age < timings.provisioning {
            "provisioning"
        } else if !self.booted {
            "offline"
        } else if age < timings.provisioning + timings.booting {
            "booting"
        } else {
            "running"
        }
    }

    /// When the instance reached `running`, if it was booted.
    pub(crate) fn running_since(&self, timings: &Timings) -> Option<Instant> {
        self.booted.then(|| self.created_at + timings.provisioning + timings.booting)
    }

    pub(crate) fn to_json(&self, timings: &Timings, now: Instant) -> Value {
        let created = linode_time(self.created);
        let mut ipv4 = self.ipv4.clone();
        ipv4.extend(self.private_ipv4.clone());
        json!({
            "id": self.id,
            "label": self.label,
            "group": self.group,
            "tags": self.tags,
            "status": self.status(timings, now),
            "type": self.plan,
            "region": self.region,
            "image": self.image,
            "ipv4": ipv4,
            "ipv6": self.ipv6,
            "hypervisor": "kvm",
            "created": created,
            "updated": created,
            "specs": self.specs,
            "alerts": {
                "cpu": 90 * self.specs["vcpus"].as_u64().unwrap_or(1),
                "io": 10000,
                "network_in": 10,
                "network_out": 10,
                "transfer_quota": 80
            },
            "backups": {
                "enabled": self.backups_enabled,
                "available": false,
                "last_successful": null,
                "schedule": { "day": null, "window": null }
            },
            "watchdog_enabled": true,
            // 40 hex digits, as production sends (a SHA-1-sized id).
            "host_uuid": host_uuid(self.id),
            "has_user_data": self.has_user_data,
            "lke_cluster_id": null,
            "placement_group": null,
            "capabilities": [],
            "disk_encryption": self.disk_encryption,
            "interface_generation": self.interface_generation.as_str(),
            "maintenance_policy": self.maintenance_policy.as_str()
            // No `locks`: production sends it on /v4beta only.
        })
    }

    /// `GET /linode/instances/{id}/interfaces` entry of each Linode Interface.
    fn interfaces_json(&self) -> Vec<Value> {
        self.interfaces
            .iter()
            .map(|interface| {
                let created = linode_time(interface.created);
                let mut value = json!({
                    "id": interface.id,
                    "mac_address": mac_address(interface.id),
                    "created": created,
                    "updated": created,
                    "version": 1,
                    "default_route": null,
                    "public": null,
                    "vpc": null,
                    "vlan": null,
                });
                match &interface.kind {
                    InterfaceKind::Public => {
                        value["default_route"] =
                            json!({ "ipv4": interface.default_route_ipv4, "ipv6": interface.default_route_ipv6 });
                        let slaac = self.ipv6.as_deref().map(|v6| v6.trim_end_matches("/128").to_owned());
                        value["public"] = json!({
                            "ipv4": {
                                "addresses": self.ipv4.iter().enumerate()
                                    .map(|(n, address)| json!({ "address": address, "primary": n == 0 }))
                                    .collect::<Vec<_>>(),
                                "shared": []
                            },
                            "ipv6": {
                                "ranges": [],
                                "shared": [],
                                "slaac": slaac.map(|address| vec![json!({ "address": address, "prefix": 64 })])
                                    .unwrap_or_default()
                            }
                        });
                    }
                    InterfaceKind::Vpc { subnet_id } => {
                        value["default_route"] = json!({ "ipv4": interface.default_route_ipv4 });
                        value["vpc"] = json!({
                            "vpc_id": subnet_id / 10,
                            "subnet_id": subnet_id,
                            "ipv4": { "addresses": [], "ranges": [] }
                        });
                    }
                    InterfaceKind::Vlan { vlan_label, ipam_address } => {
                        value["vlan"] = json!({ "vlan_label": vlan_label, "ipam_address": ipam_address });
                    }
                }
                value
            })
            .collect()
    }
}

/// A locally administered MAC address derived from the interface id.
fn mac_address(id: u64) -> String {
    let bytes = id.to_be_bytes();
    format!("f2:3c:{:02x}:{:02x}:{:02x}:{:02x}", bytes[4], bytes[5], bytes[6], bytes[7])
}

/// Addresses from the documentation ranges (RFC 5737 / RFC 3849), so nothing real is named.
fn addresses(index: u64, private_ip: bool) -> (Vec<String>, String) {
    const RANGES: [&str; 3] = ["192.0.2", "198.51.100", "203.0.113"];
    let host = index % 254 + 1;
    let range = RANGES[(index / 254 % 3) as usize];
    let mut ipv4 = vec![format!("{range}.{host}")];
    if private_ip {
        ipv4.push(format!("192.168.{}.{host}", 128 + index / 254 % 127));
    }
    let ipv6 = format!("2001:db8::f03c:95ff:fe{:02x}:{:04x}/128", (index >> 16) & 0xff, index & 0xffff);
    (ipv4, ipv6)
}

/// Whether the new Linode has a public address: always with legacy interfaces, only through a
/// public interface with Linode Interfaces.
fn has_public_interface(valid: &ValidCreate<'_>) -> bool {
    valid.generation == InterfaceGeneration::LegacyConfig
        || valid.interfaces.iter().any(|i| matches!(i.kind, InterfaceKind::Public))
}

fn store_instance(
    store: &mut Store,
    valid: ValidCreate<'_>,
    caller: &Caller,
    request_body: Option<String>,
) -> Result<u64, ApiError> {
    if let Some(label) = &valid.label {
        if store.instances.iter().any(|i| &i.label == label) {
            return Err(ApiError::field("label", "Label must be unique among your Linodes"));
        }
    }
    let id = store.next_instance_id;
    store.next_instance_id += 1;
    let (mut ipv4, ipv6) = addresses(store.instances.len() as u64, valid.private_ip);
    let private_ipv4 = (ipv4.len() > 1).then(|| ipv4.remove(1));
    let public = has_public_interface(&valid);
    let now = OffsetDateTime::now_utc();
    let mut interfaces = Vec::new();
    let mut devices = Vec::new();
    for planned in valid.interfaces {
        let interface_id = store.next_id();
        if let Some(firewall) = planned.firewall_id {
            devices.push((firewall, DeviceEntity::LinodeInterface { interface_id, linode_id: id }));
        }
        interfaces.push(InterfaceRecord {
            id: interface_id,
            kind: planned.kind,
            default_route_ipv4: planned.default_route_ipv4,
            default_route_ipv6: planned.default_route_ipv6,
            created: now,
        });
    }
    if let Some(firewall) = valid.legacy_firewall {
        devices.push((firewall, DeviceEntity::Linode { linode_id: id }));
    }
    for (firewall_id, entity) in devices {
        let device_id = store.next_id();
        if let Some(firewall) = store.firewalls.iter_mut().find(|f| f.id == firewall_id) {
            firewall.devices.push(Device { id: device_id, entity, created: now });
        }
    }
    let plan = &valid.plan.json;
    store.instances.push(InstanceRecord {
        id,
        label: valid.label.unwrap_or_else(|| format!("linode{id}")),
        group: valid.group,
        tags: valid.tags,
        plan: valid.plan.id.clone(),
        region: valid.region.id.clone(),
        image: valid.image,
        stackscript_id: valid.stackscript.map(|s| s.id),
        stackscript_data: valid.stackscript_data,
        authorized_keys: valid.authorized_keys,
        booted: valid.booted,
        backups_enabled: valid.backups_enabled,
        ipv4: if public { ipv4 } else { Vec::new() },
        private_ipv4,
        ipv6: public.then_some(ipv6),
        specs: json!({
            "disk": plan["disk"],
            "memory": plan["memory"],
            "vcpus": plan["vcpus"],
            "gpus": plan["gpus"],
            "transfer": plan["transfer"]
        }),
        interface_generation: valid.generation,
        interfaces,
        has_user_data: valid.has_user_data,
        disk_encryption: valid.disk_encryption,
        maintenance_policy: valid.maintenance_policy,
        created: now,
        created_at: Instant::now(),
        client_id: caller.client_id.clone(),
        token_id: caller.token_id.clone(),
        request_body,
    });
    Ok(id)
}

/// The body as received, with the value of `root_pass` (the one secret in it) replaced; `None`
/// when it is not valid UTF-8 or the value cannot be found as written.
fn redacted_body(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let parsed: Value = serde_json::from_str(text).ok()?;
    let Some(password) = parsed.get("root_pass") else { return Some(text.to_owned()) };
    let written = serde_json::to_string(password).ok()?;
    let (start, _) = text.match_indices(&written).find(|(at, _)| {
        let before = text[..*at].trim_end();
        before.ends_with(':') && before[..before.len() - 1].trim_end().ends_with("\"root_pass\"")
    })?;
    Some(format!("{}\"<redacted>\"{}", &text[..start], &text[start + written.len()..]))
}

pub(crate) async fn create(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(LINODES_WRITE))?;
    // IAM: the scope is not enough; the user needs `create_linode` too.
    require_permission(&app, &caller, Permission::CreateLinode)?;
    let result = parse_body(&body).map_err(|e| ApiError::BadRequest(vec![e])).and_then(|parsed| {
        let received = redacted_body(&body);
        let mut store = app.store();
        let settings = store.account.clone();
        let account = Account {
            settings: &settings,
            defaults: store.default_firewalls,
            firewalls: store.firewalls.iter().map(|f| f.id).collect(),
        };
        let valid = validate(&app.catalog, &account, parsed).map_err(ApiError::BadRequest)?;
        let id = store_instance(&mut store, valid, &caller, received)?;
        store
            .instances
            .iter()
            .find(|i| i.id == id)
            .map(|i| i.to_json(&app.config.timings, Instant::now()))
            .ok_or(ApiError::NotFound)
    });
    let response = match result {
        Ok(linode) => Json(linode).into_response(),
        Err(error) => error.into_response(),
    };
    Ok(with_scope_headers(response, Some(&caller), Some(LINODES_WRITE)))
}

/// `DELETE /linode/instances/{id}`: the Linode goes, and with it its firewall devices.
pub(crate) async fn delete_instance(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(LINODES_WRITE))?;
    let id = id.parse::<u64>().map_err(|_| ApiError::NotFound)?;
    let mut store = app.store();
    let before = store.instances.len();
    store.instances.retain(|i| i.id != id);
    if store.instances.len() == before {
        return Err(ApiError::NotFound);
    }
    for firewall in &mut store.firewalls {
        firewall.devices.retain(|d| d.entity.linode_id() != id);
    }
    Ok(with_scope_headers(Json(json!({})).into_response(), Some(&caller), Some(LINODES_WRITE)))
}

/// `GET /linode/instances/{id}/interfaces`: a Linode-Interfaces Linode's interfaces. The spec
/// names `linodes:read_write` for it, and so does the sandbox.
pub(crate) async fn list_interfaces(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(LINODES_WRITE))?;
    let id = id.parse::<u64>().map_err(|_| ApiError::NotFound)?;
    let store = app.store();
    let linode = store.instances.iter().find(|i| i.id == id).ok_or(ApiError::NotFound)?;
    if linode.interface_generation != InterfaceGeneration::Linode {
        return Err(ApiError::field(
            "interface_generation",
            "This Linode uses legacy configuration interfaces; they are listed in its configuration profiles",
        ));
    }
    let reply = json!({ "interfaces": linode.interfaces_json() });
    Ok(with_scope_headers(Json(reply).into_response(), Some(&caller), Some(LINODES_WRITE)))
}

pub(crate) async fn list_instances(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(LINODES_READ))?;
    let now = Instant::now();
    let items = app.store().instances.iter().map(|i| i.to_json(&app.config.timings, now)).collect();
    let page = list(items, INSTANCE_FIELDS, &headers, &query)?;
    Ok(with_scope_headers(Json(page).into_response(), Some(&caller), Some(LINODES_READ)))
}

pub(crate) async fn get_instance(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(LINODES_READ))?;
    let linode = id
        .parse::<u64>()
        .ok()
        .and_then(|id| {
            app.store().instances.iter().find(|i| i.id == id).map(|i| i.to_json(&app.config.timings, Instant::now()))
        })
        .ok_or(ApiError::NotFound)?;
    Ok(with_scope_headers(Json(linode).into_response(), Some(&caller), Some(LINODES_READ)))
}

/// A stable, production-shaped `host_uuid` for Linode `id`: 40 lowercase hex digits.
fn host_uuid(id: u64) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(format!("host-{id}").as_bytes())[..20])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_from_documentation_ranges() {
        let (first, v6) = addresses(0, true);
        assert_eq!(first, ["192.0.2.1", "192.168.128.1"]);
        assert!(v6.starts_with("2001:db8::"));
        assert_eq!(addresses(254, false).0, ["198.51.100.1"]);
        assert_eq!(addresses(508, false).0, ["203.0.113.1"]);
    }
}
