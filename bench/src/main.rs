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
mod server;
mod sizes;

use std::{
    fmt::Write as _,
    path::PathBuf,
    time::{Duration, Instant},
};

use clap::Parser;
use sandbox::{FaultRule, RunningSandbox, ANY_ROUTE};

use crate::{
    load::{LoadSettings, Requests},
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

struct DeployReport {
    times: Stats,
    /// Linode calls between the callback request and the success view, per deployment.
    critical: Vec<Vec<String>>,
    slow_revoke: Duration,
    created: usize,
}

#[derive(Default)]
struct Report {
    cold: Option<(Stats, Vec<Vec<String>>)>,
    warm: Option<(Stats, Vec<String>)>,
    /// Warm views that accept brotli (the cached page, compressed once).
    warm_brotli: Option<Stats>,
    deploy: Option<DeployReport>,
    /// The same deployments with the store on PostgreSQL.
    deploy_postgres: Option<Stats>,
    /// Each URL under load, `/healthz` first, and the Linode calls made meanwhile.
    loads: Vec<Load>,
    load_calls: usize,
    idle_memory: Option<(u64, u64)>,
    after_load_memory: Option<(u64, u64)>,
    /// The HTML of `/`, as the page cache sends it.
    page: Option<sizes::Asset>,
    assets: Vec<sizes::Asset>,
    /// Why the assets could not be measured (e.g. no site was built).
    asset_error: Option<String>,
}

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

/// `a, b ×2, c` from a list of routes.
fn tally(routes: &[String]) -> String {
    let mut counted: Vec<(String, usize)> = Vec::new();
    for route in routes {
        match counted.iter_mut().find(|(r, _)| r == route) {
            Some((_, n)) => *n += 1,
            None => counted.push((route.clone(), 1)),
        }
    }
    if counted.is_empty() {
        return "none".into();
    }
    counted
        .iter()
        .map(|(r, n)| if *n > 1 { format!("`{r}` ×{n}") } else { format!("`{r}`") })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Report {
    /// The loads a visitor's traffic makes (every load but the one of pages never asked before).
    fn steady_loads(&self) -> impl Iterator<Item = &Load> {
        self.loads.iter().filter(|load| load.requests == Requests::Same)
    }

    fn render(&self, args: &Args, latency: u64, load: &LoadSettings) -> String {
        let mut out = String::new();
        let w = &mut out;
        let _ = writeln!(w, "# Benchmark {}\n", today());
        let _ = writeln!(w, "Machine: {}\n", machine_description());
        let _ = writeln!(
            w,
            "Setup: release server (`{}`) in its own process, talking over HTTP to the Linode sandbox with **{latency} ms added to every Linode call**; \
             times are measured by the client over loopback, so they include HTTP on 127.0.0.1 but no network. \
             Produced by `scripts/bench.sh` (`bench/src/main.rs`).\n",
            args.server.display()
        );

        let _ = writeln!(w, "## Results\n");
        let _ = writeln!(w, "| what | result | Linode calls |");
        let _ = writeln!(w, "|---|---|---|");
        if let Some((stats, calls)) = &self.cold {
            let per_view = calls.iter().map(Vec::len).max().unwrap_or(0);
            let _ = writeln!(
                w,
                "| page view `/`, cold catalog | {} | {} per view: {} |",
                stats.summary(),
                per_view,
                tally(&calls[0])
            );
        }
        if let Some((stats, calls)) = &self.warm {
            let _ = writeln!(
                w,
                "| page view `/`, warm catalog | {} | {} in {} views |",
                stats.summary(),
                calls.len(),
                stats.samples.len()
            );
        }
        if let Some(stats) = &self.warm_brotli {
            let _ =
                writeln!(w, "| same, `Accept-Encoding: br` (cached page, compressed once) | {} | 0 |", stats.summary());
        }
        if let Some(deploy) = &self.deploy {
            let per_deploy = deploy.critical.iter().map(Vec::len).max().unwrap_or(0);
            let _ = writeln!(
                w,
                "| deploy: callback request → success view | {} | {} per deploy: {} |",
                deploy.times.summary(),
                per_deploy,
                tally(&deploy.critical[0])
            );
            let _ = writeln!(
                w,
                "| same, with the token revocation slowed by 2 s | {:.1} ms | revoke runs after the response |",
                ms(deploy.slow_revoke)
            );
            // Everything on that path that is not a Linode round trip: the store's writes and
            // reads, the page render and the sandbox's own work (an upper bound of the store's
            // share).
            let linode_ms = (per_deploy as f64) * (latency as f64);
            let _ = writeln!(
                w,
                "| same, on SQLite: time not spent in Linode round trips (store + page + sandbox) | p50 {:.1} ms | |",
                deploy.times.percentile(50.0) - linode_ms
            );
            if let Some(pg) = &self.deploy_postgres {
                let _ = writeln!(
                    w,
                    "| deploy on PostgreSQL: callback request → success view | {} | same calls |",
                    pg.summary()
                );
                let _ = writeln!(
                    w,
                    "| same, on PostgreSQL: time not spent in Linode round trips | p50 {:.1} ms | |",
                    pg.percentile(50.0) - linode_ms
                );
            }
        }
        if let Some((rss, _)) = self.idle_memory {
            let _ = writeln!(w, "| server memory, idle (warm catalog) | RSS {} | |", mib(rss));
        }
        let peak = self.steady_loads().map(|load| load.result.peak_rss_kib).max();
        if let (Some(peak), Some((rss, hwm))) = (peak, self.after_load_memory) {
            let _ = writeln!(
                w,
                "| server memory, under the loads below (the last one apart) | RSS peak {} (sampled every 100 ms), VmHWM {} and {} after all of them | |",
                mib(peak),
                mib(hwm),
                mib(rss)
            );
        }

        if let Some(Load { result: healthz, .. }) = self.loads.first() {
            let _ = writeln!(
                w,
                "\n## Under load\n\nwrk, {} connections, {} threads, {} s per URL, `Accept-Encoding: br`; wrk shares the cores with the server. \
                 Each URL's throughput as a share of `/healthz` in the same run. {} Linode calls meanwhile.\n",
                load.connections,
                load.threads,
                load.duration.as_secs(),
                self.load_calls
            );
            let _ = writeln!(w, "| URL | requests/s | requests | p50 | p90 | p99 | of `/healthz` | target | |");
            let _ = writeln!(w, "|---|---:|---:|---:|---:|---:|---:|---|---|");
            for load in &self.loads {
                let (path, result) = (load.shown(), &load.result);
                let share = result.requests_per_sec / healthz.requests_per_sec;
                let (target, met) = match load_target(load) {
                    Some(min) => (
                        format!("≥ {:.0} %, p99 ≤ {P99_TARGET_MS} ms", min * 100.0),
                        verdict(share >= min && result.p99_ms <= P99_TARGET_MS && result.errors == 0),
                    ),
                    None if path == "/healthz" => ("the reference".to_owned(), ""),
                    None => ("measured: a render and a compression each".to_owned(), ""),
                };
                let errors = if result.errors > 0 { format!(" ({} errors)", result.errors) } else { String::new() };
                let _ = writeln!(
                    w,
                    "| `{path}` | {:.0}{errors} | {} | {:.2} ms | {:.2} ms | {:.2} ms | {:.0} % | {target} | {met} |",
                    result.requests_per_sec,
                    result.requests,
                    result.p50_ms,
                    result.p90_ms,
                    result.p99_ms,
                    share * 100.0
                );
            }
        }

        let _ = writeln!(w, "\n## First page assets\n");
        if let Some(error) = &self.asset_error {
            let _ = writeln!(w, "Not measured: {error}\n");
        }
        let _ = writeln!(w, "| asset | raw | gzip | brotli | Cache-Control |");
        let _ = writeln!(w, "|---|---:|---:|---:|---|");
        let mark = |e: &sizes::Encoded| if e.served { kib(e.bytes) } else { format!("{} (not served)", kib(e.bytes)) };
        for asset in &self.assets {
            let _ = writeln!(
                w,
                "| `{}` | {} | {} | {} | `{}` |",
                asset.path,
                kib(asset.raw),
                mark(&asset.gzip),
                mark(&asset.brotli),
                asset.cache_control
            );
        }
        let raw: usize = self.assets.iter().map(|a| a.raw).sum();
        let gzip: usize = self.assets.iter().map(|a| a.gzip.bytes).sum();
        let brotli: usize = self.assets.iter().map(|a| a.brotli.bytes).sum();
        let _ =
            writeln!(w, "| **total WASM + JS + CSS** | **{}** | **{}** | **{}** | |", kib(raw), kib(gzip), kib(brotli));
        if let Some(page) = &self.page {
            let _ = writeln!(
                w,
                "| `/` itself (HTML, compressed as it is sent) | {} | {} | {} | `{}` |",
                kib(page.raw),
                mark(&page.gzip),
                mark(&page.brotli),
                page.cache_control
            );
        }
        let _ = writeln!(w, "\nSizes are the bytes the server sends for `Accept-Encoding: identity`, `gzip` and `br`; \"not served\" means the server had no such encoding and the size was computed here (gzip -9, brotli q11).");

        let _ = writeln!(w, "\n## Targets (issues 5 and 12)\n");
        let _ = writeln!(w, "| target | measured | |");
        let _ = writeln!(w, "|---|---|---|");
        if let Some((_, calls)) = &self.warm {
            let _ =
                writeln!(w, "| 0 Linode calls on a warm page view | {} | {} |", calls.len(), verdict(calls.is_empty()));
        }
        if let Some(deploy) = &self.deploy {
            let per_deploy = deploy.critical.iter().map(Vec::len).max().unwrap_or(0);
            let revoke_on_path = deploy.critical.iter().flatten().any(|r| r == REVOKE);
            // The code exchange and the create, and the app's firewall before the create (it
            // needs the firewall's id, so it cannot run beside it): three round trips.
            let _ = writeln!(
                w,
                "| 3 Linode calls on the deploy critical path (token, firewall, create), revoke after the response | {per_deploy} ({}); revoke {} | {} |",
                tally(&deploy.critical[0]),
                if revoke_on_path { "seen before the success view" } else { "after the success view" },
                verdict(per_deploy == 3 && !revoke_on_path)
            );
            let _ = writeln!(
                w,
                "| every deployment created its Linode | {} created for {} deploys | {} |",
                deploy.created,
                args.deploys + 1,
                verdict(deploy.created == args.deploys + 1)
            );
        }
        let all_served = !self.assets.is_empty() && self.assets.iter().all(|a| a.gzip.served && a.brotli.served);
        let immutable = !self.assets.is_empty() && self.assets.iter().all(|a| a.cache_control.contains("immutable"));
        let _ = writeln!(
            w,
            "| first page WASM + JS + CSS ≤ 120 KB (120 000 bytes) brotli | {brotli} bytes ({}) | {} |",
            kib(brotli),
            verdict(brotli <= BROTLI_BUDGET && !self.assets.is_empty())
        );
        let _ = writeln!(
            w,
            "| served precompressed (brotli and gzip) | {} | {} |",
            if all_served { "yes" } else { "no" },
            verdict(all_served)
        );
        let _ = writeln!(
            w,
            "| long cache lifetime for hashed assets | {} | {} |",
            if immutable { "immutable, 1 year" } else { "no" },
            verdict(immutable)
        );
        if !self.loads.is_empty() {
            let errors: u64 = self.loads.iter().map(|load| load.result.errors).sum();
            let _ = writeln!(w, "| no errors under load | {errors} | {} |", verdict(errors == 0));
            let _ =
                writeln!(w, "| no Linode call under load | {} | {} |", self.load_calls, verdict(self.load_calls == 0));
        }
        let peak = self.steady_loads().map(|load| load.result.peak_rss_kib).max().unwrap_or(0);
        if peak > 0 {
            let _ = writeln!(
                w,
                "| RSS under load < 40 MiB (issue 12) | {} | {} |",
                mib(peak),
                verdict(peak < RSS_TARGET_KIB)
            );
        }
        for load in self.loads.iter().filter(|load| load.requests == Requests::NewQueryEach) {
            let (path, result) = (load.shown(), &load.result);
            let _ = writeln!(
                w,
                "| RSS while every request asks for a page not cached (`{path}`; pages capped at 8 MiB) | {} | measured |",
                mib(result.peak_rss_kib)
            );
        }
        out
    }
}

fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day())
}

fn read_proc(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default().trim().to_owned()
}

fn machine_name() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = cpu_model().to_lowercase();
    let vendor =
        cpu.split_whitespace().find(|w| !["amd", "intel(r)", "intel", "cpu", "(r)"].contains(w)).unwrap_or("cpu");
    let slug: String = vendor.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("{slug}-{cores}core")
}

fn cpu_model() -> String {
    read_proc("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").and_then(|rest| rest.split_once(':')).map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn machine_description() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = read_proc("/proc/meminfo")
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:").map(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().unwrap_or(0))
        })
        .map_or_else(String::new, |kib| format!(", {:.1} GiB RAM", kib as f64 / 1024.0 / 1024.0));
    format!(
        "{}, {cores} cores{memory}, Linux {} — shared with other work; wrk, the sandbox and the server share these cores",
        cpu_model(),
        read_proc("/proc/sys/kernel/osrelease")
    )
}
