//! Linode's JSON objects, as far as this product reads them. Unknown fields are ignored and
//! optional ones default, so newer API versions keep parsing.

mod catalog;
mod instances;

pub use catalog::{
    Image, LinodeType, PlanClass, Price, Region, RegionPrice, RegionStatus, StackScript, UserDefinedField,
};
pub use instances::{
    CreateFirewall, CreateInstance, Firewall, FirewallAddresses, FirewallRule, FirewallRules, GlobalGrants, Grants,
    Instance, InstanceMetadata, InterfaceGeneration, NewInterface, Profile, Specs,
};

use serde::{Deserialize, Serialize};

/// The envelope of every list: `{data, page, pages, results}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub page: u32,
    pub pages: u32,
    pub results: u32,
}
