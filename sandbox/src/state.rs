//! In-memory state shared by every route, behind one mutex. No lock is held across an
//! `.await`, so a plain `std::sync::Mutex` is enough and keeps concurrent requests safe.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use rand::RngCore;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::account::{AccountSettings, DefaultFirewalls, InterfaceGeneration, MaintenancePolicy, User};
use crate::catalog::Catalog;
use crate::config::{ClientConfig, Config};
use crate::fault_rules::ActiveFault;
use crate::firewall::FirewallRecord;
use crate::rate_limit::Limiter;
use crate::records::RequestRecord;

/// The short, stable fingerprint used in place of a secret (token or code) wherever it is
/// shown: the first 12 hex chars of its SHA-256.
pub fn token_id(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    hex::encode(&digest[..6])
}

/// `len` random lowercase hex characters (Linode's codes are 20, tokens 64).
pub(crate) fn random_hex(len: usize) -> String {
    let mut bytes = vec![0u8; len.div_ceil(2)];
    rand::rng().fill_bytes(&mut bytes);
    let mut text = hex::encode(bytes);
    text.truncate(len);
    text
}

pub(crate) struct AppState {
    pub config: Config,
    pub catalog: Catalog,
    store: Mutex<Store>,
}

impl AppState {
    pub(crate) fn new(config: Config, catalog: Catalog) -> Self {
        let store = Store::new(&config);
        Self { config, catalog, store: Mutex::new(store) }
    }

