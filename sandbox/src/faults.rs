//! Deterministic fault injection, per route template: added latency, a fixed status, a
//! failure on the Nth matching call, or a dropped connection. Also records every request for
//! the inspection view, since both need the same route template.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::errors::{ApiError, OAuthError};
use crate::fault_rules::{ActiveFault, FaultKind};
use crate::records::RequestRecord;
use crate::state::AppState;

/// `Retry-After` of an injected 429: the length of Linode's create window.
pub(crate) const INJECTED_RETRY_AFTER_SECS: u64 = 30;

enum Outcome {
    Status(StatusCode, String),
    Drop,
}

#[derive(Default)]
struct Plan {
    latency: Duration,
    outcome: Option<Outcome>,
}

/// Walks the rules in order: latencies add up; the first failing rule decides the outcome.
fn plan(faults: &mut [ActiveFault], route: &str) -> Plan {
    let mut plan = Plan::default();
    for fault in faults.iter_mut().filter(|f| f.rule.matches(route)) {
        fault.matched += 1;
        if fault.exhausted() {
            continue;
        }
        let fires = match &fault.rule.kind {
            FaultKind::Latency { ms } => {
                plan.latency += Duration::from_millis(*ms);
                true
            }
            _ if plan.outcome.is_some() => false,
            FaultKind::Status { status, reason } => {
                plan.outcome = Some(Outcome::Status(status_code(*status), reason.clone()));
                true
            }
            FaultKind::FailNth { n, status, reason } if fault.matched == *n => {
                plan.outcome = Some(Outcome::Status(status_code(*status), reason.clone()));
                true
            }
            FaultKind::FailNth { .. } => false,
            FaultKind::Drop => {
                plan.outcome = Some(Outcome::Drop);
                true
            }
        };
        if fires {
            fault.applied += 1;
        }
    }
    plan
}

fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Every route the sandbox serves outside the admin prefix, as `METHOD /path`.
pub(crate) const ROUTE_TEMPLATES: &[&str] = &[
    "/login/oauth/authorize",
    "/login/oauth/token",
    "/login/oauth/token/expire",
    "/login/oauth/revoke",
    "/v4/linode/types",
    "/v4/linode/types/{id}",
    "/v4/regions",
    "/v4/regions/{id}",
    "/v4/images",
    "/v4/images/{id}",
    "/v4/images/{namespace}/{name}",
    "/v4/linode/stackscripts",
    "/v4/linode/stackscripts/{id}",
    "/v4/linode/instances",
    "/v4/linode/instances/{id}",
    "/v4/linode/instances/{id}/firewalls",
    "/v4/linode/instances/{id}/interfaces",
    "/v4/networking/firewalls",
    "/v4/networking/firewalls/settings",
    "/v4/networking/firewalls/{id}",
    "/v4/networking/firewalls/{id}/rules",
    "/v4/networking/firewalls/{id}/devices",
    "/v4/networking/firewalls/{id}/devices/{device_id}",
    "/v4/account/settings",
    "/v4/profile",
    "/v4/profile/grants",
];

/// The route template without whatever prefix the router was nested under, so faults and
/// the request log read the same at the root of a server and under `Router::nest`.
fn route_template(request: &Request) -> String {
    let matched = request.extensions().get::<MatchedPath>().map_or_else(|| request.uri().path(), MatchedPath::as_str);
    let path =
        ROUTE_TEMPLATES.iter().filter(|t| matched.ends_with(*t)).max_by_key(|t| t.len()).copied().unwrap_or(matched);
    format!("{} {path}", request.method())
}

/// Middleware on every non-admin route: applies faults, then logs the call.
pub(crate) async fn observe(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let route = route_template(&request);
    let method = request.method().to_string();
    let plan = plan(&mut app.store().faults, &route);
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    let response = match plan.outcome {
        None => next.run(request).await,
        Some(Outcome::Status(status, reason)) if route.contains(" /login/") => {
            OAuthError::injected(status, reason).into_response()
        }
        Some(Outcome::Status(status, reason)) => ApiError::Injected { status, reason }.into_response(),
        Some(Outcome::Drop) => dropped_connection(),
    };
    let mut response = response;
    // Linode's 429s say when to come back (docs/LINODE.md, API v4); an injected one does too.
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .entry(axum::http::header::RETRY_AFTER)
            .or_insert(axum::http::HeaderValue::from(INJECTED_RETRY_AFTER_SECS));
    }
    let status = (!is_dropped(&response)).then(|| response.status().as_u16());
    let mut store = app.store();
    // The log keeps the most recent requests only (dropped in batches, so pushing stays cheap).
    if store.requests.len() >= crate::state::MAX_REQUESTS {
        store.requests.drain(..crate::state::MAX_REQUESTS / 10);
    }
    store.requests.push(RequestRecord { method, route, status });
    drop(store);
    response
}

/// Marks a response whose body fails at once: hyper then aborts the connection before the
/// head is flushed, so the client sees a closed connection and no HTTP response.
#[derive(Clone, Copy)]
struct Dropped;

fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by fault injection"))
    });
    let mut response = Body::from_stream(failing).into_response();
    response.extensions_mut().insert(Dropped);
    response
}

fn is_dropped(response: &Response) -> bool {
    response.extensions().get::<Dropped>().is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault_rules::{FaultRule, ANY_ROUTE};

    fn active(rules: Vec<FaultRule>) -> Vec<ActiveFault> {
        rules.into_iter().map(ActiveFault::new).collect()
    }

    #[test]
    fn fail_nth_fires_once_on_the_nth_match() {
        let mut faults = active(vec![FaultRule::fail_nth("GET /v4/regions", 2, 503, "x")]);
        let fired: Vec<bool> = (0..4).map(|_| plan(&mut faults, "GET /v4/regions").outcome.is_some()).collect();
        assert_eq!(fired, [false, true, false, false]);
        assert!(plan(&mut faults, "GET /v4/linode/types").outcome.is_none());
    }

    #[test]
    fn times_limits_a_rule_and_latencies_add_up() {
        let mut faults = active(vec![
            FaultRule::latency(ANY_ROUTE, 5),
            FaultRule::latency("GET /v4/regions", 7),
            FaultRule::status("GET /v4/regions", 500, "x").times(1),
        ]);
        let first = plan(&mut faults, "GET /v4/regions");
        assert_eq!(first.latency, Duration::from_millis(12));
        assert!(first.outcome.is_some());
        assert!(plan(&mut faults, "GET /v4/regions").outcome.is_none());
    }

    #[test]
    fn rules_round_trip_through_json() {
        let rule: FaultRule = serde_json::from_str(r#"{"route":"*","kind":"drop","times":1}"#).expect("parse");
        assert_eq!(rule, FaultRule::drop_connection("*").times(1));
        let json = serde_json::to_value(FaultRule::status("GET /v4/regions", 503, "down")).expect("serialize");
        assert_eq!(json["kind"], "status");
        assert_eq!(json["status"], 503);
        assert!(FaultRule::status("*", 200, "ok").validate().is_err());
    }
}
