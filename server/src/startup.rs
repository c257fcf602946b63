use std::{net::SocketAddr, sync::Arc, time::Duration};

use app::{
    shell,
    ssr::{callback::auth_callback, AppState, DeployService, DeploySettings},
    App,
};
use axum::{
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::{from_fn, Next},
    response::Response,
    routing::get,
    Router,
};
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};
use linode::{ApiClient, LoginClient, OAuthClientCredentials};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use tower_http::{services::ServeDir, trace::TraceLayer};
use url::Url;

use crate::config::{Config, LinodeTarget};

/// Where the embedded sandbox is mounted.
pub const SANDBOX_PREFIX: &str = "/sandbox";
const USER_AGENT: &str = concat!("install-on-linode/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    #[error("the public base URL {0} cannot carry the callback path")]
    BadPublicBase(Url),
}

/// A built, bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    public_base: Url,
    sandbox: Option<sandbox::Sandbox>,
}

impl Application {
    pub async fn build(config: Config, leptos_options: LeptosOptions) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(config.bind).await.map_err(|e| StartupError::Bind(config.bind, e))?;
        let local = listener.local_addr().map_err(|e| StartupError::Bind(config.bind, e))?;
        let public_base = config
            .public_base
            .clone()
            .unwrap_or_else(|| Url::parse(&format!("http://{local}")).expect("a socket address forms a URL"));
        let redirect_uri = public_base.join("auth/callback").map_err(|_| StartupError::BadPublicBase(public_base.clone()))?;
        let http = linode::http_client(USER_AGENT);

        let session_key = config.session_key.unwrap_or_else(random_session_key);
        let (login_base, api_base, credentials, sandbox) = match config.linode {
            LinodeTarget::EmbeddedSandbox => {
                let client_secret = match config.sandbox.client_secret {
                    Some(secret) => secret.expose_secret().to_owned(),
                    None => hex::encode(random_bytes::<32>()),
                };
                let client = sandbox::ClientConfig {
                    id: sandbox::DEFAULT_CLIENT_ID.to_owned(),
                    secret: client_secret.clone(),
                    redirect_uri: redirect_uri.to_string(),
                    label: config.app_name.clone(),
                };
                let mut sandbox_config = sandbox::Config { clients: vec![client], ..Default::default() };
                if let Some(provisioning) = config.sandbox.provisioning {
                    sandbox_config.timings.provisioning = provisioning;
                }
                if let Some(booting) = config.sandbox.booting {
                    sandbox_config.timings.booting = booting;
                }
                let sandbox = sandbox::Sandbox::new(sandbox_config);
                // The browser reaches the login pages through the public address; the server calls the
                // API over loopback.
                let login_base = join_prefix(&public_base, &format!("{SANDBOX_PREFIX}/login"));
                let api_base = Url::parse(&format!("http://{local}{SANDBOX_PREFIX}/v4")).expect("valid URL");
                let credentials = OAuthClientCredentials {
                    client_id: sandbox::DEFAULT_CLIENT_ID.to_owned(),
                    client_secret: SecretString::from(client_secret),
                };
                (login_base, api_base, credentials, Some(sandbox))
            }
            LinodeTarget::Remote { client_id, client_secret, login_base, api_base } => {
                (login_base, api_base, OAuthClientCredentials { client_id, client_secret }, None)
            }
        };

        let settings = DeploySettings {
            app_name: config.app_name,
            stackscript_id: config.stackscript_id,
            redirect_uri,
            secure_cookies: public_base.scheme() == "https",
            sandbox: sandbox.is_some(),
            flow_ttl: config.timings.flow_ttl,
            catalog_ttl: config.timings.catalog_ttl,
            outcome_ttl: config.timings.outcome_ttl,
            follow: config.timings.follow,
        };
        let login = LoginClient::new(login_base, credentials, http.clone());
        let api = ApiClient::new(api_base, http);
        let deploy = Arc::new(DeployService::new(settings, login, api, session_key.expose_secret().as_bytes()));
        let state = AppState { leptos_options, deploy };
        let router = router(state.clone(), sandbox.as_ref());
        Ok(Self { listener, router, state, public_base, sandbox })
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

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests and token revocations finish.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        // Loading the catalog now keeps the first visitor from waiting on Linode.
        self.state.deploy.catalog.warm();
        let revoker = self.state.deploy.revoker.clone();
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await?;
        revoker.drain(Duration::from_secs(20)).await;
        Ok(())
    }
}

fn router(state: AppState, sandbox: Option<&sandbox::Sandbox>) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let mut router = Router::new()
        .route("/auth/callback", get(auth_callback))
        .route("/healthz", get(|| async { "ok" }))
        .nest_service(&format!("/{}", options.site_pkg_dir), pkg_assets(&options))
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell));
    if let Some(sandbox) = sandbox {
        router = router.nest_service(SANDBOX_PREFIX, sandbox.router());
    }
    router.with_state(state).layer(TraceLayer::new_for_http())
}

/// The WASM, JS and CSS under `/pkg`. A release build (`cargo leptos build --release -P`) writes a
/// `.br` and a `.gz` next to each file, which are sent as they are to browsers that accept them.
/// Names that carry a content hash (cargo-leptos `hash-files`) never change content, so browsers
/// may keep them for a year; anything else is revalidated on every use.
fn pkg_assets(options: &LeptosOptions) -> Router {
    let dir = std::path::Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    Router::new()
        .fallback_service(ServeDir::new(dir).precompressed_br().precompressed_gzip())
        .layer(from_fn(asset_cache_headers))
}

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";

async fn asset_cache_headers(request: Request, next: Next) -> Response {
    let hashed = has_content_hash(request.uri().path());
    let mut response = next.run(request).await;
    let cacheable = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    let policy = if hashed && cacheable { IMMUTABLE } else { REVALIDATE };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// True for cargo-leptos' hashed names, `<name>.<22 base64url chars>.<ext>` (an MD5 digest).
fn has_content_hash(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let parts: Vec<&str> = file.split('.').collect();
    parts.len() >= 3
        && parts[1..parts.len() - 1]
            .iter()
            .any(|part| part.len() == 22 && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

fn join_prefix(base: &Url, prefix: &str) -> Url {
    let mut url = base.clone();
    let path = format!("{}{prefix}", base.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

fn random_session_key() -> SecretString {
    tracing::info!("SESSION_KEY is not set: using a random key, so sessions end when the server restarts");
    SecretString::from(hex::encode(random_bytes::<32>()))
}

#[cfg(test)]
mod tests {
    use super::has_content_hash;

    #[test]
    fn only_cargo_leptos_hashed_names_count_as_hashed() {
        assert!(has_content_hash("/install-on-linode.Xq3pYh1b0a9Zr2m4Tt8uWw.wasm"));
        assert!(has_content_hash("/install-on-linode.Xq3pYh1b0a9Zr2m4Tt8u-_.css"));
        assert!(!has_content_hash("/install-on-linode.wasm"));
        assert!(!has_content_hash("/install-on-linode_bg.wasm"));
        assert!(!has_content_hash("/snippets/x.js"));
        assert!(!has_content_hash("/a.Xq3pYh1b0a9Zr2m4Tt8u!!.js"));
    }
}
