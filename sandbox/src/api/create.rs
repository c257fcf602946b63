//! Parsing and validating a `POST /linode/instances` body the way Linode does: every
//! problem is collected and reported at once, each with its field.

use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::account::{AccountSettings, DefaultFirewalls, InterfaceGeneration, MaintenancePolicy};
use crate::catalog::{Catalog, PlanType, Region, StackScript};
use crate::errors::FieldError;

/// The longest `metadata.user_data`, base64 as sent (spec 4.234.0: 65 535 bytes encoded).
pub(crate) const MAX_USER_DATA: usize = 65_535;

/// The fields of a create request the sandbox looks at; others are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
pub(super) struct CreateBody {
    #[serde(rename = "type")]
    plan: Option<String>,
    region: Option<String>,
    image: Option<String>,
    root_pass: Option<String>,
    authorized_keys: Option<Vec<String>>,
    authorized_users: Option<Vec<String>>,
    stackscript_id: Option<u64>,
    stackscript_data: Option<Map<String, Value>>,
    label: Option<String>,
    group: Option<String>,
    tags: Option<Vec<String>>,
    booted: Option<bool>,
    private_ip: Option<bool>,
    backups_enabled: Option<bool>,
    interface_generation: Option<String>,
    interfaces: Option<Vec<Value>>,
    /// `null` or omitted: the account's default firewall; `-1`: none.
    firewall_id: Option<i64>,
    metadata: Option<Metadata>,
    disk_encryption: Option<String>,
    maintenance_policy: Option<MaintenancePolicy>,
}

#[derive(Debug, Default, Deserialize)]
struct Metadata {
    user_data: Option<String>,
}

/// What the account holds that a create depends on, read under the store's lock.
pub(super) struct Account<'a> {
    pub settings: &'a AccountSettings,
    pub defaults: DefaultFirewalls,
    /// Ids of the account's firewalls.
    pub firewalls: Vec<u64>,
}

/// An interface the new Linode gets (Linode Interfaces), with the firewall it is given.
pub(super) struct PlannedInterface {
    pub kind: crate::state::InterfaceKind,
    pub firewall_id: Option<u64>,
    pub default_route_ipv4: bool,
    pub default_route_ipv6: bool,
}

/// A create request that passed validation.
pub(super) struct ValidCreate<'c> {
    pub plan: &'c PlanType,
    pub region: &'c Region,
    pub image: Option<String>,
    pub stackscript: Option<&'c StackScript>,
    pub stackscript_data: Map<String, Value>,
    pub authorized_keys: Vec<String>,
    /// `None` means "generate `linode<id>`".
    pub label: Option<String>,
    pub group: String,
    pub tags: Vec<String>,
    pub booted: bool,
    pub private_ip: bool,
    pub backups_enabled: bool,
    pub generation: InterfaceGeneration,
    pub interfaces: Vec<PlannedInterface>,
    /// The firewall of a legacy-interfaces Linode.
    pub legacy_firewall: Option<u64>,
    pub has_user_data: bool,
    pub disk_encryption: &'static str,
    pub maintenance_policy: MaintenancePolicy,
}

pub(super) fn parse_body(bytes: &[u8]) -> Result<CreateBody, FieldError> {
    serde_json::from_slice(bytes)
        .map_err(|e| FieldError { reason: format!("Malformed request body: {e}"), field: None })
}

