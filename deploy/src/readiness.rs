//! Is the application up? `running` only means the Linode booted; its StackScript then installs
//! the application for minutes more, and Linode has no signal for when it is done. The operator
//! declares how to tell from outside (`READY_CHECK`, e.g. `http://{ipv4}/`), and once the Linode
//! runs — its token already revoked — one task per deployment tries that address with backoff
//! until it answers or the time is up. It needs no token.
//!
//! Only the IPv4 Linode returned for the new Linode is ever tried, only on the declared scheme
//! and port, and only when it is a public address: a check must not become a way to reach this
//! server's own network. On the sandbox, whose Linodes have documentation-range addresses that
//! route nowhere, the embedding server maps those addresses to the sandbox's loopback listener.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use domain::{Progress, Readiness};

/// Stands for the new Linode's address in `READY_CHECK`.
pub const PLACEHOLDER: &str = "{ipv4}";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Any answer below 500 counts.
    Http,
    /// As HTTP; the certificate is not checked (a new Linode's address has none yet).
    Https,
    /// A completed TCP connection counts.
    Tcp,
}

/// How the operator said to tell the application is up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyCheck {
    scheme: Scheme,
    port: u16,
    /// Path and query for HTTP(S), `/` at least; empty for TCP.
    path: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadyCheckError {
    #[error("the scheme must be http://, https:// or tcp://, as in http://{{ipv4}}/")]
    Scheme,
    #[error("the host must be exactly {{ipv4}} (the new Linode's address), as in http://{{ipv4}}:8080/health")]
    Host,
    #[error("a tcp:// check needs a port and nothing after it, as in tcp://{{ipv4}}:22")]
    Tcp,
    #[error("not a valid URL once {{ipv4}} is filled in: {0}")]
    Url(String),
    #[error("a user name or password does not belong in the check")]
    Credentials,
    #[error("port 0 cannot be checked")]
    Port,
}

impl Scheme {
    /// The URL scheme and its default port, for the HTTP checks.
    fn http(self) -> Option<(&'static str, u16)> {
        match self {
            Self::Http => Some(("http", 80)),
            Self::Https => Some(("https", 443)),
            Self::Tcp => None,
        }
    }
}

impl ReadyCheck {
    /// Reads a template such as `http://{ipv4}/`, `https://{ipv4}:8443/health` or
    /// `tcp://{ipv4}:22`.
    pub fn parse(template: &str) -> Result<Self, ReadyCheckError> {
        let template = template.trim();
        let (scheme, rest) = template.split_once("://").ok_or(ReadyCheckError::Scheme)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            "tcp" => Scheme::Tcp,
            _ => return Err(ReadyCheckError::Scheme),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(ReadyCheckError::Credentials);
        }
        let rest = rest.strip_prefix(PLACEHOLDER).ok_or(ReadyCheckError::Host)?;
        // Validate the rest as a URL around a stand-in address: port, path and query.
        let stand_in = Ipv4Addr::new(192, 0, 2, 1);
        // A `tcp://` template is read as an http URL: only its port matters.
        let (parsed_scheme, _) = scheme.http().unwrap_or(("http", 80));
        let url = url::Url::parse(&format!("{parsed_scheme}://{stand_in}{rest}"))
            .map_err(|error| ReadyCheckError::Url(error.to_string()))?;
        if url.host_str() != Some(&stand_in.to_string()) {
            return Err(ReadyCheckError::Host);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ReadyCheckError::Credentials);
        }
        // The port as written (`url` drops one equal to the scheme's default, which for `tcp://`
        // read as http would lose `:80`).
        let written_port = rest.strip_prefix(':').map(|after| after.split(['/', '?', '#']).next().unwrap_or_default());
        let port = url.port_or_known_default().ok_or(ReadyCheckError::Scheme)?;
        if port == 0 {
            return Err(ReadyCheckError::Port);
        }
        let mut path = url.path().to_owned();
        if let Some(query) = url.query() {
            path = format!("{path}?{query}");
        }
        if scheme == Scheme::Tcp {
            let bare = rest.trim_end_matches('/');
            if written_port.is_none_or(str::is_empty) || bare.contains(['/', '?', '#']) {
                return Err(ReadyCheckError::Tcp);
            }
            return Ok(Self { scheme, port, path: String::new() });
        }
        Ok(Self { scheme, port, path })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `ip:port`, as the success view names what was checked.
    pub fn address(&self, ip: Ipv4Addr) -> String {
        SocketAddr::from((ip, self.port)).to_string()
    }

    /// The link to the application, for HTTP(S) checks: the check's URL on this address.
    pub fn link(&self, ip: Ipv4Addr) -> Option<String> {
        let (scheme, _) = self.scheme.http()?;
        Some(format!("{scheme}://{}{}", self.host(ip), self.path))
    }

    /// The host as a browser names it: the address, with the port unless it is the scheme's own.
    fn host(&self, ip: Ipv4Addr) -> String {
        match self.scheme.http() {
            Some((_, default)) if self.port == default => ip.to_string(),
            _ => self.address(ip),
        }
    }

    /// The first word of a check: installing, nothing answers yet.
    fn installing(&self, elapsed_secs: u64, limits: &ProbeLimits) -> Readiness {
        Readiness::Installing {
            elapsed_secs,
            timeout_secs: limits.timeout.as_secs(),
            checked_ms: super::store::now_ms(),
        }
    }
}

