//! The operator's configuration, read once at start-up from the environment (and an optional
//! `.env`). Every error names the variable to fix. Each section reads its own variables
//! ([`vars::Vars`] holds the readers); `SESSION_KEY`'s checks are in [`session_key`].

mod session_key;
mod vars;

use std::{net::SocketAddr, time::Duration};

use deploy::{
    app_firewall::{AppFirewall, AppPortsError},
    follower::FollowLimits,
    readiness::{ProbeLimits, ReadyCheck, ReadyCheckError},
    user_data::{UserData, UserDataFileError},
};
use secrecy::SecretString;
use url::Url;

pub use session_key::{estimated_bits, MIN_SESSION_KEY_BITS, MIN_SESSION_KEY_BYTES};
use vars::Vars;

/// The sandbox's demo StackScript "installs" an app that answers HTTP on port 80.
pub const SANDBOX_READY_CHECK: &str = "http://{ipv4}/";

#[derive(Debug)]
pub struct Config {
    /// Where to listen (`LEPTOS_SITE_ADDR`, as cargo-leptos sets it).
    pub bind: SocketAddr,
    /// The address people use to reach the site (`PUBLIC_BASE_URL`); the OAuth redirect URI is
    /// `<it>/auth/callback`. Defaults to `http://<bind address>`.
    pub public_base: Option<Url>,
    pub app_name: String,
    /// `LINODE_STACKSCRIPT_ID`; on the sandbox it defaults to the sandbox's demo StackScript,
    /// unless `USER_DATA_FILE` alone installs the app.
    pub stackscript_id: Option<u64>,
    /// `USER_DATA_FILE`: cloud-init user data sent with every create, read and checked at start.
    pub user_data: Option<UserData>,
    /// `SESSION_KEY`; on the sandbox a random key is made when it is absent.
    pub session_key: Option<SecretString>,
    /// `SESSION_KEY_PREVIOUS`: keys `SESSION_KEY` replaced, still accepted for reading.
    pub session_key_previous: Vec<SecretString>,
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
    #[error("SESSION_KEY contains a comma or starts or ends with a space, so it could not be listed in SESSION_KEY_PREVIOUS when it is rotated; generate one with `openssl rand -hex 32`")]
    UnlistableSessionKey,
    #[error("a key in SESSION_KEY_PREVIOUS is shorter than {MIN_SESSION_KEY_BYTES} bytes (it is {0}); list the keys SESSION_KEY replaced, comma-separated")]
    ShortPreviousKey(usize),
    #[error(
        "a key in SESSION_KEY_PREVIOUS looks guessable (about {0} bits; at least {MIN_SESSION_KEY_BITS} are needed)"
    )]
    WeakPreviousKey(u32),
    #[error("{0} is required when LINODE_CLIENT_ID is set")]
    Required(&'static str),
    #[error("LINODE_STACKSCRIPT_ID or USER_DATA_FILE is required when LINODE_CLIENT_ID is set: one of them installs the app")]
    NoInstaller,
    #[error("USER_DATA_FILE ({path}) {reason}")]
    UserData { path: String, reason: UserDataFileError },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|value| !value.trim().is_empty()))
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::read(&Vars::new(lookup))
    }

    fn read(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Self, ConfigError> {
        let bind = vars
            .parsed("LEPTOS_SITE_ADDR", "an address like 127.0.0.1:3000")?
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 3000)));
        let public_base = vars.url("PUBLIC_BASE_URL")?;
        let app_name = vars.text("APP_NAME").unwrap_or_else(|| "Demo App".to_owned());
        let linode = LinodeTarget::read(vars)?;
        let user_data = read_user_data(vars)?;
        let stackscript_id = match vars.parsed("LINODE_STACKSCRIPT_ID", "the numeric id of a public StackScript")? {
            Some(id) => Some(id),
            None if user_data.is_some() => None,
            None if matches!(linode, LinodeTarget::EmbeddedSandbox) => Some(sandbox::STACKSCRIPT_NO_INPUT),
            None => return Err(ConfigError::NoInstaller),
        };
        // Read in this order so that, of several mistakes, the same one is named first as before.
        let session_key = session_key::read(vars, &linode)?;
        let session_key_previous = session_key::read_previous(vars)?;
        let timings = Timings::read(vars)?;
        let store = StoreConfig::read(vars)?;
        let http = HttpSettings::read(vars)?;
        let sandbox = SandboxSettings::read(vars)?;
        let pkce = vars.switch("LINODE_PKCE")?.unwrap_or(true);
        let ready_check = read_ready_check(vars, &linode)?;
        let ready_timeout = vars.timeout("READY_TIMEOUT_SECS")?.unwrap_or(ProbeLimits::default().timeout);
        let app_firewall = read_app_ports(vars, ready_check.as_ref())?;
        let metrics_addr = read_metrics_addr(vars, bind)?;
        Ok(Self {
            metrics_addr,
            app_firewall,
            ready_check,
            ready_timeout,
            bind,
            public_base,
            app_name,
            stackscript_id,
            user_data,
            session_key,
            session_key_previous,
            linode,
            timings,
            http,
            sandbox,
            store,
            pkce,
        })
    }
}

