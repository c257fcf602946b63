use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

/// The body of `POST /linode/instances`. `None` and empty fields are left out.
#[derive(Clone, Default, Serialize)]
pub struct CreateInstance {
    #[serde(rename = "type")]
    pub type_id: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Sent to Linode only; never echoed back, never printed by `Debug`.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "expose")]
    pub root_pass: Option<SecretString>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorized_keys: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stackscript_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stackscript_data: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booted: Option<bool>,
    /// Which interfaces the Linode gets (spec 4.234.0). Left out, the account setting
    /// `interfaces_for_new_linodes` decides — on accounts opened since 2025, Linode Interfaces,
    /// which need `interfaces` to have a network at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interface_generation: Option<InterfaceGeneration>,
    /// Linode Interfaces, for `interface_generation: linode`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<NewInterface>,
    /// The firewall of a Linode with legacy interfaces: left out, the account's default; `-1`,
    /// none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firewall_id: Option<i64>,
    /// cloud-init user data for the Metadata service, in regions with the `Metadata` capability
    /// and from images with `cloud-init`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<InstanceMetadata>,
}

/// `metadata` of a create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstanceMetadata {
    /// The user data, base64-encoded (at most 65 535 bytes so encoded).
    pub user_data: String,
}

/// `interface_generation` of a create.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterfaceGeneration {
    /// Interfaces in configuration profiles; the firewall is the Linode's (`firewall_id`).
    LegacyConfig,
    /// Linode Interfaces; each public or VPC interface has its own `firewall_id`.
    Linode,
}

/// A Linode Interface to create with the Linode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewInterface {
    /// The public interface, the default route for IPv4 and IPv6. `firewall_id`: `None` for
    /// the account's default public-interface firewall, `Some(-1)` for none, else that firewall.
    Public { firewall_id: Option<i64> },
}

impl Serialize for NewInterface {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Self::Public { firewall_id } => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry("public", &serde_json::Map::new())?;
                map.serialize_entry("default_route", &serde_json::json!({ "ipv4": true, "ipv6": true }))?;
                if let Some(id) = firewall_id {
                    map.serialize_entry("firewall_id", id)?;
                }
                map.end()
            }
        }
    }
}

fn expose<S: Serializer>(secret: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_str(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

impl std::fmt::Debug for CreateInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateInstance")
            .field("type", &self.type_id)
            .field("region", &self.region)
            .field("image", &self.image)
            .field("root_pass", &self.root_pass.as_ref().map(|_| "[REDACTED]"))
            .field("authorized_keys", &self.authorized_keys.len())
            .field("stackscript_id", &self.stackscript_id)
            .field("stackscript_data", &self.stackscript_data.as_ref().map(|data| data.keys().collect::<Vec<_>>()))
            .field("label", &self.label)
            .field("tags", &self.tags)
            .field("interface_generation", &self.interface_generation)
            .field("interfaces", &self.interfaces)
            .field("firewall_id", &self.firewall_id)
            .finish()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Specs {
    #[serde(default)]
    pub disk: u64,
    #[serde(default)]
    pub memory: u64,
    #[serde(default)]
    pub vcpus: u32,
    #[serde(default)]
    pub gpus: u32,
    #[serde(default)]
    pub transfer: u64,
}

/// A Linode (`GET /linode/instances/{id}`, and the reply to a create).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: u64,
    pub label: String,
    /// Deprecated by Linode in favour of tags, still returned.
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// `provisioning`, `booting`, `running`, …
    pub status: String,
    #[serde(rename = "type", default)]
    pub type_id: String,
    pub region: String,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub ipv4: Vec<String>,
    #[serde(default)]
    pub ipv6: Option<String>,
    #[serde(default)]
    pub specs: Specs,
    #[serde(default)]
    pub created: String,
    #[serde(default)]
    pub updated: String,
}

impl Instance {
    /// The first public IPv4 address (a Linode may also have a private 192.168.x.x one).
    pub fn public_ipv4(&self) -> Option<&str> {
        self.ipv4
            .iter()
            .map(String::as_str)
            .find(|ip| ip.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| !ip.is_private()))
    }
}

/// The body of `POST /networking/firewalls`: a Cloud Firewall with its rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreateFirewall {
    pub label: String,
    pub rules: FirewallRules,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRules {
    pub inbound: Vec<FirewallRule>,
    pub inbound_policy: String,
    pub outbound: Vec<FirewallRule>,
    pub outbound_policy: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRule {
    pub action: String,
    pub protocol: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<String>,
    pub addresses: FirewallAddresses,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallAddresses {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Vec<String>>,
}

/// A Cloud Firewall as Linode returns it (the fields this product reads).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Firewall {
    pub id: u64,
    pub label: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub entities: Vec<serde_json::Value>,
}

/// `GET /profile/grants` of a restricted user (an unrestricted one gets 204 and no grants).
/// Under IAM the `global` grants mirror the user's roles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    #[serde(default)]
    pub global: GlobalGrants,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlobalGrants {
    /// Whether the user may create Linodes (IAM's `create_linode`).
    #[serde(default)]
    pub add_linodes: bool,
    #[serde(default)]
    pub add_firewalls: bool,
}

/// `GET /profile`: readable with any token, whatever its scopes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub username: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub restricted: bool,
    #[serde(default)]
    pub uid: Option<u64>,
}
