//! What the operator can watch (Prometheus, through the `metrics` facade; the server exports it
//! on `METRICS_ADDR`). One function per event, so every name and label is written once here.
//! Labels are kinds and outcomes only: never an id, a label chosen by a person, or a secret.

use std::time::Duration;

use domain::{FailureKind, Readiness};

/// A person clicked Deploy and was sent to Linode's login.
pub fn deploy_started() {
    metrics::counter!("deploys_started_total").increment(1);
}

/// A Linode was created.
pub fn deploy_completed() {
    metrics::counter!("deploys_completed_total").increment(1);
}

/// A deployment that came back from Linode did not create a Linode, by why.
pub fn deploy_failed(kind: FailureKind) {
    metrics::counter!("deploys_failed_total", "kind" => kind.as_str()).increment(1);
}

/// A callback that was not this browser's flow (junk, forged, another browser's replay).
pub fn callback_refused(kind: FailureKind) {
    metrics::counter!("callbacks_refused_total", "kind" => kind.as_str()).increment(1);
}

/// How long `GET /auth/callback` took, Linode's calls included.
pub fn callback_duration(elapsed: Duration) {
    metrics::histogram!("callback_duration_seconds").record(elapsed.as_secs_f64());
}

/// A journaled token that no key of this server opens (sealed under a `SESSION_KEY` it does not
/// have, or altered): left for a replica that can read it, and counted here so it is not missed.
pub fn journal_unreadable() {
    metrics::counter!("journal_unreadable_total").increment(1);
}

/// A token revocation, confirmed by Linode or given up (the journal keeps such a token).
pub fn token_revocation(confirmed: bool) {
    if confirmed {
        metrics::counter!("tokens_revoked_total").increment(1);
    } else {
        metrics::counter!("token_revoke_failures_total").increment(1);
    }
}

/// Tokens journaled and not yet revoked, held by this replica.
pub fn tokens_held(count: u64) {
    metrics::gauge!("tokens_held").set(count as f64);
}

/// A catalog load: when it last succeeded (seconds since the epoch; the age is `time() -` it),
/// or one more failure.
pub fn catalog_loaded(ok: bool) {
    if ok {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        metrics::gauge!("catalog_refreshed_timestamp_seconds").set(now.as_secs_f64());
    } else {
        metrics::counter!("catalog_refresh_failures_total").increment(1);
    }
}

/// What a check of an installed application concluded.
pub fn app_check(concluded: &Readiness) {
    let outcome = match concluded {
        Readiness::Ready { .. } => "ready",
        Readiness::NotAnswering { .. } => "not_answering",
        Readiness::NotChecked => "refused_address",
        Readiness::Installing { .. } | Readiness::Unknown { .. } => return,
    };
    metrics::counter!("app_checks_total", "outcome" => outcome).increment(1);
}
