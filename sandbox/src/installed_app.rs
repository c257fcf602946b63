//! The application a StackScript installs, as seen from outside: each running instance's app
//! starts answering on its public address a configurable time after `running` (or never, to
//! play an install that failed). Instances have documentation-range addresses that route
//! nowhere, so the sandbox serves every app from one loopback listener of its own
//! ([`Sandbox::installed_app_router`](crate::Sandbox::installed_app_router)); whoever embeds the
//! sandbox maps an instance's address to that listener while [`answering`] says it answers, and
//! the request's `Host` names the instance.
//!
//! The network is honoured as Linode's would: the app is reached only on the Linode's public
//! IPv4 (a Linode-Interfaces Linode has one only through a public interface), and only on a
//! port its firewall accepts — the enabled firewall of the Linode (legacy interfaces) or of its
//! public interface, first matching inbound rule, else the inbound policy. A probe from this
//! machine is judged as coming from [`OUTSIDE_PROBE_SOURCE`], a public address: only rules that
//! accept everyone let it in.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::account::InterfaceGeneration;
use crate::config::Timings;
use crate::errors::ApiError;
use crate::firewall::{Action, DeviceEntity, FirewallStatus, Protocol, OUTSIDE_PROBE_SOURCE};
use crate::state::{AppState, InstanceRecord, InterfaceKind, Store};

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

/// Whether a TCP connection from outside reaches `port` of `instance`'s public address:
/// it must have one, and the firewall in front of it (if any) must accept the port.
pub(crate) fn reachable(store: &Store, instance: &InstanceRecord, port: u16) -> bool {
    if instance.ipv4.is_empty() {
        return false;
    }
    let guarded = match instance.interface_generation {
        InterfaceGeneration::LegacyConfig => Some(DeviceEntity::Linode { linode_id: instance.id }),
        InterfaceGeneration::Linode => instance
            .interfaces
            .iter()
            .find(|i| matches!(i.kind, InterfaceKind::Public))
            .map(|i| DeviceEntity::LinodeInterface { interface_id: i.id, linode_id: instance.id }),
    };
    let firewall = guarded
        .and_then(|entity| store.firewalls.iter().find(|f| f.status == FirewallStatus::Enabled && f.protects(entity)));
    firewall.is_none_or(|f| f.rules.inbound_action(OUTSIDE_PROBE_SOURCE, Protocol::Tcp, port) == Action::Accept)
}

/// The label of the instance whose public address is `address`, if its application answers
/// there now (running, installed, and let through by the network).
pub(crate) fn answering(app: &AppState, address: SocketAddr) -> Option<String> {
    let SocketAddr::V4(address) = address else { return None };
    let ip = address.ip().to_string();
    let store = app.store();
    store
        .instances
        .iter()
        .find(|instance| instance.ipv4.first() == Some(&ip))
        .filter(|instance| answers(instance, &app.config.timings, store.app_ready, Instant::now()))
        .filter(|instance| reachable(&store, instance, address.port()))
        .map(|instance| instance.label.clone())
}

/// Every request to the installed apps' listener: the app of the instance `Host` names answers
/// with a small page; an instance whose app does not answer (yet) gets 502, as a proxy would.
pub(crate) async fn serve(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let host = headers.get(header::HOST).and_then(|host| host.to_str().ok()).unwrap_or_default();
    // `Host` names the instance's address and the port the client aimed at (80 when absent).
    let (ip, port) = match host.rsplit_once(':') {
        Some((ip, port)) => (ip, port.parse::<u16>().ok()),
        None => (host, Some(80)),
    };
    let address = ip.parse::<Ipv4Addr>().ok().zip(port).map(|(ip, port)| SocketAddr::from((ip, port)));
    match address.and_then(|address| answering(&app, address)) {
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
