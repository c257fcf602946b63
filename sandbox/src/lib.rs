//! A local stand-in for login.linode.com and api.linode.com.
//!
//! [`Sandbox::router`] serves the login server under `/login`, API v4 under `/v4` and the
//! admin endpoints under `/__sandbox`; it works at the root of a server or nested under a
//! prefix. [`spawn`] serves it on an ephemeral port for tests. See the README for what is
//! emulated and what is not.

mod account;
mod admin;
mod api;
mod catalog;
mod config;
mod errors;
mod fault_rules;
mod faults;
mod filter;
mod firewall;
mod inspect;
mod installed_app;
mod oauth;
mod pagination;
mod rate_limit;
mod records;
mod secret_eq;
mod state;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use account::{
    AccountPreset, AccountSettings, DefaultFirewalls, InterfaceGeneration, InterfacesForNewLinodes, User,
    DEFAULT_FIREWALL_LABEL, RESTRICTED_USER, UNRESTRICTED_USER,
};
pub use catalog::{
    Catalog, CatalogError, StackScript, UserDefinedField, ANY_IMAGE, STACKSCRIPT_ANY_IMAGE, STACKSCRIPT_NO_INPUT,
    STACKSCRIPT_WITH_FIELDS,
};
pub use config::{
    ClientConfig, Config, Timings, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_LABEL, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI,
};
pub use errors::{FORBIDDEN, INVALID_TOKEN, NOT_AUTHORIZED, NOT_FOUND};
pub use fault_rules::{FaultKind, FaultRule, ANY_ROUTE};
pub use inspect::{InspectedCode, InspectedFirewall, InspectedInstance, InspectedToken, Inspection};
pub use installed_app::AppBehaviour;
pub use rate_limit::{LimitClass, RateLimit, RateLimits};
pub use records::RequestRecord;
pub use state::token_id;

use state::AppState;

/// The sandbox's bounded-map rule, for its tests.
#[doc(hidden)]
pub fn cap_for_tests<K: Clone + Eq + std::hash::Hash, V, A: Ord>(
    map: &mut std::collections::HashMap<K, V>,
    max: usize,
    dead: impl Fn(&V) -> bool,
    age: impl Fn(&V) -> A,
) {
    state::cap(map, max, dead, age)
}

/// Path of the login server inside the router.
pub const LOGIN_PREFIX: &str = "/login";
/// Path of API v4 inside the router.
pub const API_PREFIX: &str = "/v4";
/// Path of the admin endpoints inside the router.
pub const ADMIN_PREFIX: &str = "/__sandbox";

/// The sandbox: cheap to clone, all clones share one state.
#[derive(Clone)]
pub struct Sandbox {
    state: Arc<AppState>,
}

impl Sandbox {
    /// A sandbox with the built-in catalog.
    pub fn new(config: Config) -> Self {
        // The built-in catalog is checked by a unit test, so failing here is a build defect.
        let catalog = Catalog::builtin().expect("the built-in catalog is valid JSON");
        Self::with_catalog(config, catalog)
    }

    /// A sandbox serving a catalog of your own.
    pub fn with_catalog(config: Config, catalog: Catalog) -> Self {
        Self { state: Arc::new(AppState::new(config, catalog)) }
    }

    /// The admin endpoints (inspection, faults, reset) alone. Serve them on a listener of their
    /// own that only this machine reaches, never next to [`Sandbox::router`]: the inspection
    /// shows every visitor's inputs, and faults change what visitors see.
    pub fn admin_router(&self) -> Router {
        admin::routes().with_state(self.state.clone())
    }

