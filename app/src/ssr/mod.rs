//! The server half of the app: the deploy flow, its state and its secrets. Compiled only with the
//! `ssr` feature, so none of it reaches the WASM.
//!
//! One file per step of the flow: [`catalog`] (what the form offers), [`start`] (form → Linode's
//! login), [`callback`] (Linode → a new Linode), [`outcome`] (what the person sees afterwards).

pub mod callback;
pub mod catalog;
pub mod context;
pub mod credentials;
pub mod flow;
pub mod outcome;
pub mod progress;
pub mod revoke;
pub mod service;
pub mod session;
pub mod start;
pub mod state;

pub use service::{DeployService, DeploySettings};
pub use state::AppState;