    /// Locks the store. A panic while holding the lock cannot leave it half-updated in a way
    /// that matters for a test double, so a poisoned lock is simply taken over.
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A consent page that has been shown but not yet answered.
pub(crate) struct PendingAuthorization {
    pub client_id: String,
    pub scopes: Vec<String>,
    /// Where to send the browser back (the requested URI, or the registered one).
    pub redirect_uri: url::Url,
    /// The `redirect_uri` query parameter, if one was sent (RFC 6749 §4.1.3 compares it).
    pub redirect_uri_param: Option<String>,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub expires: Instant,
}

pub(crate) struct CodeRecord {
    pub code_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub username: String,
    pub redirect_uri_param: Option<String>,
    pub code_challenge: Option<String>,
    pub issued_at: OffsetDateTime,
    pub expires: Instant,
    pub used: bool,
    /// The token issued for this code, so a replayed code can revoke it.
    pub token_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Grant {
    AuthorizationCode,
    RefreshToken,
}

/// What a new token is issued for.
pub(crate) struct NewToken {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub username: String,
    pub grant: Grant,
    pub refresh_of: Option<String>,
    pub public_client: bool,
}

pub(crate) struct TokenRecord {
    pub seq: u64,
    pub token_id: String,
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub username: String,
    pub issued_at: OffsetDateTime,
    pub expires: Instant,
    pub revoked: bool,
    pub refresh_of: Option<String>,
    pub grant: Grant,
    /// Issued to a public (PKCE, no secret) client; such tokens may be revoked without a secret.
    pub public_client: bool,
}

impl TokenRecord {
    pub(crate) fn is_live(&self, now: Instant) -> bool {
        !self.revoked && now < self.expires
    }
}

pub(crate) struct InstanceRecord {
    pub id: u64,
    pub label: String,
    pub group: String,
    pub tags: Vec<String>,
    pub plan: String,
    pub region: String,
    pub image: Option<String>,
    pub stackscript_id: Option<u64>,
    /// What the StackScript was given, for tests to check (the real API never echoes it).
    pub stackscript_data: serde_json::Map<String, serde_json::Value>,
    pub authorized_keys: Vec<String>,
    pub booted: bool,
    pub backups_enabled: bool,
    /// The public IPv4 addresses, empty when a Linode-Interfaces Linode has no public interface.
    pub ipv4: Vec<String>,
    /// The private IPv4, if one was asked for (legacy interfaces).
    pub private_ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub specs: serde_json::Value,
    pub interface_generation: InterfaceGeneration,
    /// Linode Interfaces (for `interface_generation: linode`). Legacy configuration interfaces
    /// live in configuration profiles, which the sandbox does not model.
    pub interfaces: Vec<InterfaceRecord>,
    pub has_user_data: bool,
    pub disk_encryption: &'static str,
    pub maintenance_policy: MaintenancePolicy,
    pub created: OffsetDateTime,
    pub created_at: Instant,
    pub client_id: String,
    pub token_id: String,
    /// The create request's body exactly as received, its `root_pass` value replaced by
    /// `<redacted>` (`None` if it could not be found to redact), for tests that compare what a
    /// client says it sends with what arrived.
    pub request_body: Option<String>,
}

/// One Linode Interface of a Linode.
pub(crate) struct InterfaceRecord {
    pub id: u64,
    pub kind: InterfaceKind,
    pub default_route_ipv4: bool,
    pub default_route_ipv6: bool,
    pub created: OffsetDateTime,
}

pub(crate) enum InterfaceKind {
    Public,
    Vpc { subnet_id: u64 },
    Vlan { vlan_label: String, ipam_address: Option<String> },
}

/// Everything that changes while the sandbox runs.
pub(crate) struct Store {
    pub clients: Vec<ClientConfig>,
    pub pending: HashMap<String, PendingAuthorization>,
    /// Keyed by the code itself.
    pub codes: HashMap<String, CodeRecord>,
    /// Keyed by `token_id(access_token)`.
    pub tokens: HashMap<String, TokenRecord>,
    /// `token_id(refresh_token)` → `token_id(access_token)`.
    pub refresh_index: HashMap<String, String>,
    pub instances: Vec<InstanceRecord>,
    pub next_instance_id: u64,
    pub next_seq: u64,
    /// Rate-limit windows of every class of request (2026 limits).
    pub limits: Limiter,
    pub account: AccountSettings,
    pub default_firewalls: DefaultFirewalls,
    pub firewalls: Vec<FirewallRecord>,
    pub users: Vec<User>,
    /// One counter for firewall, device and interface ids (they never collide that way).
    pub next_object_id: u64,
    pub faults: Vec<ActiveFault>,
    pub requests: Vec<RequestRecord>,
    /// How long after `running` the instances' application answers (`None`: never).
    pub app_ready: Option<std::time::Duration>,
}

/// How much the sandbox remembers at most: a public demo must not grow without bound however
/// many authorizations, codes, tokens and requests strangers send it. Past a cap the oldest
/// entries that no longer matter (expired, used, revoked) go first.
pub(crate) const MAX_PENDING: usize = 10_000;
pub(crate) const MAX_CODES: usize = 10_000;
pub(crate) const MAX_TOKENS: usize = 50_000;
pub(crate) const MAX_REQUESTS: usize = 20_000;
/// The longest `state` the authorize endpoint carries back ([undocumented] at Linode; 1 KiB is
/// far more than any client sends).
pub(crate) const MAX_STATE_LEN: usize = 1024;

/// Removes entries from `map` until it holds fewer than `max`: expired (or otherwise dead)
/// ones first, then the oldest by `age`.
pub(crate) fn cap<K: Clone + Eq + std::hash::Hash, V, A: Ord>(
    map: &mut HashMap<K, V>,
    max: usize,
    dead: impl Fn(&V) -> bool,
    age: impl Fn(&V) -> A,
) {
    if map.len() < max {
        return;
    }
    map.retain(|_, value| !dead(value));
    while map.len() >= max {
        let Some(oldest) = map.iter().min_by_key(|(_, value)| age(value)).map(|(key, _)| key.clone()) else { break };
        map.remove(&oldest);
    }
}

/// First id handed to a created Linode; real ids are eight digits these days.
const FIRST_INSTANCE_ID: u64 = 80_000_001;
/// Ids of firewalls, their devices and Linode Interfaces start after this (seven digits, as
/// production's firewall ids are).
const FIRST_OBJECT_ID: u64 = 3_000_000;

impl Store {
    pub(crate) fn new(config: &Config) -> Self {
        let mut store = Self {
            clients: config.clients.clone(),
            pending: HashMap::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            refresh_index: HashMap::new(),
            instances: Vec::new(),
            next_instance_id: FIRST_INSTANCE_ID,
            next_seq: 0,
            limits: Limiter::new(config.rate_limits.clone()),
            account: config.account.settings(),
            default_firewalls: DefaultFirewalls::default(),
            firewalls: Vec::new(),
            users: User::builtin(),
            next_object_id: FIRST_OBJECT_ID,
            faults: config.faults.iter().cloned().map(ActiveFault::new).collect(),
            requests: Vec::new(),
            app_ready: config.timings.app_ready,
        };
        if config.account == crate::account::AccountPreset::New2026 {
            store.install_default_ssh_firewall();
        }
        store
    }

    /// A fresh id for a firewall, device or interface.
    pub(crate) fn next_id(&mut self) -> u64 {
        self.next_object_id += 1;
        self.next_object_id
    }

