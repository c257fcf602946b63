//! The check itself: one task per deployment tries the declared address with backoff until the
//! application answers, the time is up or the server shuts down; bounded in how many run at once.

use std::{
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use domain::Readiness;

use super::{
    public_address::{public, sandbox_address, Refused},
    ready_check::{ReadyCheck, Scheme},
};

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
        installing(0, &self.limits)
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
            report(installing(elapsed.as_secs(), &self.limits)).await;
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
pub(super) fn abandoned_after(limits: &ProbeLimits) -> Duration {
    limits.max_delay + limits.attempt * 2 + Duration::from_secs(15)
}

/// The first word of a check: installing, nothing answers yet.
fn installing(elapsed_secs: u64, limits: &ProbeLimits) -> Readiness {
    Readiness::Installing { elapsed_secs, timeout_secs: limits.timeout.as_secs(), checked_ms: crate::store::now_ms() }
}
