//! Is the application up? `running` only means the Linode booted; its StackScript then installs
//! the application for minutes more, and Linode has no signal for when it is done. The operator
//! declares how to tell from outside (`READY_CHECK`, e.g. `http://{ipv4}/`), and once the Linode
//! runs — its token already revoked — one task per deployment tries that address with backoff
//! until it answers or the time is up. It needs no token.
//!
//! Only the IPv4 Linode returned for the new Linode is ever tried, only on the declared scheme
//! and port, and only when it is a public address: a check must not become a way to reach this
//! server's own network. On the sandbox, whose Linodes have documentation-range addresses that
//! route nowhere, the embedding server maps those addresses to the sandbox's loopback listener.
//!
//! [`ready_check`] parses the template, [`public_address`] is the guard, [`prober`] runs the checks.

mod prober;
mod public_address;
mod ready_check;

pub use prober::{AttemptFailed, Network, ProbeLimits, Prober, SandboxRoute};
pub use public_address::{public, Refused};
pub use ready_check::{ReadyCheck, ReadyCheckError, Scheme, PLACEHOLDER};

use std::net::Ipv4Addr;

use domain::{Progress, Readiness};

use prober::abandoned_after;

/// A check of the application whose server stopped renewing it (that server stopped) is shown
/// as such, rather than as installing for ever. Works on a replica without a check of its own
/// too (configured differently, or the check switched off since), with the default pace.
pub fn settle(progress: &mut Progress, prober: Option<&Prober>) {
    let Readiness::Installing { checked_ms, .. } = &progress.app else { return };
    let limits = prober.map(Prober::limits).unwrap_or_default();
    let abandoned = i64::try_from(abandoned_after(&limits).as_millis()).unwrap_or(i64::MAX);
    if super::store::now_ms() - checked_ms <= abandoned {
        return;
    }
    let ip: Option<Ipv4Addr> = progress.ipv4.as_deref().and_then(|ip| ip.parse().ok());
    progress.app = match (prober, ip) {
        (Some(prober), Some(ip)) => {
            Readiness::Unknown { address: prober.check().address(ip), link: prober.check().link(ip) }
        }
        _ => Readiness::Unknown { address: progress.ipv4.clone().unwrap_or_default(), link: None },
    };
}

#[cfg(test)]
mod tests;
