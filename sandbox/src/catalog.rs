//! The built-in catalog: plan types, regions, public images and public StackScripts, shipped
//! as JSON under `data/` and parsed once at start-up.
//!
//! Types, regions and images are served as the JSON they were written as; the few fields the
//! create validation needs are lifted into typed values next to them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The example app's default StackScript: public, no user-defined fields.
pub const STACKSCRIPT_NO_INPUT: u64 = 320826;
/// A public StackScript whose user-defined fields cover text, `oneof`, `manyof`, defaults
/// and a password-named field.
pub const STACKSCRIPT_WITH_FIELDS: u64 = 320827;
/// A public StackScript whose `images` is `["any/all"]`.
pub const STACKSCRIPT_ANY_IMAGE: u64 = 320828;

/// The `images` value meaning "every image" on a StackScript.
pub const ANY_IMAGE: &str = "any/all";

const TYPES_JSON: &str = include_str!("../data/types.json");
const REGIONS_JSON: &str = include_str!("../data/regions.json");
const IMAGES_JSON: &str = include_str!("../data/images.json");
const STACKSCRIPTS_JSON: &str = include_str!("../data/stackscripts.json");

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog file {file} is not valid: {source}")]
    Invalid { file: &'static str, source: serde_json::Error },
}

/// A plan type, e.g. `g6-nanode-1`.
#[derive(Clone, Debug)]
pub struct PlanType {
    pub id: String,
    pub class: String,
    pub json: Value,
}

/// A region, e.g. `us-east`.
#[derive(Clone, Debug)]
pub struct Region {
    pub id: String,
    pub status: String,
    pub capabilities: Vec<String>,
    pub json: Value,
}

impl Region {
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// Whether a plan of `class` can be created here. The rule (documented in the README):
    /// every class needs the `Linodes` capability, `gpu` also needs `GPU Linodes` and
    /// `premium` also needs `Premium Plans`; a distributed site offers dedicated plans only.
    pub fn offers(&self, class: &str) -> bool {
        let has = |cap: &str| self.capabilities.iter().any(|c| c == cap);
        if self.json["site_type"] == "distributed" {
            return has("Linodes") && class == "dedicated";
        }
        has("Linodes")
            && match class {
                "gpu" => has("GPU Linodes"),
                "premium" => has("Premium Plans"),
                _ => true,
            }
    }
}

/// A public image, e.g. `linode/debian12`.
#[derive(Clone, Debug)]
pub struct Image {
    pub id: String,
    pub capabilities: Vec<String>,
    pub json: Value,
}

impl Image {
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

/// A StackScript user-defined field. Production emits lowercase `oneof`/`manyof`; the spec
/// and some fixtures spell them `oneOf`/`manyOf`, so both are accepted on input.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UserDefinedField {
    pub name: String,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, alias = "oneOf", skip_serializing_if = "Option::is_none")]
    pub oneof: Option<String>,
    #[serde(default, alias = "manyOf", skip_serializing_if = "Option::is_none")]
    pub manyof: Option<String>,
    /// `"yes"` marks a section header rather than an input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
}

impl UserDefinedField {
    /// A field with no default must be given a value (Cloud Manager's rule, docs/LINODE.md, API v4).
    pub fn is_required(&self) -> bool {
        self.default.is_none() && self.header.as_deref() != Some("yes")
    }

    /// The allowed values of a `oneof` or `manyof` field.
    pub fn choices(&self) -> Option<Vec<&str>> {
        self.oneof.as_deref().or(self.manyof.as_deref()).map(|list| list.split(',').map(str::trim).collect())
    }
}

/// A StackScript as the API returns it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StackScript {
    pub id: u64,
    pub label: String,
    pub username: String,
    pub user_gravatar_id: String,
    pub description: String,
    pub images: Vec<String>,
    pub is_public: bool,
    pub mine: bool,
    pub rev_note: String,
    pub script: String,
    pub user_defined_fields: Vec<UserDefinedField>,
    pub deployments_total: u64,
    pub deployments_active: u64,
    pub created: String,
    pub updated: String,
}

impl StackScript {
    pub fn accepts_image(&self, image: &str) -> bool {
        self.images.iter().any(|i| i == image || i == ANY_IMAGE)
    }
}

