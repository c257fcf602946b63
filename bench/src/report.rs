//! The Markdown report `scripts/bench.sh` prints and keeps in `bench/results/`: one section per
//! measurement, then the targets, each met or missed.

use std::fmt::Write as _;
use std::time::Duration;

use crate::{
    load::{LoadSettings, Requests},
    load_target,
    machine::{machine_description, today},
    ms, sizes, Args, Load, Stats, BROTLI_BUDGET, P99_TARGET_MS, REVOKE, RSS_TARGET_KIB,
};

pub(crate) struct DeployReport {
    pub(crate) times: Stats,
    /// Linode calls between the callback request and the success view, per deployment.
    pub(crate) critical: Vec<Vec<String>>,
    pub(crate) slow_revoke: Duration,
    pub(crate) created: usize,
}

#[derive(Default)]
pub(crate) struct Report {
    pub(crate) cold: Option<(Stats, Vec<Vec<String>>)>,
    pub(crate) warm: Option<(Stats, Vec<String>)>,
    /// Warm views that accept brotli (the cached page, compressed once).
    pub(crate) warm_brotli: Option<Stats>,
    pub(crate) deploy: Option<DeployReport>,
    /// The same deployments with the store on PostgreSQL.
    pub(crate) deploy_postgres: Option<Stats>,
    /// Each URL under load, `/healthz` first, and the Linode calls made meanwhile.
    pub(crate) loads: Vec<Load>,
    pub(crate) load_calls: usize,
    pub(crate) idle_memory: Option<(u64, u64)>,
    pub(crate) after_load_memory: Option<(u64, u64)>,
    /// The HTML of `/`, as the page cache sends it.
    pub(crate) page: Option<sizes::Asset>,
    pub(crate) assets: Vec<sizes::Asset>,
    /// Why the assets could not be measured (e.g. no site was built).
    pub(crate) asset_error: Option<String>,
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

    pub(crate) fn render(&self, args: &Args, latency: u64, load: &LoadSettings) -> String {
        let mut out = String::new();
        let w = &mut out;
        Self::header(w, args, latency);
        self.results(w, latency, load);
        self.first_page_assets(w);
        self.targets(w, args);
        out
    }

    fn header(w: &mut String, args: &Args, latency: u64) {
        let _ = writeln!(w, "# Benchmark {}\n", today());
        let _ = writeln!(w, "Machine: {}\n", machine_description());
        let _ = writeln!(
            w,
            "Setup: release server (`{}`) in its own process, talking over HTTP to the Linode sandbox with **{latency} ms added to every Linode call**; \
             times are measured by the client over loopback, so they include HTTP on 127.0.0.1 but no network. \
             Produced by `scripts/bench.sh` (`bench/src/main.rs`).\n",
            args.server.display()
        );
    }

    /// Page views, deployments, memory and load, each with the Linode calls it made.
    fn results(&self, w: &mut String, latency: u64, load: &LoadSettings) {
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
    }

    /// Each asset of the first page, raw and as sent compressed.
    fn first_page_assets(&self, w: &mut String) {
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
    }

    /// The issues' targets, each met or missed.
    fn targets(&self, w: &mut String, args: &Args) {
        let brotli: usize = self.assets.iter().map(|a| a.brotli.bytes).sum();
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
    }
}
