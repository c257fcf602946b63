//! The composition root: [`Application::build`] turns the configuration into running parts — the
//! metrics listener, the public listener, Linode's endpoints (or the embedded sandbox's, see
//! `embedded_sandbox`), the store, the readiness prober, the deploy engine and the router with its
//! middleware — and [`Application::run_until`] serves them until shutdown, then drains the
//! deployments in flight.

use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use app::{server_side::AppState, shell, App};
use axum::{
    extract::Request,
    extract::State,
    http::Uri,
    http::{header, Extensions, HeaderMap, StatusCode, Version},
    middleware::from_fn_with_state,
    response::Response,
    routing::get,
    Router,
};
use deploy::{DeployService, DeploySettings, SessionKeys};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use linode::{ApiClient, LoginClient, OAuthClientCredentials};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::{
    classify::SharedClassifier,
    compression::{predicate::DefaultPredicate, CompressionLayer, Predicate},
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
    CompressionLevel,
};
use url::Url;

use deploy::{
    readiness::{Network, ProbeLimits, Prober},
    store::{Store, StoreSettings},
};

use crate::{
    body_limit::BodyTimeout,
    callback::auth_callback,
    config::{Config, HttpSettings, LinodeTarget, StoreConfig},
    connections::{self, ConnectionLimits},
    embedded_sandbox::{self, LinodeEndpoints, SANDBOX_PREFIX},
    metrics_export,
    page_cache::{self, PageCache},
    rate_limit::RateLimits,
    same_origin::SiteOrigin,
    security_headers::{self, SecurityPolicy},
    site::{EmbeddedSite, Site, SiteError},
    sqlite_lock::{self, SqliteLock, SqliteLockError},
    telemetry,
};

/// Where the embedded sandbox is mounted.
const USER_AGENT: &str = concat!("install-on-linode/", env!("CARGO_PKG_VERSION"));
/// How long shutdown waits for token revocations still running.
const REVOKE_DRAIN: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error(transparent)]
    Site(#[from] SiteError),
    #[error("the public base URL {0} cannot carry the callback path")]
    BadPublicBase(Url),
    #[error("could not build the READY_CHECK client: {0}")]
    ReadyCheck(String),
    #[error("could not serve metrics on METRICS_ADDR {0}: {1}")]
    Metrics(SocketAddr, std::io::Error),
    #[error("could not open the embedded sandbox's loopback listener: {0}")]
    SandboxListener(std::io::Error),
    #[error("could not create the data directory {0}: {1} (set DATA_DIR, or DATABASE_URL for PostgreSQL)")]
    DataDir(std::path::PathBuf, std::io::Error),
    #[error("the store at DATABASE_URL ({0}) could not be opened: {1}")]
    Store(String, deploy::store::StoreError),
    #[error(transparent)]
    SqliteLock(#[from] SqliteLockError),
}

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    public_base: Url,
    sandbox: Option<sandbox::Sandbox>,
    /// The embedded sandbox as the server itself calls it: on its own loopback listener, which
    /// stays up until shutdown has finished the deployments in flight and revoked their tokens
    /// (the public listener stops accepting at the start of shutdown).
    sandbox_loopback: Option<(TcpListener, Router)>,
    /// The sandbox's emulated applications (what its StackScripts install), on loopback.
    installed_apps: Option<(TcpListener, Router)>,
    /// `/metrics`, when `METRICS_ADDR` is set.
    metrics: Option<(TcpListener, Router)>,
    /// Kept for its lifetime: the compiled-in site's files that Leptos reads from disk.
    _site: Site,
    /// On a SQLite file: the lock that keeps a second process off it, held until the server
    /// has stopped (its last revocations written).
    sqlite_lock: Option<SqliteLock>,
    /// Read deadlines and the per-address cap of the public listener (and the metrics one).
    connection_limits: ConnectionLimits,
}

