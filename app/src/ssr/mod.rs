//! The server half of the app: the deploy flow, its state and its secrets. Compiled only with the
//! `ssr` feature, so none of it reaches the WASM.
//!
//! [`service`] is the deployment's one interface; one file per step behind it: [`catalog`] (what
//! the form offers), [`start`] (form → Linode's login), `deployment` (Linode's callback → a new
//! Linode, detached from the request, with [`app_firewall`] in front of it), [`progress`] (following it to `running`), [`revoke`], [`readiness`]
//! (whether its application answers, after the token is gone),
//! `recovery` (tokens and flows a dead replica left), all on the [`store`]. [`callback`] and
//! [`outcome`] are the HTTP adapters.

pub mod app_firewall;
pub mod callback;
pub mod catalog;
pub mod context;
pub mod credentials;
mod deployment;
pub mod failure;
pub mod flow;
pub mod ids;
pub mod linode_request;
pub mod metrics;
pub mod outcome;
pub mod plain_page;
pub mod progress;
pub mod readiness;
mod recovery;
pub mod revoke;
pub mod service;
pub mod session;
pub mod settings;
pub mod start;
pub mod state;
pub mod store;

pub use service::{CallbackParams, CallbackReply, DeployService, ResultRef};
pub use settings::DeploySettings;
pub use state::AppState;
