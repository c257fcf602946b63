use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A Linode OAuth access token. `Debug` never shows it.
#[derive(Clone)]
pub struct AccessToken(SecretString);

/// A Linode OAuth refresh token. `Debug` never shows it.
#[derive(Clone)]
pub struct RefreshToken(SecretString);

impl AccessToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    /// The token itself, for an `Authorization` header or a revocation.
    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl RefreshToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }

    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([REDACTED])")
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let token = AccessToken::new("59340e48deadbeef");
        assert_eq!(format!("{token:?}"), "AccessToken([REDACTED])");
        assert_eq!(token.secret(), "59340e48deadbeef");
        assert!(!format!("{:?}", RefreshToken::new("r3fr3sh")).contains("r3fr3sh"));
    }
}