pub(super) fn validate<'c>(
    catalog: &'c Catalog,
    account: &Account<'_>,
    mut body: CreateBody,
) -> Result<ValidCreate<'c>, Vec<FieldError>> {
    let mut errors = Vec::new();

    // The two messages below are production's (docs/LINODE.md, API v4); the others are [undocumented].
    let plan = match body.plan.as_deref() {
        None => {
            errors.push(FieldError::new("type", "type is required"));
            None
        }
        Some(id) => {
            let found = catalog.plan_type(id);
            if found.is_none() {
                errors.push(FieldError::new("type", "A valid plan type by that ID was not found"));
            }
            found
        }
    };
    let region = match body.region.as_deref() {
        None => {
            errors.push(FieldError::new("region", "region is required"));
            None
        }
        Some(id) => match catalog.region(id) {
            None => {
                errors.push(FieldError::new("region", "region is not valid"));
                None
            }
            Some(region) if region.status != "ok" => {
                errors.push(FieldError::new(
                    "region",
                    "This region is currently unavailable. Please choose another region.",
                ));
                None
            }
            Some(region) => Some(region),
        },
    };
    if let (Some(plan), Some(region)) = (plan, region) {
        if !region.offers(&plan.class) {
            errors.push(FieldError::new("type", format!("The {} plan is not available in {}", plan.id, region.id)));
        }
    }

    let stackscript = body.stackscript_id.and_then(|id| {
        let found = catalog.stackscript(id).filter(|s| s.is_public);
        if found.is_none() {
            errors.push(FieldError::new("stackscript_id", "StackScript not found"));
        }
        found
    });
    match (body.image.as_deref(), stackscript) {
        (None, Some(_)) => {
            errors.push(FieldError::new("image", "An image is required when deploying from a StackScript"))
        }
        (Some(image), stackscript) => {
            if catalog.image(image).is_none() {
                errors.push(FieldError::new("image", "image is not valid"));
            } else if let Some(script) = stackscript.filter(|s| !s.accepts_image(image)) {
                errors.push(FieldError::new(
                    "image",
                    format!("The image {image} is not compatible with StackScript {}", script.id),
                ));
            }
        }
        (None, None) => {}
    }

    check_credentials(&body, &mut errors);
    if let Some(label) = body.label.as_deref() {
        if let Err(reason) = crate::firewall::check_label(label, 3..=64) {
            errors.push(FieldError::new("label", reason));
        }
    }
    if let Some(script) = stackscript {
        check_stackscript_data(script, body.stackscript_data.as_ref(), &mut errors);
    }
    if let Some(tag) = body.tags.iter().flatten().find(|t| t.len() < 3 || t.len() > 50) {
        errors.push(FieldError::new("tags", format!("Tag {tag:?} must be 3-50 characters")));
    }
    if let (Some(_), Some(region)) = (stackscript, region) {
        // StackScripts are not offered in distributed regions (region capability `StackScripts`).
        if !region.has("StackScripts") {
            errors.push(FieldError::new("stackscript_id", "StackScripts are not available in this region"));
        }
    }
    let has_user_data = check_user_data(catalog, region, body.image.as_deref(), body.metadata.take(), &mut errors);
    let disk_encryption = check_disk_encryption(region, body.disk_encryption.as_deref(), &mut errors);
    let network = region.and_then(|region| plan_network(region, account, &mut body, &mut errors));

    match (plan, region, network, errors.is_empty()) {
        (Some(plan), Some(region), Some(network), true) => Ok(ValidCreate {
            plan,
            region,
            image: body.image,
            stackscript,
            stackscript_data: body.stackscript_data.unwrap_or_default(),
            authorized_keys: body.authorized_keys.unwrap_or_default(),
            label: body.label,
            group: body.group.unwrap_or_default(),
            tags: body.tags.unwrap_or_default(),
            // A Linode-Interfaces Linode with no interface has no network and does not boot
            // (Cloud Manager's types: `booted` then defaults to false; booting it fails).
            booted: body.booted.unwrap_or(true) && !network.unbootable(),
            private_ip: body.private_ip.unwrap_or(false),
            backups_enabled: body.backups_enabled.unwrap_or(false),
            generation: network.generation,
            interfaces: network.interfaces,
            legacy_firewall: network.legacy_firewall,
            has_user_data,
            disk_encryption,
            maintenance_policy: body.maintenance_policy.unwrap_or(account.settings.maintenance_policy),
        }),
        _ => Err(errors),
    }
}

/// An image deploy needs a root password or SSH keys (linode_api4 ≥ 5.44 sends either).
fn check_credentials(body: &CreateBody, errors: &mut Vec<FieldError>) {
    let keys = body.authorized_keys.as_deref().unwrap_or_default();
    for key in keys {
        if !is_ssh_public_key(key) {
            errors.push(FieldError::new("authorized_keys", "Invalid SSH public key"));
        }
    }
    let has_users = body.authorized_users.as_ref().is_some_and(|u| !u.is_empty());
    match body.root_pass.as_deref() {
        Some(password) if !(7..=128).contains(&password.chars().count()) => {
            errors.push(FieldError::new("root_pass", "root_pass must be between 7 and 128 characters"))
        }
        Some(password) if !is_strong_password(password) => {
            errors.push(FieldError::new("root_pass", "Password does not meet strength requirement"))
        }
        Some(_) => {}
        None if body.image.is_some() && keys.is_empty() && !has_users => {
            errors.push(FieldError::new("root_pass", "root_pass is required when deploying from an image"))
        }
        None => {}
    }
}

