//! Which outcome a browser may look at: what its outcome cookie holds, sealed. The flow runner
//! hands one to the callback; the result page and its poll read one back.

use domain::Failure;

use super::ids::OutcomeId;

/// Which outcome a browser may look at, as sealed in its outcome cookie: one in the store, or a
/// failure that needed no store (a forged callback, a denied login, the database down).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ResultRef {
    Stored(OutcomeId),
    Shown(Failure),
}
