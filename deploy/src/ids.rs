//! The flow's identifiers, as types: plain data that the rest of the engine imports (they need
//! only the flow's random source).

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::pending_flow::random_hex;

/// Names one deployment's outcome (random, 128 bits). The browser holds it in a sealed cookie.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OutcomeId(String);

/// How the store refers to an OAuth `state` without keeping the value itself: its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StateKey(String);

/// One journaled token (random, 128 bits).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct JournalId(String);

/// This server process, as the token journal names the holder of a lease (random per start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaId(String);

impl OutcomeId {
    pub fn random() -> Self {
        Self(random_hex(16))
    }
}

impl StateKey {
    pub fn of(state: &str) -> Self {
        Self(hex::encode(Sha256::digest(state.as_bytes())))
    }
}

impl JournalId {
    pub fn random() -> Self {
        Self(random_hex(16))
    }
}

impl ReplicaId {
    pub fn random() -> Self {
        Self(random_hex(8))
    }
}

macro_rules! text_id {
    ($($name:ident),*) => {$(
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// As read back from the store.
            #[allow(dead_code, reason = "not every id is read back")]
            pub(crate) fn from_stored(value: String) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

text_id!(OutcomeId, StateKey, JournalId, ReplicaId);