/// Why an address is never checked.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{address} is {range}, not a public address; it is never checked")]
pub struct Refused {
    pub address: Ipv4Addr,
    pub range: &'static str,
}

/// Ranges no check may reach (RFC 6890 and friends): this server's own network, loopback,
/// private and link-local space, and addresses that route nowhere on the internet.
const NOT_PUBLIC: [(Ipv4Addr, u8, &str); 14] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8, "in \"this network\" (0.0.0.0/8)"),
    (Ipv4Addr::new(10, 0, 0, 0), 8, "private (10.0.0.0/8)"),
    (Ipv4Addr::new(100, 64, 0, 0), 10, "carrier-grade NAT space (100.64.0.0/10)"),
    (Ipv4Addr::new(127, 0, 0, 0), 8, "loopback (127.0.0.0/8)"),
    (Ipv4Addr::new(169, 254, 0, 0), 16, "link-local (169.254.0.0/16)"),
    (Ipv4Addr::new(172, 16, 0, 0), 12, "private (172.16.0.0/12)"),
    (Ipv4Addr::new(192, 0, 0, 0), 24, "reserved for protocol use (192.0.0.0/24)"),
    (Ipv4Addr::new(192, 0, 2, 0), 24, "a documentation address (192.0.2.0/24)"),
    (Ipv4Addr::new(192, 168, 0, 0), 16, "private (192.168.0.0/16)"),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "reserved for benchmarks (198.18.0.0/15)"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, "a documentation address (198.51.100.0/24)"),
    (Ipv4Addr::new(203, 0, 113, 0), 24, "a documentation address (203.0.113.0/24)"),
    (Ipv4Addr::new(224, 0, 0, 0), 4, "multicast (224.0.0.0/4)"),
    (Ipv4Addr::new(240, 0, 0, 0), 4, "reserved (240.0.0.0/4, broadcast included)"),
];

fn range_of(address: Ipv4Addr) -> Option<&'static str> {
    NOT_PUBLIC
        .iter()
        .find(|(base, bits, _)| {
            let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
            u32::from(address) & mask == u32::from(*base) & mask
        })
        .map(|(_, _, range)| *range)
}

/// Whether `address` may be checked on the internet.
pub fn public(address: Ipv4Addr) -> Result<(), Refused> {
    match range_of(address) {
        Some(range) => Err(Refused { address, range }),
        None => Ok(()),
    }
}

/// The sandbox's addresses: the documentation ranges it hands out.
fn sandbox_address(address: Ipv4Addr) -> bool {
    let octets = address.octets();
    matches!(octets, [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _])
}

/// Maps a sandbox Linode's address and the declared port to where its emulated application
/// listens, while it answers (`None`: nothing listens there yet).
pub type SandboxRoute = Arc<dyn Fn(SocketAddr) -> Option<SocketAddr> + Send + Sync>;