/// Everything the public catalog endpoints serve.
#[derive(Clone, Debug)]
pub struct Catalog {
    pub types: Vec<PlanType>,
    pub regions: Vec<Region>,
    pub images: Vec<Image>,
    pub stackscripts: Vec<StackScript>,
}

impl Catalog {
    /// The catalog shipped with the crate.
    pub fn builtin() -> Result<Self, CatalogError> {
        Self::from_json(TYPES_JSON, REGIONS_JSON, IMAGES_JSON, STACKSCRIPTS_JSON)
    }

    pub fn from_json(types: &str, regions: &str, images: &str, stackscripts: &str) -> Result<Self, CatalogError> {
        #[derive(Deserialize)]
        struct TypeKeys {
            id: String,
            class: String,
        }
        #[derive(Deserialize)]
        struct RegionKeys {
            id: String,
            status: String,
            capabilities: Vec<String>,
        }
        #[derive(Deserialize)]
        struct ImageKeys {
            id: String,
            #[serde(default)]
            capabilities: Vec<String>,
        }

        let types = parse_list::<TypeKeys>("types.json", types)?
            .into_iter()
            .map(|(keys, json)| PlanType { id: keys.id, class: keys.class, json })
            .collect();
        let regions = parse_list::<RegionKeys>("regions.json", regions)?
            .into_iter()
            .map(|(keys, json)| Region { id: keys.id, status: keys.status, capabilities: keys.capabilities, json })
            .collect();
        let images = parse_list::<ImageKeys>("images.json", images)?
            .into_iter()
            .map(|(keys, json)| Image { id: keys.id, capabilities: keys.capabilities, json })
            .collect();
        let stackscripts = serde_json::from_str(stackscripts)
            .map_err(|source| CatalogError::Invalid { file: "stackscripts.json", source })?;
        Ok(Self { types, regions, images, stackscripts })
    }

    pub fn plan_type(&self, id: &str) -> Option<&PlanType> {
        self.types.iter().find(|t| t.id == id)
    }

    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    pub fn image(&self, id: &str) -> Option<&Image> {
        self.images.iter().find(|i| i.id == id)
    }

    pub fn stackscript(&self, id: u64) -> Option<&StackScript> {
        self.stackscripts.iter().find(|s| s.id == id)
    }
}

/// Parses a JSON array twice over: typed keys for validation, raw values for serving.
fn parse_list<K: for<'de> Deserialize<'de>>(file: &'static str, text: &str) -> Result<Vec<(K, Value)>, CatalogError> {
    let invalid = |source| CatalogError::Invalid { file, source };
    let values: Vec<Value> = serde_json::from_str(text).map_err(invalid)?;
    values.into_iter().map(|json| Ok((K::deserialize(&json).map_err(invalid)?, json))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses_and_covers_every_class() {
        let catalog = Catalog::builtin().expect("built-in catalog");
        for class in ["nanode", "standard", "dedicated", "highmem", "premium", "gpu"] {
            assert!(catalog.types.iter().any(|t| t.class == class), "{class}");
        }
        assert!(catalog.regions.len() >= 20);
        assert!(catalog.regions.iter().any(|r| r.status == "outage"));
        assert!(catalog.stackscript(STACKSCRIPT_NO_INPUT).is_some());
        assert!(catalog.stackscript(STACKSCRIPT_WITH_FIELDS).is_some());
    }

    #[test]
    fn udf_accepts_both_spellings() {
        let camel: UserDefinedField =
            serde_json::from_str(r#"{"name":"a","label":"A","oneOf":"x,y","default":null}"#).expect("camel");
        assert_eq!(camel.choices(), Some(vec!["x", "y"]));
        assert!(camel.is_required());
        let lower: UserDefinedField =
            serde_json::from_str(r#"{"name":"b","label":"B","manyof":"x, y","default":"x"}"#).expect("lower");
        assert_eq!(lower.choices(), Some(vec!["x", "y"]));
        assert!(!lower.is_required());
        let out = serde_json::to_value(&camel).expect("serialize");
        assert_eq!(out["oneof"], "x,y");
    }
}
