//! Per-client-address limits on the two requests that make the server call Linode on someone's
//! behalf: starting a deploy and coming back from Linode's login. Everything else is cheap.
//!
//! A limited request gets a 429 with `Retry-After`, said the way its sender understands: a page
//! for a browser's form post or navigation, the app's JSON error for the hydrated page's fetch.

use std::{
    net::{IpAddr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use app::error::AppError;

use crate::plain_page;
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use governor::{clock::Clock, DefaultKeyedRateLimiter, Quota, RateLimiter};
use http::{
    header::{CACHE_CONTROL, RETRY_AFTER},
    HeaderMap, HeaderValue, Method,
};
use leptos::prelude::LeptosOptions;

use crate::{
    config::HttpSettings,
    server_fn_status::{app_error, status_of, wants_html},
};

/// The server function the deploy form posts to (its `endpoint`, under server_fn's `/api`).
pub const START_DEPLOY_PATH: &str = "/api/start_deploy";
pub const CALLBACK_PATH: &str = "/auth/callback";
/// The embedded sandbox's consent decision (Linode's login page stand-in), under its mount.
pub const SANDBOX_CONSENT_PATH: &str = "/login/oauth/authorize";
/// Beyond this many remembered addresses, those whose limit has fully recovered are forgotten.
const PRUNE_ABOVE: usize = 10_000;

type Limiter = DefaultKeyedRateLimiter<IpAddr>;

pub struct RateLimits {
    deploys: Option<Limiter>,
    callbacks: Option<Limiter>,
    /// Decisions on the embedded sandbox's consent page, at the deploy rate.
    consents: Option<Limiter>,
    trusted_proxy_hops: usize,
    /// For the refusal page's stylesheet.
    options: LeptosOptions,
}

impl RateLimits {
    pub fn new(settings: &HttpSettings, options: LeptosOptions) -> Arc<Self> {
        let per_minute = |count: u32| NonZeroU32::new(count).map(|count| RateLimiter::keyed(Quota::per_minute(count)));
        Arc::new(Self {
            deploys: per_minute(settings.deploys_per_minute),
            callbacks: per_minute(settings.callbacks_per_minute),
            consents: per_minute(settings.deploys_per_minute),
            trusted_proxy_hops: settings.trusted_proxy_hops,
            options,
        })
    }

    fn limiter_for(&self, method: &Method, path: &str) -> Option<&Limiter> {
        match (method, path) {
            (&Method::POST, START_DEPLOY_PATH) => self.deploys.as_ref(),
            // HEAD runs the same handler as GET: it must not be a way around the limit.
            (&Method::GET | &Method::HEAD, CALLBACK_PATH) => self.callbacks.as_ref(),
            (&Method::POST, SANDBOX_CONSENT_PATH) => self.consents.as_ref(),
            _ => None,
        }
    }

    /// How long `client` must wait before another request to this route, if it must.
    fn check(limiter: &Limiter, client: IpAddr) -> Result<(), Duration> {
        if limiter.len() > PRUNE_ABOVE {
            limiter.retain_recent();
        }
        limiter.check_key(&client).map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }
}

/// The middleware.
pub async fn limit(State(limits): State<Arc<RateLimits>>, request: Request, next: Next) -> Response {
    let Some(limiter) = limits.limiter_for(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip());
    let Some(client) = client_ip(peer, request.headers(), limits.trusted_proxy_hops) else {
        // Only a router served without connection info (never `Application`) lands here.
        tracing::warn!("no client address; request not rate-limited");
        return next.run(request).await;
    };
    match RateLimits::check(limiter, limit_key(client)) {
        Ok(()) => next.run(request).await,
        Err(wait) => {
            // The request's span names the path (cut to a length a log line can hold).
            tracing::info!(%client, wait_ms = wait.as_millis() as u64, "rate-limited");
            let limited = match request.uri().path() {
                START_DEPLOY_PATH => "start_deploy",
                "/auth/callback" => "callback",
                _ => "sandbox",
            };
            metrics::counter!("rate_limited_total", "route" => limited).increment(1);
            refusal(&limits.options, &request, wait)
        }
    }
}

/// Whom a limit counts: an IPv4 address, or an IPv6 client's /64 — one customer's network is
/// routinely given a whole /64, so per-address limits on IPv6 would count nothing.
pub fn limit_key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V4(_) => client,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

/// The client's address: the socket's peer, or, behind `hops` trusted proxies, the address the
/// outermost of them saw, which is the `hops`-th entry from the right of `X-Forwarded-For` (each
/// proxy appends the address it was reached from; entries further left are the client's to
/// invent). Without a usable header the peer is used.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, hops: usize) -> Option<IpAddr> {
    if hops == 0 {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    forwarded.len().checked_sub(hops).and_then(|index| forwarded[index].parse::<IpAddr>().ok()).or(peer)
}

fn refusal(options: &LeptosOptions, request: &Request, wait: Duration) -> Response {
    // Whole seconds, rounded up: `Retry-After: 0` would invite an immediate retry.
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    let mut response =
        if wants_html(request) { page(options, seconds) } else { app_error(&AppError::RateLimited, request) };
    *response.status_mut() = status_of(&AppError::RateLimited);
    let headers = response.headers_mut();
    headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn page(options: &LeptosOptions, seconds: u64) -> Response {
    let wait = if seconds < 90 { format!("{seconds} seconds") } else { format!("{} minutes", seconds.div_ceil(60)) };
    let message = AppError::RateLimited.to_string();
    let next = format!(
        "You can try again in {wait}: reload this page then, or start over from the form. The refused request did nothing on your Linode account."
    );
    let page = plain_page::PlainPage {
        status: status_of(&AppError::RateLimited),
        testid: "rate-limited",
        kind: "rate_limited",
        title: "Too many attempts",
        message: &message,
        next: &next,
    };
    plain_page::page(options, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(limit_key(a), limit_key(b));
        assert_ne!(limit_key(a), limit_key(other));
        assert_eq!(limit_key("2001:db8:1:2::".parse().unwrap()), limit_key(a));
        let v4: IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(limit_key(v4), v4);
        assert_eq!(limit_key("::ffff:203.0.113.7".parse().unwrap()), v4);
    }

    #[test]
    fn the_peer_is_the_client_unless_proxies_are_trusted() {
        let peer = Some("10.0.0.9".parse().unwrap());
        let headers = forwarded("203.0.113.7, 198.51.100.1");
        assert_eq!(client_ip(peer, &headers, 0), peer);
        assert_eq!(client_ip(peer, &headers, 1), Some("198.51.100.1".parse().unwrap()));
        assert_eq!(client_ip(peer, &headers, 2), Some("203.0.113.7".parse().unwrap()));
        // More hops than entries, or garbage: fall back to the peer rather than trust the client.
        assert_eq!(client_ip(peer, &headers, 3), peer);
        assert_eq!(client_ip(peer, &forwarded("not-an-ip"), 1), peer);
        assert_eq!(client_ip(peer, &HeaderMap::new(), 1), peer);
    }
}
