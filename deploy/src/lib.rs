//! The deploy engine: everything between "this person chose a plan and logged in at Linode" and
//! "their Linode runs and the token is revoked", with no Leptos and no HTTP server in it.
//!
//! [`service::DeployService`] is its one door. Behind it, one module per step: [`catalog`] (what the
//! form offers, cached), `runner` (Linode's callback → a token, journaled → the app's firewall
//! ([`app_firewall`]) → a new Linode, detached from the request), [`follower`] (following it to
//! `running`), [`revoke`], [`readiness`] (whether its application answers, after the token is
//! gone), `recovery` (tokens and flows a dead replica left), all on the [`store`]. [`sealed`]
//! encrypts what the browser carries; [`failure`] turns a cause into what the person reads.

pub mod app_firewall;
pub mod catalog;
pub mod failure;
pub mod follower;
pub mod ids;
pub mod linode_request;
pub mod metrics;
pub mod new_linode;
pub mod pending_flow;
pub mod readiness;
mod recovery;
pub mod result_ref;
pub mod revoke;
mod runner;
pub mod sealed;
pub mod service;
pub mod settings;
pub mod store;
pub mod user_data;

pub use result_ref::ResultRef;
pub use service::{CallbackParams, CallbackReply, DeployService, SessionKeys};
pub use settings::DeploySettings;
