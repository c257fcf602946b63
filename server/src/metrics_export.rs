//! `/metrics` in Prometheus' text format, on an address of its own (`METRICS_ADDR`), never on
//! the public one: the numbers say how the site is used, which is the operator's business.
//!
//! The recorder is process-wide (the `metrics` facade has one): it is installed once, by the
//! first server built in the process, and every later one shares it.

use std::{net::SocketAddr, sync::OnceLock, time::Duration};

use axum::{routing::get, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Buckets for the callback (Linode's calls included) and for each call to Linode.
const SECONDS_BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use; `None` if another recorder was installed
/// first (then there is nothing of ours to render).
fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS_BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// Installs the recorder and binds `addr` for `/metrics`.
pub async fn listen(addr: SocketAddr) -> std::io::Result<(TcpListener, Router)> {
    let handle = handle().ok_or_else(|| std::io::Error::other("another metrics recorder is installed"))?.clone();
    let listener = TcpListener::bind(addr).await?;
    // Histograms keep a window of samples; drain it now and then so memory stays flat.
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    let router = Router::new().route("/metrics", get(move || std::future::ready(handle.render())));
    Ok((listener, router))
}
