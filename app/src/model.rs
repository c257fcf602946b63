//! Plain data that crosses from the server to the browser. Nothing here may hold a secret other
//! than the root password of a Linode the person just deployed, which is theirs to see.

use serde::{Deserialize, Serialize};

/// What every page needs to know about the site it is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub app_name: String,
    /// True when the server talks to its embedded Linode sandbox instead of Linode.
    pub sandbox: bool,
}

/// Everything the deploy form renders, computed once per catalog refresh on the server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeployForm {
    pub site: SiteInfo,
    pub stackscript_label: String,
    pub plans: Vec<PlanGroup>,
    pub regions: Vec<RegionChoice>,
    pub images: Vec<ImageChoice>,
    /// Set when Linode could not be reached on the last refresh and older data is shown.
    pub stale: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanGroup {
    /// "Shared CPU", "Dedicated CPU", …
    pub label: String,
    pub plans: Vec<PlanChoice>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanChoice {
    pub id: String,
    /// e.g. "Nanode 1 GB — 1 vCPU, 1 GB RAM, 25 GB disk — $5/mo"
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionChoice {
    pub id: String,
    /// e.g. "Newark, NJ, USA (US)"
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageChoice {
    pub id: String,
    pub label: String,
}

/// What the person sees after coming back from Linode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    pub status: String,
    /// Present only on the first view of the result; afterwards the server no longer has it.
    pub root_password: Option<String>,
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
    pub kind: String,
}
