//! The operator's configuration, read once at start-up from the environment (and an optional
//! `.env`). Every error names the variable to fix.

use std::{net::SocketAddr, time::Duration};

use deploy::{
    app_firewall::{AppFirewall, AppPortsError},
    follower::FollowLimits,
    readiness::{ProbeLimits, ReadyCheck, ReadyCheckError},
};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// The sandbox's demo StackScript "installs" an app that answers HTTP on port 80.
pub const SANDBOX_READY_CHECK: &str = "http://{ipv4}/";

/// Fewer bytes than this and the cookie key could be guessed.
pub const MIN_SESSION_KEY_BYTES: usize = 32;
/// What the key's characters must carry at least, by their spread (`openssl rand -hex 32`
/// gives about 250).
pub const MIN_SESSION_KEY_BITS: u32 = 128;

/// The key's length times the Shannon entropy of its characters: a rough ceiling on how much
/// randomness it holds. It cannot prove a key random, but it refuses the ones that plainly are
/// not — one character repeated, a short word over and over.
pub fn estimated_bits(key: &str) -> u32 {
    // A key that repeats a shorter piece holds no more than that piece.
    let bytes = key.as_bytes();
    let period = (1..=bytes.len())
        .find(|&p| bytes.len().is_multiple_of(p) && bytes.chunks(p).all(|c| c == &bytes[..p]))
        .unwrap_or(bytes.len());
    let bytes = &bytes[..period];
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    let per_char: f64 = counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / n).map(|p| -p * p.log2()).sum();
    (per_char * n) as u32
}

#[derive(Debug)]
pub struct Config {
    /// Where to listen (`LEPTOS_SITE_ADDR`, as cargo-leptos sets it).
    pub bind: SocketAddr,
    /// The address people use to reach the site (`PUBLIC_BASE_URL`); the OAuth redirect URI is
    /// `<it>/auth/callback`. Defaults to `http://<bind address>`.
    pub public_base: Option<Url>,
    pub app_name: String,
    /// `LINODE_STACKSCRIPT_ID`; on the sandbox it defaults to the sandbox's demo StackScript.
    pub stackscript_id: u64,
    /// `SESSION_KEY`; on the sandbox a random key is made when it is absent.
    pub session_key: Option<SecretString>,
    pub linode: LinodeTarget,
    pub timings: Timings,
    pub http: HttpSettings,
    /// Knobs of the embedded sandbox (ignored when talking to Linode).
    pub sandbox: SandboxSettings,
    pub store: StoreConfig,
    /// `LINODE_PKCE`, default true: PKCE (S256) on every authorization. `false` only for a
    /// login server that refuses it.
    pub pkce: bool,
    /// `READY_CHECK`: how to tell the installed application answers, e.g. `http://{ipv4}/`.
    /// Unset: not checked on Linode; `http://{ipv4}/` on the sandbox, whose demo app answers
    /// there. `off` turns it off.
    pub ready_check: Option<ReadyCheck>,
    /// `READY_TIMEOUT_SECS`, default 900: how long after `running` the check goes on.
    pub ready_timeout: Duration,
    /// `APP_PORTS`: the inbound ports of the firewall made for each deployment, e.g.
    /// `22/tcp,80/tcp,443/tcp`. Unset: 22 and the port `READY_CHECK` probes; `off`: no firewall
    /// is made and the account's default applies.
    pub app_firewall: Option<AppFirewall>,
    /// `METRICS_ADDR`: where `/metrics` (Prometheus text) is served, never on the site's own
    /// address. Unset: no metrics.
    pub metrics_addr: Option<SocketAddr>,
}

/// Where the deploy flow's store lives.
#[derive(Debug)]
pub struct StoreConfig {
    /// `DATABASE_URL`: `postgres://…` (several replicas) or `sqlite://…`. Unset: a SQLite file
    /// in `data_dir`.
    pub database_url: Option<SecretString>,
    /// `DATA_DIR`, default `./data`, created on first start.
    pub data_dir: std::path::PathBuf,
    /// `DATABASE_MAX_CONNECTIONS`, default 10 (SQLite uses at most 4).
    pub max_connections: u32,
    /// `DATABASE_TIMEOUT_SECS`: how long one store operation may take, default 5.
    pub op_timeout: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            database_url: None,
            data_dir: std::path::PathBuf::from("data"),
            max_connections: 10,
            op_timeout: deploy::store::DEFAULT_OP_TIMEOUT,
        }
    }
}

