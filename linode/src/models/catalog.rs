use serde::{Deserialize, Serialize};
use serde_with::{DeserializeFromStr, SerializeDisplay};
use strum::{AsRefStr, Display, EnumString};

/// A plan's class, as Linode names it; one this code does not know is kept as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EnumString, AsRefStr, Display, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "lowercase")]
pub enum PlanClass {
    Nanode,
    Standard,
    Dedicated,
    Premium,
    HighMem,
    Gpu,
    Accelerated,
    #[strum(default, transparent)]
    Other(String),
}

impl PlanClass {
    pub fn as_str(&self) -> &str {
        self.as_ref()
    }
}

/// A region's status: `ok`, `outage`, or one this code does not know, kept as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, EnumString, AsRefStr, Display, SerializeDisplay, DeserializeFromStr)]
#[strum(serialize_all = "lowercase")]
pub enum RegionStatus {
    #[default]
    Ok,
    Outage,
    #[strum(default, transparent)]
    Other(String),
}

impl RegionStatus {
    /// Only `ok` takes new Linodes: an outage, or a status this code does not know, does not.
    pub fn is_ok(&self) -> bool {
        *self == Self::Ok
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Price {
    #[serde(default)]
    pub hourly: f64,
    #[serde(default)]
    pub monthly: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionPrice {
    pub id: String,
    #[serde(default)]
    pub hourly: f64,
    #[serde(default)]
    pub monthly: f64,
}

/// A plan (`GET /linode/types`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinodeType {
    pub id: String,
    pub label: String,
    pub class: PlanClass,
    /// MB.
    pub disk: u64,
    /// MB.
    pub memory: u64,
    pub vcpus: u32,
    #[serde(default)]
    pub gpus: u32,
    /// Outbound transfer per month. The spec says MB; production sends GB (1000 for the Nanode).
    #[serde(default)]
    pub transfer: u64,
    /// Mbit/s.
    #[serde(default)]
    pub network_out: u64,
    #[serde(default)]
    pub price: Price,
    #[serde(default)]
    pub region_prices: Vec<RegionPrice>,
    #[serde(default)]
    pub successor: Option<String>,
}

/// A data centre (`GET /regions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Region {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// A region without one is taken as `ok`, as before the field existed.
    #[serde(default)]
    pub status: RegionStatus,
    /// Spelled `site_type` on the wire, `site-type` in the v4.189 spec.
    #[serde(default, alias = "site-type")]
    pub site_type: Option<String>,
}

impl Region {
    pub fn can_host_linodes(&self) -> bool {
        self.capabilities.iter().any(|capability| capability == "Linodes")
    }

    /// Whether Linodes here can read cloud-init user data (the Metadata service).
    pub fn has_metadata(&self) -> bool {
        self.capabilities.iter().any(|capability| capability == "Metadata")
    }
}

/// An image (`GET /images`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Image {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub is_public: bool,
    #[serde(default)]
    pub deprecated: bool,
    #[serde(default)]
    pub status: Option<String>,
    /// MB.
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub eol: Option<String>,
    /// `cloud-init`, `distributed-sites`… (spec 4.234.0).
    #[serde(default)]
    pub capabilities: Vec<String>,
}

impl Image {
    /// Whether a Linode made from this image runs cloud-init, so reads user data.
    pub fn runs_cloud_init(&self) -> bool {
        self.capabilities.iter().any(|capability| capability == "cloud-init")
    }
}

/// A StackScript (`GET /linode/stackscripts/{id}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StackScript {
    pub id: u64,
    pub label: String,
    #[serde(default)]
    pub description: String,
    /// Image ids; `any/all` allows every image.
    #[serde(default)]
    pub images: Vec<String>,
    #[serde(default)]
    pub is_public: bool,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub user_defined_fields: Vec<UserDefinedField>,
}

/// One input of a StackScript. Production sends `oneof`/`manyof`; the spec and fixtures spell
/// them `oneOf`/`manyOf`, so both are read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserDefinedField {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub example: Option<String>,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default, alias = "oneOf")]
    pub oneof: Option<String>,
    #[serde(default, alias = "manyOf")]
    pub manyof: Option<String>,
}

impl UserDefinedField {
    /// A field without a default must be filled in (Cloud Manager's rule).
    pub fn is_required(&self) -> bool {
        self.default.is_none()
    }

    /// Cloud Manager renders fields whose name mentions a password as password inputs.
    pub fn is_password(&self) -> bool {
        self.name.to_ascii_lowercase().contains("password")
    }

    /// The allowed values of a `oneof` or `manyof` field.
    pub fn choices(&self) -> Option<Vec<String>> {
        self.oneof
            .as_deref()
            .or(self.manyof.as_deref())
            .map(|list| list.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect())
    }

    pub fn is_multiple_choice(&self) -> bool {
        self.manyof.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_statuses_are_typed_and_unknown_ones_kept_as_written() {
        let plan: PlanClass = serde_json::from_str("\"highmem\"").unwrap();
        assert_eq!(plan, PlanClass::HighMem);
        let future: PlanClass = serde_json::from_str("\"quantum\"").unwrap();
        assert_eq!(future, PlanClass::Other("quantum".into()));
        assert_eq!(serde_json::to_string(&future).unwrap(), "\"quantum\"");
        let region: Region = serde_json::from_str(r#"{"id": "x", "label": "X", "status": "limited"}"#).unwrap();
        assert_eq!(region.status, RegionStatus::Other("limited".into()));
        assert!(!region.status.is_ok(), "an unknown status takes no new Linodes");
        let unsaid: Region = serde_json::from_str(r#"{"id": "x", "label": "X"}"#).unwrap();
        assert!(unsaid.status.is_ok());
        assert_eq!(serde_json::to_string(&RegionStatus::Outage).unwrap(), "\"outage\"");
    }
}
