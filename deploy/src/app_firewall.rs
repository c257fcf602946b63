//! The firewall made for the app: the publisher declares the ports the installed app listens
//! on (`APP_PORTS`, e.g. `22/tcp,80/tcp,443/tcp`), and each deployment gets a Cloud Firewall
//! that accepts exactly those, drops every other inbound packet and lets everything out. Without
//! it, a 2026 account's default firewall (which may accept SSH only) would keep the app from
//! ever answering.

use linode::{CreateFirewall, FirewallAddresses, FirewallRule, FirewallRules};

/// The longest firewall label Linode takes.
const MAX_LABEL: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortProtocol {
    Tcp,
    Udp,
}

impl PortProtocol {
    fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        }
    }
}

/// One port the app listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppPort {
    pub port: u16,
    pub protocol: PortProtocol,
}

impl std::fmt::Display for AppPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AppPortsError {
    #[error("{0:?} is not a port: write it as 80/tcp or 53/udp, ports 1-65535, comma-separated")]
    NotAPort(String),
    #[error("no port is declared; write off to keep the account's default firewall")]
    Empty,
    #[error("at most 25 ports: a Linode firewall holds 25 rules")]
    TooMany,
}

/// The ports declared for the app, sorted, each once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppFirewall {
    ports: Vec<AppPort>,
}

impl AppFirewall {
    /// `22/tcp,80/tcp,443/tcp` (a bare number is TCP); `off` is handled by the caller.
    pub fn parse(text: &str) -> Result<Self, AppPortsError> {
        let mut ports = Vec::new();
        for piece in text.split(',').map(str::trim).filter(|piece| !piece.is_empty()) {
            let (number, protocol) = match piece.split_once('/') {
                Some((number, "tcp" | "TCP")) => (number, PortProtocol::Tcp),
                Some((number, "udp" | "UDP")) => (number, PortProtocol::Udp),
                Some(_) => return Err(AppPortsError::NotAPort(piece.to_owned())),
                None => (piece, PortProtocol::Tcp),
            };
            let port = number
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .ok_or_else(|| AppPortsError::NotAPort(piece.to_owned()))?;
            ports.push(AppPort { port, protocol });
        }
        Self::new(ports)
    }

    /// The default when `APP_PORTS` is unset: SSH, and the port the readiness check probes.
    pub fn ssh_and(check_port: Option<u16>) -> Self {
        let ports =
            [Some(22), check_port].into_iter().flatten().map(|port| AppPort { port, protocol: PortProtocol::Tcp });
        Self::new(ports.collect())
            .unwrap_or_else(|_| Self { ports: vec![AppPort { port: 22, protocol: PortProtocol::Tcp }] })
    }

    fn new(mut ports: Vec<AppPort>) -> Result<Self, AppPortsError> {
        ports.sort_unstable();
        ports.dedup();
        match ports.len() {
            0 => Err(AppPortsError::Empty),
            // One rule per port and family would be 50; one rule per protocol holds them all,
            // but a rule takes at most 15 port pieces, so 25 ports is the plain ceiling.
            n if n > 25 => Err(AppPortsError::TooMany),
            _ => Ok(Self { ports }),
        }
    }

    pub fn ports(&self) -> &[AppPort] {
        &self.ports
    }

    /// `22/tcp, 80/tcp`
    pub fn describe(&self) -> String {
        self.ports.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }

    /// The firewall labelled `label` (see [`label_for`]): inbound DROP but one ACCEPT rule per
    /// declared port (IPv4 and IPv6), outbound ACCEPT, tagged with the app's tag.
    pub fn request(&self, label: &str, tag: &str) -> CreateFirewall {
        let everyone =
            FirewallAddresses { ipv4: Some(vec!["0.0.0.0/0".to_owned()]), ipv6: Some(vec!["::/0".to_owned()]) };
        let inbound = self
            .ports
            .iter()
            .map(|port| FirewallRule {
                action: "ACCEPT".to_owned(),
                protocol: port.protocol.as_str().to_uppercase(),
                ports: Some(port.port.to_string()),
                addresses: everyone.clone(),
                label: Some(format!("accept-{}-{}", port.protocol.as_str(), port.port)),
            })
            .collect();
        CreateFirewall {
            label: label.to_owned(),
            rules: FirewallRules {
                inbound,
                inbound_policy: "DROP".to_owned(),
                outbound: Vec::new(),
                outbound_policy: "ACCEPT".to_owned(),
            },
            tags: vec![tag.to_owned()],
        }
    }
}

