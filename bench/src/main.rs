//! Benchmarks of the release server against the Linode sandbox with a fixed added latency on every
//! Linode call: page views with a cold and a warm catalog, the deploy critical path, concurrent
//! load (wrk) on `/healthz`, `/` and each first-page asset, the first page's assets and the
//! server's memory.
//!
//! Run it with `scripts/bench.sh` (builds the release site first). The sandbox runs inside this
//! process on its own port; the server is the release binary in a child process that reaches the
//! sandbox over HTTP, exactly as it would reach Linode. Prints a Markdown report and writes it to
//! `bench/results/<date>-<host>.md`.

mod flow;
mod load;
mod machine;
mod report;
mod server;
mod sizes;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use clap::Parser;
use sandbox::{FaultRule, RunningSandbox, ANY_ROUTE};

use crate::{
    load::{LoadSettings, Requests},
    machine::{machine_name, today},
    report::{DeployReport, Report},
    server::ServerProcess,
};

pub type Result<T, E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

const REVOKE: &str = "POST /login/oauth/revoke";
/// The first page's WASM + JS + CSS, brotli, must stay under this (issue 5).
/// Issue 5: 120 KB, read as 120 000 bytes (the stricter reading; the Playwright budget test agrees).
const BROTLI_BUDGET: usize = 120_000;
/// Issue 12: under load, `/` at ≥ 30 % and each first-page asset at ≥ 40 % of `/healthz`, p99 ≤ 5 ms.
const P99_TARGET_MS: f64 = 5.0;
const RSS_TARGET_KIB: u64 = 40 * 1024;

/// The share of `/healthz`'s throughput `path` should reach under the same load.
fn load_target(load: &Load) -> Option<f64> {
    match (load.path.as_str(), load.requests) {
        ("/", Requests::Same) => Some(0.30),
        (pkg, Requests::Same) if pkg.starts_with("/pkg/") => Some(0.40),
        // The reference, and the cache misses anyone can cause (measured, no target).
        _ => None,
    }
}

/// One URL under load and what it measured.
struct Load {
    path: String,
    requests: Requests,
    result: load::LoadResult,
}

impl Load {
    /// The URL as the report names it.
    fn shown(&self) -> String {
        match self.requests {
            Requests::Same => self.path.clone(),
            Requests::NewQueryEach => format!("{}?label=<new on every request>", self.path),
        }
    }
}

