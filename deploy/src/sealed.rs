//! Encrypted, signed cookies: the browser carries the pending deployment, but can neither read nor
//! alter it. Built on the `cookie` crate's private jar (AES-256-GCM), the same one axum-extra's
//! `PrivateCookieJar` wraps; used directly because server functions set cookies through headers.

use std::time::Duration;

use cookie::{Cookie, CookieJar, Key, SameSite};
use http::{header::COOKIE, HeaderMap};
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha512};

use super::{pending_flow::PendingFlow, result_ref::ResultRef};

/// A cookie this server seals: its name and the type it holds, paired once, so a cookie can only
/// be opened as what was sealed into it.
pub trait SealedCookie {
    /// The name without the `__Host-` prefix https adds.
    const NAME: &'static str;
    type Value: Serialize + DeserializeOwned;
}

/// The deployment between "Deploy" and the return from Linode.
pub struct FlowCookie;

impl SealedCookie for FlowCookie {
    const NAME: &'static str = "iol_flow";
    type Value = PendingFlow;
}

/// Which outcome this browser may look at.
pub struct OutcomeCookie;

impl SealedCookie for OutcomeCookie {
    const NAME: &'static str = "iol_outcome";
    type Value = ResultRef;
}

/// What every browser keeps of one cookie (RFC 6265 §6.1 asks for at least 4096 bytes).
pub const MAX_COOKIE: usize = 4000;

pub struct Sealer {
    key: Key,
    /// Keys `SESSION_KEY` replaced: what they sealed still opens, nothing new is sealed with them.
    previous: Vec<Key>,
    secure: bool,
}

/// The jar's 64 bytes of key material from the operator's secret, whatever its length.
fn jar_key(session_key: &[u8]) -> Key {
    Key::from(Sha512::digest(session_key).as_slice())
}

impl Sealer {
    /// `session_key` is the operator's secret (at least 32 bytes, checked by the configuration).
    pub fn new(session_key: &[u8], secure: bool) -> Self {
        Self { key: jar_key(session_key), previous: Vec::new(), secure }
    }

    /// Also opens what `previous` keys sealed (`SESSION_KEY_PREVIOUS`, during a rotation).
    #[must_use]
    pub fn with_previous<K: AsRef<[u8]>>(mut self, previous: &[K]) -> Self {
        self.previous = previous.iter().map(|key| jar_key(key.as_ref())).collect();
        self
    }

    /// The current key, then the previous ones.
    fn keys(&self) -> impl Iterator<Item = &Key> {
        std::iter::once(&self.key).chain(&self.previous)
    }

    /// The cookie's name as sent: over https with the `__Host-` prefix, which browsers accept
    /// only from a secure origin, with `Path=/` and no `Domain` — so neither a sibling subdomain
    /// nor a plain-http page can plant or overwrite it.
    pub fn cookie_name(&self, name: &'static str) -> String {
        if self.secure {
            format!("__Host-{name}")
        } else {
            name.to_owned()
        }
    }

    /// A `Set-Cookie` value holding `value`, encrypted and authenticated.
    pub fn seal<C: SealedCookie>(&self, value: &C::Value, max_age: Duration) -> Option<String> {
        let json = serde_json::to_string(value).ok()?;
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(self.build(C::NAME, json, max_age));
        jar.delta().next().map(|cookie| cookie.encoded().to_string())
    }

    /// A `Set-Cookie` value that deletes the cookie.
    pub fn removal<C: SealedCookie>(&self) -> String {
        self.build(C::NAME, String::new(), Duration::ZERO).encoded().to_string()
    }

    /// `value`, encrypted and authenticated, as a URL-safe token (for a query parameter).
    pub fn seal_token<T: Serialize>(&self, purpose: &'static str, value: &T) -> Option<String> {
        let json = serde_json::to_string(value).ok()?;
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(Cookie::new(purpose, json));
        jar.get(purpose).map(|cookie| cookie.value().to_owned())
    }

    /// The value of a token made by [`Self::seal_token`] for the same purpose, or `None`.
    pub fn open_token<T: DeserializeOwned>(&self, purpose: &'static str, token: &str) -> Option<T> {
        let mut jar = CookieJar::new();
        jar.add_original(Cookie::new(purpose, token.to_owned()));
        let cookie = self.keys().find_map(|key| jar.private(key).get(purpose))?;
        serde_json::from_str(cookie.value()).ok()
    }