/// `SANDBOX_CLIENT_SECRET` (default: random per start; tests set it to prove it never reaches a
/// browser), `SANDBOX_PROVISIONING_SECS` and `SANDBOX_BOOTING_SECS` (how long a new Linode stays in
/// each status).
#[derive(Debug, Default)]
pub struct SandboxSettings {
    /// `SANDBOX_ADMIN_ADDR`: where the embedded sandbox's admin endpoints listen; loopback only.
    pub admin_addr: Option<SocketAddr>,
    pub client_secret: Option<SecretString>,
    pub provisioning: Option<Duration>,
    pub booting: Option<Duration>,
    /// `SANDBOX_APP_READY_SECS`: how long after `running` the emulated application answers
    /// (default 3), or `never`.
    pub app_ready: Option<Option<Duration>>,
}

/// Which Linode the server talks to.
#[derive(Debug)]
#[allow(clippy::large_enum_variant, reason = "built once at start-up")]
pub enum LinodeTarget {
    /// No OAuth client configured: mount the sandbox in-process and use it.
    EmbeddedSandbox,
    /// A registered OAuth client at Linode (or any server that speaks its protocol).
    Remote { client_id: String, client_secret: SecretString, login_base: Url, api_base: Url },
}

#[derive(Clone, Debug)]
pub struct Timings {
    pub flow_ttl: Duration,
    pub catalog_ttl: Duration,
    pub outcome_ttl: Duration,
    /// How a new Linode is followed to `running` after the person comes back.
    pub follow: FollowLimits,
    /// `TOKEN_LEASE_SECS`: how long a replica's hold on a journaled token lasts unrenewed.
    pub lease: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Self {
            flow_ttl: Duration::from_secs(15 * 60),
            catalog_ttl: Duration::from_secs(10 * 60),
            outcome_ttl: Duration::from_secs(60 * 60),
            follow: FollowLimits::default(),
            lease: Duration::from_secs(15),
        }
    }
}

/// How the server meets the network: its limits per client, where a client's address comes
/// from, and how long it waits on Linode.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// `RATE_LIMIT_DEPLOYS_PER_MINUTE`: deploys a client address may start (`POST
    /// /api/start_deploy`) per minute, all of them at once if it likes; 0 turns the limit off.
    pub deploys_per_minute: u32,
    /// `RATE_LIMIT_CALLBACKS_PER_MINUTE`: returns from Linode (`GET /auth/callback`) per client
    /// address and minute; 0 turns the limit off.
    pub callbacks_per_minute: u32,
    /// `TRUSTED_PROXY_HOPS`: how many proxies of the operator's own stand in front of the server.
    /// 0 (the default): the client is the socket's peer and `X-Forwarded-For` is ignored, since
    /// anyone can send it. N: the client is the Nth address from the right of `X-Forwarded-For`,
    /// the one the outermost trusted proxy saw.
    pub trusted_proxy_hops: usize,
    /// `LINODE_CONNECT_TIMEOUT_SECS` and `LINODE_HTTP_TIMEOUT_SECS`: per call to Linode.
    pub linode_timeouts: linode::Timeouts,
    /// `HTTP_HEADER_TIMEOUT_SECS`, default 10: how long a client may take to send a request's
    /// line and headers, and how long a kept-alive connection may sit idle before its next one.
    pub header_timeout: Duration,
    /// `HTTP_BODY_TIMEOUT_SECS`, default 30: how long a client may take to send a request's body.
    pub body_timeout: Duration,
    /// `MAX_CONNECTIONS_PER_CLIENT`: open connections one client address (an IPv6 /64) may hold;
    /// `None` is no cap. Default 64, or no cap behind trusted proxies (every connection then
    /// comes from the proxy, which is where visitors are capped).
    pub max_connections_per_client: Option<u32>,
}

