//! Typed configuration: registered OAuth clients, timings, rate limits and faults.
//! `Config::default()` is enough to run: one client with fixed, documented credentials.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::account::AccountPreset;
use crate::fault_rules::FaultRule;
use crate::rate_limit::RateLimits;

/// Client id registered by `Config::default()` (20 lowercase hex chars, like Linode's).
pub const DEFAULT_CLIENT_ID: &str = "5a4db0c1e2f3a4b5c6d7";
/// Client secret registered by `Config::default()` (64 lowercase hex chars, like Linode's).
pub const DEFAULT_CLIENT_SECRET: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
/// Redirect URI of the default client: the app's callback on its default address.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:3000/auth/callback";
/// Label of the default client, shown on the consent page.
pub const DEFAULT_CLIENT_LABEL: &str = "Install on Linode (sandbox)";

/// Everything the sandbox needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// OAuth clients known to the login server.
    pub clients: Vec<ClientConfig>,
    pub timings: Timings,
    /// Faults active from start-up; more can be added at run time.
    pub faults: Vec<FaultRule>,
    /// Linode's rate limits of 2026, each switchable off (`RateLimits::off()` for load tests).
    pub rate_limits: RateLimits,
    /// Which account the sandbox plays at start and after a reset; its settings can then be
    /// changed through Linode's own `PUT /account/settings` and `PUT /networking/firewalls/settings`.
    pub account: AccountPreset,
    /// When true, an unknown Bearer token on a public route gets 401 `Invalid Token`, as
    /// production appears to do (docs/LINODE.md, API v4). A request with no Authorization header is
    /// always allowed on public routes.
    pub invalid_token_on_public: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            clients: vec![ClientConfig::default()],
            timings: Timings::default(),
            faults: Vec::new(),
            rate_limits: RateLimits::default(),
            account: AccountPreset::default(),
            invalid_token_on_public: true,
        }
    }
}

/// One registered OAuth client (what Cloud Manager's "OAuth Apps" page creates).
#[derive(Clone, Serialize, Deserialize)]
pub struct ClientConfig {
    pub id: String,
    pub secret: String,
    /// Requested redirect URIs must equal this one or lie under it.
    pub redirect_uri: String,
    /// Shown to the person on the consent page.
    pub label: String,
    /// Cloud Manager's "Public" box: a public client has no usable secret and redeems codes
    /// with PKCE alone; a confidential one must send its secret, with PKCE or without.
    #[serde(default)]
    pub public: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            id: DEFAULT_CLIENT_ID.to_owned(),
            secret: DEFAULT_CLIENT_SECRET.to_owned(),
            redirect_uri: DEFAULT_REDIRECT_URI.to_owned(),
            label: DEFAULT_CLIENT_LABEL.to_owned(),
            public: false,
        }
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("id", &self.id)
            .field("secret", &"<REDACTED>")
            .field("redirect_uri", &self.redirect_uri)
            .field("label", &self.label)
            .field("public", &self.public)
            .finish()
    }
}

/// How long things take. Instance status is computed from these at read time.
#[derive(Clone, Debug)]
pub struct Timings {
    /// Time spent in `provisioning` after a create.
    pub provisioning: Duration,
    /// Time spent in `booting` after provisioning.
    pub booting: Duration,
    /// Lifetime of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_ttl: Duration,
    /// Lifetime of an access token; Linode's is 2 hours (`expires_in: 7200`).
    pub token_ttl: Duration,
    /// How long after `running` each instance's application (what its StackScript installs)
    /// starts answering on its public address; `None`: never (an install that failed). The
    /// admin endpoint `/__sandbox/app` changes it at run time.
    pub app_ready: Option<Duration>,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            provisioning: Duration::from_secs(10),
            booting: Duration::from_secs(5),
            code_ttl: Duration::from_secs(300),
            token_ttl: Duration::from_secs(7200),
            app_ready: Some(Duration::from_secs(3)),
        }
    }
}