#[derive(Parser)]
#[command(about = "Benchmarks the release server against the Linode sandbox")]
struct Args {
    /// The release server binary.
    #[arg(long, default_value = "target/release/server")]
    server: PathBuf,
    /// The site the server serves (cargo-leptos output).
    #[arg(long, default_value = "target/site")]
    site_root: PathBuf,
    /// Latency added to every Linode call, in milliseconds.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// Page views measured with a warm catalog.
    #[arg(long, default_value_t = 200)]
    warm_views: usize,
    /// Server starts, each measuring one page view with a cold catalog.
    #[arg(long, default_value_t = 5)]
    cold_views: usize,
    /// Deployments measured from callback to success view.
    #[arg(long, default_value_t = 10)]
    deploys: usize,
    /// wrk connections, threads and seconds for the load on each URL (`/healthz`, `/`, each of
    /// the first page's assets).
    #[arg(long, default_value_t = 20)]
    connections: u32,
    #[arg(long, default_value_t = 2)]
    threads: u32,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Where the report is written.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(path) => {
            eprintln!("report written to {}", path.display());
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench failed: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

struct Stats {
    samples: Vec<Duration>,
}

impl Stats {
    fn new(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        Self { samples }
    }

    fn percentile(&self, p: f64) -> f64 {
        let index = ((self.samples.len() as f64 - 1.0) * p / 100.0).round() as usize;
        ms(self.samples[index])
    }

    fn summary(&self) -> String {
        format!(
            "p50 {:.1} ms · p99 {:.1} ms · min {:.1} ms · max {:.1} ms (n = {})",
            self.percentile(50.0),
            self.percentile(99.0),
            ms(self.samples[0]),
            ms(self.samples[self.samples.len() - 1]),
            self.samples.len()
        )
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn calls(sandbox: &RunningSandbox) -> Vec<sandbox::RequestRecord> {
    sandbox.sandbox.inspect().requests
}

/// Routes of the calls after the first `from`, e.g. `GET /v4/regions, POST /login/oauth/token`.
fn routes_since(sandbox: &RunningSandbox, from: usize) -> Vec<String> {
    calls(sandbox).into_iter().skip(from).map(|r| r.route).collect()
}

async fn timed_get(client: &reqwest::Client, url: &str) -> Result<Duration> {
    timed(client.get(url), url).await
}

/// The same, as a browser asks: brotli accepted, so the server compresses the page.
async fn timed_get_brotli(client: &reqwest::Client, url: &str) -> Result<Duration> {
    timed(client.get(url).header(reqwest::header::ACCEPT_ENCODING, "br"), url).await
}

async fn timed(request: reqwest::RequestBuilder, url: &str) -> Result<Duration> {
    let started = Instant::now();
    let response = request.send().await?;
    let status = response.status();
    response.bytes().await?;
    if !status.is_success() {
        return Err(format!("{url} answered {status}").into());
    }
    Ok(started.elapsed())
}

async fn run(args: &Args) -> Result<PathBuf> {
    let exe = server::absolute(&args.server);
    let site_root = server::absolute(&args.site_root);
    let latency = args.latency_ms;
    // A load test: Linode's rate limits would measure themselves, not the server.
    let mut config = sandbox::Config {
        faults: vec![FaultRule::latency(ANY_ROUTE, latency)],
        rate_limits: sandbox::RateLimits::off(),
        ..Default::default()
    };
    // New Linodes reach `running` quickly, so nothing that waits for it (e.g. a revocation held
    // until then) stretches the run.
    config.timings.provisioning = Duration::from_millis(500);
    config.timings.booting = Duration::from_millis(500);
    let sandbox = sandbox::spawn(config).await?;
    let mut report = Report::default();
    // A fresh SQLite store (the default) per run.
    let data_dir = std::env::temp_dir().join(format!("iol-bench-{}", std::process::id()));
    let data_dir = data_dir.display().to_string();
    let sqlite = ("DATA_DIR", data_dir.as_str());

    // Page view, cold catalog: the start-up warm-up is made to fail once, so the first page view
    // loads the catalog itself.
    eprintln!("page views with a cold catalog…");
    let mut cold = Vec::new();
    let mut cold_calls = Vec::new();
    for _ in 0..args.cold_views {
        sandbox.sandbox.add_fault(FaultRule::status("GET /v4/linode/types", 503, "warm-up made to fail"));
        let before = calls(&sandbox).len();
        let server = ServerProcess::start(&exe, &site_root, &sandbox, sqlite).await?;
        // The client retries reads with backoff: wait until it has given up (no call for 2 s).
        wait_until(|| calls(&sandbox).iter().skip(before).any(|r| r.status == Some(503))).await?;
        wait_for_quiet(&sandbox, Duration::from_secs(2)).await;
        sandbox.sandbox.clear_faults();
        sandbox.sandbox.add_fault(FaultRule::latency(ANY_ROUTE, latency));
        let client = reqwest::Client::new();
        timed_get(&client, &server.url("/healthz")).await?; // connection set up outside the timing
        let from = calls(&sandbox).len();
        cold.push(timed_get(&client, &server.url("/")).await?);
        cold_calls.push(routes_since(&sandbox, from));
    }
    report.cold = Some((Stats::new(cold), cold_calls));

    // The server used for everything else.
    let server = ServerProcess::start(&exe, &site_root, &sandbox, sqlite).await?;
    let client = reqwest::Client::new();
    eprintln!("page views with a warm catalog…");
    // The catalog is warm once `/` answers; the first view may have waited for the warm-up.
    timed_get(&client, &server.url("/")).await?;
    let from = calls(&sandbox).len();
    let mut warm = Vec::new();
    for _ in 0..args.warm_views {
        warm.push(timed_get(&client, &server.url("/")).await?);
    }
    report.warm = Some((Stats::new(warm), routes_since(&sandbox, from)));
    // Idle memory as before compressed views were measured, so it compares with earlier runs.
    report.idle_memory = server.memory_kib();
    let mut compressed = Vec::new();
    for _ in 0..args.warm_views {
        compressed.push(timed_get_brotli(&client, &server.url("/")).await?);
    }
    report.warm_brotli = Some(Stats::new(compressed));

    eprintln!("deployments…");
    let mut deploys = Vec::new();
    let mut critical = Vec::new();
    for _ in 0..args.deploys {
        let browser = flow::browser();
        let callback = flow::until_callback(&browser, &server).await?;
        let from = calls(&sandbox).len();
        deploys.push(flow::callback_to_success(&browser, &server, &callback).await?);
        critical.push(routes_since(&sandbox, from));
        wait_until(|| sandbox.sandbox.inspect().tokens.iter().all(|t| t.revoked)).await?;
    }
    // Once more with the revocation slowed down by 2 s: if the success view waited for it, it
    // would show here.
    sandbox.sandbox.add_fault(FaultRule::latency(REVOKE, 2000).times(1));
    let browser = flow::browser();
    let callback = flow::until_callback(&browser, &server).await?;
    let slow_revoke = flow::callback_to_success(&browser, &server, &callback).await?;
    wait_until(|| sandbox.sandbox.inspect().tokens.iter().all(|t| t.revoked)).await?;
    let created = sandbox.sandbox.inspect().instances.len();
    report.deploy = Some(DeployReport { times: Stats::new(deploys), critical, slow_revoke, created });

    // The same deployments on PostgreSQL, when scripts/with-postgres.sh started a cluster.
    if let Ok(port) = std::env::var("TEST_POSTGRES_PORT") {
        eprintln!("deployments on PostgreSQL…");
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let pg_server = ServerProcess::start(&exe, &site_root, &sandbox, ("DATABASE_URL", &url)).await?;
        let mut times = Vec::new();
        for _ in 0..args.deploys {
            let browser = flow::browser();
            let callback = flow::until_callback(&browser, &pg_server).await?;
            times.push(flow::callback_to_success(&browser, &pg_server, &callback).await?);
            wait_until(|| sandbox.sandbox.inspect().tokens.iter().all(|t| t.revoked)).await?;
        }
        report.deploy_postgres = Some(Stats::new(times));
    }

    eprintln!("asset sizes…");
    match sizes::measure(&server).await {
        Ok((page, assets)) => {
            report.page = Some(page);
            report.assets = assets;
        }
        Err(error) => report.asset_error = Some(error.to_string()),
    }

    // Each under the same load, `/healthz` first: what this stack answers at most here, which the
    // others are measured against in the same run.
    let settings = LoadSettings {
        connections: args.connections,
        threads: args.threads,
        duration: Duration::from_secs(args.seconds),
    };
    let mut targets = vec![("/healthz".to_owned(), Requests::Same), ("/".to_owned(), Requests::Same)];
    targets.extend(report.assets.iter().map(|asset| (asset.path.clone(), Requests::Same)));
    targets.push(("/".to_owned(), Requests::NewQueryEach));
    let from = calls(&sandbox).len();
    for (path, requests) in targets {
        eprintln!("load on {path} for {} s…", args.seconds);
        let result = load::run(&server, &server.url(&path), requests, &settings).await?;
        report.loads.push(Load { path, requests, result });
    }
    report.load_calls = calls(&sandbox).len() - from;
    report.after_load_memory = server.memory_kib();

    let text = report.render(args, latency, &settings);
    println!("{text}");
    std::fs::create_dir_all(&args.out)?;
    let path = args.out.join(format!("{}-{}.md", today(), machine_name()));
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Returns once the sandbox has seen no call for `quiet`.
async fn wait_for_quiet(sandbox: &RunningSandbox, quiet: Duration) {
    let mut seen = calls(sandbox).len();
    let mut since = Instant::now();
    while since.elapsed() < quiet {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = calls(sandbox).len();
        if now != seen {
            (seen, since) = (now, Instant::now());
        }
    }
}

async fn wait_until(mut condition: impl FnMut() -> bool) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        if Instant::now() > deadline {
            return Err("timed out waiting for the sandbox".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
