//! What the person sees after coming back from Linode: the deployed Linode (with the root password
//! of the Linode they just deployed, theirs to see once, and redacted from `Debug`), or a failure
//! with a message they can act on and a stable kind; and the request this site sent, as they can
//! read it.

use serde::{Deserialize, Serialize};

use crate::progress::{InstanceStatus, Readiness};

/// What the person sees after coming back from Linode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant, reason = "one per page view, never in a collection")]
pub enum Outcome {
    Deployed(DeployedLinode),
    Failed(Failure),
}

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployedLinode {
    pub id: u64,
    pub label: String,
    pub tags: Vec<String>,
    pub region: String,
    pub plan: String,
    pub image: String,
    pub ipv4: Option<String>,
    pub status: InstanceStatus,
    /// Present only on the first view of the result; afterwards the server no longer has it.
    pub root_password: Option<String>,
    /// The password is not in this answer but still kept: the request was not the person's
    /// page view (a HEAD, a prefetch), which never takes it.
    #[serde(default)]
    pub password_kept: bool,
    /// How many SSH keys were installed for root.
    pub ssh_keys: usize,
    /// Whether root has a password at all (results recorded before the choice existed: it does).
    #[serde(default)]
    pub root_login: crate::selection::RootLogin,
    /// Scopes Linode granted beyond `linodes:read_write` (e.g. `*`): the token could have done
    /// more than this site asked for. It was used for the Linode only and revoked as always.
    #[serde(default)]
    pub extra_grant: Vec<String>,
    /// Whether the operator declared how to tell the application is up (`READY_CHECK`).
    #[serde(default)]
    pub checks_app: bool,
    /// Whether the application answers, as the server last saw it.
    #[serde(default)]
    pub app: Readiness,
    /// The create request as sent to Linode, its secrets masked.
    #[serde(default)]
    pub sent: Option<LinodeRequest>,
    /// Which firewall stands in front of the Linode (`None` in results recorded before firewalls
    /// were made, and after a recovery that could not tell).
    #[serde(default)]
    pub firewall: Option<FirewallUsed>,
}

/// The firewall in front of a new Linode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirewallUsed {
    /// Made for the app: accepts exactly the declared ports, drops every other inbound packet.
    Own { id: u64, label: String, ports: String },
    /// Whatever the account gives a new Linode: its default firewall, if it has one.
    AccountDefault { why: DefaultFirewallWhy },
}

/// Why the account's default firewall is in front of a new Linode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultFirewallWhy {
    /// The publisher keeps the account's default (`APP_PORTS=off`).
    Configured,
    /// The person did not grant `firewall:read_write`.
    NotGranted,
    /// Linode did not create the app's firewall; its reason.
    NotCreated(String),
}

impl FirewallUsed {
    /// One sentence for the success view.
    pub fn describe(&self, app_name: &str) -> String {
        match self {
            Self::Own { label, ports, .. } => {
                format!("{label}, made for {app_name}: it accepts {ports} and drops every other inbound connection.")
            }
            Self::AccountDefault { why } => {
                let why = match why {
                    DefaultFirewallWhy::Configured => String::new(),
                    DefaultFirewallWhy::NotGranted => {
                        format!(" (the permission to make one for {app_name}, firewall:read_write, was not granted)")
                    }
                    DefaultFirewallWhy::NotCreated(reason) => {
                        format!(" (Linode did not create the one made for {app_name}: {reason})")
                    }
                };
                format!("Your account's default firewall, if it has one{why}. It may drop the ports {app_name} uses: open them in Cloud Manager → Firewalls.")
            }
        }
    }
}

/// A `POST /v4/linode/instances` as people read it: the JSON body, and the same request as a
/// `linode-cli` command. The root password and password-type inputs are masked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LinodeRequest {
    pub body: String,
    pub cli: String,
}

impl LinodeRequest {
    /// Between the body and the command on the wire. The body is JSON, which writes U+001E
    /// escaped, so the first one ends it.
    const SEPARATOR: char = '\u{1e}';

