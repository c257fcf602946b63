//! The Install on Linode server: configuration, start-up and the axum router. `main.rs` only reads
//! the configuration and calls [`Application::build`]; tests build the same application on port 0.

pub mod body_limit;
pub mod callback;
pub mod config;
pub mod connections;
mod embedded_sandbox;
pub mod metrics_export;
pub mod page_cache;
pub mod plain_page;
pub mod rate_limit;
pub mod same_origin;
pub mod security_headers;
pub mod server_fn_status;
pub mod site;
pub mod sqlite_lock;
pub mod startup;
pub mod telemetry;

pub use config::{Config, ConfigError, LinodeTarget};
pub use startup::{Application, StartupError};
