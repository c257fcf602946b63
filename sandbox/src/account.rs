//! The account everyone who signs in to the sandbox shares: its settings (`GET/PUT
//! /account/settings`), its default firewalls (`GET/PUT /networking/firewalls/settings`) and
//! its users with their IAM roles.
//!
//! Two presets play the accounts a visitor may have (docs in the README, "Today's Linode"):
//! an account opened before Linode Interfaces and default firewalls existed, and a **new 2026
//! account** — Linode Interfaces by default and a default firewall that accepts only SSH.

use serde::{Deserialize, Serialize};

/// `interfaces_for_new_linodes`: which interface generation a create gets when it names none,
/// and which it may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterfacesForNewLinodes {
    LegacyConfigOnly,
    /// The value accounts opened before Linode Interfaces have.
    LegacyConfigDefaultButLinodeAllowed,
    /// The value of accounts opened since (spec 4.234.0, `GET /account/settings`).
    LinodeDefaultButLegacyConfigAllowed,
    LinodeOnly,
}

/// The two interface generations a Linode can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterfaceGeneration {
    LegacyConfig,
    Linode,
}

impl InterfaceGeneration {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LegacyConfig => "legacy_config",
            Self::Linode => "linode",
        }
    }
}

impl InterfacesForNewLinodes {
    /// The generation a create that names none gets.
    pub fn default_generation(self) -> InterfaceGeneration {
        match self {
            Self::LegacyConfigOnly | Self::LegacyConfigDefaultButLinodeAllowed => InterfaceGeneration::LegacyConfig,
            Self::LinodeDefaultButLegacyConfigAllowed | Self::LinodeOnly => InterfaceGeneration::Linode,
        }
    }

    /// Whether a create may ask for `generation` explicitly.
    pub fn allows(self, generation: InterfaceGeneration) -> bool {
        !matches!(
            (self, generation),
            (Self::LegacyConfigOnly, InterfaceGeneration::Linode)
                | (Self::LinodeOnly, InterfaceGeneration::LegacyConfig)
        )
    }
}

/// `maintenance_policy` of the account and of each Linode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaintenancePolicy {
    #[serde(rename = "linode/migrate")]
    Migrate,
    #[serde(rename = "linode/power_off_on")]
    PowerOffOn,
}

impl MaintenancePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Migrate => "linode/migrate",
            Self::PowerOffOn => "linode/power_off_on",
        }
    }
}

/// `GET /account/settings` as served. `managed`, `longview_subscription` and `object_storage`
/// are read-only there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSettings {
    pub backups_enabled: bool,
    pub interfaces_for_new_linodes: InterfacesForNewLinodes,
    pub longview_subscription: Option<String>,
    pub maintenance_policy: MaintenancePolicy,
    pub managed: bool,
    pub network_helper: bool,
    pub object_storage: String,
}

/// `default_firewall_ids`: the firewall a new Linode (legacy interfaces) or interface gets
/// when its create names none. `None`: the account has none for that kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultFirewalls {
    pub linode: Option<u64>,
    pub nodebalancer: Option<u64>,
    pub public_interface: Option<u64>,
    pub vpc_interface: Option<u64>,
}

/// Which account the sandbox plays from start-up (and after a reset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum AccountPreset {
    /// An account opened before 2025: legacy configuration interfaces by default (Linode
    /// Interfaces allowed), no default firewall. What the deploy flow of 2024 was built for.
    Legacy2024,
    /// An account opened in 2026, the default: Linode Interfaces by default, and a default
    /// firewall, `default-ssh-only`, for Linodes and their public and VPC interfaces that
    /// accepts inbound TCP 22 and drops everything else (the strictest plausible default), so
    /// every client meets today's Linode unless it asks for another account.
    #[default]
    New2026,
}

/// The label of the default firewall a [`AccountPreset::New2026`] account starts with.
pub const DEFAULT_FIREWALL_LABEL: &str = "default-ssh-only";

