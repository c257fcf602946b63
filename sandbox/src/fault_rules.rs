//! Fault rules as data: what a rule hits and does, and its counters. Plain types, imported by
//! the configuration and the state; the middleware that applies them is `faults`.

use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

/// Matches every route (except the admin ones, which are never faulted).
pub const ANY_ROUTE: &str = "*";

/// One fault: which route it hits, what it does, and optionally how many calls it affects.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// A route template such as `"POST /v4/linode/instances"` or `"GET /v4/linode/instances/{id}"`,
    /// or `"*"` for every route.
    pub route: String,
    #[serde(flatten)]
    pub kind: FaultKind,
    /// Stop after affecting this many calls; `None` means forever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Delay the response by `ms` milliseconds (then answer normally, or apply other faults).
    Latency { ms: u64 },
    /// Answer every matching call with `status` and an error body carrying `reason`.
    Status {
        status: u16,
        #[serde(default = "default_reason")]
        reason: String,
    },
    /// Only the `n`th matching call (1-based, counted from when the rule was added) fails.
    FailNth {
        n: u32,
        status: u16,
        #[serde(default = "default_reason")]
        reason: String,
    },
    /// Close the connection without sending any HTTP response.
    Drop,
}

fn default_reason() -> String {
    "Fault injected by the Linode sandbox".to_owned()
}

impl FaultRule {
    pub fn latency(route: &str, ms: u64) -> Self {
        Self::new(route, FaultKind::Latency { ms })
    }

    pub fn status(route: &str, status: u16, reason: &str) -> Self {
        Self::new(route, FaultKind::Status { status, reason: reason.to_owned() })
    }

    pub fn fail_nth(route: &str, n: u32, status: u16, reason: &str) -> Self {
        Self::new(route, FaultKind::FailNth { n, status, reason: reason.to_owned() })
    }

    pub fn drop_connection(route: &str) -> Self {
        Self::new(route, FaultKind::Drop)
    }

    /// Limits the rule to the first `times` calls it affects.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }

    fn new(route: &str, kind: FaultKind) -> Self {
        Self { route: route.to_owned(), kind, times: None }
    }

    /// Checks what serde cannot: that statuses are real error statuses.
    pub fn validate(&self) -> Result<(), String> {
        match &self.kind {
            FaultKind::Status { status, .. } | FaultKind::FailNth { status, .. } => {
                match StatusCode::from_u16(*status) {
                    Ok(code) if code.is_client_error() || code.is_server_error() => Ok(()),
                    _ => Err(format!("status {status} is not a 4xx or 5xx status")),
                }
            }
            FaultKind::Latency { .. } | FaultKind::Drop => Ok(()),
        }
    }

    pub(crate) fn matches(&self, route: &str) -> bool {
        self.route == ANY_ROUTE || self.route == route
    }
}

/// A rule plus its counters.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ActiveFault {
    #[serde(flatten)]
    pub rule: FaultRule,
    /// Calls that matched the route so far.
    pub matched: u32,
    /// Calls the rule actually affected.
    pub applied: u32,
}

impl ActiveFault {
    pub(crate) fn new(rule: FaultRule) -> Self {
        Self { rule, matched: 0, applied: 0 }
    }

    pub(crate) fn exhausted(&self) -> bool {
        self.rule.times.is_some_and(|t| self.applied >= t)
    }
}
