//! Secrets at rest: AES-256-GCM under a key derived from `SESSION_KEY` with HKDF-SHA256 (its own
//! `info`, so the store key and the cookie key never coincide). Each sealed value is bound to the
//! table and row it was written for (the AEAD's associated data): a value copied into another row,
//! or sealed under another key, is refused rather than misread.

use aes_gcm::{
    aead::{Aead, Payload},
    Aes256Gcm, KeyInit, Nonce,
};
use hkdf::Hkdf;
use rand::RngCore;
use sha2::Sha256;

const NONCE_LEN: usize = 12;
const SALT: &[u8] = b"install-on-linode/store";
const INFO: &[u8] = b"aes-256-gcm row key v1";

pub struct RowCipher {
    cipher: Aes256Gcm,
    /// Keys `SESSION_KEY` replaced: rows they sealed still open (and are re-sealed).
    previous: Vec<Aes256Gcm>,
}

/// Which key opened a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenedWith {
    Current,
    /// A previous key: the value should be sealed again with the current one.
    Previous,
}

fn row_key(session_key: &[u8]) -> Aes256Gcm {
    let mut key = [0u8; 32];
    Hkdf::<Sha256>::new(Some(SALT), session_key)
        .expand(INFO, &mut key)
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    Aes256Gcm::new(&key.into())
}

/// The value was not sealed with this key for this row.
#[derive(Debug, thiserror::Error)]
#[error("a sealed value could not be opened (another key, another row, or altered)")]
pub struct Unsealable;

impl RowCipher {
    pub fn new(session_key: &[u8]) -> Self {
        Self { cipher: row_key(session_key), previous: Vec::new() }
    }

    /// Also opens what `previous` keys sealed (`SESSION_KEY_PREVIOUS`, during a rotation).
    #[must_use]
    pub fn with_previous<K: AsRef<[u8]>>(mut self, previous: &[K]) -> Self {
        self.previous = previous.iter().map(|key| row_key(key.as_ref())).collect();
        self
    }

    pub fn has_previous(&self) -> bool {
        !self.previous.is_empty()
    }

    /// `nonce || ciphertext+tag`, bound to `row` (e.g. `"outcome_secrets/<id>"`).
    pub fn seal(&self, row: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: row.as_bytes() })
            .expect("AES-GCM encrypts any message under 64 GiB");
        [nonce.as_slice(), &sealed].concat()
    }

    pub fn open(&self, row: &str, sealed: &[u8]) -> Result<Vec<u8>, Unsealable> {
        self.open_telling(row, sealed).map(|(plain, _)| plain)
    }

    /// The value, and whether the current key or a previous one opened it.
    pub fn open_telling(&self, row: &str, sealed: &[u8]) -> Result<(Vec<u8>, OpenedWith), Unsealable> {
        if sealed.len() < NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let with = |cipher: &Aes256Gcm| {
            cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: row.as_bytes() }).ok()
        };
        if let Some(plain) = with(&self.cipher) {
            return Ok((plain, OpenedWith::Current));
        }
        self.previous.iter().find_map(with).map(|plain| (plain, OpenedWith::Previous)).ok_or(Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_rows_keys_and_edits() {
        let cipher = RowCipher::new(b"0123456789abcdef0123456789abcdef");
        let sealed = cipher.seal("outcome_secrets/a", b"hunter2");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(cipher.open("outcome_secrets/a", &sealed).unwrap(), b"hunter2");
        assert!(cipher.open("outcome_secrets/b", &sealed).is_err(), "bound to its row");
        let other = RowCipher::new(b"fedcba9876543210fedcba9876543210");
        assert!(other.open("outcome_secrets/a", &sealed).is_err(), "bound to its key");
        let mut edited = sealed.clone();
        *edited.last_mut().unwrap() ^= 1;
        assert!(cipher.open("outcome_secrets/a", &edited).is_err());
        assert!(cipher.open("outcome_secrets/a", b"short").is_err());
    }
}
