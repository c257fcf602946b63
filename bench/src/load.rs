//! Concurrent load on one URL with wrk, asking for brotli as browsers do, (Debian's `wrk`), sampling the server's memory meanwhile.

use std::{process::Command, time::Duration};

use crate::{server::ServerProcess, Result};

pub(crate) struct LoadSettings {
    pub connections: u32,
    pub threads: u32,
    pub duration: Duration,
}

pub(crate) struct LoadResult {
    pub requests: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    /// Socket errors plus non-2xx/3xx answers.
    pub errors: u64,
    /// Highest `VmRSS` seen while the load ran, KiB.
    pub peak_rss_kib: u64,
}

/// What each request of a load asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Requests {
    /// The URL as given, every time.
    Same,
    /// The URL with a query no request asked before (`?label=…`): for `/`, a page the page cache
    /// does not hold, rendered and compressed on the spot — what anyone can make the server do.
    NewQueryEach,
}

/// Makes wrk ask for a new `label` on every request (each thread numbers its own).
const NEW_QUERY_EACH: &str = r#"
local threads = 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
local n = 0
function request() n = n + 1; return wrk.format(nil, wrk.path .. "?label=load-" .. id .. "-" .. n) end
"#;

pub(crate) async fn run(
    server: &ServerProcess,
    url: &str,
    requests: Requests,
    settings: &LoadSettings,
) -> Result<LoadResult> {
    let script = std::env::temp_dir().join(format!("iol-bench-{}.lua", std::process::id()));
    let mut wrk = Command::new("wrk");
    if requests == Requests::NewQueryEach {
        std::fs::write(&script, NEW_QUERY_EACH)?;
        wrk.arg("-s").arg(&script);
    }
    wrk.arg(format!("-t{}", settings.threads))
        .arg(format!("-c{}", settings.connections))
        .arg(format!("-d{}s", settings.duration.as_secs()))
        .arg("--latency")
        // As a browser asks: the page and the assets are sent in their brotli form.
        .args(["-H", "Accept-Encoding: br"])
        .arg(url);
    let run = tokio::task::spawn_blocking(move || wrk.output());
    let mut peak_rss_kib = 0;
    while !run.is_finished() {
        if let Some((rss, _)) = server.memory_kib() {
            peak_rss_kib = peak_rss_kib.max(rss);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let output = run.await?.map_err(|e| format!("could not run wrk (scripts/bench.sh installs it): {e}"))?;
    if !output.status.success() {
        return Err(format!("wrk failed: {}", String::from_utf8_lossy(&output.stderr)).into());
    }
    let text = String::from_utf8_lossy(&output.stdout);
    parse(&text, peak_rss_kib).ok_or_else(|| format!("unexpected wrk output:\n{text}").into())
}

fn parse(text: &str, peak_rss_kib: u64) -> Option<LoadResult> {
    let percentile = |label: &str| {
        text.lines().map(str::trim).find_map(|line| line.strip_prefix(label)).and_then(|rest| duration_ms(rest.trim()))
    };
    let requests =
        text.lines().find(|l| l.contains(" requests in ")).and_then(|l| l.split_whitespace().next()?.parse().ok())?;
    let requests_per_sec =
        text.lines().find_map(|l| l.trim().strip_prefix("Requests/sec:")).and_then(|v| v.trim().parse().ok())?;
    let socket_errors: u64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|rest| rest.split(',').filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    let bad_status: u64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Some(LoadResult {
        requests,
        requests_per_sec,
        p50_ms: percentile("50%")?,
        p90_ms: percentile("90%")?,
        p99_ms: percentile("99%")?,
        errors: socket_errors + bad_status,
        peak_rss_kib,
    })
}

/// wrk prints durations as `812.00us`, `1.25ms` or `1.02s`.
fn duration_ms(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.trim().parse::<f64>().ok().map(|n| n * factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Running 10s test @ http://127.0.0.1:3000/
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.54ms    3.21ms  60.12ms   80.00%
    Req/Sec     2.40k   200.00     2.90k    70.00%
  Latency Distribution
     50%   10.01ms
     75%   12.00ms
     90%   14.50ms
     99%  812.00us
  47950 requests in 10.00s, 1.20GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   4794.50
Transfer/sec:    122.00MB
";

    #[test]
    fn reads_wrk_output() {
        let result = parse(SAMPLE, 7).unwrap();
        assert_eq!(result.requests, 47950);
        assert!((result.requests_per_sec - 4794.5).abs() < 1e-9);
        assert!((result.p50_ms - 10.01).abs() < 1e-9);
        assert!((result.p99_ms - 0.812).abs() < 1e-9);
        assert_eq!(result.errors, 7);
        assert_eq!(duration_ms("1.50s"), Some(1500.0));
    }
}
