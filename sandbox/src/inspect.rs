//! What happened, for tests to assert on: instances created, tokens issued and revoked,
//! codes issued and used, and every request. Secrets never appear; tokens and codes are
//! named by their fingerprint (`token_id`).

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::records::{linode_time, RequestRecord};
use crate::state::{AppState, Grant};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    pub instances: Vec<InspectedInstance>,
    /// Every firewall of the account, the default ones included.
    #[serde(default)]
    pub firewalls: Vec<InspectedFirewall>,
    pub tokens: Vec<InspectedToken>,
    pub codes: Vec<InspectedCode>,
    pub requests: Vec<RequestRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectedInstance {
    pub id: u64,
    pub label: String,
    pub region: String,
    #[serde(rename = "type")]
    pub plan: String,
    pub image: Option<String>,
    pub stackscript_id: Option<u64>,
    /// As sent on create; the real API never shows it back.
    pub stackscript_data: serde_json::Map<String, serde_json::Value>,
    pub authorized_keys: Vec<String>,
    pub status: String,
    pub tags: Vec<String>,
    pub group: String,
    pub client_id: String,
    pub token_id: String,
    pub created: String,
    /// The create request's body as received, `root_pass` redacted.
    pub request_body: Option<String>,
    /// Whether its application answers on its public address now (port 80, through its
    /// firewall).
    pub app_answering: bool,
    /// Its public IPv4 addresses (none for a Linode-Interfaces Linode without a public interface).
    #[serde(default)]
    pub ipv4: Vec<String>,
    /// `legacy_config` or `linode`.
    #[serde(default)]
    pub interface_generation: String,
    /// The firewalls protecting it or one of its interfaces.
    #[serde(default)]
    pub firewall_ids: Vec<u64>,
    #[serde(default)]
    pub has_user_data: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectedFirewall {
    pub id: u64,
    pub label: String,
    /// `enabled` or `disabled`.
    pub status: String,
    pub tags: Vec<String>,
    /// The Linodes it protects, directly or through one of their interfaces.
    pub linode_ids: Vec<u64>,
    /// The rules as `GET /networking/firewalls/{id}/rules` serves them.
    pub rules: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectedToken {
    pub token_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub username: String,
    /// `authorization_code` or `refresh_token`.
    pub grant: String,
    pub issued_at: String,
    pub revoked: bool,
    pub expired: bool,
    /// The token this one replaced through a refresh.
    pub refresh_of: Option<String>,
    pub has_refresh_token: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InspectedCode {
    pub code_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub pkce: bool,
    pub issued_at: String,
    pub used: bool,
    pub expired: bool,
    /// The token issued for it, once exchanged.
    pub token_id: Option<String>,
}

impl Inspection {
    pub(crate) fn capture(app: &AppState) -> Self {
        let now = Instant::now();
        let store = app.store();
        let timings = &app.config.timings;
        let instances = store
            .instances
            .iter()
            .map(|i| InspectedInstance {
                id: i.id,
                label: i.label.clone(),
                region: i.region.clone(),
                plan: i.plan.clone(),
                image: i.image.clone(),
                stackscript_id: i.stackscript_id,
                stackscript_data: i.stackscript_data.clone(),
                authorized_keys: i.authorized_keys.clone(),
                status: i.status(timings, now).to_owned(),
                tags: i.tags.clone(),
                group: i.group.clone(),
                client_id: i.client_id.clone(),
                token_id: i.token_id.clone(),
                created: linode_time(i.created),
                request_body: i.request_body.clone(),
                app_answering: crate::installed_app::answers(i, timings, store.app_ready, now)
                    && crate::installed_app::reachable(&store, i, 80),
                ipv4: i.ipv4.clone(),
                interface_generation: i.interface_generation.as_str().to_owned(),
                firewall_ids: store.firewalls_of(i.id).map(|f| f.id).collect(),
                has_user_data: i.has_user_data,
            })
            .collect();
        let firewalls = store
            .firewalls
            .iter()
            .map(|f| InspectedFirewall {
                id: f.id,
                label: f.label.clone(),
                status: serde_json::to_value(f.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                tags: f.tags.clone(),
                linode_ids: f.devices.iter().map(|d| d.entity.linode_id()).collect(),
                rules: f.rules.to_json(),
            })
            .collect();
        let mut tokens: Vec<_> = store.tokens.values().collect();
        tokens.sort_by_key(|t| t.seq);
        let tokens = tokens
            .into_iter()
            .map(|t| InspectedToken {
                token_id: t.token_id.clone(),
                client_id: t.client_id.clone(),
                scopes: t.scopes.clone(),
                username: t.username.clone(),
                grant: match t.grant {
                    Grant::AuthorizationCode => "authorization_code",
                    Grant::RefreshToken => "refresh_token",
                }
                .to_owned(),
                issued_at: linode_time(t.issued_at),
                revoked: t.revoked,
                expired: t.expires <= now,
                refresh_of: t.refresh_of.clone(),
                has_refresh_token: t.refresh_token.is_some(),
            })
            .collect();
        let mut codes: Vec<_> = store.codes.values().collect();
        codes.sort_by_key(|c| c.issued_at);
        let codes = codes
            .into_iter()
            .map(|c| InspectedCode {
                code_id: c.code_id.clone(),
                client_id: c.client_id.clone(),
                scopes: c.scopes.clone(),
                pkce: c.code_challenge.is_some(),
                issued_at: linode_time(c.issued_at),
                used: c.used,
                expired: c.expires <= now,
                token_id: c.token_id.clone(),
            })
            .collect();
        Self { instances, firewalls, tokens, codes, requests: store.requests.clone() }
    }

    /// The token record for a secret token, by fingerprint.
    pub fn token(&self, access_token: &str) -> Option<&InspectedToken> {
        let id = crate::token_id(access_token);
        self.tokens.iter().find(|t| t.token_id == id)
    }

    /// How many requests hit `route` (e.g. `"POST /v4/linode/instances"`).
    pub fn count(&self, route: &str) -> usize {
        self.requests.iter().filter(|r| r.route == route).count()
    }
}
