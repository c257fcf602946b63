//! The server's integration tests, one binary (each file here was a binary of its own, linking the
//! whole server again): a module per concern, all sharing `support`. Every test starts its own
//! server (in this process, or as a real process where it must be killed), so they run in parallel
//! as before. `tests/logs.rs` stays a binary of its own: it installs the process-wide log
//! subscriber.
//!
//! One concern at a time: `cargo test -p server --test it -- deploy_flow::`.

// Helpers here panic on what a test does not expect, as the tests themselves do.
#![allow(clippy::unwrap_used)]

mod support;

mod attacks;
mod concurrent_builds;
mod deploy_flow;
mod deploy_page;
mod durability;
mod hardening;
mod hostile_input;
mod load;
mod metrics;
mod page_cache;
mod readiness;
mod replicas;
mod resilience;
mod slow_clients;
mod static_assets;
mod today;
mod two_processes;