/// The firewall's label: the Linode's (Linode's label rules), cut so that `-<unique>` fits the 32
/// characters a firewall takes. `unique` is random per deployment: firewall labels are unique in
/// an account, so a label the person chose (or a shared link chose for them) can never clash with
/// a firewall they already have, and the clean-up after a failed create, which finds the
/// firewall by its label, can only ever find this deployment's. It is journaled with the token
/// before the firewall exists, so recovery finds it after a crash.
pub fn label_for(linode_label: &str, unique: &str) -> String {
    let room = MAX_LABEL.saturating_sub(unique.chars().count() + 1);
    let cut: String = linode_label.chars().take(room).collect();
    let prefix = cut.trim_end_matches(['-', '_', '.']);
    let prefix = if prefix.is_empty() { "fw" } else { prefix };
    format!("{prefix}-{unique}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_read_sorted_and_once() {
        let ports = AppFirewall::parse("443/tcp, 22/tcp,80,53/udp,80/tcp").expect("valid");
        assert_eq!(ports.describe(), "22/tcp, 53/udp, 80/tcp, 443/tcp");
        for bad in ["http", "0/tcp", "70000", "22/sctp", "22/"] {
            assert!(matches!(AppFirewall::parse(bad), Err(AppPortsError::NotAPort(_))), "{bad}");
        }
        assert_eq!(AppFirewall::parse(" , "), Err(AppPortsError::Empty));
        let many = (1..=26).map(|p| p.to_string()).collect::<Vec<_>>().join(",");
        assert_eq!(AppFirewall::parse(&many), Err(AppPortsError::TooMany));
        assert_eq!(AppFirewall::ssh_and(Some(80)).describe(), "22/tcp, 80/tcp");
        assert_eq!(AppFirewall::ssh_and(Some(22)).describe(), "22/tcp");
        assert_eq!(AppFirewall::ssh_and(None).describe(), "22/tcp");
    }

    #[test]
    fn the_firewall_accepts_exactly_the_declared_ports() {
        let request = AppFirewall::parse("22/tcp,80/tcp,53/udp")
            .expect("valid")
            .request(&label_for("my-app-us-east-x1", "a1b2c3"), "My App");
        let body = serde_json::to_value(&request).expect("json");
        assert_eq!(body["label"], "my-app-us-east-x1-a1b2c3");
        assert_eq!(body["rules"]["inbound_policy"], "DROP");
        assert_eq!(body["rules"]["outbound_policy"], "ACCEPT");
        let rules = body["rules"]["inbound"].as_array().expect("rules");
        let accepted: Vec<(String, String)> = rules
            .iter()
            .map(|rule| (rule["protocol"].as_str().unwrap().to_owned(), rule["ports"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(accepted, [("TCP".into(), "22".into()), ("UDP".into(), "53".into()), ("TCP".into(), "80".into())]);
        assert!(rules.iter().all(|rule| rule["action"] == "ACCEPT"
            && rule["addresses"] == serde_json::json!({ "ipv4": ["0.0.0.0/0"], "ipv6": ["::/0"] })));
        assert_eq!(body["tags"], serde_json::json!(["My App"]));
    }

    #[test]
    fn labels_fit_a_firewall_and_never_repeat_the_persons_label() {
        assert_eq!(label_for("web-01", "a1b2c3"), "web-01-a1b2c3");
        let long = "a-very-long-linode-label-that-goes-on.and_on-for-64-characters-x";
        let label = label_for(long, "a1b2c3");
        assert!(label.len() <= 32 && label.ends_with("-a1b2c3"), "{label}");
        assert_eq!(label_for("--", "a1b2c3"), "fw-a1b2c3");
        // A label equal to a firewall the account has (its default one) is not that firewall's.
        assert_ne!(label_for("default-ssh-only", "a1b2c3"), "default-ssh-only");
        assert_ne!(label_for("web-01", "a1b2c3"), label_for("web-01", "d4e5f6"));
    }
}
