//! What the sandbox records, as plain data (the request log's entries, Linode's timestamps),
//! imported by the state, the inspection and the API without importing any of them.

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::OffsetDateTime;

/// Linode's timestamp format: ISO 8601 in UTC without a zone.
pub(crate) fn linode_time(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]")).unwrap_or_default()
}

/// One request, as `METHOD /route/template` plus its status (`None` when the connection
/// was dropped by a fault).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub method: String,
    pub route: String,
    pub status: Option<u16>,
}
