//! The Install on Linode server: configuration, start-up and the axum router. `main.rs` only reads
//! the configuration and calls [`Application::build`]; tests build the same application on port 0.

pub mod config;
pub mod startup;

pub use config::{Config, ConfigError, LinodeTarget};
pub use startup::{Application, StartupError};
