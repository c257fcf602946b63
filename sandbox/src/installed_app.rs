//! The application a StackScript installs, as seen from outside: each running instance's app
//! starts answering on its public address a configurable time after `running` (or never, to
//! play an install that failed). Instances have documentation-range addresses that route
//! nowhere, so the sandbox serves every app from one loopback listener of its own
//! ([`Sandbox::installed_app_router`](crate::Sandbox::installed_app_router)); whoever embeds the
//! sandbox maps an instance's address to that listener while [`answering`] says it answers, and
//! the request's `Host` names the instance.

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::config::Timings;
use crate::errors::ApiError;
use crate::state::{AppState, InstanceRecord};

/// Whether `instance`'s application answers at `now`.
pub(crate) fn answers(
    instance: &InstanceRecord,
    timings: &Timings,
    ready_after: Option<Duration>,
    now: Instant,
) -> bool {
    match (instance.running_since(timings), ready_after) {
        (Some(running), Some(after)) => now >= running + after,
        _ => false,
    }
}

/// The label of the instance whose public IPv4 is `ip`, if its application answers now.
pub(crate) fn answering(app: &AppState, ip: Ipv4Addr) -> Option<String> {
    let address = ip.to_string();
    let store = app.store();
    store
        .instances
        .iter()
        .find(|instance| instance.ipv4.first() == Some(&address))
        .filter(|instance| answers(instance, &app.config.timings, store.app_ready, Instant::now()))
        .map(|instance| instance.label.clone())
}

/// Every request to the installed apps' listener: the app of the instance `Host` names answers
/// with a small page; an instance whose app does not answer (yet) gets 502, as a proxy would.
pub(crate) async fn serve(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or_default();
    let ip = host.rsplit_once(':').map_or(host, |(ip, _)| ip).parse::<Ipv4Addr>().ok();
    match ip.and_then(|ip| answering(&app, ip)) {
        Some(label) => Html(format!(
            "<!doctype html><title>Installed</title><h1>It works</h1><p>The application on {} answers.</p>",
            html_escape(&label)
        ))
        .into_response(),
        None => (StatusCode::BAD_GATEWAY, "no application answers at this address\n").into_response(),
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The admin view and setting of when apps answer: `{"ready_after_ms": 3000}`, or
/// `{"ready_after_ms": null}` for never.
#[derive(Debug, Serialize, Deserialize)]
pub struct AppBehaviour {
    pub ready_after_ms: Option<u64>,
}

pub(crate) async fn show_behaviour(State(app): State<Arc<AppState>>) -> Json<AppBehaviour> {
    let ready_after = app.store().app_ready;
    Json(AppBehaviour { ready_after_ms: ready_after.map(|after| after.as_millis() as u64) })
}

pub(crate) async fn set_behaviour(State(app): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<AppBehaviour>(&body) {
        Ok(behaviour) => {
            app.store().app_ready = behaviour.ready_after_ms.map(Duration::from_millis);
            Json(behaviour).into_response()
        }
        Err(error) => ApiError::field("ready_after_ms", format!("Not an app behaviour: {error}")).into_response(),
    }
}
