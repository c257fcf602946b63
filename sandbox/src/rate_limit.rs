//! Linode's rate limits of 2026 (techdocs "Rate limits", updated 2026-09-15): fixed windows
//! per class of request, counted per user (token) or, for calls without a token, per client
//! address. A refused request gets 429 with `Retry-After` and `X-RateLimit-*`; an allowed one
//! carries `X-RateLimit-*` too.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::http::Method;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::errors::ApiError;

/// A fixed-window request limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
}

/// The classes of request Linode limits separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitClass {
    /// `POST /linode/instances`: 20 per 15 s.
    CreateLinode,
    /// `GET /images` (the list): 20 per minute.
    ListImages,
    /// `GET /linode/stackscripts` (the list): 60 per minute.
    ListStackScripts,
    /// Every other paginated collection (`GET /regions`, `/linode/types`…): 200 per minute.
    PaginatedList,
    /// Everything else: 1 600 per minute.
    Other,
}

impl LimitClass {
    /// The class of `method` on the route template `route` (as axum matched it, under `/v4`).
    pub fn of(method: &Method, route: &str) -> Self {
        let route = route.strip_prefix("/v4").unwrap_or(route);
        match (method, route) {
            (&Method::POST, "/linode/instances") => Self::CreateLinode,
            (&Method::GET, "/images") => Self::ListImages,
            (&Method::GET, "/linode/stackscripts") => Self::ListStackScripts,
            (&Method::GET, route) if is_collection(route) => Self::PaginatedList,
            _ => Self::Other,
        }
    }
}

/// A collection is a route whose last segment is not a path parameter, except the few
/// singletons (`/profile`, settings) that are objects, not pages.
fn is_collection(route: &str) -> bool {
    const SINGLETONS: &[&str] = &[
        "/profile",
        "/profile/grants",
        "/account/settings",
        "/networking/firewalls/settings",
        "/linode/instances/{id}/interfaces",
    ];
    !SINGLETONS.contains(&route) && !route.ends_with('}')
}

/// The limits in force, each `None` when switched off (load tests).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    pub create_linode: Option<RateLimit>,
    pub list_images: Option<RateLimit>,
    pub list_stackscripts: Option<RateLimit>,
    pub paginated_list: Option<RateLimit>,
    pub other: Option<RateLimit>,
}

impl Default for RateLimits {
    /// Linode's published limits of September 2026.
    fn default() -> Self {
        let per_minute = |requests| Some(RateLimit { requests, window: Duration::from_secs(60) });
        Self {
            create_linode: Some(RateLimit { requests: 20, window: Duration::from_secs(15) }),
            list_images: per_minute(20),
            list_stackscripts: per_minute(60),
            paginated_list: per_minute(200),
            other: per_minute(1600),
        }
    }
}

impl RateLimits {
    /// No limit at all, for load tests and benchmarks.
    pub fn off() -> Self {
        Self { create_linode: None, list_images: None, list_stackscripts: None, paginated_list: None, other: None }
    }

    pub fn get(&self, class: LimitClass) -> Option<RateLimit> {
        match class {
            LimitClass::CreateLinode => self.create_linode,
            LimitClass::ListImages => self.list_images,
            LimitClass::ListStackScripts => self.list_stackscripts,
            LimitClass::PaginatedList => self.paginated_list,
            LimitClass::Other => self.other,
        }
    }
}

struct Window {
    started: Instant,
    resets_at_epoch: i64,
    count: u32,
}

/// What the `X-RateLimit-*` headers report after an allowed request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Allowance {
    pub limit: u32,
    pub remaining: u32,
    pub reset_epoch: i64,
}

/// Most windows kept at once; past it, windows that have ended go first (strangers must not
/// grow the map without bound by sending requests from many addresses or tokens).
const MAX_WINDOWS: usize = 50_000;

/// Every window, keyed by class and caller.
pub(crate) struct Limiter {
    pub limits: RateLimits,
    windows: HashMap<(LimitClass, String), Window>,
}

