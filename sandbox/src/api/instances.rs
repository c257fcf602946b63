//! `POST /linode/instances`, `GET /linode/instances` and `GET /linode/instances/{id}`.
//! Status is computed from the creation time at read time: `provisioning`, then `booting`,
//! then `running` (or `offline` when created with `booted: false`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::create::{parse_body, validate, ValidCreate};
use super::{require, with_scope_headers, Caller, LINODES_READ, LINODES_WRITE};
use crate::config::Timings;
use crate::errors::ApiError;
use crate::pagination::list;
use crate::rate_limit::Allowance;
use crate::records::linode_time;
use crate::state::{AppState, InstanceRecord, Store};

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

    fn to_json(&self, timings: &Timings, now: Instant) -> Value {
        let created = linode_time(self.created);
        json!({
            "id": self.id,
            "label": self.label,
            "group": self.group,
            "tags": self.tags,
            "status": self.status(timings, now),
            "type": self.plan,
            "region": self.region,
            "image": self.image,
            "ipv4": self.ipv4,
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
            "has_user_data": false,
            "lke_cluster_id": null,
            "placement_group": null,
            "capabilities": [],
            "disk_encryption": "disabled",
            "interface_generation": "legacy_config",
            "maintenance_policy": "linode/migrate",
            "locks": []
        })
    }
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
    let (ipv4, ipv6) = addresses(store.instances.len() as u64, valid.private_ip);
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
        ipv4,
        ipv6,
        specs: json!({
            "disk": plan["disk"],
            "memory": plan["memory"],
            "vcpus": plan["vcpus"],
            "gpus": plan["gpus"],
            "transfer": plan["transfer"]
        }),
        created: OffsetDateTime::now_utc(),
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

fn with_rate_headers(mut response: Response, allowance: Allowance) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(allowance.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(allowance.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(allowance.reset_epoch));
    response
}

pub(crate) async fn create(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = require(&app, &headers, Some(LINODES_WRITE))?;
    let allowance = app.store().create_windows.hit(&caller.token_id, app.config.create_rate_limit)?;
    // Every create attempt counts against the limit, and every reply carries its headers.
    let result = parse_body(&body)
        .map_err(|e| ApiError::BadRequest(vec![e]))
        .and_then(|body| validate(&app.catalog, body).map_err(ApiError::BadRequest))
        .and_then(|valid| {
            let received = redacted_body(&body);
            let mut store = app.store();
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
    Ok(with_rate_headers(with_scope_headers(response, Some(&caller), Some(LINODES_WRITE)), allowance))
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
