//! The embedded sandbox, when no OAuth client is configured: the local Linode the server talks
//! to, mounted on the public address for the browser's login pages and served on a loopback
//! listener of its own for the server's calls and the admin endpoints.

use std::{net::SocketAddr, sync::Arc};

use axum::Router;
use deploy::readiness::Network;
use linode::OAuthClientCredentials;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;
use url::Url;

use crate::config::SandboxSettings;

/// Where the embedded sandbox's login pages are mounted on the public address.
pub(crate) const SANDBOX_PREFIX: &str = "/sandbox";

/// Where the server reaches Linode's login server and API, and as whom.
pub(crate) struct LinodeEndpoints {
    pub(crate) login_base: Url,
    /// Where the browser is sent to log in, when not `login_base` (the sandbox's public mount).
    pub(crate) authorize_base: Option<Url>,
    pub(crate) api_base: Url,
    pub(crate) credentials: OAuthClientCredentials,
    pub(crate) sandbox: Option<EmbeddedSandbox>,
}

pub(crate) struct EmbeddedSandbox {
    pub(crate) sandbox: sandbox::Sandbox,
    /// The sandbox as the server itself calls it, with its admin endpoints: loopback only.
    pub(crate) loopback: (TcpListener, Router),
}

/// A sandbox with one OAuth client, this site, whose secret is `SANDBOX_CLIENT_SECRET` or random.
pub(crate) async fn start(
    settings: &SandboxSettings,
    app_name: &str,
    redirect_uri: &Url,
    public_base: &Url,
) -> std::io::Result<LinodeEndpoints> {
    let client_secret = match &settings.client_secret {
        Some(secret) => secret.expose_secret().to_owned(),
        None => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            hex::encode(bytes)
        }
    };
    let client = sandbox::ClientConfig {
        id: sandbox::DEFAULT_CLIENT_ID.to_owned(),
        secret: client_secret.clone(),
        redirect_uri: redirect_uri.to_string(),
        label: app_name.to_owned(),
        public: false,
    };
    let mut config = sandbox::Config { clients: vec![client], ..Default::default() };
    if let Some(provisioning) = settings.provisioning {
        config.timings.provisioning = provisioning;
    }
    if let Some(booting) = settings.booting {
        config.timings.booting = booting;
    }
    if let Some(app_ready) = settings.app_ready {
        config.timings.app_ready = app_ready;
    }
    let sandbox = sandbox::Sandbox::new(config);
    // The browser reaches the login pages through the public address; the server calls the
    // login server and the API over its own loopback listener. It also serves the sandbox's
    // admin endpoints (inspection, faults, reset), which the public mount never does: loopback
    // only, at `SANDBOX_ADMIN_ADDR` if set.
    let admin_addr = settings.admin_addr.unwrap_or(SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)));
    let listener = TcpListener::bind(admin_addr).await?;
    let internal = listener.local_addr()?;
    tracing::info!(admin = %format!("http://{internal}{}/inspect", sandbox::ADMIN_PREFIX), "embedded sandbox admin (loopback only)");
    let loopback = (listener, sandbox.router().merge(sandbox.admin_router()));
    Ok(LinodeEndpoints {
        login_base: Url::parse(&format!("http://{internal}/login")).expect("a socket address forms a URL"),
        authorize_base: Some(join_prefix(public_base, &format!("{SANDBOX_PREFIX}/login"))),
        api_base: Url::parse(&format!("http://{internal}/v4")).expect("a socket address forms a URL"),
        credentials: OAuthClientCredentials {
            client_id: sandbox::DEFAULT_CLIENT_ID.to_owned(),
            client_secret: SecretString::from(client_secret),
        },
        sandbox: Some(EmbeddedSandbox { sandbox, loopback }),
    })
}

/// The network the readiness check probes on the sandbox: its Linodes have documentation-range
/// addresses, so their applications answer on a loopback listener of the sandbox's, which this
/// route maps them to. Returns the route and that listener with its router.
pub(crate) async fn installed_apps(sandbox: &sandbox::Sandbox) -> std::io::Result<(Network, (TcpListener, Router))> {
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
    let apps = listener.local_addr()?;
    let sandbox_for_route = sandbox.clone();
    let network = Network::Sandbox(Arc::new(move |declared: SocketAddr| match declared.ip() {
        std::net::IpAddr::V4(_) if sandbox_for_route.app_answers_on(declared) => Some(apps),
        _ => None,
    }));
    Ok((network, (listener, sandbox.installed_app_router())))
}

fn join_prefix(base: &Url, prefix: &str) -> Url {
    let mut url = base.clone();
    let path = format!("{}{prefix}", base.path().trim_end_matches('/'));
    url.set_path(&path);
    url
}