    /// The default firewall of a new 2026 account: inbound TCP 22 from anywhere, everything
    /// else dropped; the account's default for Linodes and for public and VPC interfaces.
    fn install_default_ssh_firewall(&mut self) {
        use crate::firewall::{Action, Addresses, Protocol, Rule, Rules, ANY_IPV4, ANY_IPV6};
        let id = self.next_id();
        let now = OffsetDateTime::now_utc();
        let ssh = Rule {
            action: Action::Accept,
            protocol: Protocol::Tcp,
            ports: Some("22".to_owned()),
            addresses: Addresses { ipv4: Some(vec![ANY_IPV4.to_owned()]), ipv6: Some(vec![ANY_IPV6.to_owned()]) },
            label: Some("accept-ssh".to_owned()),
            description: None,
        };
        self.firewalls.push(FirewallRecord {
            id,
            label: crate::account::DEFAULT_FIREWALL_LABEL.to_owned(),
            status: crate::firewall::FirewallStatus::Enabled,
            tags: Vec::new(),
            rules: Rules {
                inbound: vec![ssh],
                inbound_policy: Action::Drop,
                outbound: Vec::new(),
                outbound_policy: Action::Accept,
                version: 1,
            },
            devices: Vec::new(),
            created: now,
            updated: now,
        });
        self.default_firewalls = DefaultFirewalls {
            linode: Some(id),
            nodebalancer: None,
            public_interface: Some(id),
            vpc_interface: Some(id),
        };
    }

    /// The account user a token acts for: a known user, or any other name as an unrestricted
    /// user (the consent page accepts any name).
    pub(crate) fn user(&self, username: &str) -> User {
        self.users.iter().find(|u| u.username == username).cloned().unwrap_or_else(|| User::unrestricted(username))
    }

    /// The enabled firewalls protecting Linode `linode_id` or one of its interfaces.
    pub(crate) fn firewalls_of(&self, linode_id: u64) -> impl Iterator<Item = &FirewallRecord> {
        self.firewalls.iter().filter(move |f| f.devices.iter().any(|d| d.entity.linode_id() == linode_id))
    }

    /// Forgets everything that happened, keeping the registered clients.
    pub(crate) fn reset(&mut self, config: &Config) {
        let clients = std::mem::take(&mut self.clients);
        *self = Self::new(config);
        self.clients = clients;
    }

    pub(crate) fn client(&self, id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.id == id)
    }

    pub(crate) fn register_client(&mut self, client: ClientConfig) {
        self.clients.retain(|c| c.id != client.id);
        self.clients.push(client);
    }

    /// The record for an access token, whether live or not.
    pub(crate) fn token(&self, access_token: &str) -> Option<&TokenRecord> {
        self.tokens
            .get(&token_id(access_token))
            .filter(|t| crate::secret_eq::secrets_equal(&t.access_token, access_token))
    }

    /// The record a refresh token belongs to.
    pub(crate) fn token_by_refresh(&mut self, refresh_token: &str) -> Option<&mut TokenRecord> {
        let id = self.refresh_index.get(&token_id(refresh_token))?.clone();
        self.tokens
            .get_mut(&id)
            .filter(|t| t.refresh_token.as_deref().is_some_and(|r| crate::secret_eq::secrets_equal(r, refresh_token)))
    }

    /// Issues a new access token (and a refresh token unless the client is public).
    pub(crate) fn issue_token(&mut self, config: &Config, new: NewToken) -> &TokenRecord {
        let now = Instant::now();
        if self.tokens.len() >= MAX_TOKENS {
            cap(&mut self.tokens, MAX_TOKENS, |t| t.revoked || t.expires <= now, |t| t.seq);
            let tokens = &self.tokens;
            self.refresh_index.retain(|_, token| tokens.contains_key(token));
        }
        let access_token = random_hex(64);
        let refresh_token = (!new.public_client).then(|| random_hex(64));
        let id = token_id(&access_token);
        if let Some(refresh) = &refresh_token {
            self.refresh_index.insert(token_id(refresh), id.clone());
        }
        self.next_seq += 1;
        let record = TokenRecord {
            seq: self.next_seq,
            token_id: id.clone(),
            access_token,
            refresh_token,
            client_id: new.client_id,
            scopes: new.scopes,
            username: new.username,
            issued_at: OffsetDateTime::now_utc(),
            expires: Instant::now() + config.timings.token_ttl,
            revoked: false,
            refresh_of: new.refresh_of,
            grant: new.grant,
            public_client: new.public_client,
        };
        self.tokens.entry(id).or_insert(record)
    }

    /// Revokes a token by id; its refresh token dies with it.
    pub(crate) fn revoke(&mut self, id: &str) {
        if let Some(token) = self.tokens.get_mut(id) {
            token.revoked = true;
        }
    }
}
