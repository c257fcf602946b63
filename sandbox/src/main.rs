//! Serves the Linode sandbox standalone: `cargo run -p sandbox -- --port 4010`.

use std::time::Duration;

use clap::Parser;
use sandbox::{AccountPreset, ClientConfig, Config, FaultRule, RateLimits, Sandbox};
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(about = "A local stand-in for login.linode.com and api.linode.com")]
struct Args {
    #[arg(long, default_value = "127.0.0.1", env = "SANDBOX_HOST")]
    host: String,
    #[arg(long, default_value_t = 4010, env = "SANDBOX_PORT")]
    port: u16,
    /// Port of the admin endpoints (inspection, faults, reset), always on 127.0.0.1; default
    /// the next port up. They are never served on the public listener.
    #[arg(long, env = "SANDBOX_ADMIN_PORT")]
    admin_port: Option<u16>,
    /// Registered redirect URI of the OAuth client.
    #[arg(long, default_value = sandbox::DEFAULT_REDIRECT_URI)]
    redirect_uri: String,
    #[arg(long, default_value = sandbox::DEFAULT_CLIENT_ID)]
    client_id: String,
    #[arg(long, default_value = sandbox::DEFAULT_CLIENT_SECRET)]
    client_secret: String,
    /// Label shown on the consent page.
    #[arg(long, default_value = sandbox::DEFAULT_CLIENT_LABEL)]
    client_label: String,
    /// Seconds a new Linode stays `provisioning`.
    #[arg(long, default_value_t = 10.0)]
    provisioning_secs: f64,
    /// Seconds it then stays `booting`.
    #[arg(long, default_value_t = 5.0)]
    booting_secs: f64,
    /// A fault rule as JSON, e.g. '{"route":"GET /v4/regions","kind":"latency","ms":500}'.
    /// Repeatable.
    #[arg(long = "fault", value_parser = parse_fault)]
    faults: Vec<FaultRule>,
    /// Let unknown Bearer tokens through on public routes instead of answering 401.
    #[arg(long)]
    allow_invalid_token_on_public: bool,
    /// Which account to play: `legacy-2024` (legacy interfaces, no default firewall) or
    /// `new-2026` (Linode Interfaces by default, a default firewall accepting only SSH).
    /// Change it afterwards through `PUT /v4/account/settings` and `/v4/networking/firewalls/settings`.
    #[arg(long, value_enum, default_value_t = AccountPreset::default(), env = "SANDBOX_ACCOUNT")]
    account: AccountPreset,
    /// Switch off Linode's 2026 rate limits (for load tests).
    #[arg(long)]
    no_rate_limits: bool,
}

fn parse_fault(text: &str) -> Result<FaultRule, String> {
    let rule: FaultRule = serde_json::from_str(text).map_err(|e| e.to_string())?;
    rule.validate()?;
    Ok(rule)
}

fn seconds(value: f64, flag: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value).map_err(|e| format!("--{flag}: {e}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "sandbox=info".into()),
        )
        .init();
    let args = Args::parse();
    let mut config = Config {
        clients: vec![ClientConfig {
            id: args.client_id,
            secret: args.client_secret,
            redirect_uri: args.redirect_uri,
            label: args.client_label,
            public: false,
        }],
        faults: args.faults,
        invalid_token_on_public: !args.allow_invalid_token_on_public,
        account: args.account,
        rate_limits: if args.no_rate_limits { RateLimits::off() } else { RateLimits::default() },
        ..Config::default()
    };
    config.timings.provisioning = seconds(args.provisioning_secs, "provisioning-secs")?;
    config.timings.booting = seconds(args.booting_secs, "booting-secs")?;

    let listener = TcpListener::bind((args.host.as_str(), args.port)).await?;
    let root = format!("http://{}", listener.local_addr()?);
    let admin_port = args.admin_port.unwrap_or(listener.local_addr()?.port().saturating_add(1));
    let admin_listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, admin_port)).await?;
    let admin = format!("http://{}", admin_listener.local_addr()?);
    let client = &config.clients[0];
    println!("Linode sandbox — nothing real is created.");
    println!("  login base URL : {root}/login");
    println!("  API base URL   : {root}/v4");
    println!("  admin          : {admin}/__sandbox/inspect  (faults: {admin}/__sandbox/faults; loopback only)");
    println!("  client id      : {}", client.id);
    println!("  client secret  : {}", client.secret);
    println!("  redirect URI   : {}", client.redirect_uri);
    let sandbox = Sandbox::new(config);
    let admin_router = sandbox.admin_router();
    tokio::spawn(async move { axum::serve(admin_listener, admin_router).await });
    axum::serve(listener, sandbox.router())
        .with_graceful_shutdown(async {
            // If the signal handler cannot be installed, run until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await?;
    println!("sandbox stopped");
    Ok(())
}