    /// Both as one string: the form's preview asks for it after every change, and a plain
    /// string costs the WASM no decoder of its own (the first page's budget is tight).
    pub fn to_wire(&self) -> String {
        format!("{}{}{}", self.body, Self::SEPARATOR, self.cli)
    }

    pub fn from_wire(wire: &str) -> Self {
        let (body, cli) = wire.split_once(Self::SEPARATOR).unwrap_or((wire, ""));
        Self { body: body.to_owned(), cli: cli.to_owned() }
    }
}

impl std::fmt::Debug for DeployedLinode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeployedLinode")
            .field("id", &self.id)
            .field("label", &self.label)
            .field("region", &self.region)
            .field("plan", &self.plan)
            .field("ipv4", &self.ipv4)
            .field("root_password", &self.root_password.as_ref().map(|_| "[REDACTED]"))
            .finish_non_exhaustive()
    }
}

/// A deployment that did not happen, with a message the person can act on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// Short heading, e.g. "Login was cancelled".
    pub title: String,
    /// What happened and what to do next.
    pub message: String,
    /// A stable machine-readable kind, used by tests and for styling.
    pub kind: FailureKind,
    /// The form again with the same choices (`/?type=…`), never with a password in it.
    #[serde(default)]
    pub retry: Option<String>,
}

/// Why a deployment did not happen, as a stable name (`data-kind` on the page, logs, tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    MissingState,
    NoPendingDeployment,
    StateMismatch,
    Expired,
    AccessDenied,
    LoginError,
    MissingCode,
    ExchangeFailed,
    InsufficientScope,
    LinodeError,
    /// The person's Linode user may not create Linodes (IAM: no creator role).
    NotPermitted,
    StillRunning,
    AlreadyUsed,
    /// The store could not record the deployment, so nothing was started.
    StoreUnavailable,
    /// The server handling the deployment stopped before it finished; another took over.
    Interrupted,
    /// A kind written by a newer version of the server.
    #[serde(other)]
    Unknown,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingState => "missing_state",
            Self::NoPendingDeployment => "no_pending_deployment",
            Self::StateMismatch => "state_mismatch",
            Self::Expired => "expired",
            Self::AccessDenied => "access_denied",
            Self::LoginError => "login_error",
            Self::MissingCode => "missing_code",
            Self::ExchangeFailed => "exchange_failed",
            Self::InsufficientScope => "insufficient_scope",
            Self::LinodeError => "linode_error",
            Self::NotPermitted => "not_permitted",
            Self::StillRunning => "still_running",
            Self::AlreadyUsed => "already_used",
            Self::StoreUnavailable => "store_unavailable",
            Self::Interrupted => "interrupted",
            Self::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_kinds_round_trip_and_unknown_ones_are_tolerated() {
        for kind in [FailureKind::MissingState, FailureKind::StoreUnavailable, FailureKind::Interrupted] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(serde_json::from_str::<FailureKind>(&json).unwrap(), kind);
        }
        assert_eq!(serde_json::from_str::<FailureKind>("\"from_the_future\"").unwrap(), FailureKind::Unknown);
    }

    #[test]
    fn a_result_stored_before_password_less_deploys_reads_as_a_password_deployment() {
        let stored = r#"{"Deployed":{"id":7,"label":"app-us-east-1","tags":[],"region":"Newark","plan":"Nanode",
            "image":"Debian 12","ipv4":null,"status":"provisioning","root_password":null,"ssh_keys":1}}"#;
        let Outcome::Deployed(linode) = serde_json::from_str::<Outcome>(stored).unwrap() else { panic!("deployed") };
        assert_eq!(linode.root_login, crate::RootLogin::Password);
        let keys_only = DeployedLinode { root_login: crate::RootLogin::KeysOnly, ..linode };
        let again: DeployedLinode = serde_json::from_str(&serde_json::to_string(&keys_only).unwrap()).unwrap();
        assert_eq!(again.root_login, crate::RootLogin::KeysOnly);
    }
}