/// Where checks go.
#[derive(Clone)]
pub enum Network {
    /// Linode's addresses, on the internet: only public ones are checked.
    Internet,
    /// The embedded sandbox: only its documentation-range addresses, through its route to a
    /// loopback listener of its own.
    Sandbox(SandboxRoute),
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Internet => "Internet",
            Self::Sandbox(_) => "Sandbox",
        })
    }
}

/// Why one attempt did not count as an answer.
#[derive(Debug, thiserror::Error)]
pub enum AttemptFailed {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("nothing listens there yet")]
    NothingListens,
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    #[error("connection failed: {0}")]
    Connect(std::io::Error),
    #[error("request failed: {0}")]
    Http(String),
    #[error("answered {0}")]
    ServerError(u16),
}

/// How checking is paced and bounded.
#[derive(Clone, Copy, Debug)]
pub struct ProbeLimits {
    /// `READY_TIMEOUT_SECS`: how long after `running` checking goes on.
    pub timeout: Duration,
    /// One attempt, connection and answer.
    pub attempt: Duration,
    /// The wait after the first failed attempt; doubled after each, up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// At most this many attempts per deployment, however long the timeout.
    pub max_attempts: u32,
    /// At most this many deployments checked at once by this server; more are not checked.
    pub max_concurrent: usize,
}

impl Default for ProbeLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15 * 60),
            attempt: Duration::from_secs(5),
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15),
            max_attempts: 200,
            max_concurrent: 512,
        }
    }
}

/// Checks whether deployed applications answer.
pub struct Prober {
    check: ReadyCheck,
    network: Network,
    limits: ProbeLimits,
    http: reqwest::Client,
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for Prober {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prober").field("check", &self.check).field("network", &self.network).finish_non_exhaustive()
    }
}

