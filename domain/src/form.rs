//! The deploy form as the pages render it and the server checks it: the site, the plans, regions
//! and images on offer, the StackScript's inputs. Computed once per catalog refresh on the server;
//! the browser's inline checks get their data from the same value, so the two agree.

use serde::{Deserialize, Serialize};

use crate::price::{size, transfer, Price, RegionPrice};

/// What every page needs to know about the site it is on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteInfo {
    pub app_name: String,
    /// True when the server talks to its embedded Linode sandbox instead of Linode.
    pub sandbox: bool,
    /// The ports the firewall made for the app accepts (`22/tcp, 80/tcp`), when one is made.
    #[serde(default)]
    pub app_ports: Option<String>,
    /// The cloud-init user data every Linode gets (`USER_DATA_FILE`), as text, when there is one.
    #[serde(default)]
    pub cloud_config: Option<String>,
}

/// Everything the deploy form renders, computed once per catalog refresh on the server. The
/// server validates a submitted form against this same value, and the browser's inline checks
/// get their data from it (`LiveCatalog`), so the two agree.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeployForm {
    pub site: SiteInfo,
    /// The StackScript that installs the app; `None` when cloud-init user data alone does.
    pub stackscript_label: Option<String>,
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
    /// The base price; zero for a plan Linode prices only region by region.
    pub price: Price,
    /// Regions where Linode charges a different price (for a plan priced only region by region:
    /// the regions it is sold in).
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
        format!("{} — {} — {}", self.label, self.specs(), self.price_text())
    }

    /// The base price described, or, for a plan priced only region by region, its lowest.
    pub fn price_text(&self) -> String {
        if self.priced_per_region_only() {
            format!("from {}, by region", self.from_price().describe())
        } else {
            self.price.describe()
        }
    }

    /// The base price, or, for a plan priced only region by region, the lowest of its regions'.
    pub fn from_price(&self) -> Price {
        match self.lowest_regional_price() {
            Some(lowest) if self.priced_per_region_only() => lowest,
            _ => self.price,
        }
    }

    /// Linode lists the plan with a base price of 0 and sells it only in the regions it prices
    /// (GPU plans of 2026).
    pub fn priced_per_region_only(&self) -> bool {
        self.price.monthly <= 0.0
    }

    fn lowest_regional_price(&self) -> Option<Price> {
        self.region_prices.iter().map(|regional| regional.price).min_by(|a, b| a.monthly.total_cmp(&b.monthly))
    }

    /// What a region must offer ([`RegionChoice::classes`]) to host this plan: its class, or,
    /// for a plan priced only region by region, the plan itself (`<class>@<id>`), which only
    /// the regions it is priced in offer.
    pub fn offered_as(&self) -> String {
        if self.priced_per_region_only() {
            format!("{}@{}", self.class, self.id)
        } else {
            self.class.clone()
        }
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
    /// Plan classes this region can host, and plans priced only region by region that are
    /// sold here (see [`PlanChoice::offered_as`]).
    pub classes: Vec<String>,
    /// Linode reports an outage: shown, but not offered.
    pub outage: bool,
    /// The site sends cloud-init user data, and Linodes here cannot read it (no Metadata
    /// service): shown, but not offered.
    #[serde(default)]
    pub no_metadata: bool,
}

impl RegionChoice {
    /// `Newark, NJ — United States`
    pub fn description(&self) -> String {
        format!("{} — {}", self.label, self.country)
    }

    /// Why a plan offered as `class` ([`PlanChoice::offered_as`]) cannot be created here, if it
    /// cannot.
    pub fn unavailable_for(&self, class: &str) -> Option<&'static str> {
        if self.outage {
            Some("unavailable: outage")
        } else if self.no_metadata {
            Some("no cloud-init metadata service here")
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
    /// The site sends cloud-init user data, and this image does not run cloud-init: shown, but
    /// not offered.
    #[serde(default)]
    pub no_cloud_init: bool,
}

impl ImageChoice {
    /// Why this image cannot be chosen, if it cannot.
    pub fn unavailable(&self) -> Option<&'static str> {
        self.no_cloud_init.then_some("does not run cloud-init")
    }
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
