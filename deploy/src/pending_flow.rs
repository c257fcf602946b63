//! The deployment a browser has started and not yet finished, as sealed in its cookie.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use domain::selection::Selection;

#[derive(Clone, Serialize, Deserialize)]
pub struct PendingFlow {
    /// The OAuth `state`: random, single use, compared in constant time on return.
    pub state: String,
    pub selection: Selection,
    /// Seconds since the Unix epoch; the cookie's own expiry is not trusted alone.
    pub started_at: u64,
    /// The PKCE verifier of this authorization (RFC 7636), unless PKCE is switched off: a code
    /// replayed into another browser's flow cannot be redeemed without it.
    #[serde(default)]
    pub pkce_verifier: Option<String>,
}

impl std::fmt::Debug for PendingFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingFlow")
            .field("started_at", &self.started_at)
            .field("pkce", &self.pkce_verifier.is_some())
            .finish_non_exhaustive()
    }
}

impl PendingFlow {
    pub fn new(selection: Selection, pkce: bool) -> Self {
        let pkce_verifier = pkce.then(|| linode::PkceVerifier::random().secret().to_owned());
        Self { state: random_hex(32), selection, started_at: now_secs(), pkce_verifier }
    }

    pub fn pkce(&self) -> Option<linode::PkceVerifier> {
        self.pkce_verifier.clone().map(linode::PkceVerifier::from_secret)
    }

    pub fn matches(&self, state: &str) -> bool {
        self.state.as_bytes().ct_eq(state.as_bytes()).into()
    }

    pub fn is_expired(&self, ttl: Duration) -> bool {
        now_secs().saturating_sub(self.started_at) > ttl.as_secs()
    }
}

pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    hex::encode(buffer)
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}