impl AccountPreset {
    pub fn settings(self) -> AccountSettings {
        AccountSettings {
            backups_enabled: false,
            interfaces_for_new_linodes: match self {
                Self::Legacy2024 => InterfacesForNewLinodes::LegacyConfigDefaultButLinodeAllowed,
                Self::New2026 => InterfacesForNewLinodes::LinodeDefaultButLegacyConfigAllowed,
            },
            longview_subscription: None,
            maintenance_policy: MaintenancePolicy::Migrate,
            managed: false,
            network_helper: true,
            object_storage: "disabled".to_owned(),
        }
    }
}

/// A user of the account, as IAM sees it. An unrestricted user may do everything; a
/// restricted one only what its roles allow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub restricted: bool,
    /// Account-level IAM roles, e.g. `account_linode_creator`.
    #[serde(default)]
    pub roles: Vec<String>,
}

/// The unrestricted user the consent page offers first.
pub const UNRESTRICTED_USER: &str = "sandbox-user";
/// The restricted user the consent page offers: the roles a new restricted user gets, none
/// of which may create a Linode (techdocs "IAM vs. grants", 2026).
pub const RESTRICTED_USER: &str = "sandbox-restricted";

/// The roles IAM gives a new restricted user.
const NEW_RESTRICTED_USER_ROLES: &[&str] = &[
    "account_oauth_client_admin",
    "account_event_viewer",
    "account_notification_viewer",
    "account_maintenance_viewer",
];

/// Roles that carry `create_linode` (and `create_firewall` for the firewall roles).
const LINODE_CREATOR_ROLES: &[&str] = &["account_admin", "account_linode_admin", "account_linode_creator"];
const FIREWALL_CREATOR_ROLES: &[&str] = &["account_admin", "account_firewall_admin", "account_firewall_creator"];

/// An IAM permission an endpoint checks besides its OAuth scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    CreateLinode,
    CreateFirewall,
}

impl User {
    pub fn unrestricted(username: &str) -> Self {
        Self { username: username.to_owned(), restricted: false, roles: vec!["account_admin".to_owned()] }
    }

    pub fn builtin() -> Vec<Self> {
        vec![
            Self::unrestricted(UNRESTRICTED_USER),
            Self {
                username: RESTRICTED_USER.to_owned(),
                restricted: true,
                roles: NEW_RESTRICTED_USER_ROLES.iter().map(|r| (*r).to_owned()).collect(),
            },
        ]
    }

    pub fn may(&self, permission: Permission) -> bool {
        let roles = match permission {
            Permission::CreateLinode => LINODE_CREATOR_ROLES,
            Permission::CreateFirewall => FIREWALL_CREATOR_ROLES,
        };
        !self.restricted || self.roles.iter().any(|role| roles.contains(&role.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_follow_the_setting() {
        use InterfaceGeneration::*;
        use InterfacesForNewLinodes::*;
        assert_eq!(LegacyConfigOnly.default_generation(), LegacyConfig);
        assert_eq!(LegacyConfigDefaultButLinodeAllowed.default_generation(), LegacyConfig);
        assert_eq!(LinodeDefaultButLegacyConfigAllowed.default_generation(), Linode);
        assert_eq!(LinodeOnly.default_generation(), Linode);
        assert!(!LegacyConfigOnly.allows(Linode));
        assert!(!LinodeOnly.allows(LegacyConfig));
        assert!(LegacyConfigDefaultButLinodeAllowed.allows(Linode));
        assert!(LinodeDefaultButLegacyConfigAllowed.allows(LegacyConfig));
    }

    #[test]
    fn a_new_restricted_user_may_not_create_a_linode() {
        let users = User::builtin();
        assert!(users[0].may(Permission::CreateLinode));
        assert!(!users[1].may(Permission::CreateLinode));
        assert!(!users[1].may(Permission::CreateFirewall));
        let creator = User { roles: vec!["account_linode_creator".to_owned()], ..users[1].clone() };
        assert!(creator.may(Permission::CreateLinode));
    }

    #[test]
    fn settings_serialize_with_linodes_names() {
        let json = serde_json::to_value(AccountPreset::New2026.settings()).expect("json");
        assert_eq!(json["interfaces_for_new_linodes"], "linode_default_but_legacy_config_allowed");
        assert_eq!(json["maintenance_policy"], "linode/migrate");
    }
}