impl Application {
    pub async fn build(config: Config, mut leptos_options: LeptosOptions) -> Result<Self, StartupError> {
        // `cargo leptos watch` rebuilds the site under a running server: it is then read from disk
        // and the live-reload socket is allowed.
        let watching = std::env::var_os("LEPTOS_WATCH").is_some();
        let site = Site::choose(&mut leptos_options, watching)?;
        // First, so the catalog's first load and everything after it is counted.
        let metrics = match config.metrics_addr {
            Some(addr) => Some(metrics_export::listen(addr).await.map_err(|e| StartupError::Metrics(addr, e))?),
            None => None,
        };
        let listener = TcpListener::bind(config.bind).await.map_err(|e| StartupError::Bind(config.bind, e))?;
        let local = listener.local_addr().map_err(|e| StartupError::Bind(config.bind, e))?;
        let listening = Url::parse(&format!("http://{local}")).expect("a socket address forms a URL");
        let public_base = config.public_base.clone().unwrap_or_else(|| listening.clone());
        let redirect_uri =
            public_base.join("auth/callback").map_err(|_| StartupError::BadPublicBase(public_base.clone()))?;
        let http = linode::http_client_with_timeouts(USER_AGENT, config.http.linode_timeouts);

        let session_key = config.session_key.unwrap_or_else(random_session_key);
        let linode = match config.linode {
            LinodeTarget::EmbeddedSandbox => {
                embedded_sandbox::start(&config.sandbox, &config.app_name, &redirect_uri, &public_base)
                    .await
                    .map_err(StartupError::SandboxListener)?
            }
            LinodeTarget::Remote { client_id, client_secret, login_base, api_base } => LinodeEndpoints {
                login_base,
                authorize_base: None,
                api_base,
                credentials: OAuthClientCredentials { client_id, client_secret },
                sandbox: None,
            },
        };
        let sandbox = linode.sandbox.as_ref().map(|embedded| embedded.sandbox.clone());
        let settings = DeploySettings {
            app_name: config.app_name,
            stackscript_id: config.stackscript_id,
            user_data: config.user_data,
            redirect_uri,
            secure_cookies: public_base.scheme() == "https",
            sandbox: sandbox.is_some(),
            flow_ttl: config.timings.flow_ttl,
            catalog_ttl: config.timings.catalog_ttl,
            outcome_ttl: config.timings.outcome_ttl,
            follow: config.timings.follow,
            lease: config.timings.lease,
            pkce: config.pkce,
            create_settles: config.http.linode_timeouts.total + Duration::from_secs(5),
            firewall: config.app_firewall,
        };
        let mut login = LoginClient::new(linode.login_base, linode.credentials, http.clone());
        if let Some(authorize_base) = &linode.authorize_base {
            login = login.with_authorize_base(authorize_base);
        }
        let api = ApiClient::new(linode.api_base, http);
        let sandbox_loopback = linode.sandbox.map(|embedded| embedded.loopback);
        let previous: Vec<&[u8]> =
            config.session_key_previous.iter().map(|key| key.expose_secret().as_bytes()).collect();
        let keys = SessionKeys { current: session_key.expose_secret().as_bytes(), previous: &previous };
        let (store, sqlite_lock) = open_store(&config.store, keys).await?;
        let (prober, installed_apps) = match config.ready_check {
            Some(check) => {
                let (network, installed_apps) = match &sandbox {
                    Some(sandbox) => {
                        let (network, apps) =
                            embedded_sandbox::installed_apps(sandbox).await.map_err(StartupError::SandboxListener)?;
                        (network, Some(apps))
                    }
                    None => (Network::Internet, None),
                };
                let limits = ProbeLimits { timeout: config.ready_timeout, ..ProbeLimits::default() };
                let prober =
                    Prober::new(check, network, limits).map_err(|error| StartupError::ReadyCheck(error.to_string()))?;
                (Some(prober), installed_apps)
            }
            None => (None, None),
        };
        let deploy = Arc::new(DeployService::new(settings, login, api, keys, store, prober));
        let state = AppState { leptos_options, deploy };
        let policy = SecurityPolicy { hsts: public_base.scheme() == "https", live_reload: watching };
        let origin = SiteOrigin::new(config.public_base.as_ref(), &listening, state.leptos_options.clone());
        let router = router(state.clone(), &site, sandbox.as_ref(), &config.http, policy, origin);
        let connection_limits = ConnectionLimits {
            header_timeout: config.http.header_timeout,
            per_client: config.http.max_connections_per_client.and_then(std::num::NonZeroU32::new),
        };
        Ok(Self {
            listener,
            router,
            state,
            public_base,
            sandbox,
            sandbox_loopback,
            installed_apps,
            metrics,
            _site: site,
            sqlite_lock,
            connection_limits,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn public_base(&self) -> &Url {
        &self.public_base
    }

    /// The embedded sandbox, when the server runs on it (tests inspect it and inject faults).
    pub fn sandbox(&self) -> Option<&sandbox::Sandbox> {
        self.sandbox.as_ref()
    }

    /// `http://127.0.0.1:PORT`: where the embedded sandbox's admin endpoints are (loopback only).
    pub fn sandbox_admin_url(&self) -> Option<String> {
        let (listener, _) = self.sandbox_loopback.as_ref()?;
        listener.local_addr().ok().map(|addr| format!("http://{addr}"))
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests and token revocations finish.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let sqlite_lock = self.sqlite_lock;
        let loopback = self.sandbox_loopback.map(|(listener, router)| {
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            (stop, tokio::spawn(async move { serve.await }))
        });
        let limits = self.connection_limits;
        let metrics = self.metrics.map(|(listener, router)| {
            tracing::info!(addr = ?listener.local_addr().ok(), "metrics on /metrics");
            tokio::spawn(async move {
                let _ = connections::serve(listener, router, limits, std::future::pending()).await;
            })
        });
        let installed_apps = self.installed_apps.map(|(listener, router)| {
            tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            })
        });
        // Loading the catalog now keeps the first visitor from waiting on Linode; the store's
        // upkeep takes over what a previous run left.
        self.state.deploy.start_background();
        let deploy = self.state.deploy.clone();
        // Each request carries its connection's peer, the client for rate limits (unless trusted
        // proxies say otherwise). Graceful: waits for requests in flight, a callback creating a
        // Linode included.
        connections::serve(self.listener, self.router, limits, shutdown).await?;
        deploy.drain(REVOKE_DRAIN).await;
        if let Some((stop, serving)) = loopback {
            let _ = stop.send(());
            let _ = serving.await;
        }
        if let Some(apps) = installed_apps {
            apps.abort();
        }
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        // Only now may another process take the file over.
        drop(sqlite_lock);
        Ok(())
    }
}

/// The store named by `DATABASE_URL`, or a SQLite file in `DATA_DIR` (created when missing);
/// on a SQLite file, with the lock that makes this process its only user.
async fn open_store(config: &StoreConfig, keys: SessionKeys<'_>) -> Result<(Store, Option<SqliteLock>), StartupError> {
    let (url, file) = match &config.database_url {
        Some(url) => (url.clone(), sqlite_lock::database_file(url.expose_secret())),
        None => {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| StartupError::DataDir(config.data_dir.clone(), e))?;
            let path = std::path::absolute(config.data_dir.join("install-on-linode.sqlite3"))
                .map_err(|e| StartupError::DataDir(config.data_dir.clone(), e))?;
            (SecretString::from(format!("sqlite://{}?mode=rwc", path.display())), Some(path))
        }
    };
    // Before the store is opened: this process's upkeep takes over the file's tokens at start.
    let lock = file.as_deref().map(sqlite_lock::lock).transpose()?;
    let settings =
        StoreSettings { url: url.clone(), max_connections: config.max_connections, op_timeout: config.op_timeout };
    let store = Store::open(&settings, keys.current)
        .await
        .map_err(|error| StartupError::Store(redact_url(url.expose_secret()), error))?
        .with_previous_keys(keys.previous);
    Ok((store, lock))
}

