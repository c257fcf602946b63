//! The app's server half: the adapters between Leptos' server functions and pages and the deploy
//! engine (the `deploy` crate). Compiled only with `ssr`, so none of it reaches the WASM.
//!
//! [`start`] turns the form's post into Linode's login (step 2); [`result_page`] reads the
//! browser's cookies for the result page and its poll (step 4); [`context`] finds the engine in
//! a render's context, [`state`] is the router state that carries it.

pub mod context;
pub mod result_page;
pub mod start;
pub mod state;

pub use state::AppState;
