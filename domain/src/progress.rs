//! Where a new Linode is on its way to running, as the success view follows it, and whether the
//! application it installs answers. Sent to the browser as the island's props and on each poll.

use serde::{Deserialize, Serialize};

/// A Linode's status as Linode reports it; one this code does not know is kept as written.
/// Carried as its plain name on the wire and in the store.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::AsRefStr,
    strum::Display,
    serde_with::SerializeDisplay,
    serde_with::DeserializeFromStr,
)]
#[strum(serialize_all = "lowercase")]
pub enum InstanceStatus {
    Provisioning,
    Booting,
    Running,
    Offline,
    Stopped,
    Deleting,
    #[strum(default, transparent)]
    Other(String),
}

impl InstanceStatus {
    pub fn as_str(&self) -> &str {
        self.as_ref()
    }

    /// Statuses from which a new Linode will not come up by itself.
    pub fn is_not_coming_up(&self) -> bool {
        matches!(self, Self::Offline | Self::Stopped | Self::Deleting)
    }
}

/// Where a new Linode is on its way to running, as the success view follows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Linode's status: `provisioning`, `booting`, `running`, …
    pub status: InstanceStatus,
    pub ipv4: Option<String>,
    /// False once the server has stopped following the Linode (it is running, or the time bound
    /// passed) and has given up its access.
    pub following: bool,
    /// Whether the application the StackScript installs answers yet.
    #[serde(default)]
    pub app: Readiness,
}

impl Progress {
    /// Whether the page should keep asking: the server still follows the Linode, or still
    /// checks whether its application answers.
    pub fn is_live(&self) -> bool {
        self.following || matches!(self.app, Readiness::Installing { .. })
    }
}

/// Whether the application a StackScript installs answers on the new Linode's address. The
/// server checks from outside, without a token, once the Linode runs.
/// Externally tagged (`"not_checked"`, `{"ready": {…}}`): an internally tagged enum would bring
/// serde's buffering decoder into the first page's WASM.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// Not checked: no check is configured, or the Linode is not running yet.
    #[default]
    NotChecked,
    /// The StackScript is still installing: nothing answers yet.
    Installing {
        /// Since the Linode started running.
        elapsed_secs: u64,
        /// How long the server keeps checking.
        timeout_secs: u64,
        /// When the server last checked (milliseconds since the epoch): a check that stopped
        /// being renewed means the server checking it stopped.
        checked_ms: i64,
    },
    /// It answers. `address` is what was checked (`203.0.113.7:443`); `link` is set for HTTP(S).
    Ready { address: String, link: Option<String> },
    /// Nothing answered within the time the server checks.
    NotAnswering { waited_secs: u64, address: String },
    /// The server checking it stopped (a restart) before it answered: try it by hand.
    Unknown { address: String, link: Option<String> },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_statuses_round_trip_as_their_names_and_unknown_ones_are_kept() {
        for (status, name) in [(InstanceStatus::Running, "running"), (InstanceStatus::Provisioning, "provisioning")] {
            assert_eq!(serde_json::to_string(&status).unwrap(), format!("\"{name}\""));
            assert_eq!(serde_json::from_str::<InstanceStatus>(&format!("\"{name}\"")).unwrap(), status);
        }
        let future = serde_json::from_str::<InstanceStatus>("\"resizing\"").unwrap();
        assert_eq!(future, InstanceStatus::Other("resizing".into()));
        assert_eq!(future.as_str(), "resizing");
        assert_eq!(serde_json::to_string(&future).unwrap(), "\"resizing\"");
    }
}