impl Limiter {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Self { limits, windows: HashMap::new() }
    }

    /// Counts one request of `class` by `caller`, or refuses it once its window is full.
    /// `Ok(None)` when that class is not limited.
    pub(crate) fn hit(&mut self, class: LimitClass, caller: &str) -> Result<Option<Allowance>, ApiError> {
        let Some(limit) = self.limits.get(class) else { return Ok(None) };
        let now = Instant::now();
        if self.windows.len() >= MAX_WINDOWS {
            self.windows.retain(|(class, _), window| {
                let length = self.limits.get(*class).map_or(Duration::ZERO, |l| l.window);
                now.duration_since(window.started) < length
            });
            if self.windows.len() >= MAX_WINDOWS {
                self.windows.clear();
            }
        }
        let window = self.windows.entry((class, caller.to_owned())).or_insert_with(|| new_window(now, limit.window));
        if now.duration_since(window.started) >= limit.window {
            *window = new_window(now, limit.window);
        }
        if window.count >= limit.requests {
            let left = limit.window.saturating_sub(now.duration_since(window.started));
            return Err(ApiError::RateLimited {
                limit: limit.requests,
                reset_epoch: window.resets_at_epoch,
                retry_after_secs: left.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        window.count += 1;
        Ok(Some(Allowance {
            limit: limit.requests,
            remaining: limit.requests - window.count,
            reset_epoch: window.resets_at_epoch,
        }))
    }
}

fn new_window(now: Instant, length: Duration) -> Window {
    let end = OffsetDateTime::now_utc() + length;
    // Reset is whole epoch seconds; round up so a client never retries too early.
    let resets_at_epoch = end.unix_timestamp() + i64::from(end.nanosecond() > 0);
    Window { started: now, resets_at_epoch, count: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_twenty_first_create_in_fifteen_seconds_is_refused_per_caller() {
        let mut limiter = Limiter::new(RateLimits::default());
        for expected in (0..20).rev() {
            let allowance = limiter.hit(LimitClass::CreateLinode, "a").expect("allowed").expect("limited");
            assert_eq!(allowance.remaining, expected);
        }
        assert!(matches!(limiter.hit(LimitClass::CreateLinode, "a"), Err(ApiError::RateLimited { .. })));
        assert!(limiter.hit(LimitClass::CreateLinode, "b").is_ok());
        assert!(limiter.hit(LimitClass::Other, "a").is_ok(), "classes count apart");
    }

    #[test]
    fn classes_of_routes() {
        assert_eq!(LimitClass::of(&Method::POST, "/v4/linode/instances"), LimitClass::CreateLinode);
        assert_eq!(LimitClass::of(&Method::GET, "/v4/images"), LimitClass::ListImages);
        assert_eq!(LimitClass::of(&Method::GET, "/v4/images/{id}"), LimitClass::Other);
        assert_eq!(LimitClass::of(&Method::GET, "/v4/linode/stackscripts"), LimitClass::ListStackScripts);
        assert_eq!(LimitClass::of(&Method::GET, "/v4/regions"), LimitClass::PaginatedList);
        assert_eq!(LimitClass::of(&Method::GET, "/v4/networking/firewalls/{id}/devices"), LimitClass::PaginatedList);
        assert_eq!(LimitClass::of(&Method::GET, "/v4/linode/instances/{id}"), LimitClass::Other);
        assert_eq!(LimitClass::of(&Method::GET, "/v4/profile"), LimitClass::Other);
        assert_eq!(LimitClass::of(&Method::POST, "/v4/networking/firewalls"), LimitClass::Other);
    }

    #[test]
    fn switched_off_counts_nothing() {
        let mut limiter = Limiter::new(RateLimits::off());
        for _ in 0..100 {
            assert!(limiter.hit(LimitClass::ListImages, "a").expect("allowed").is_none());
        }
    }
}