/// The URL without its password, for an error message.
fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

fn router(
    state: AppState,
    site: &Site,
    sandbox: Option<&sandbox::Sandbox>,
    http: &HttpSettings,
    policy: SecurityPolicy,
    origin: Arc<SiteOrigin>,
) -> Router {
    let limits = RateLimits::new(http, state.leptos_options.clone());
    let body_timeout = BodyTimeout(http.body_timeout);
    let routes = route_list();
    let options = state.leptos_options.clone();
    let mut router = Router::new()
        .route("/auth/callback", get(auth_callback))
        .route("/healthz", get(|| async { "ok" }))
        .nest_service(&format!("/{}", options.site_pkg_dir), site.pkg_router(&options))
        .leptos_routes_with_context(&state, routes, security_headers::provide_request_nonce, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(fallback(site.embedded_files(), options))
        .with_state(state.clone());
    // Not under `cargo leptos watch`: it rewrites the stylesheet under a new hashed name without
    // restarting the server, so a kept page would name a file that is gone.
    if !policy.live_reload {
        router = router.layer(from_fn_with_state(PageCache::new(state.deploy.clone()), page_cache::serve));
    }
    let mut router = router
        // Innermost first: the form page's cache (it sees the nonce the headers layer made), the
        // body limit, the rate limits, then the cross-site check, then the headers, so refusals
        // of any of them still carry the headers. The cross-site check comes before the rate
        // limits: a post another website makes a visitor's browser send is refused without
        // counting against that visitor's own deploys.
        .layer(axum::middleware::from_fn(crate::server_fn_status::client_errors))
        .layer(from_fn_with_state(body_timeout, crate::body_limit::limit))
        .layer(from_fn_with_state(limits.clone(), crate::rate_limit::limit))
        .layer(from_fn_with_state(origin, crate::same_origin::require))
        .layer(from_fn_with_state(policy, security_headers::app));
    if let Some(sandbox) = sandbox {
        // Linode's stand-in, public part only (no admin endpoints), behind the same body cap
        // and per-address limits as the app.
        let pages = sandbox
            .router()
            .layer(from_fn_with_state(body_timeout, crate::body_limit::limit))
            .layer(from_fn_with_state(limits, crate::rate_limit::limit))
            .layer(from_fn_with_state(policy, security_headers::sandbox));
        router = router.nest_service(SANDBOX_PREFIX, pages);
    }
    router.layer(
        ServiceBuilder::new()
            // Pages and server-function answers, compressed on the fly (the /pkg files are
            // already compressed, and the layer leaves encoded responses alone). Level 4: brotli's
            // default (11) costs tens of milliseconds per page; 4 gets most of the gain in well
            // under one.
            .layer(
                CompressionLayer::new()
                    .quality(CompressionLevel::Precise(4))
                    .compress_when(DefaultPredicate::new().and(holds_no_secret as CompressWhen)),
            )
            .map_request(telemetry::untrusted_request_id(http.trusted_proxy_hops > 0))
            .layer(SetRequestIdLayer::new(telemetry::REQUEST_ID, telemetry::RandomRequestId))
            .layer(
                TraceLayer::new(SharedClassifier::new(telemetry::ServerFaults))
                    .make_span_with(telemetry::make_span)
                    .on_response(telemetry::on_response)
                    .on_failure(telemetry::on_failure),
            )
            .layer(PropagateRequestIdLayer::new(telemetry::REQUEST_ID)),
    )
}

type CompressWhen = fn(StatusCode, Version, &HeaderMap, &Extensions) -> bool;

/// The success view (sent `no-store`) holds the root password next to text a link can choose (the
/// label): compressing the two together is what BREACH-style attacks measure, so it goes out as is.
fn holds_no_secret(_: StatusCode, _: Version, headers: &HeaderMap, _: &Extensions) -> bool {
    !headers
        .get(header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("no-store"))
}

/// The app's routes, listed once per process. Leptos lists them by rendering the app with a
/// process-wide flag set (`SuppressResourceLoad`) that keeps every resource created meanwhile
/// from ever loading, in any thread: listing them again while another `Application` in the same
/// process renders a page leaves that page waiting forever. The server tests run many
/// applications in one process and hit exactly that, about one run in five.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// Files at the site's root (the favicon) from the compiled-in site; anything else to Leptos,
/// which serves a file from the site root on disk when there is one, else renders the 404 page.
/// A path no file can have (see `site::names_no_file`) goes straight to the 404 page: looking it
/// up on disk fails with an I/O error that tower-http logs at ERROR, with the whole path.
fn fallback(
    embedded: Option<Arc<EmbeddedSite>>,
    options: LeptosOptions,
) -> impl Fn(Uri, State<AppState>, Request) -> BoxFuture<Response> + Clone + Send + Sync + 'static {
    let leptos =
        leptos_axum::file_and_error_handler_with_context::<AppState, _>(security_headers::provide_request_nonce, shell);
    let not_found =
        leptos_axum::render_app_to_stream_with_context(security_headers::provide_request_nonce, move || {
            shell(options.clone())
        });
    move |uri, state, request| {
        if crate::site::names_no_file(uri.path()) {
            return not_found(request);
        }
        let answer = embedded.as_ref().and_then(|files| files.respond(request.method(), uri.path(), request.headers()));
        match answer {
            Some(response) => Box::pin(std::future::ready(response)),
            None => leptos(uri, state, request),
        }
    }
}

type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn random_session_key() -> SecretString {
    tracing::info!("SESSION_KEY is not set: using a random key, so sessions end when the server restarts");
    SecretString::from(hex::encode(random_bytes::<32>()))
}