impl LinodeTarget {
    fn read(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Self, ConfigError> {
        let client_id = vars.text("LINODE_CLIENT_ID");
        let client_secret = vars.text("LINODE_CLIENT_SECRET").map(SecretString::from);
        match (client_id, client_secret) {
            (None, Some(_)) => Err(ConfigError::SecretWithoutId("LINODE_CLIENT_SECRET")),
            (Some(_), None) => Err(ConfigError::IdWithoutSecret),
            (None, None) => Ok(LinodeTarget::EmbeddedSandbox),
            (Some(client_id), Some(client_secret)) => Ok(LinodeTarget::Remote {
                client_id,
                client_secret,
                login_base: vars.url("LINODE_LOGIN_URL")?.unwrap_or_else(|| default_url("https://login.linode.com")),
                api_base: vars.url("LINODE_API_URL")?.unwrap_or_else(|| default_url("https://api.linode.com/v4")),
            }),
        }
    }
}

/// One of Linode's own addresses, written here.
fn default_url(url: &'static str) -> Url {
    Url::parse(url).expect("Linode's address is a valid URL")
}

impl Timings {
    fn read(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        Ok(Self {
            flow_ttl: vars.seconds("DEPLOY_FLOW_TTL_SECS")?.unwrap_or(defaults.flow_ttl),
            catalog_ttl: vars.seconds("CATALOG_TTL_SECS")?.unwrap_or(defaults.catalog_ttl),
            outcome_ttl: defaults.outcome_ttl,
            follow: FollowLimits {
                poll: vars.seconds("FOLLOW_POLL_SECS")?.unwrap_or(defaults.follow.poll),
                bound: vars.seconds("FOLLOW_LIMIT_SECS")?.unwrap_or(defaults.follow.bound),
                idle: vars.seconds("FOLLOW_IDLE_SECS")?.unwrap_or(defaults.follow.idle),
            },
            lease: vars.timeout("TOKEN_LEASE_SECS")?.unwrap_or(defaults.lease),
        })
    }
}

impl StoreConfig {
    fn read(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let database_url = match vars.text("DATABASE_URL").map(|url| url.trim().to_owned()) {
            Some(url) if !["sqlite:", "postgres:", "postgresql:"].iter().any(|scheme| url.starts_with(scheme)) => {
                // Only the scheme is echoed: the rest may hold a password.
                return Err(ConfigError::BadValue {
                    variable: "DATABASE_URL",
                    expected: "a postgres://… or sqlite://… URL",
                    value: url.split(':').next().unwrap_or_default().to_owned() + ":…",
                });
            }
            url => url.map(SecretString::from),
        };
        Ok(Self {
            database_url,
            data_dir: vars.text("DATA_DIR").map_or(defaults.data_dir, |dir| std::path::PathBuf::from(dir.trim())),
            max_connections: vars.count("DATABASE_MAX_CONNECTIONS")?.map_or(defaults.max_connections, |n| n.max(1)),
            op_timeout: vars.timeout("DATABASE_TIMEOUT_SECS")?.unwrap_or(defaults.op_timeout),
        })
    }
}

impl HttpSettings {
    fn read(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let trusted_proxy_hops = vars.count("TRUSTED_PROXY_HOPS")?.map_or(defaults.trusted_proxy_hops, |n| n as usize);
        Ok(Self {
            deploys_per_minute: vars.count("RATE_LIMIT_DEPLOYS_PER_MINUTE")?.unwrap_or(defaults.deploys_per_minute),
            callbacks_per_minute: vars
                .count("RATE_LIMIT_CALLBACKS_PER_MINUTE")?
                .unwrap_or(defaults.callbacks_per_minute),
            trusted_proxy_hops,
            linode_timeouts: linode::Timeouts {
                connect: vars.timeout("LINODE_CONNECT_TIMEOUT_SECS")?.unwrap_or(defaults.linode_timeouts.connect),
                total: vars.timeout("LINODE_HTTP_TIMEOUT_SECS")?.unwrap_or(defaults.linode_timeouts.total),
            },
            header_timeout: vars.timeout("HTTP_HEADER_TIMEOUT_SECS")?.unwrap_or(defaults.header_timeout),
            body_timeout: vars.timeout("HTTP_BODY_TIMEOUT_SECS")?.unwrap_or(defaults.body_timeout),
            max_connections_per_client: match vars.count("MAX_CONNECTIONS_PER_CLIENT")? {
                Some(0) => None,
                Some(cap) => Some(cap),
                // Behind trusted proxies every connection comes from the proxy.
                None if trusted_proxy_hops > 0 => None,
                None => Some(DEFAULT_MAX_CONNECTIONS_PER_CLIENT),
            },
        })
    }
}

impl SandboxSettings {
    fn read(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Self, ConfigError> {
        let admin_addr = match vars.text("SANDBOX_ADMIN_ADDR") {
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
        Ok(Self {
            admin_addr,
            client_secret: vars.text("SANDBOX_CLIENT_SECRET").map(SecretString::from),
            provisioning: vars.seconds("SANDBOX_PROVISIONING_SECS")?,
            booting: vars.seconds("SANDBOX_BOOTING_SECS")?,
            app_ready: match vars.text("SANDBOX_APP_READY_SECS") {
                Some(value) if value.trim().eq_ignore_ascii_case("never") => Some(None),
                Some(_) => vars.seconds("SANDBOX_APP_READY_SECS")?.map(Some),
                None => None,
            },
        })
    }
}

/// `READY_CHECK`: unset means the sandbox's demo app is checked and nothing on Linode.
fn read_ready_check(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
    linode: &LinodeTarget,
) -> Result<Option<ReadyCheck>, ConfigError> {
    match vars.text("READY_CHECK").map(|value| value.trim().to_owned()) {
        Some(value) if ["off", "none", "false", "0"].contains(&value.to_ascii_lowercase().as_str()) => Ok(None),
        Some(value) => ReadyCheck::parse(&value)
            .map(Some)
            .map_err(|reason| ConfigError::BadReadyCheck { value: value.clone(), reason }),
        None if matches!(linode, LinodeTarget::EmbeddedSandbox) => Ok(ReadyCheck::parse(SANDBOX_READY_CHECK).ok()),
        None => Ok(None),
    }
}

/// `USER_DATA_FILE`: read once, at start, so a file Linode or cloud-init would refuse stops the
/// server with why rather than failing every deployment.
fn read_user_data(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Option<UserData>, ConfigError> {
    let Some(path) = vars.text("USER_DATA_FILE").map(|path| path.trim().to_owned()) else { return Ok(None) };
    UserData::read(std::path::Path::new(&path)).map(Some).map_err(|reason| ConfigError::UserData { path, reason })
}

/// `APP_PORTS`: unset means SSH and the port the readiness check probes; `off`, no firewall.
fn read_app_ports(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
    ready_check: Option<&ReadyCheck>,
) -> Result<Option<AppFirewall>, ConfigError> {
    match vars.text("APP_PORTS").map(|value| value.trim().to_owned()) {
        Some(value) if value.eq_ignore_ascii_case("off") => Ok(None),
        Some(value) => AppFirewall::parse(&value)
            .map(Some)
            .map_err(|reason| ConfigError::BadAppPorts { value: value.clone(), reason }),
        None => Ok(Some(AppFirewall::ssh_and(ready_check.map(ReadyCheck::port)))),
    }
}

/// `METRICS_ADDR`: never the site's own address.
fn read_metrics_addr(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
    bind: SocketAddr,
) -> Result<Option<SocketAddr>, ConfigError> {
    match vars.text("METRICS_ADDR") {
        Some(value) => match value.trim().parse::<SocketAddr>() {
            Ok(addr) if addr != bind || addr.port() == 0 => Ok(Some(addr)),
            _ => Err(ConfigError::BadValue {
                variable: "METRICS_ADDR",
                expected: "an address like 127.0.0.1:9100, other than the site's own",
                value,
            }),
        },
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn user_data_is_read_and_checked_at_start_and_may_install_the_app_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path.to_string_lossy().into_owned()
        };
        let good = file("good.yaml", b"#cloud-config\npackages: [nginx]\n");
        let alone = config(&[("USER_DATA_FILE", &good)]).unwrap();
        assert_eq!(alone.stackscript_id, None, "cloud-init alone installs the app");
        assert_eq!(alone.user_data.as_ref().map(UserData::text), Some("#cloud-config\npackages: [nginx]\n"));
        let both = config(&[("USER_DATA_FILE", good.as_str()), ("LINODE_STACKSCRIPT_ID", "42")]).unwrap();
        assert_eq!(both.stackscript_id, Some(42));

        let named = |vars: &[(&str, &str)]| config(vars).unwrap_err().to_string();
        let yaml = file("plain.yaml", b"packages: [nginx]\n");
        assert!(named(&[("USER_DATA_FILE", &yaml)]).contains("first line is \"packages: [nginx]\""));
        let big = file("big.yaml", format!("#cloud-config\n{}", "#".repeat(50_000)).as_bytes());
        assert!(
            named(&[("USER_DATA_FILE", &big)]).contains("it is 66688 bytes in base64, and Linode takes at most 65535")
        );
        // Read no further than the limit, and only from a regular file.
        assert!(named(&[("USER_DATA_FILE", "/dev/zero")]).contains("it is not a regular file"));
        let directory = dir.path().to_string_lossy().into_owned();
        assert!(named(&[("USER_DATA_FILE", &directory)]).contains("not a regular file"));
        let missing = dir.path().join("missing.yaml").to_string_lossy().into_owned();
        assert!(
            named(&[("USER_DATA_FILE", &missing)]).starts_with(&format!("USER_DATA_FILE ({missing}) cannot be read"))
        );
        let key = "k7-".repeat(20);
        let remote = [("LINODE_CLIENT_ID", "id"), ("LINODE_CLIENT_SECRET", "secret"), ("SESSION_KEY", key.as_str())];
        assert!(named(&remote).contains("LINODE_STACKSCRIPT_ID or USER_DATA_FILE is required"));
    }

    #[test]
    fn nothing_configured_means_the_sandbox() {
        let config = config(&[]).unwrap();
        assert!(matches!(config.linode, LinodeTarget::EmbeddedSandbox));
        assert_eq!(config.stackscript_id, Some(sandbox::STACKSCRIPT_NO_INPUT));
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

    #[test]
    fn every_variable_the_configuration_reads_is_in_the_readme() {
        let readme = include_str!("../../../README.md");
        // Nothing set, then a full Linode configuration: between them every branch asks for its
        // variables.
        let full: HashMap<&str, &str> = [
            ("LINODE_CLIENT_ID", "id"),
            ("LINODE_CLIENT_SECRET", "secret"),
            ("LINODE_STACKSCRIPT_ID", "1"),
            ("SESSION_KEY", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            ("SANDBOX_APP_READY_SECS", "3"),
        ]
        .into();
        let nothing: HashMap<&str, &str> = HashMap::new();
        for set in [&nothing, &full] {
            let vars = Vars::new(|name: &str| set.get(name).map(|value| (*value).to_owned()));
            Config::read(&vars).expect("a valid configuration");
            for name in vars.asked() {
                assert!(readme.contains(&format!("`{name}`")), "{name} is read but not in README.md's tables");
            }
        }
    }

    #[test]
    fn previous_session_keys_are_read_and_checked() {
        let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let older = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
        let both = format!(" {key} , {older} ");
        let read = config(&[("SESSION_KEY_PREVIOUS", both.as_str())]).unwrap();
        assert_eq!(read.session_key_previous.len(), 2);
        assert_eq!(read.session_key_previous[1].expose_secret(), older);
        assert!(config(&[]).unwrap().session_key_previous.is_empty());
        let short = config(&[("SESSION_KEY_PREVIOUS", "short")]).unwrap_err().to_string();
        assert!(short.contains("SESSION_KEY_PREVIOUS"), "{short}");
        let weak = config(&[("SESSION_KEY_PREVIOUS", &"ab".repeat(32))]).unwrap_err().to_string();
        assert!(weak.contains("SESSION_KEY_PREVIOUS"), "{weak}");
    }

    #[test]
    fn a_session_key_that_could_not_be_listed_as_previous_is_refused() {
        let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        for bad in [format!("{key},{key}"), format!("{key} "), format!(" {key}")] {
            let error = config(&[("SESSION_KEY", bad.as_str())]).unwrap_err().to_string();
            assert!(error.contains("SESSION_KEY") && !error.contains(key), "{error}");
        }
        assert!(config(&[("SESSION_KEY", key)]).is_ok());
    }
}
