//! The catalog the unit tests build forms from, written once: each test takes these and changes
//! only what it is about.

use crate::{
    DeployForm, FieldKind, FieldSpec, ImageChoice, ImageGroup, PlanChoice, PlanGroup, Price, RegionChoice, RegionGroup,
    SiteInfo,
};

/// A 1 vCPU, 1 GB plan of `class`, labelled by its id, at $5 a month everywhere.
pub fn plan(id: &str, class: &str) -> PlanChoice {
    PlanChoice {
        id: id.into(),
        label: id.into(),
        class: class.into(),
        vcpus: 1,
        memory_mb: 1024,
        disk_mb: 25600,
        transfer_gb: 1000,
        gpus: 0,
        price: Price { hourly: 0.0075, monthly: 5.0 },
        region_prices: vec![],
    }
}

/// A region labelled by its id that hosts `classes`.
pub fn region(id: &str, classes: &[&str]) -> RegionChoice {
    RegionChoice {
        id: id.into(),
        label: id.into(),
        country: "X".into(),
        classes: classes.iter().map(|class| (*class).to_owned()).collect(),
        outage: false,
        no_metadata: false,
    }
}

/// A StackScript input labelled by its name; required when it has no default.
pub fn field(name: &str, kind: FieldKind, default: Option<&str>) -> FieldSpec {
    FieldSpec {
        name: name.into(),
        label: name.into(),
        example: None,
        default: default.map(Into::into),
        required: default.is_none(),
        kind,
    }
}

/// A form of one plan group, one region group and Debian 12.
pub fn form(plans: Vec<PlanChoice>, regions: Vec<RegionChoice>, fields: Vec<FieldSpec>) -> DeployForm {
    DeployForm {
        site: SiteInfo { app_name: "App".into(), sandbox: true, app_ports: None, cloud_config: None },
        stackscript_label: Some("s".into()),
        plans: vec![PlanGroup { label: "All".into(), plans }],
        regions: vec![RegionGroup { label: "All".into(), regions }],
        images: vec![ImageGroup {
            vendor: "Debian".into(),
            images: vec![ImageChoice { id: "linode/debian12".into(), label: "Debian 12".into(), no_cloud_init: false }],
        }],
        fields,
        stale: false,
    }
}
