//! Cloud Firewalls: the record, the validation of labels and rules as Linode states them
//! (spec 4.234.0, `POST /networking/firewalls`), and how a firewall judges an inbound packet
//! (first matching rule wins, the policy otherwise).

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::errors::FieldError;
use crate::records::linode_time;

/// At most this many rules per firewall, inbound and outbound together.
pub(crate) const MAX_RULES: usize = 25;
/// At most this many port pieces per rule; a range counts as two.
pub(crate) const MAX_PORT_PIECES: usize = 15;
/// At most this many addresses per rule, IPv4 and IPv6 together.
pub(crate) const MAX_ADDRESSES: usize = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Action {
    #[serde(rename = "ACCEPT")]
    Accept,
    #[serde(rename = "DROP")]
    Drop,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Protocol {
    #[serde(rename = "TCP")]
    Tcp,
    #[serde(rename = "UDP")]
    Udp,
    #[serde(rename = "ICMP")]
    Icmp,
    #[serde(rename = "IPENCAP")]
    Ipencap,
}

impl Protocol {
    fn has_ports(self) -> bool {
        matches!(self, Self::Tcp | Self::Udp)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Addresses {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<Vec<String>>,
}

/// One rule as sent and as served (optional fields echoed only when sent).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Rule {
    pub action: Action,
    pub protocol: Protocol,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<String>,
    pub addresses: Addresses,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The rule set as a client sends it (`rules` of a create, or `PUT …/rules`).
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct RulesBody {
    #[serde(default)]
    pub inbound: Vec<Value>,
    pub inbound_policy: Option<Value>,
    #[serde(default)]
    pub outbound: Vec<Value>,
    pub outbound_policy: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rules {
    pub inbound: Vec<Rule>,
    pub inbound_policy: Action,
    pub outbound: Vec<Rule>,
    pub outbound_policy: Action,
    pub version: u64,
}

impl Rules {
    /// Checks a rule set, every problem at once, each with its field under `prefix`.
    pub(crate) fn parse(body: RulesBody, prefix: &str, version: u64) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut policy = |value: Option<Value>, name: &str| -> Option<Action> {
            let field = format!("{prefix}{name}");
            match value.map(serde_json::from_value::<Action>) {
                Some(Ok(action)) => Some(action),
                Some(Err(_)) => {
                    errors.push(FieldError::new(&field, "Must be one of ACCEPT, DROP"));
                    None
                }
                None => {
                    errors.push(FieldError::new(&field, format!("{name} is required")));
                    None
                }
            }
        };
        let inbound_policy = policy(body.inbound_policy, "inbound_policy");
        let outbound_policy = policy(body.outbound_policy, "outbound_policy");
        if body.inbound.len() + body.outbound.len() > MAX_RULES {
            errors.push(FieldError::new(
                prefix.trim_end_matches('.'),
                format!("Firewalls can have at most {MAX_RULES} rules, inbound and outbound together"),
            ));
        }
        let inbound = parse_rules(body.inbound, &format!("{prefix}inbound"), &mut errors);
        let outbound = parse_rules(body.outbound, &format!("{prefix}outbound"), &mut errors);
        match (inbound_policy, outbound_policy, errors.is_empty()) {
            (Some(inbound_policy), Some(outbound_policy), true) => {
                Ok(Self { inbound, inbound_policy, outbound, outbound_policy, version })
            }
            _ => Err(errors),
        }
    }

    /// What a packet from `source` to `port` over `protocol` meets: the first inbound rule
    /// that matches decides, else the inbound policy.
    pub(crate) fn inbound_action(&self, source: IpAddr, protocol: Protocol, port: u16) -> Action {
        self.inbound
            .iter()
            .find(|rule| rule.matches(source, protocol, port))
            .map_or(self.inbound_policy, |rule| rule.action)
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut value = json!({
            "inbound": self.inbound,
            "inbound_policy": self.inbound_policy,
            "outbound": self.outbound,
            "outbound_policy": self.outbound_policy,
            "version": self.version,
        });
        // Production's fingerprint is 8 hex digits that change with the rules ([undocumented]
        // how it is made); a digest of the rules does that.
        let digest = Sha256::digest(value.to_string().as_bytes());
        value["fingerprint"] = Value::String(hex::encode(&digest[..4]));
        value
    }
}

fn parse_rules(values: Vec<Value>, prefix: &str, errors: &mut Vec<FieldError>) -> Vec<Rule> {
    let mut rules = Vec::new();
    for (index, value) in values.into_iter().enumerate() {
        let field = format!("{prefix}[{index}]");
        match serde_json::from_value::<Rule>(value) {
            Err(error) => errors.push(FieldError::new(&field, format!("Invalid rule: {error}"))),
            Ok(rule) => {
                let before = errors.len();
                check_rule(&rule, &field, errors);
                if errors.len() == before {
                    rules.push(rule);
                }
            }
        }
    }
    rules
}

fn check_rule(rule: &Rule, field: &str, errors: &mut Vec<FieldError>) {
    match (&rule.ports, rule.protocol.has_ports()) {
        (Some(ports), true) => {
            if let Err(reason) = parse_ports(ports) {
                errors.push(FieldError::new(&format!("{field}.ports"), reason));
            }
        }
        (Some(_), false) => errors
            .push(FieldError::new(&format!("{field}.ports"), "Ports may only be given for the TCP and UDP protocols")),
        (None, _) => {}
    }
    if let Some(label) = &rule.label {
        if let Err(reason) = check_label(label, 3..=32) {
            errors.push(FieldError::new(&format!("{field}.label"), reason));
        }
    }
    let v4 = rule.addresses.ipv4.as_deref().unwrap_or_default();
    let v6 = rule.addresses.ipv6.as_deref().unwrap_or_default();
    if v4.is_empty() && v6.is_empty() {
        errors.push(FieldError::new(&format!("{field}.addresses"), "At least one IPv4 or IPv6 address is required"));
    }
    if v4.len() + v6.len() > MAX_ADDRESSES {
        errors.push(FieldError::new(
            &format!("{field}.addresses"),
            format!("A rule can have at most {MAX_ADDRESSES} addresses"),
        ));
    }
    for address in v4 {
        if !is_prefix_list(address) && parse_network(address).is_none_or(|(ip, _)| !ip.is_ipv4()) {
            errors.push(FieldError::new(&format!("{field}.addresses.ipv4"), format!("Invalid IPv4 address {address}")));
        }
    }
    for address in v6 {
        if !is_prefix_list(address) && parse_network(address).is_none_or(|(ip, _)| !ip.is_ipv6()) {
            errors.push(FieldError::new(&format!("{field}.addresses.ipv6"), format!("Invalid IPv6 address {address}")));
        }
    }
}

/// Linode's managed prefix lists (`pl::vpcs:…`, `pl:system:…`) stand for address sets the
/// sandbox does not know; they are accepted and match nothing here.
fn is_prefix_list(address: &str) -> bool {
    address.starts_with("pl:")
}

/// `22`, `80, 443`, `8000-8080`: ranges ascending, 1–65535, at most 15 pieces (a range counts
/// as two). Returns the inclusive ranges.
pub(crate) fn parse_ports(text: &str) -> Result<Vec<(u16, u16)>, String> {
    let mut ranges = Vec::new();
    let mut pieces = 0;
    for piece in text.split(',').map(str::trim) {
        let port = |s: &str| s.trim().parse::<u16>().ok().filter(|p| *p >= 1);
        let range = match piece.split_once('-') {
            Some((from, to)) => match (port(from), port(to)) {
                (Some(from), Some(to)) if from < to => (from, to),
                _ => return Err(format!("Invalid port range {piece:?}: must be two ports 1-65535, ascending")),
            },
            None => match port(piece) {
                Some(port) => (port, port),
                None => return Err(format!("Invalid port {piece:?}: must be 1-65535")),
            },
        };
        pieces += if range.0 == range.1 { 1 } else { 2 };
        ranges.push(range);
    }
    if pieces > MAX_PORT_PIECES {
        return Err(format!("At most {MAX_PORT_PIECES} ports per rule (a range counts as two)"));
    }
    Ok(ranges)
}

/// `192.0.2.0/24`, `198.51.100.2`, `::/0` → address and prefix length.
fn parse_network(text: &str) -> Option<(IpAddr, u8)> {
    let (address, prefix) = match text.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
        None => (text, None),
    };
    let ip: IpAddr = address.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = prefix.unwrap_or(max);
    (prefix <= max).then_some((ip, prefix))
}

fn contains(network: &str, ip: IpAddr) -> bool {
    let Some((base, prefix)) = parse_network(network) else { return false };
    match (base, ip) {
        (IpAddr::V4(base), IpAddr::V4(ip)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(base) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(base), IpAddr::V6(ip)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(base) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

impl Rule {
    fn matches(&self, source: IpAddr, protocol: Protocol, port: u16) -> bool {
        let addresses = match source {
            IpAddr::V4(_) => self.addresses.ipv4.as_deref(),
            IpAddr::V6(_) => self.addresses.ipv6.as_deref(),
        };
        let port_matches = match (&self.ports, self.protocol.has_ports()) {
            (Some(ports), true) => {
                parse_ports(ports).is_ok_and(|ranges| ranges.iter().any(|(from, to)| (*from..=*to).contains(&port)))
            }
            _ => true,
        };
        self.protocol == protocol
            && port_matches
            && addresses.unwrap_or_default().iter().any(|network| contains(network, source))
    }
}

/// Label rules shared by Linodes (3–64) and firewalls and rules (3–32): starts with a letter,
/// then letters, digits, `-`, `_`, `.`, never two of `-`, `_`, `.` in a row.
pub(crate) fn check_label(label: &str, length: std::ops::RangeInclusive<usize>) -> Result<(), String> {
    if !length.contains(&label.chars().count()) {
        return Err(format!("Length must be {}-{} characters", length.start(), length.end()));
    }
    let starts_with_letter = label.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let allowed = label.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let doubled = ["--", "__", ".."].iter().any(|d| label.contains(d));
    if starts_with_letter && allowed && !doubled {
        Ok(())
    } else {
        Err("Must begin with a letter and contain only letters, numbers, '-', '_' and '.', \
without two '-', '_' or '.' in a row"
            .to_owned())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FirewallStatus {
    Enabled,
    Disabled,
}

/// What a firewall device protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DeviceEntity {
    /// A Linode with legacy configuration interfaces.
    Linode { linode_id: u64 },
    /// One Linode Interface (public or VPC) of a Linode.
    LinodeInterface { interface_id: u64, linode_id: u64 },
}

impl DeviceEntity {
    pub(crate) fn linode_id(self) -> u64 {
        match self {
            Self::Linode { linode_id } | Self::LinodeInterface { linode_id, .. } => linode_id,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Device {
    pub id: u64,
    pub entity: DeviceEntity,
    pub created: OffsetDateTime,
}

impl Device {
    /// Needs the Linode's label, which lives with the instance.
    pub(crate) fn to_json(&self, linode_label: Option<&str>) -> Value {
        let created = linode_time(self.created);
        json!({
            "id": self.id,
            "created": created,
            "updated": created,
            "entity": self.entity_json(linode_label),
        })
    }

    pub(crate) fn entity_json(&self, linode_label: Option<&str>) -> Value {
        match self.entity {
            DeviceEntity::Linode { linode_id } => json!({
                "id": linode_id,
                "type": "linode",
                "label": linode_label,
                "url": format!("/v4/linode/instances/{linode_id}"),
                "parent_entity": null,
            }),
            DeviceEntity::LinodeInterface { interface_id, linode_id } => json!({
                "id": interface_id,
                "type": "linode_interface",
                "label": null,
                "url": format!("/v4/linode/instances/{linode_id}/interfaces/{interface_id}"),
                "parent_entity": {
                    "id": linode_id,
                    "type": "linode",
                    "label": linode_label.unwrap_or_default(),
                    "url": format!("/v4/linode/instances/{linode_id}"),
                    "parent_entity": null,
                },
            }),
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct FirewallRecord {
    pub id: u64,
    pub label: String,
    pub status: FirewallStatus,
    pub tags: Vec<String>,
    pub rules: Rules,
    pub devices: Vec<Device>,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
}

impl FirewallRecord {
    /// `label_of` names a Linode by id (for the `entities` list).
    pub(crate) fn to_json(&self, label_of: impl Fn(u64) -> Option<String>) -> Value {
        json!({
            "id": self.id,
            "label": self.label,
            "status": self.status,
            "tags": self.tags,
            "rules": self.rules.to_json(),
            "created": linode_time(self.created),
            "updated": linode_time(self.updated),
            "entities": self
                .devices
                .iter()
                .map(|device| device.entity_json(label_of(device.entity.linode_id()).as_deref()))
                .collect::<Vec<_>>(),
        })
    }

    pub(crate) fn protects(&self, entity: DeviceEntity) -> bool {
        self.devices.iter().any(|device| device.entity == entity)
    }
}

/// The address the sandbox takes a probe of an installed app to come from when its real
/// source is this machine (loopback or private): a public documentation address, so only a
/// rule that accepts everyone (`0.0.0.0/0`) or names it lets the probe in.
pub(crate) const OUTSIDE_PROBE_SOURCE: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 250));

/// The IPv4 and IPv6 networks that hold every address, for rules that accept everyone.
pub(crate) const ANY_IPV4: &str = "0.0.0.0/0";
pub(crate) const ANY_IPV6: &str = "::/0";

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(inbound: Value, policy: &str) -> Rules {
        let body: RulesBody = serde_json::from_value(json!({
            "inbound": inbound, "inbound_policy": policy, "outbound": [], "outbound_policy": "ACCEPT"
        }))
        .expect("body");
        Rules::parse(body, "rules.", 1).expect("valid")
    }

    #[test]
    fn first_match_wins_then_the_policy() {
        let set = rules(
            json!([
                {"action": "DROP", "protocol": "TCP", "ports": "80", "addresses": {"ipv4": ["203.0.113.0/24"]}},
                {"action": "ACCEPT", "protocol": "TCP", "ports": "22, 80, 8000-8080", "addresses": {"ipv4": [ANY_IPV4]}}
            ]),
            "DROP",
        );
        let outside = OUTSIDE_PROBE_SOURCE;
        let elsewhere: IpAddr = "198.51.100.7".parse().expect("ip");
        assert_eq!(set.inbound_action(outside, Protocol::Tcp, 80), Action::Drop, "first rule drops it");
        assert_eq!(set.inbound_action(elsewhere, Protocol::Tcp, 80), Action::Accept);
        assert_eq!(set.inbound_action(elsewhere, Protocol::Tcp, 8080), Action::Accept);
        assert_eq!(set.inbound_action(elsewhere, Protocol::Tcp, 443), Action::Drop, "policy");
        assert_eq!(set.inbound_action(elsewhere, Protocol::Udp, 22), Action::Drop, "protocol differs");
        let v6: IpAddr = "2001:db8::1".parse().expect("ip");
        assert_eq!(set.inbound_action(v6, Protocol::Tcp, 22), Action::Drop, "no IPv6 address listed");
    }

    #[test]
    fn ports_syntax() {
        assert_eq!(parse_ports("22").expect("one"), [(22, 22)]);
        assert_eq!(parse_ports("22-24, 80, 443").expect("list"), [(22, 24), (80, 80), (443, 443)]);
        for bad in ["0", "65536", "80-22", "80-80", "http", "", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", "22-"] {
            assert!(parse_ports(bad).is_err(), "{bad}");
        }
        let fifteen = (1..=13).map(|p| p.to_string()).collect::<Vec<_>>().join(",") + ",100-200";
        assert!(parse_ports(&fifteen).is_ok(), "13 ports and one range are 15 pieces");
        assert!(parse_ports(&(fifteen + ",300")).is_err());
    }

    #[test]
    fn every_rule_problem_is_reported_with_its_field() {
        let body: RulesBody = serde_json::from_value(json!({
            "inbound": [
                {"action": "ACCEPT", "protocol": "ICMP", "ports": "22", "addresses": {"ipv4": [ANY_IPV4]}},
                {"action": "ACCEPT", "protocol": "TCP", "addresses": {}},
                {"action": "ACCEPT", "protocol": "TCP", "addresses": {"ipv4": ["300.1.1.1/8"], "ipv6": ["10.0.0.0/8"]}},
                {"action": "MAYBE", "protocol": "TCP", "addresses": {"ipv4": [ANY_IPV4]}}
            ],
            "inbound_policy": "REJECT",
        }))
        .expect("body");
        let errors = Rules::parse(body, "rules.", 1).expect_err("invalid");
        let fields: Vec<_> = errors.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(
            fields,
            [
                "rules.inbound_policy",
                "rules.outbound_policy",
                "rules.inbound[0].ports",
                "rules.inbound[1].addresses",
                "rules.inbound[2].addresses.ipv4",
                "rules.inbound[2].addresses.ipv6",
                "rules.inbound[3]"
            ]
        );
    }

    #[test]
    fn at_most_25_rules() {
        let rule = json!({"action": "ACCEPT", "protocol": "TCP", "ports": "22", "addresses": {"ipv4": [ANY_IPV4]}});
        let body: RulesBody = serde_json::from_value(json!({
            "inbound": vec![rule.clone(); 20], "inbound_policy": "DROP",
            "outbound": vec![rule; 6], "outbound_policy": "ACCEPT",
        }))
        .expect("body");
        let errors = Rules::parse(body, "rules.", 1).expect_err("26 rules");
        assert!(errors[0].reason.contains("at most 25"), "{errors:?}");
    }
}
