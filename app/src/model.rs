//! The data the pages are rendered from (on the server) and the parts that reach the browser
//! (`Progress` from the follower; the form's islands get `live_form::LiveCatalog`). Nothing here
//! may hold a secret other than the root password of a Linode the person just deployed, which is
//! theirs to see.

use serde::{Deserialize, Serialize};

/// What every page needs to know about the site it is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub app_name: String,
    /// True when the server talks to its embedded Linode sandbox instead of Linode.
    pub sandbox: bool,
    /// The ports the firewall made for the app accepts (`22/tcp, 80/tcp`), when one is made.
    #[serde(default)]
    pub app_ports: Option<String>,
}

/// Everything the deploy form renders, computed once per catalog refresh on the server. The
/// server validates a submitted form against this same value, and the browser's inline checks
/// get their data from it (`LiveCatalog`), so the two agree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeployForm {
    pub site: SiteInfo,
    pub stackscript_label: String,
    pub plans: Vec<PlanGroup>,
    pub regions: Vec<RegionGroup>,
    pub images: Vec<ImageGroup>,
    /// The StackScript's user-defined fields, in its order.
    pub fields: Vec<FieldSpec>,
    /// Set when Linode could not be reached on the last refresh and older data is shown.
    pub stale: bool,
}

impl DeployForm {
    pub fn plan(&self, id: &str) -> Option<&PlanChoice> {
        self.plans.iter().flat_map(|group| &group.plans).find(|plan| plan.id == id)
    }

    pub fn region(&self, id: &str) -> Option<&RegionChoice> {
        self.regions.iter().flat_map(|group| &group.regions).find(|region| region.id == id)
    }

    pub fn image(&self, id: &str) -> Option<&ImageChoice> {
        self.images.iter().flat_map(|group| &group.images).find(|image| image.id == id)
    }

    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|field| field.name == name)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanGroup {
    /// "Shared CPU", "Dedicated CPU", …
    pub label: String,
    pub plans: Vec<PlanChoice>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub hourly: f64,
    pub monthly: f64,
}

impl Price {
    /// `$5/mo ($0.0075/hr)`
    pub fn describe(&self) -> String {
        format!("{}/mo ({}/hr)", dollars(self.monthly), dollars(self.hourly))
    }
}

/// `$5`, `$5.50`, `$0.0075`: whole dollars without cents, cents as needed, and enough digits for
/// hourly prices below a cent.
pub fn dollars(amount: f64) -> String {
    if amount.fract() == 0.0 {
        format!("${amount:.0}")
    } else if (amount * 100.0).fract().abs() < 1e-9 {
        format!("${amount:.2}")
    } else {
        let text = format!("{amount:.4}");
        format!("${}", text.trim_end_matches('0'))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionPrice {
    pub region: String,
    pub price: Price,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanChoice {
    pub id: String,
    /// e.g. "Nanode 1 GB"
    pub label: String,
    /// Linode's class: `nanode`, `standard`, `dedicated`, `premium`, `highmem`, `gpu`…
    pub class: String,
    pub vcpus: u32,
    pub memory_mb: u64,
    pub disk_mb: u64,
    pub transfer_gb: u64,
    pub gpus: u32,
    pub price: Price,
    /// Regions where Linode charges a different price.
    pub region_prices: Vec<RegionPrice>,
}

impl PlanChoice {
    /// `1 vCPU, 1 GB RAM, 25 GB storage, 1 TB transfer`
    pub fn specs(&self) -> String {
        let gpus = if self.gpus > 0 { format!(", {} GPU", self.gpus) } else { String::new() };
        format!(
            "{} vCPU, {} RAM, {} storage, {} transfer{gpus}",
            self.vcpus,
            size(self.memory_mb),
            size(self.disk_mb),
            transfer(self.transfer_gb),
        )
    }

    /// The option text: the base price, as the region may change it.
    pub fn option_text(&self) -> String {
        format!("{} — {} — {}", self.label, self.specs(), self.price.describe())
    }
}

/// Transfer is sold in decimal units: 1000 GB is "1 TB".
fn transfer(gigabytes: u64) -> String {
    if gigabytes >= 1000 && gigabytes.is_multiple_of(100) {
        let terabytes = gigabytes as f64 / 1000.0;
        if terabytes.fract() == 0.0 {
            format!("{terabytes:.0} TB")
        } else {
            format!("{terabytes:.1} TB")
        }
    } else {
        format!("{gigabytes} GB")
    }
}

/// Megabytes as people read them: `512 MB`, `1 GB`, `1.5 GB`, `1 TB`.
fn size(megabytes: u64) -> String {
    let (value, unit) = if megabytes >= 1024 * 1024 {
        (megabytes as f64 / (1024.0 * 1024.0), "TB")
    } else if megabytes >= 1024 {
        (megabytes as f64 / 1024.0, "GB")
    } else {
        (megabytes as f64, "MB")
    };
    if value.fract() == 0.0 {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

/// Regions of one part of the world.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionGroup {
    /// "Americas", "Europe", "Asia-Pacific"…
    pub label: String,
    pub regions: Vec<RegionChoice>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionChoice {
    pub id: String,
    /// e.g. "Newark, NJ"
    pub label: String,
    /// e.g. "United States"
    pub country: String,
    /// Plan classes this region can host.
    pub classes: Vec<String>,
    /// Linode reports an outage: shown, but not offered.
    pub outage: bool,
}

impl RegionChoice {
    /// `Newark, NJ — United States`
    pub fn description(&self) -> String {
        format!("{} — {}", self.label, self.country)
    }

    /// Why a plan of `class` cannot be created here, if it cannot.
    pub fn unavailable_for(&self, class: &str) -> Option<&'static str> {
        if self.outage {
            Some("unavailable: outage")
        } else if !self.classes.iter().any(|c| c == class) {
            Some("does not offer this plan")
        } else {
            None
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageGroup {
    /// "Debian", "Ubuntu", …
    pub vendor: String,
    pub images: Vec<ImageChoice>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImageChoice {
    pub id: String,
    pub label: String,
}

/// One input of the StackScript, as the form renders and checks it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// The variable name the StackScript reads.
    pub name: String,
    pub label: String,
    pub example: Option<String>,
    pub default: Option<String>,
    pub kind: FieldKind,
    /// Fields without a default must be filled in.
    pub required: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FieldKind {
    Text,
    /// A field whose name mentions a password: masked, never pre-filled from a link.
    Password,
    OneOf(Vec<String>),
    ManyOf(Vec<String>),
}

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

    #[cfg(feature = "ssr")]
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

    #[cfg(feature = "ssr")]
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
    fn prices_and_sizes_read_naturally() {
        assert_eq!(Price { hourly: 0.0075, monthly: 5.0 }.describe(), "$5/mo ($0.0075/hr)");
        assert_eq!(Price { hourly: 0.06, monthly: 43.2 }.describe(), "$43.20/mo ($0.06/hr)");
        assert_eq!(size(512), "512 MB");
        assert_eq!(size(1536), "1.5 GB");
        assert_eq!(size(1024 * 1024), "1 TB");
    }
}