    /// The decrypted value of cookie `C`, or `None` when it is absent, tampered with, sealed
    /// with another key, or not what we wrote.
    pub fn open<C: SealedCookie>(&self, headers: &HeaderMap) -> Option<C::Value> {
        let mut jar = CookieJar::new();
        for header in headers.get_all(COOKIE) {
            let Ok(header) = header.to_str() else { continue };
            for cookie in Cookie::split_parse_encoded(header.to_owned()).flatten() {
                jar.add_original(cookie.into_owned());
            }
        }
        let name = self.cookie_name(C::NAME);
        let cookie = self.keys().find_map(|key| jar.private(key).get(&name))?;
        serde_json::from_str(cookie.value()).ok()
    }

    fn build(&self, name: &'static str, value: String, max_age: Duration) -> Cookie<'static> {
        Cookie::build((self.cookie_name(name), value))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(cookie::time::Duration::seconds(max_age.as_secs() as i64))
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    /// A cookie of the flow's name holding anything, as the tests seal it.
    struct Test<T>(std::marker::PhantomData<T>);

    impl<T: Serialize + DeserializeOwned> SealedCookie for Test<T> {
        const NAME: &'static str = FlowCookie::NAME;
        type Value = T;
    }

    fn request_with(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap_or_default();
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(pair).unwrap());
        headers
    }

    #[test]
    fn round_trips_and_hides_the_value() {
        let sealer = Sealer::new(b"0123456789abcdef0123456789abcdef", true);
        let set = sealer.seal::<Test<String>>(&"secret selection".to_owned(), Duration::from_secs(60)).unwrap();
        assert!(!set.contains("secret selection"));
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Secure"));
        let opened = sealer.open::<Test<String>>(&request_with(&set));
        assert_eq!(opened.as_deref(), Some("secret selection"));
        assert!(set.starts_with("__Host-iol_flow="), "over https the name carries __Host-: {set}");
        assert!(set.contains("Path=/") && !set.contains("Domain"));
        let plain = Sealer::new(b"0123456789abcdef0123456789abcdef", false);
        assert!(plain.seal::<Test<u8>>(&1, Duration::from_secs(60)).unwrap().starts_with("iol_flow="));
    }

    #[test]
    fn tokens_round_trip_only_for_their_purpose() {
        let sealer = Sealer::new(b"0123456789abcdef0123456789abcdef", false);
        let token = sealer.seal_token("refusal", &"a message").unwrap();
        assert!(!token.contains("a message"));
        assert_eq!(sealer.open_token::<String>("refusal", &token).as_deref(), Some("a message"));
        assert_eq!(sealer.open_token::<String>("other", &token), None);
        assert_eq!(sealer.open_token::<String>("refusal", "forged"), None);
    }

    #[test]
    fn rejects_another_key_and_tampering() {
        let sealer = Sealer::new(b"0123456789abcdef0123456789abcdef", false);
        let other = Sealer::new(b"fedcba9876543210fedcba9876543210", false);
        let set = sealer.seal::<Test<u32>>(&42, Duration::from_secs(60)).unwrap();
        assert_eq!(other.open::<Test<u32>>(&request_with(&set)), None);
        let mut tampered = set.clone();
        let at = tampered.find('=').unwrap() + 5;
        let flipped = if &tampered[at..at + 1] == "A" { "B" } else { "A" };
        tampered.replace_range(at..at + 1, flipped);
        assert_eq!(sealer.open::<Test<u32>>(&request_with(&tampered)), None);
    }

    #[test]
    fn after_a_rotation_what_the_previous_key_sealed_opens_and_new_seals_use_the_new_key() {
        let old = Sealer::new(b"0123456789abcdef0123456789abcdef", false);
        let rotated = Sealer::new(b"fedcba9876543210fedcba9876543210", false)
            .with_previous(&[b"0123456789abcdef0123456789abcdef"]);
        let before = old.seal::<Test<u32>>(&7, Duration::from_secs(60)).unwrap();
        assert_eq!(rotated.open::<Test<u32>>(&request_with(&before)), Some(7));
        let token = old.seal_token("refusal", &"a message").unwrap();
        assert_eq!(rotated.open_token::<String>("refusal", &token).as_deref(), Some("a message"));
        // What the rotated sealer writes, the old key cannot open: it is sealed with the new one.
        let after = rotated.seal::<Test<u32>>(&8, Duration::from_secs(60)).unwrap();
        assert_eq!(old.open::<Test<u32>>(&request_with(&after)), None);
        assert_eq!(
            Sealer::new(b"fedcba9876543210fedcba9876543210", false).open::<Test<u32>>(&request_with(&after)),
            Some(8)
        );
    }
}
