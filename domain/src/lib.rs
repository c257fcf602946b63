//! What the browser and the server share, and nothing else: the deploy form and the rules a
//! submitted form must meet ([`selection`]), pre-filling it from a link ([`prefill`]), the success
//! view's data ([`outcome`], [`progress`]) and how prices and sizes read ([`price`]).
//!
//! It compiles to `wasm32-unknown-unknown` for the islands (CI checks that), so it has no I/O, no
//! Leptos and no secret beyond the root password of a Linode the person just deployed.

pub mod form;
pub mod outcome;
pub mod prefill;
pub mod price;
pub mod progress;
pub mod selection;
/// The catalog unit tests build forms from (here and in `app`'s tests).
#[cfg(any(test, feature = "fixtures"))]
pub mod test_fixtures;

pub use form::{
    DeployForm, FieldKind, FieldSpec, ImageChoice, ImageGroup, PlanChoice, PlanGroup, RegionChoice, RegionGroup,
    SiteInfo,
};
pub use outcome::{DefaultFirewallWhy, DeployedLinode, Failure, FailureKind, FirewallUsed, LinodeRequest, Outcome};
pub use price::{dollars, Price, RegionPrice};
pub use progress::{InstanceStatus, Progress, Readiness};
pub use selection::RootLogin;
