//! What the person picked on the form, checked against the catalog: a `Selection` only exists for
//! values the form actually offered.

use serde::{Deserialize, Serialize};

use super::catalog::Catalog;
use crate::error::AppError;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub plan: String,
    pub region: String,
    pub image: String,
}

impl Selection {
    pub fn parse(catalog: &Catalog, plan: &str, region: &str, image: &str) -> Result<Self, AppError> {
        if catalog.plan(plan).is_none() {
            return Err(invalid("plan", "That plan is not offered. Please choose a plan from the list."));
        }
        if catalog.region(region).is_none() {
            return Err(invalid(
                "region",
                "That region is not available for new Linodes. Please choose a region from the list.",
            ));
        }
        if catalog.image(image).is_none() {
            return Err(invalid(
                "image",
                "That image cannot be used with this application. Please choose an image from the list.",
            ));
        }
        Ok(Self { plan: plan.to_owned(), region: region.to_owned(), image: image.to_owned() })
    }
}

fn invalid(field: &str, message: &str) -> AppError {
    AppError::InvalidSelection { field: field.to_owned(), message: message.to_owned() }
}