    /// The public routes (login server and API v4), with state applied; no admin endpoints.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .route("/v4/linode/types", get(api::catalog::list_types))
            .route("/v4/linode/types/{id}", get(api::catalog::get_type))
            .route("/v4/regions", get(api::catalog::list_regions))
            .route("/v4/regions/{id}", get(api::catalog::get_region))
            .route("/v4/images", get(api::catalog::list_images))
            .route("/v4/images/{id}", get(api::catalog::get_image))
            .route("/v4/images/{namespace}/{name}", get(api::catalog::get_image_by_parts))
            .route("/v4/linode/stackscripts", get(api::catalog::list_stackscripts))
            .route("/v4/linode/stackscripts/{id}", get(api::catalog::get_stackscript))
            .route("/v4/linode/instances", get(api::instances::list_instances).post(api::instances::create))
            .route(
                "/v4/linode/instances/{id}",
                get(api::instances::get_instance).delete(api::instances::delete_instance),
            )
            .route(
                "/v4/linode/instances/{id}/firewalls",
                get(api::firewalls::of_linode).put(api::firewalls::set_of_linode),
            )
            .route("/v4/linode/instances/{id}/interfaces", get(api::instances::list_interfaces))
            .route("/v4/networking/firewalls", get(api::firewalls::list_firewalls).post(api::firewalls::create))
            .route(
                "/v4/networking/firewalls/settings",
                get(api::account::get_firewall_settings).put(api::account::put_firewall_settings),
            )
            .route(
                "/v4/networking/firewalls/{id}",
                get(api::firewalls::get_firewall)
                    .put(api::firewalls::update_firewall)
                    .delete(api::firewalls::delete_firewall),
            )
            .route("/v4/networking/firewalls/{id}/rules", get(api::firewalls::get_rules).put(api::firewalls::put_rules))
            .route(
                "/v4/networking/firewalls/{id}/devices",
                get(api::firewalls::list_devices).post(api::firewalls::add_device),
            )
            .route(
                "/v4/networking/firewalls/{id}/devices/{device_id}",
                get(api::firewalls::get_device).delete(api::firewalls::remove_device),
            )
            .route("/v4/account/settings", get(api::account::get_settings).put(api::account::put_settings))
            .route("/v4/profile", get(api::profile::profile))
            .route("/v4/profile/grants", get(api::account::grants))
            .route("/v4/{*rest}", axum::routing::any(api::not_found))
            .route_layer(from_fn_with_state(self.state.clone(), api::rate_limits))
            .layer(from_fn(api::common_headers));
        let login = Router::new()
            .route("/login/oauth/authorize", get(oauth::authorize::show).post(oauth::authorize::decide))
            .route("/login/oauth/token", post(oauth::token::exchange))
            .route("/login/oauth/revoke", post(oauth::revoke::revoke))
            .route("/login/oauth/token/expire", post(oauth::revoke::revoke));
        api.merge(login)
            .route_layer(from_fn_with_state(self.state.clone(), faults::observe))
            .with_state(self.state.clone())
    }

    /// The applications the instances' StackScripts install, all on one listener: serve it on
    /// a loopback address of its own, and send a request for an instance there (keeping its
    /// address in `Host`) while [`Sandbox::app_answers`] says its app answers.
    pub fn installed_app_router(&self) -> Router {
        Router::new().fallback(installed_app::serve).with_state(self.state.clone())
    }

    /// Whether the application of the instance whose public IPv4 is `ip` answers on port 80
    /// now, from outside (its firewall must accept the port).
    pub fn app_answers(&self, ip: std::net::Ipv4Addr) -> bool {
        self.app_answers_on(std::net::SocketAddr::from((ip, 80)))
    }

    /// Whether the application of the instance whose public address is `address` answers on
    /// that port now, from outside (its firewall must accept the port).
    pub fn app_answers_on(&self, address: std::net::SocketAddr) -> bool {
        installed_app::answering(&self.state, address).is_some()
    }

    /// Changes how long after `running` the instances' apps answer (`None`: never).
    pub fn set_app_ready(&self, after: Option<std::time::Duration>) {
        self.state.store().app_ready = after;
    }

    /// A snapshot of what happened so far.
    pub fn inspect(&self) -> Inspection {
        Inspection::capture(&self.state)
    }

    /// Adds a fault rule after the existing ones.
    pub fn add_fault(&self, rule: FaultRule) {
        self.state.store().faults.push(fault_rules::ActiveFault::new(rule));
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.store().faults.clear();
    }

    /// Registers (or replaces, by id) an OAuth client.
    pub fn register_client(&self, client: ClientConfig) {
        self.state.store().register_client(client);
    }

    /// Forgets instances, tokens, codes, requests and rate windows; restores the configured
    /// faults. Registered clients stay.
    pub fn reset(&self) {
        self.state.store().reset(&self.state.config);
    }

    /// The configuration the sandbox was started with.
    pub fn config(&self) -> &Config {
        &self.state.config
    }
}

/// A sandbox served on 127.0.0.1 on an ephemeral port, its admin endpoints on another; stops
/// when dropped.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub sandbox: Sandbox,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`
    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:ADMIN_PORT`, where `/__sandbox/...` is served.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// `http://127.0.0.1:PORT/login`, the base for `/oauth/...`.
    pub fn login_base(&self) -> String {
        format!("{}{LOGIN_PREFIX}", self.root_url())
    }

    /// `http://127.0.0.1:PORT/v4`
    pub fn api_base(&self) -> String {
        format!("{}{API_PREFIX}", self.root_url())
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The server may already have stopped; nothing to do then.
            let _ = shutdown.send(());
        }
        self.task.abort();
    }
}

/// Serves a new sandbox on 127.0.0.1 with an ephemeral port.
pub async fn spawn(config: Config) -> std::io::Result<RunningSandbox> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let admin_listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let admin_addr = admin_listener.local_addr()?;
    let sandbox = Sandbox::new(config);
    let router = sandbox.router();
    let admin_router = sandbox.admin_router();
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let admin = axum::serve(admin_listener, admin_router);
        let serve = axum::serve(listener, router).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        tokio::select! {
            result = serve => if let Err(error) = result {
                tracing::error!(%error, "sandbox server stopped");
            },
            _ = admin => {}
        }
    });
    Ok(RunningSandbox { addr, admin_addr, sandbox, shutdown: Some(shutdown), task })
}