/// The sandbox's deterministic stand-in for Linode's (unpublished) strength score: at least
/// 50 bits by `length × log2(alphabet size)`, two character classes and five distinct
/// characters. `Password1` passes; `password`, `hunter22` and `aB3$aB3$` do not.
pub(crate) fn is_strong_password(password: &str) -> bool {
    let classes = [
        (password.chars().any(|c| c.is_ascii_lowercase()), 26.0),
        (password.chars().any(|c| c.is_ascii_uppercase()), 26.0),
        (password.chars().any(|c| c.is_ascii_digit()), 10.0),
        (password.chars().any(|c| !c.is_ascii_alphanumeric()), 33.0),
    ];
    let used = classes.iter().filter(|(present, _)| *present).count();
    let alphabet: f64 = classes.iter().filter(|(present, _)| *present).map(|(_, size)| size).sum();
    let mut distinct: Vec<char> = password.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let bits = password.chars().count() as f64 * alphabet.log2();
    used >= 2 && distinct.len() >= 5 && bits >= 50.0
}

/// `<type> <base64 blob> [comment]` where the blob starts with the same type name.
pub(crate) fn is_ssh_public_key(key: &str) -> bool {
    const TYPES: &[&str] = &[
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    ];
    let mut parts = key.split_whitespace();
    let (Some(kind), Some(blob)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !TYPES.contains(&kind) {
        return false;
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(blob) else {
        return false;
    };
    let Some((len, rest)) = bytes.split_first_chunk::<4>() else {
        return false;
    };
    let len = u32::from_be_bytes(*len) as usize;
    rest.len() > len && &rest[..len] == kind.as_bytes()
}

fn check_stackscript_data(script: &StackScript, data: Option<&Map<String, Value>>, errors: &mut Vec<FieldError>) {
    for udf in &script.user_defined_fields {
        let field = format!("stackscript_data.{}", udf.name);
        let value = data.and_then(|d| d.get(&udf.name)).and_then(|v| match v {
            Value::String(s) if s.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        });
        let Some(value) = value else {
            if udf.is_required() {
                errors.push(FieldError::new(&field, format!("{} is required", udf.label)));
            }
            continue;
        };
        let Some(choices) = udf.choices() else {
            continue;
        };
        let picked: Vec<&str> = if udf.manyof.is_some() && udf.oneof.is_none() {
            value.split(',').map(str::trim).collect()
        } else {
            vec![value.as_str()]
        };
        if picked.iter().any(|p| !choices.contains(p)) {
            errors.push(FieldError::new(&field, format!("Must be one of: {}", choices.join(", "))));
        }
    }
}

/// The network a create resolves to.
pub(super) struct Network {
    generation: InterfaceGeneration,
    interfaces: Vec<PlannedInterface>,
    legacy_firewall: Option<u64>,
}

impl Network {
    /// A Linode-Interfaces Linode without any interface cannot boot.
    fn unbootable(&self) -> bool {
        self.generation == InterfaceGeneration::Linode && self.interfaces.is_empty()
    }
}

/// Resolves `interface_generation`, `interfaces` and `firewall_id` against the account and the
/// region, as spec 4.234.0 describes them; the error texts are the sandbox's ([undocumented]).
fn plan_network(
    region: &Region,
    account: &Account<'_>,
    body: &mut CreateBody,
    errors: &mut Vec<FieldError>,
) -> Option<Network> {
    let setting = account.settings.interfaces_for_new_linodes;
    let regional = region.has("Linode Interfaces");
    let generation = match body.interface_generation.as_deref() {
        None => match setting.default_generation() {
            // An account that prefers Linode Interfaces still gets legacy interfaces where the
            // region has none, unless it allows nothing else.
            InterfaceGeneration::Linode if !regional && setting.allows(InterfaceGeneration::LegacyConfig) => {
                InterfaceGeneration::LegacyConfig
            }
            generation => generation,
        },
        Some("legacy_config") => InterfaceGeneration::LegacyConfig,
        Some("linode") => InterfaceGeneration::Linode,
        Some(_) => {
            errors.push(FieldError::new("interface_generation", "Must be one of legacy_config, linode"));
            return None;
        }
    };
    if !setting.allows(generation) {
        errors.push(FieldError::new(
            "interface_generation",
            format!(
                "This account's interfaces_for_new_linodes setting ({}) does not allow {} interfaces",
                serde_json::to_value(setting).ok()?.as_str()?,
                generation.as_str()
            ),
        ));
        return None;
    }
    if generation == InterfaceGeneration::Linode && !regional {
        errors.push(FieldError::new("interface_generation", "Linode Interfaces are not available in this region"));
        return None;
    }
    let firewall_exists = |id: u64| account.firewalls.contains(&id);
    let interfaces = body.interfaces.take().unwrap_or_default();
    match generation {
        InterfaceGeneration::LegacyConfig => {
            for (index, interface) in interfaces.iter().enumerate() {
                if interface.get("purpose").is_none() {
                    errors.push(FieldError::new(
                        &format!("interfaces[{index}]"),
                        "Linode Interfaces (public, vpc, vlan) cannot be used with interface_generation legacy_config",
                    ));
                }
            }
            let legacy_firewall = match body.firewall_id {
                Some(-1) => None,
                None => account.defaults.linode,
                Some(id) => match u64::try_from(id).ok().filter(|id| firewall_exists(*id)) {
                    Some(id) => Some(id),
                    None => {
                        errors.push(FieldError::new("firewall_id", format!("Firewall {id} not found")));
                        None
                    }
                },
            };
            Some(Network { generation, interfaces: Vec::new(), legacy_firewall })
        }
        InterfaceGeneration::Linode => {
            if body.firewall_id.is_some_and(|id| id != -1) {
                errors.push(FieldError::new(
                    "firewall_id",
                    "firewall_id applies only to Linodes with legacy configuration interfaces; \
set firewall_id on the public or VPC interface instead",
                ));
            }
            let mut planned = Vec::new();
            for (index, interface) in interfaces.iter().enumerate() {
                if let Some(interface) = plan_interface(interface, index, account, errors) {
                    planned.push(interface);
                }
            }
            if planned.iter().filter(|i| matches!(i.kind, crate::state::InterfaceKind::Public)).count() > 1 {
                errors.push(FieldError::new("interfaces", "A Linode can have only one public interface"));
            }
            Some(Network { generation, interfaces: planned, legacy_firewall: None })
        }
    }
}

fn plan_interface(
    value: &Value,
    index: usize,
    account: &Account<'_>,
    errors: &mut Vec<FieldError>,
) -> Option<PlannedInterface> {
    use crate::state::InterfaceKind;
    let field = format!("interfaces[{index}]");
    let Some(object) = value.as_object() else {
        errors.push(FieldError::new(&field, "Must be an object"));
        return None;
    };
    if object.contains_key("purpose") {
        errors.push(FieldError::new(
            &field,
            "Legacy configuration interfaces (purpose) cannot be used with interface_generation linode",
        ));
        return None;
    }
    let present = |name: &str| object.get(name).is_some_and(|v| !v.is_null());
    let kinds: Vec<&str> = ["public", "vpc", "vlan"].into_iter().filter(|k| present(k)).collect();
    let kind = match kinds.as_slice() {
        ["public"] => InterfaceKind::Public,
        ["vpc"] => match object["vpc"].get("subnet_id").and_then(Value::as_u64) {
            Some(subnet_id) => InterfaceKind::Vpc { subnet_id },
            None => {
                errors.push(FieldError::new(&format!("{field}.vpc.subnet_id"), "subnet_id is required"));
                return None;
            }
        },
        ["vlan"] => match object["vlan"].get("vlan_label").and_then(Value::as_str) {
            Some(label) => InterfaceKind::Vlan {
                vlan_label: label.to_owned(),
                ipam_address: object["vlan"].get("ipam_address").and_then(Value::as_str).map(str::to_owned),
            },
            None => {
                errors.push(FieldError::new(&format!("{field}.vlan.vlan_label"), "vlan_label is required"));
                return None;
            }
        },
        _ => {
            errors.push(FieldError::new(&field, "Exactly one of public, vpc or vlan is required"));
            return None;
        }
    };
    let default_route = object.get("default_route");
    let route = |family: &str| default_route.and_then(|r| r.get(family)).and_then(Value::as_bool).unwrap_or(false);
    // Public and VPC interfaces are firewalled: the given one, the account's default for that
    // kind, or none with -1; with no default and no -1 the whole create fails (spec 4.234.0).
    let default = match kind {
        InterfaceKind::Public => Some(account.defaults.public_interface),
        InterfaceKind::Vpc { .. } => Some(account.defaults.vpc_interface),
        InterfaceKind::Vlan { .. } => None,
    };
    let firewall_field = format!("{field}.firewall_id");
    let firewall_id = match (object.get("firewall_id").and_then(Value::as_i64), default) {
        (Some(_), None) => {
            errors.push(FieldError::new(&firewall_field, "VLAN interfaces cannot have a firewall"));
            None
        }
        (_, None) | (Some(-1), _) => None,
        (None, Some(Some(default))) => Some(default),
        (None, Some(None)) => {
            errors.push(FieldError::new(
                &firewall_field,
                "This account has no default firewall for this interface: set firewall_id, or -1 for none",
            ));
            None
        }
        (Some(id), Some(_)) => match u64::try_from(id).ok().filter(|id| account.firewalls.contains(id)) {
            Some(id) => Some(id),
            None => {
                errors.push(FieldError::new(&firewall_field, format!("Firewall {id} not found")));
                None
            }
        },
    };
    Some(PlannedInterface { kind, firewall_id, default_route_ipv4: route("ipv4"), default_route_ipv6: route("ipv6") })
}

/// `metadata.user_data`: base64, at most 65 535 bytes as sent, in a region with `Metadata`
/// and from an image with the `cloud-init` capability. Returns whether the Linode has some.
fn check_user_data(
    catalog: &Catalog,
    region: Option<&Region>,
    image: Option<&str>,
    metadata: Option<Metadata>,
    errors: &mut Vec<FieldError>,
) -> bool {
    let Some(user_data) = metadata.and_then(|m| m.user_data) else { return false };
    const FIELD: &str = "metadata.user_data";
    if user_data.len() > MAX_USER_DATA {
        errors.push(FieldError::new(FIELD, format!("User data must be at most {MAX_USER_DATA} bytes, base64-encoded")));
    } else if base64::engine::general_purpose::STANDARD.decode(&user_data).is_err() {
        errors.push(FieldError::new(FIELD, "User data must be base64-encoded"));
    }
    if region.is_some_and(|r| !r.has("Metadata")) {
        errors.push(FieldError::new(FIELD, "The Metadata service is not available in this region"));
    }
    if let Some(image) = image.and_then(|id| catalog.image(id)) {
        if !image.has("cloud-init") {
            errors.push(FieldError::new(FIELD, format!("The image {} does not support cloud-init", image.id)));
        }
    }
    true
}

/// `disk_encryption`: `enabled` by default where the region offers it (spec 4.234.0); asking
/// for it elsewhere fails.
fn check_disk_encryption(region: Option<&Region>, asked: Option<&str>, errors: &mut Vec<FieldError>) -> &'static str {
    let offered = region.is_some_and(|r| r.has("Disk Encryption"));
    match asked {
        None if offered => "enabled",
        None | Some("disabled") => "disabled",
        Some("enabled") if offered => "enabled",
        Some("enabled") => {
            if region.is_some() {
                errors.push(FieldError::new("disk_encryption", "Disk encryption is not available in this region"));
            }
            "disabled"
        }
        Some(_) => {
            errors.push(FieldError::new("disk_encryption", "Must be one of enabled, disabled"));
            "disabled"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_strength() {
        for weak in ["password", "hunter22", "aB3$aB3$", "aaaaaaaaaaaaaaaaaaaa", "1234567890123"] {
            assert!(!is_strong_password(weak), "{weak}");
        }
        for strong in ["Password1", "Tr0ub4dor&3", "correct-horse-battery-staple"] {
            assert!(is_strong_password(strong), "{strong}");
        }
    }

    #[test]
    fn labels() {
        for ok in ["web", "my-app.prod_1", "a23"] {
            assert!(crate::firewall::check_label(ok, 3..=64).is_ok(), "{ok}");
        }
        for bad in ["ab", "1abc", "a--b", "a__b", "a..b", "a b", &"a".repeat(65)] {
            assert!(crate::firewall::check_label(bad, 3..=64).is_err(), "{bad}");
        }
    }

    #[test]
    fn ssh_keys() {
        let mut blob = vec![0, 0, 0, 11];
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&[0, 0, 0, 32]);
        blob.extend_from_slice(&[7; 32]);
        let encoded = base64::engine::general_purpose::STANDARD.encode(&blob);
        assert!(is_ssh_public_key(&format!("ssh-ed25519 {encoded} me@host")));
        assert!(!is_ssh_public_key(&format!("ssh-rsa {encoded}")));
        assert!(!is_ssh_public_key("ssh-ed25519 not-base64!"));
        assert!(!is_ssh_public_key("hello"));
    }
}