impl Prober {
    /// Fails only when the HTTP client cannot be built (no TLS backend): no fallback to a client
    /// that would follow redirects or use proxies.
    pub fn new(check: ReadyCheck, network: Network, limits: ProbeLimits) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            // A redirect could point anywhere, this server's own network included.
            .redirect(reqwest::redirect::Policy::none())
            // A new Linode's address has no certificate yet; only "does it answer" matters.
            .danger_accept_invalid_certs(true)
            .no_proxy()
            .timeout(limits.attempt)
            .connect_timeout(limits.attempt)
            .user_agent(concat!("install-on-linode-ready-check/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { check, network, limits, http, slots: Arc::new(Semaphore::new(limits.max_concurrent)) })
    }

    pub fn check(&self) -> &ReadyCheck {
        &self.check
    }

    pub fn limits(&self) -> ProbeLimits {
        self.limits
    }

    /// The state a new check starts in.
    pub fn installing(&self) -> Readiness {
        self.check.installing(0, &self.limits)
    }

    /// A place among the deployments being checked, if one is free.
    pub fn slot(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// Where an attempt on `address` connects: the address itself on the declared port (if
    /// public), or the sandbox's listener for it.
    pub fn target(&self, address: Ipv4Addr) -> Result<Option<SocketAddr>, Refused> {
        let declared = SocketAddr::from((address, self.check.port));
        match &self.network {
            Network::Internet => public(address).map(|()| Some(declared)),
            Network::Sandbox(route) => {
                if !sandbox_address(address) {
                    return Err(Refused { address, range: "not one of the sandbox's addresses" });
                }
                // The route is the server's own wiring; anything but loopback is refused anyway.
                Ok(route(declared).filter(|target| target.ip().is_loopback()))
            }
        }
    }

    /// One attempt: does the application at `address` answer?
    pub async fn attempt(&self, address: Ipv4Addr) -> Result<(), AttemptFailed> {
        let target = self.target(address)?.ok_or(AttemptFailed::NothingListens)?;
        match self.check.scheme {
            Scheme::Tcp => {
                match tokio::time::timeout(self.limits.attempt, tokio::net::TcpStream::connect(target)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(error)) => Err(AttemptFailed::Connect(error)),
                    Err(_) => Err(AttemptFailed::TimedOut(self.limits.attempt)),
                }
            }
            Scheme::Http | Scheme::Https => {
                let (scheme, _) = self.check.scheme.http().unwrap_or(("http", 80));
                let url = format!("{scheme}://{target}{}", self.check.path);
                // The application sees the Linode's own address as the host it was asked for.
                let host = self.check.host(address);
                let answer = self.http.get(url).header(http::header::HOST, host).send().await;
                match answer {
                    Ok(response) if response.status().as_u16() < 500 => Ok(()),
                    Ok(response) => Err(AttemptFailed::ServerError(response.status().as_u16())),
                    Err(error) if error.is_timeout() => Err(AttemptFailed::TimedOut(self.limits.attempt)),
                    Err(error) => Err(AttemptFailed::Http(without_url(&error))),
                }
            }
        }
    }

    /// Tries `address` with backoff until it answers, the timeout or the attempt limit is
    /// reached, or `shutdown` (then `None`: nothing was concluded). `report` is told each
    /// attempt's state while it is still installing.
    pub async fn until_ready<F>(
        &self,
        address: Ipv4Addr,
        shutdown: &CancellationToken,
        mut report: impl FnMut(Readiness) -> F,
    ) -> Option<Readiness>
    where
        F: std::future::Future<Output = ()>,
    {
        let started = tokio::time::Instant::now();
        let mut delay = self.limits.first_delay;
        for attempt in 1..=self.limits.max_attempts {
            match self.attempt(address).await {
                Ok(()) => {
                    tracing::info!(attempt, "the application answers");
                    return Some(Readiness::Ready {
                        address: self.check.address(address),
                        link: self.check.link(address),
                    });
                }
                Err(AttemptFailed::Refused(refused)) => {
                    tracing::warn!(%refused, "not checking whether the application answers");
                    return Some(Readiness::NotChecked);
                }
                Err(error) => tracing::debug!(attempt, %error, "the application does not answer yet"),
            }
            let elapsed = started.elapsed();
            if elapsed + delay >= self.limits.timeout || attempt == self.limits.max_attempts {
                break;
            }
            report(self.check.installing(elapsed.as_secs(), &self.limits)).await;
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = shutdown.cancelled() => return None,
            }
            delay = (delay * 2).min(self.limits.max_delay);
        }
        tracing::info!(waited = ?started.elapsed(), "the application did not answer in time");
        Some(Readiness::NotAnswering { waited_secs: started.elapsed().as_secs(), address: self.check.address(address) })
    }
}

/// reqwest's errors name the URL; the sandbox's loopback address in it would only confuse.
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "the address");
    }
    text
}

/// A check whose server stopped renewing it for this long is taken as abandoned (the longest
/// wait between attempts plus one attempt, with room to spare).
fn abandoned_after(limits: &ProbeLimits) -> Duration {
    limits.max_delay + limits.attempt * 2 + Duration::from_secs(15)
}

/// A check of the application whose server stopped renewing it (that server stopped) is shown
/// as such, rather than as installing for ever. Works on a replica without a check of its own
/// too (configured differently, or the check switched off since), with the default pace.
pub fn settle(progress: &mut Progress, prober: Option<&Prober>) {
    let Readiness::Installing { checked_ms, .. } = &progress.app else { return };
    let limits = prober.map(Prober::limits).unwrap_or_default();
    let abandoned = i64::try_from(abandoned_after(&limits).as_millis()).unwrap_or(i64::MAX);
    if super::store::now_ms() - checked_ms <= abandoned {
        return;
    }
    let ip: Option<Ipv4Addr> = progress.ipv4.as_deref().and_then(|ip| ip.parse().ok());
    progress.app = match (prober, ip) {
        (Some(prober), Some(ip)) => {
            Readiness::Unknown { address: prober.check.address(ip), link: prober.check.link(ip) }
        }
        _ => Readiness::Unknown { address: progress.ipv4.clone().unwrap_or_default(), link: None },
    };
}

#[cfg(test)]
mod tests;