/// Default of `MAX_CONNECTIONS_PER_CLIENT`: a browser opens at most 6 per host, a household
/// behind one address a few browsers' worth.
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: u32 = 64;

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            deploys_per_minute: 10,
            callbacks_per_minute: 20,
            trusted_proxy_hops: 0,
            linode_timeouts: linode::Timeouts::default(),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections_per_client: Some(DEFAULT_MAX_CONNECTIONS_PER_CLIENT),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is set but LINODE_CLIENT_ID is not: set both to use Linode, or neither to use the sandbox")]
    SecretWithoutId(&'static str),
    #[error("LINODE_CLIENT_ID is set but LINODE_CLIENT_SECRET is not: copy the secret shown when you registered the OAuth client")]
    IdWithoutSecret,
    #[error("{variable} is not a valid URL ({value:?}): {reason}")]
    BadUrl { variable: &'static str, value: String, reason: String },
    #[error("{variable} must be {expected}, got {value:?}")]
    BadValue { variable: &'static str, expected: &'static str, value: String },
    #[error("SESSION_KEY must be at least {MIN_SESSION_KEY_BYTES} bytes (it is {0}); generate one with `openssl rand -hex 32`")]
    ShortSessionKey(usize),
    #[error("SESSION_KEY looks guessable (its characters carry about {0} bits; at least {MIN_SESSION_KEY_BITS} are needed); generate one with `openssl rand -hex 32`")]
    WeakSessionKey(u32),
    #[error("READY_CHECK is not usable ({value:?}): {reason}; or set it to off")]
    BadReadyCheck { value: String, reason: ReadyCheckError },
    #[error("APP_PORTS is not usable ({value:?}): {reason}")]
    BadAppPorts { value: String, reason: AppPortsError },
    #[error("{0} is required when LINODE_CLIENT_ID is set")]
    Required(&'static str),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|value| !value.trim().is_empty()))
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let bind = match lookup("LEPTOS_SITE_ADDR") {
            Some(value) => value.parse().map_err(|_| ConfigError::BadValue {
                variable: "LEPTOS_SITE_ADDR",
                expected: "an address like 127.0.0.1:3000",
                value,
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };
        let public_base = lookup("PUBLIC_BASE_URL").map(|value| parse_url("PUBLIC_BASE_URL", value)).transpose()?;
        let app_name = lookup("APP_NAME").unwrap_or_else(|| "Demo App".to_owned());

        let client_id = lookup("LINODE_CLIENT_ID");
        let client_secret = lookup("LINODE_CLIENT_SECRET").map(SecretString::from);
        let linode = match (client_id, client_secret) {
            (None, Some(_)) => return Err(ConfigError::SecretWithoutId("LINODE_CLIENT_SECRET")),
            (Some(_), None) => return Err(ConfigError::IdWithoutSecret),
            (None, None) => LinodeTarget::EmbeddedSandbox,
            (Some(client_id), Some(client_secret)) => LinodeTarget::Remote {
                client_id,
                client_secret,
                login_base: parse_url(
                    "LINODE_LOGIN_URL",
                    lookup("LINODE_LOGIN_URL").unwrap_or_else(|| "https://login.linode.com".into()),
                )?,
                api_base: parse_url(
                    "LINODE_API_URL",
                    lookup("LINODE_API_URL").unwrap_or_else(|| "https://api.linode.com/v4".into()),
                )?,
            },
        };

        let stackscript_id = match (lookup("LINODE_STACKSCRIPT_ID"), &linode) {
            (Some(value), _) => value.trim().parse().map_err(|_| ConfigError::BadValue {
                variable: "LINODE_STACKSCRIPT_ID",
                expected: "the numeric id of a public StackScript",
                value,
            })?,
            (None, LinodeTarget::EmbeddedSandbox) => sandbox::STACKSCRIPT_NO_INPUT,
            (None, LinodeTarget::Remote { .. }) => return Err(ConfigError::Required("LINODE_STACKSCRIPT_ID")),
        };

        let session_key = lookup("SESSION_KEY").map(SecretString::from);
        match (&session_key, &linode) {
            (Some(key), _) if key.expose_secret().len() < MIN_SESSION_KEY_BYTES => {
                return Err(ConfigError::ShortSessionKey(key.expose_secret().len()))
            }
            (Some(key), _) if estimated_bits(key.expose_secret()) < MIN_SESSION_KEY_BITS => {
                return Err(ConfigError::WeakSessionKey(estimated_bits(key.expose_secret())))
            }
            (None, LinodeTarget::Remote { .. }) => return Err(ConfigError::Required("SESSION_KEY")),
            _ => {}
        }

        let mut timings = Timings::default();
        if let Some(flow_ttl) = seconds(&lookup, "DEPLOY_FLOW_TTL_SECS")? {
            timings.flow_ttl = flow_ttl;
        }
        if let Some(poll) = seconds(&lookup, "FOLLOW_POLL_SECS")? {
            timings.follow.poll = poll;
        }
        if let Some(bound) = seconds(&lookup, "FOLLOW_LIMIT_SECS")? {
            timings.follow.bound = bound;
        }
        if let Some(idle) = seconds(&lookup, "FOLLOW_IDLE_SECS")? {
            timings.follow.idle = idle;
        }
        if let Some(catalog_ttl) = seconds(&lookup, "CATALOG_TTL_SECS")? {
            timings.catalog_ttl = catalog_ttl;
        }

        if let Some(lease) = timeout(&lookup, "TOKEN_LEASE_SECS")? {
            timings.lease = lease;
        }

        let mut store = StoreConfig::default();
        if let Some(url) = lookup("DATABASE_URL") {
            let url = url.trim().to_owned();
            if !["sqlite:", "postgres:", "postgresql:"].iter().any(|scheme| url.starts_with(scheme)) {
                return Err(ConfigError::BadValue {
                    variable: "DATABASE_URL",
                    expected: "a postgres://… or sqlite://… URL",
                    value: url.split(':').next().unwrap_or_default().to_owned() + ":…",
                });
            }
            store.database_url = Some(SecretString::from(url));
        }
        if let Some(dir) = lookup("DATA_DIR") {
            store.data_dir = std::path::PathBuf::from(dir.trim());
        }
        if let Some(connections) = count(&lookup, "DATABASE_MAX_CONNECTIONS")? {
            store.max_connections = connections.max(1);
        }
        if let Some(op_timeout) = timeout(&lookup, "DATABASE_TIMEOUT_SECS")? {
            store.op_timeout = op_timeout;
        }

        let mut http = HttpSettings::default();
        if let Some(limit) = count(&lookup, "RATE_LIMIT_DEPLOYS_PER_MINUTE")? {
            http.deploys_per_minute = limit;
        }
        if let Some(limit) = count(&lookup, "RATE_LIMIT_CALLBACKS_PER_MINUTE")? {
            http.callbacks_per_minute = limit;
        }
        if let Some(hops) = count(&lookup, "TRUSTED_PROXY_HOPS")? {
            http.trusted_proxy_hops = hops as usize;
        }
        if let Some(connect) = timeout(&lookup, "LINODE_CONNECT_TIMEOUT_SECS")? {
            http.linode_timeouts.connect = connect;
        }
        if let Some(total) = timeout(&lookup, "LINODE_HTTP_TIMEOUT_SECS")? {
            http.linode_timeouts.total = total;
        }
        if let Some(header) = timeout(&lookup, "HTTP_HEADER_TIMEOUT_SECS")? {
            http.header_timeout = header;
        }
        if let Some(body) = timeout(&lookup, "HTTP_BODY_TIMEOUT_SECS")? {
            http.body_timeout = body;
        }
        http.max_connections_per_client = match count(&lookup, "MAX_CONNECTIONS_PER_CLIENT")? {
            Some(0) => None,
            Some(cap) => Some(cap),
            None if http.trusted_proxy_hops > 0 => None,
            None => Some(DEFAULT_MAX_CONNECTIONS_PER_CLIENT),
        };

        let admin_addr = match lookup("SANDBOX_ADMIN_ADDR") {
            Some(value) => match value.trim().parse::<SocketAddr>() {
                Ok(addr) if addr.ip().is_loopback() => Some(addr),
                _ => {
                    return Err(ConfigError::BadValue {
                        variable: "SANDBOX_ADMIN_ADDR",
                        expected: "a loopback address like 127.0.0.1:3099 (the admin endpoints are never public)",
                        value,
                    })
                }
            },
            None => None,
        };
        let sandbox = SandboxSettings {
            admin_addr,
            client_secret: lookup("SANDBOX_CLIENT_SECRET").map(SecretString::from),
            provisioning: seconds(&lookup, "SANDBOX_PROVISIONING_SECS")?,
            booting: seconds(&lookup, "SANDBOX_BOOTING_SECS")?,
            app_ready: match lookup("SANDBOX_APP_READY_SECS") {
                Some(value) if value.trim().eq_ignore_ascii_case("never") => Some(None),
                Some(_) => seconds(&lookup, "SANDBOX_APP_READY_SECS")?.map(Some),
                None => None,
            },
        };

        let pkce = match lookup("LINODE_PKCE").map(|value| value.trim().to_ascii_lowercase()) {
            None => true,
            Some(value) if ["true", "1", "yes", "on"].contains(&value.as_str()) => true,
            Some(value) if ["false", "0", "no", "off"].contains(&value.as_str()) => false,
            Some(value) => {
                return Err(ConfigError::BadValue { variable: "LINODE_PKCE", expected: "true or false", value })
            }
        };

        let ready_check = match lookup("READY_CHECK").map(|value| value.trim().to_owned()) {
            Some(value) if ["off", "none", "false", "0"].contains(&value.to_ascii_lowercase().as_str()) => None,
            Some(value) => Some(
                ReadyCheck::parse(&value)
                    .map_err(|reason| ConfigError::BadReadyCheck { value: value.clone(), reason })?,
            ),
            None if matches!(linode, LinodeTarget::EmbeddedSandbox) => ReadyCheck::parse(SANDBOX_READY_CHECK).ok(),
            None => None,
        };
        let ready_timeout = timeout(&lookup, "READY_TIMEOUT_SECS")?.unwrap_or(ProbeLimits::default().timeout);
        let app_firewall = match lookup("APP_PORTS").map(|value| value.trim().to_owned()) {
            Some(value) if value.eq_ignore_ascii_case("off") => None,
            Some(value) => Some(
                AppFirewall::parse(&value)
                    .map_err(|reason| ConfigError::BadAppPorts { value: value.clone(), reason })?,
            ),
            None => Some(AppFirewall::ssh_and(ready_check.as_ref().map(ReadyCheck::port))),
        };

        let metrics_addr = match lookup("METRICS_ADDR") {
            Some(value) => match value.trim().parse::<SocketAddr>() {
                Ok(addr) if addr != bind || addr.port() == 0 => Some(addr),
                _ => {
                    return Err(ConfigError::BadValue {
                        variable: "METRICS_ADDR",
                        expected: "an address like 127.0.0.1:9100, other than the site's own",
                        value,
                    })
                }
            },
            None => None,
        };

        Ok(Self {
            metrics_addr,
            app_firewall,
            ready_check,
            ready_timeout,
            bind,
            public_base,
            app_name,
            stackscript_id,
            session_key,
            linode,
            timings,
            http,
            sandbox,
            store,
            pkce,
        })
    }
}

fn seconds(lookup: &impl Fn(&str) -> Option<String>, variable: &'static str) -> Result<Option<Duration>, ConfigError> {
    lookup(variable)
        .map(|value| {
            value
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
                .ok_or(ConfigError::BadValue { variable, expected: "a number of seconds", value })
        })
        .transpose()
}

fn count(lookup: &impl Fn(&str) -> Option<String>, variable: &'static str) -> Result<Option<u32>, ConfigError> {
    lookup(variable)
        .map(|value| {
            value.trim().parse::<u32>().map_err(|_| ConfigError::BadValue {
                variable,
                expected: "a whole number (0 or more)",
                value,
            })
        })
        .transpose()
}

/// A time limit: a number of seconds above zero (a zero timeout would fail every call).
fn timeout(lookup: &impl Fn(&str) -> Option<String>, variable: &'static str) -> Result<Option<Duration>, ConfigError> {
    match seconds(lookup, variable) {
        Ok(Some(duration)) if duration.is_zero() => Err(ConfigError::BadValue {
            variable,
            expected: "a number of seconds above 0",
            value: lookup(variable).unwrap_or_default(),
        }),
        other => other,
    }
}

fn parse_url(variable: &'static str, value: String) -> Result<Url, ConfigError> {
    let url = Url::parse(value.trim()).map_err(|error| ConfigError::BadUrl {
        variable,
        value: value.clone(),
        reason: error.to_string(),
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::BadUrl { variable, value, reason: "expected an http(s) URL with a host".into() });
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn nothing_configured_means_the_sandbox() {
        let config = config(&[]).unwrap();
        assert!(matches!(config.linode, LinodeTarget::EmbeddedSandbox));
        assert_eq!(config.stackscript_id, sandbox::STACKSCRIPT_NO_INPUT);
        assert_eq!(config.bind.to_string(), "127.0.0.1:3000");
        assert_eq!(config.http.trusted_proxy_hops, 0, "X-Forwarded-For is not trusted by default");
        assert!(config.http.deploys_per_minute > 0 && config.http.callbacks_per_minute > 0);
        assert_eq!(config.ready_check, ReadyCheck::parse("http://{ipv4}/").ok(), "the demo app is checked");
        assert_eq!(config.ready_timeout, Duration::from_secs(900));
    }

    #[test]
    fn the_ready_check_is_read_or_switched_off() {
        let on = config(&[("READY_CHECK", "tcp://{ipv4}:22"), ("READY_TIMEOUT_SECS", "60")]).unwrap();
        assert_eq!(on.ready_check, ReadyCheck::parse("tcp://{ipv4}:22").ok());
        assert_eq!(on.ready_timeout, Duration::from_secs(60));
        assert_eq!(config(&[("READY_CHECK", "off")]).unwrap().ready_check, None);
        let never = config(&[("SANDBOX_APP_READY_SECS", "never")]).unwrap();
        assert_eq!(never.sandbox.app_ready, Some(None));
    }

    #[test]
    fn limits_proxies_and_timeouts_are_read() {
        let config = config(&[
            ("RATE_LIMIT_DEPLOYS_PER_MINUTE", "3"),
            ("RATE_LIMIT_CALLBACKS_PER_MINUTE", "0"),
            ("TRUSTED_PROXY_HOPS", "1"),
            ("LINODE_HTTP_TIMEOUT_SECS", "0.5"),
        ])
        .unwrap();
        assert_eq!(config.http.deploys_per_minute, 3);
        assert_eq!(config.http.callbacks_per_minute, 0);
        assert_eq!(config.http.trusted_proxy_hops, 1);
        assert_eq!(config.http.linode_timeouts.total, Duration::from_millis(500));
        assert_eq!(config.http.max_connections_per_client, None, "behind a proxy, the proxy caps visitors");
    }

    #[test]
    fn slow_clients_are_bounded_by_default() {
        let defaults = config(&[]).unwrap().http;
        assert_eq!(defaults.header_timeout, Duration::from_secs(10));
        assert_eq!(defaults.body_timeout, Duration::from_secs(30));
        assert_eq!(defaults.max_connections_per_client, Some(DEFAULT_MAX_CONNECTIONS_PER_CLIENT));
        let set = config(&[
            ("HTTP_HEADER_TIMEOUT_SECS", "2"),
            ("HTTP_BODY_TIMEOUT_SECS", "3.5"),
            ("MAX_CONNECTIONS_PER_CLIENT", "8"),
            ("TRUSTED_PROXY_HOPS", "1"),
        ])
        .unwrap()
        .http;
        assert_eq!(set.header_timeout, Duration::from_secs(2));
        assert_eq!(set.body_timeout, Duration::from_millis(3500));
        assert_eq!(set.max_connections_per_client, Some(8), "set explicitly, it applies behind a proxy too");
        assert_eq!(config(&[("MAX_CONNECTIONS_PER_CLIENT", "0")]).unwrap().http.max_connections_per_client, None);
    }

    #[test]
    fn each_misconfiguration_names_its_variable() {
        let key = "8f1c2b7a9e0d4c6b5a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d".to_owned();
        let (one_char, a_word) = ("a".repeat(32), "password".repeat(8));
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("LINODE_CLIENT_SECRET", "s")], "LINODE_CLIENT_SECRET"),
            (vec![("LINODE_CLIENT_ID", "id")], "LINODE_CLIENT_SECRET"),
            (vec![("PUBLIC_BASE_URL", "not a url")], "PUBLIC_BASE_URL"),
            (vec![("PUBLIC_BASE_URL", "ftp://x")], "PUBLIC_BASE_URL"),
            (vec![("SESSION_KEY", "short")], "SESSION_KEY"),
            (vec![("SESSION_KEY", one_char.as_str())], "SESSION_KEY"),
            (vec![("SESSION_KEY", a_word.as_str())], "SESSION_KEY"),
            (vec![("SANDBOX_ADMIN_ADDR", "0.0.0.0:3099")], "SANDBOX_ADMIN_ADDR"),
            (vec![("LINODE_PKCE", "maybe")], "LINODE_PKCE"),
            (vec![("READY_CHECK", "http://localhost/")], "READY_CHECK"),
            (vec![("METRICS_ADDR", "everywhere")], "METRICS_ADDR"),
            (vec![("METRICS_ADDR", "127.0.0.1:3000")], "METRICS_ADDR"),
            (vec![("READY_TIMEOUT_SECS", "0")], "READY_TIMEOUT_SECS"),
            (vec![("SANDBOX_APP_READY_SECS", "soon")], "SANDBOX_APP_READY_SECS"),
            (vec![("LEPTOS_SITE_ADDR", "nowhere")], "LEPTOS_SITE_ADDR"),
            (vec![("LINODE_STACKSCRIPT_ID", "abc")], "LINODE_STACKSCRIPT_ID"),
            (vec![("RATE_LIMIT_DEPLOYS_PER_MINUTE", "-1")], "RATE_LIMIT_DEPLOYS_PER_MINUTE"),
            (vec![("RATE_LIMIT_CALLBACKS_PER_MINUTE", "lots")], "RATE_LIMIT_CALLBACKS_PER_MINUTE"),
            (vec![("TRUSTED_PROXY_HOPS", "yes")], "TRUSTED_PROXY_HOPS"),
            (vec![("LINODE_HTTP_TIMEOUT_SECS", "0")], "LINODE_HTTP_TIMEOUT_SECS"),
            (vec![("LINODE_CONNECT_TIMEOUT_SECS", "soon")], "LINODE_CONNECT_TIMEOUT_SECS"),
            (vec![("HTTP_HEADER_TIMEOUT_SECS", "0")], "HTTP_HEADER_TIMEOUT_SECS"),
            (vec![("HTTP_BODY_TIMEOUT_SECS", "never")], "HTTP_BODY_TIMEOUT_SECS"),
            (vec![("MAX_CONNECTIONS_PER_CLIENT", "-1")], "MAX_CONNECTIONS_PER_CLIENT"),
            (
                vec![
                    ("LINODE_CLIENT_ID", "id"),
                    ("LINODE_CLIENT_SECRET", "s"),
                    ("SESSION_KEY", &key),
                    ("LINODE_STACKSCRIPT_ID", "1"),
                    ("LINODE_API_URL", "::"),
                ],
                "LINODE_API_URL",
            ),
            (
                vec![("LINODE_CLIENT_ID", "id"), ("LINODE_CLIENT_SECRET", "s"), ("LINODE_STACKSCRIPT_ID", "1")],
                "SESSION_KEY",
            ),
            (
                vec![("LINODE_CLIENT_ID", "id"), ("LINODE_CLIENT_SECRET", "s"), ("SESSION_KEY", &key)],
                "LINODE_STACKSCRIPT_ID",
            ),
        ];
        for (vars, variable) in cases {
            let error = config(&vars).expect_err(variable).to_string();
            assert!(error.contains(variable), "{error:?} should name {variable}");
        }
    }

    #[test]
    fn random_keys_pass_the_entropy_check_and_patterns_do_not() {
        assert!(estimated_bits("8f1c2b7a9e0d4c6b5a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b") >= 200);
        assert!(estimated_bits("0123456789abcdef0123456789abcdef") < MIN_SESSION_KEY_BITS, "a repeated half");
        assert!(estimated_bits("two-processes-session-key-0123456789abcdef0123456789abcdef") >= MIN_SESSION_KEY_BITS);
        assert!(estimated_bits(&"password".repeat(8)) < MIN_SESSION_KEY_BITS);
        assert_eq!(estimated_bits(&"k".repeat(64)), 0);
        assert!(estimated_bits(&"abab".repeat(16)) < MIN_SESSION_KEY_BITS);
    }

    #[test]
    fn a_full_configuration_targets_linode_and_hides_the_secret() {
        let key = "8f1c2b7a9e0d4c6b5a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d".to_owned();
        let config = config(&[
            ("LINODE_CLIENT_ID", "0123456789abcdef0123"),
            ("LINODE_CLIENT_SECRET", "very-secret-value"),
            ("SESSION_KEY", &key),
            ("LINODE_STACKSCRIPT_ID", "320826"),
            ("PUBLIC_BASE_URL", "https://deploy.example.com"),
        ])
        .unwrap();
        let LinodeTarget::Remote { login_base, api_base, .. } = &config.linode else { panic!("remote expected") };
        assert_eq!(login_base.as_str(), "https://login.linode.com/");
        assert_eq!(api_base.as_str(), "https://api.linode.com/v4");
        let debug = format!("{config:?}");
        assert!(!debug.contains("very-secret-value") && !debug.contains(&key));
    }
}
