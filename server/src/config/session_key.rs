//! `SESSION_KEY`: the secret that seals cookies and encrypts stored rows. Refused at start when it
//! is short or plainly not random, since a guessable key opens every visitor's cookies.

use secrecy::{ExposeSecret, SecretString};

use super::{vars::Vars, ConfigError, LinodeTarget};

/// Fewer bytes than this and the cookie key could be guessed.
pub const MIN_SESSION_KEY_BYTES: usize = 32;
/// What the key's characters must carry at least, by their spread (`openssl rand -hex 32`
/// gives about 250).
pub const MIN_SESSION_KEY_BITS: u32 = 128;

/// The key's length times the Shannon entropy of its characters: a rough ceiling on how much
/// randomness it holds. It cannot prove a key random, but it refuses the ones that plainly are
/// not — one character repeated, a short word over and over.
pub fn estimated_bits(key: &str) -> u32 {
    // A key that repeats a shorter piece holds no more than that piece.
    let bytes = key.as_bytes();
    let period = (1..=bytes.len())
        .find(|&p| bytes.len().is_multiple_of(p) && bytes.chunks(p).all(|c| c == &bytes[..p]))
        .unwrap_or(bytes.len());
    let bytes = &bytes[..period];
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    let per_char: f64 = counts.iter().filter(|&&c| c > 0).map(|&c| c as f64 / n).map(|p| -p * p.log2()).sum();
    (per_char * n) as u32
}

/// `SESSION_KEY_PREVIOUS`: the keys `SESSION_KEY` replaced, comma-separated, each checked as
/// `SESSION_KEY` is. What they sealed (cookies, stored rows) is still opened; nothing new is
/// sealed with them, and the stored rows are sealed again with the current key at start.
pub(super) fn read_previous(vars: &Vars<impl Fn(&str) -> Option<String>>) -> Result<Vec<SecretString>, ConfigError> {
    let Some(list) = vars.text("SESSION_KEY_PREVIOUS") else { return Ok(Vec::new()) };
    list.split(',')
        .map(str::trim)
        .filter(|key| !key.is_empty())
        .map(|key| match weakness(key) {
            Some(Weakness::Short(bytes)) => Err(ConfigError::ShortPreviousKey(bytes)),
            Some(Weakness::Guessable(bits)) => Err(ConfigError::WeakPreviousKey(bits)),
            None => Ok(SecretString::from(key.to_owned())),
        })
        .collect()
}

/// Why a key would be unsafe to seal with (or to have sealed with).
enum Weakness {
    Short(usize),
    Guessable(u32),
}

/// The one check every key goes through, current or previous.
fn weakness(key: &str) -> Option<Weakness> {
    if key.len() < MIN_SESSION_KEY_BYTES {
        return Some(Weakness::Short(key.len()));
    }
    let bits = estimated_bits(key);
    (bits < MIN_SESSION_KEY_BITS).then_some(Weakness::Guessable(bits))
}

/// The key, checked; required with a Linode OAuth client (the embedded sandbox makes one up).
pub(super) fn read(
    vars: &Vars<impl Fn(&str) -> Option<String>>,
    linode: &LinodeTarget,
) -> Result<Option<SecretString>, ConfigError> {
    let key = vars.text("SESSION_KEY").map(SecretString::from);
    match (&key, linode) {
        // It must be writable in SESSION_KEY_PREVIOUS at the next rotation, which splits on
        // commas and trims: a key that would not survive that could not be read back then.
        (Some(key), _) if key.expose_secret().contains(',') || key.expose_secret().trim() != key.expose_secret() => {
            Err(ConfigError::UnlistableSessionKey)
        }
        (Some(secret), _) => match weakness(secret.expose_secret()) {
            Some(Weakness::Short(bytes)) => Err(ConfigError::ShortSessionKey(bytes)),
            Some(Weakness::Guessable(bits)) => Err(ConfigError::WeakSessionKey(bits)),
            None => Ok(key),
        },
        (None, LinodeTarget::Remote { .. }) => Err(ConfigError::Required("SESSION_KEY")),
        (None, LinodeTarget::EmbeddedSandbox) => Ok(None),
    }
}
