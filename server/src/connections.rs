//! The public listener's connections: accepted, capped per client address, served over HTTP/1.1
//! with a deadline on each request's line and headers, and shut down gracefully.
//!
//! `axum::serve` sets no read timeout at all: a client that sends half a request line, or one
//! header every few seconds, holds its connection (and a task) for as long as it likes. Here
//! hyper's `header_read_timeout` closes a connection whose request line and headers are not all
//! in within `HTTP_HEADER_TIMEOUT_SECS`; the same deadline runs while a kept-alive connection
//! waits for its next request, so idle connections go too (closed without a word, so a client
//! that sends a request just then retries it on a new connection, as HTTP/1.1 clients do). Bodies have their own
//! deadline (`HTTP_BODY_TIMEOUT_SECS`, in [`crate::body_limit`]). And one address may hold at
//! most `MAX_CONNECTIONS_PER_CLIENT` connections at once: the next is closed as soon as it is
//! accepted, before anything is read, so one client cannot take every connection the process
//! can hold.
//!
//! HTTP/1.1 only, as before (axum is built without HTTP/2, so `axum::serve` spoke only 1.1 too):
//! browsers speak HTTP/2 only over TLS, which a proxy in front terminates.

use std::{
    collections::HashMap,
    future::Future,
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, server::conn::http1};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::net::TcpListener;

use crate::rate_limit::limit_key;

/// How the public listener treats its connections.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// `HTTP_HEADER_TIMEOUT_SECS`.
    pub header_timeout: Duration,
    /// `MAX_CONNECTIONS_PER_CLIENT`; `None`: no cap.
    pub per_client: Option<NonZeroU32>,
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and waits for
/// the requests in flight (a callback creating a Linode included) to finish. Each request
/// carries its connection's peer as [`ConnectInfo`], as `into_make_service_with_connect_info`
/// gave it.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let open = limits.per_client.map(OpenConnections::new);
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match &open {
            Some(open) => match open.admit(peer.ip()) {
                Some(slot) => Some(slot),
                None => {
                    // Dropped unread: the client sees the connection close.
                    metrics::counter!("connections_refused_total").increment(1);
                    tracing::debug!(client = %peer.ip(), "connection refused: too many open from this address");
                    continue;
                }
            },
            None => None,
        };
        let service = tower::ServiceExt::map_request(router.clone(), move |mut request: http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection =
            graceful.watch(builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // A header timeout, a client gone mid-request: theirs, not the server's.
                tracing::debug!(%error, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// As `axum::serve` does: a connection that failed before it was accepted is the client's
/// affair; anything else (out of file descriptors) is waited out a little rather than spun on.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(error.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// How many connections each client address holds open. An address is in the map only while it
/// has a connection open, so the map never holds more entries than there are open connections.
struct OpenConnections {
    cap: u32,
    by_client: Mutex<HashMap<IpAddr, u32>>,
}

impl OpenConnections {
    fn new(cap: NonZeroU32) -> Arc<Self> {
        Arc::new(Self { cap: cap.get(), by_client: Mutex::new(HashMap::new()) })
    }

    /// A place for one more connection from `client` (an IPv6 client counted by its /64, as the
    /// rate limits count it), or `None` when it holds its cap already.
    fn admit(self: &Arc<Self>, client: IpAddr) -> Option<Slot> {
        let key = limit_key(client);
        let mut by_client = self.by_client.lock().unwrap_or_else(PoisonError::into_inner);
        let open = by_client.entry(key).or_insert(0);
        if *open >= self.cap {
            return None;
        }
        *open += 1;
        Some(Slot { connections: self.clone(), key })
    }
}

/// One open connection's place; given back when the connection ends.
struct Slot {
    connections: Arc<OpenConnections>,
    key: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut by_client = self.connections.by_client.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = by_client.get_mut(&self.key) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                by_client.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_cap_and_its_places_back() {
        let open = OpenConnections::new(NonZeroU32::new(2).unwrap());
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        let first = open.admit(a).unwrap();
        let _second = open.admit(a).unwrap();
        assert!(open.admit(a).is_none(), "a third from the same address");
        let _other = open.admit(b).expect("another address has its own count");
        drop(first);
        let _again = open.admit(a).expect("a closed connection's place is given back");
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_forgotten_when_it_closes() {
        let open = OpenConnections::new(NonZeroU32::new(1).unwrap());
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let slot = open.admit(one).unwrap();
        assert!(open.admit(same_64).is_none());
        drop(slot);
        assert!(open.by_client.lock().unwrap().is_empty(), "no entry outlives its connections");
    }
}
