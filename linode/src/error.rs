//! One error type per service. Their messages are written for the person using the app: they name
//! what went wrong at Linode and never include a token, a secret or a raw upstream body.

use std::time::Duration;

use serde::{Deserialize, Serialize};

const MAX_ERRORS: usize = 5;
const MAX_REASON: usize = 200;
const MAX_FIELD: usize = 64;

/// `text` without control characters, at most `max` characters (with an ellipsis when cut).
pub(crate) fn plain(text: &str, max: usize) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut cut: String = clean.chars().take(max).collect();
    cut.push('…');
    cut
}

/// One entry of Linode's `{"errors":[{"reason","field"}]}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `Invalid Token`: unknown, revoked or expired.
    #[error("Linode did not accept the access token (it is invalid, expired or revoked)")]
    InvalidToken,
    /// 401 `Your OAuth token is not authorized to use this endpoint.`
    #[error("the access token is not allowed to do this (a permission was not granted)")]
    NotAuthorized,
    #[error("Linode is rate-limiting requests{}", retry_hint(*retry_after))]
    RateLimited { retry_after: Option<Duration> },
    /// Any other 4xx, with Linode's reasons.
    #[error("Linode rejected the request: {}", describe(errors, *status))]
    Rejected { status: u16, errors: Vec<FieldError> },
    #[error("Linode had an internal problem (HTTP {status})")]
    Server { status: u16 },
    #[error("Linode did not answer in time")]
    Timeout,
    #[error("Linode could not be reached ({0})")]
    Network(String),
    #[error("Linode's answer could not be read ({0})")]
    Decode(String),
}

impl ApiError {
    /// Whether a non-idempotent request that failed this way may still have been carried out
    /// (the answer was lost, not refused).
    pub fn may_have_happened(&self) -> bool {
        matches!(self, Self::Timeout | Self::Network(_) | Self::Server { .. } | Self::Decode(_))
    }

    /// Whether repeating the same idempotent request may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Server { .. } | Self::Timeout | Self::Network(_))
    }

    pub(crate) fn from_status(status: u16, body: &[u8], retry_after: Option<Duration>) -> Self {
        let mut errors = serde_json::from_slice::<ErrorBody>(body).map(|body| body.errors).unwrap_or_default();
        // Linode's texts reach the person's page: plain, and only so much of them.
        errors.truncate(MAX_ERRORS);
        for error in &mut errors {
            error.reason = plain(&error.reason, MAX_REASON);
            error.field = error.field.as_deref().map(|field| plain(field, MAX_FIELD));
        }
        let says = |text: &str| errors.iter().any(|e| e.reason == text);
        match status {
            401 if says("Your OAuth token is not authorized to use this endpoint.") => Self::NotAuthorized,
            401 => Self::InvalidToken,
            429 => Self::RateLimited { retry_after },
            500..=599 => Self::Server { status },
            _ => Self::Rejected { status, errors },
        }
    }

    pub(crate) fn from_reqwest(error: &reqwest::Error) -> Self {
        if error.is_timeout() {
            Self::Timeout
        } else if error.is_decode() {
            Self::Decode(error.to_string())
        } else {
            // reqwest's message names the URL and the cause, never headers or bodies.
            Self::Network(root_cause(error))
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<FieldError>,
}

fn describe(errors: &[FieldError], status: u16) -> String {
    if errors.is_empty() {
        return format!("HTTP {status}");
    }
    errors
        .iter()
        .map(|e| match &e.field {
            Some(field) => format!("{field}: {}", e.reason),
            None => e.reason.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!("; try again in {} s", wait.as_secs().max(1)),
        None => "; try again in a minute".to_owned(),
    }
}

pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The login server answered with an RFC 6749 §5.2 error, e.g. `invalid_grant` for a used or
    /// expired code.
    #[error("Linode's login service refused it ({error}{})", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Rejected { error: String, description: Option<String> },
    /// A status without a readable OAuth error body (an HTML error page, a bare 5xx…).
    #[error("Linode's login service answered HTTP {0}")]
    Status(u16),
    #[error("Linode's login service did not answer in time")]
    Timeout,
    #[error("Linode's login service could not be reached ({0})")]
    Network(String),
    #[error("Linode's login service sent an answer that could not be read ({0})")]
    Decode(String),
}

impl LoginError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout | Self::Network(_) => true,
            Self::Status(status) => *status == 429 || *status >= 500,
            Self::Rejected { error, .. } => error == "server_error" || error == "temporarily_unavailable",
            Self::Decode(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linode_texts_are_plain_and_capped() {
        let long = "x".repeat(5000);
        let body = serde_json::json!({ "errors": (0..50).map(|_| serde_json::json!({ "reason": format!("bad\n\u{1b}[31m{long}"), "field": "f" })).collect::<Vec<_>>() });
        let ApiError::Rejected { errors, .. } = ApiError::from_status(400, body.to_string().as_bytes(), None) else {
            panic!("rejected")
        };
        assert_eq!(errors.len(), MAX_ERRORS);
        assert!(errors[0].reason.chars().count() <= MAX_REASON + 1 && !errors[0].reason.chars().any(char::is_control));
    }

    #[test]
    fn maps_linode_error_bodies() {
        let scope = br#"{"errors":[{"reason":"Your OAuth token is not authorized to use this endpoint."}]}"#;
        assert!(matches!(ApiError::from_status(401, scope, None), ApiError::NotAuthorized));
        let invalid = br#"{"errors":[{"reason":"Invalid Token"}]}"#;
        assert!(matches!(ApiError::from_status(401, invalid, None), ApiError::InvalidToken));
        let bad = br#"{"errors":[{"field":"type","reason":"A valid plan type by that ID was not found"},{"field":"region","reason":"region is not valid"}]}"#;
        let error = ApiError::from_status(400, bad, None);
        assert_eq!(
            error.to_string(),
            "Linode rejected the request: type: A valid plan type by that ID was not found; region: region is not valid"
        );
        let limited = ApiError::from_status(429, b"", Some(Duration::from_secs(12)));
        assert_eq!(limited.to_string(), "Linode is rate-limiting requests; try again in 12 s");
        assert!(limited.is_retryable());
        assert!(matches!(ApiError::from_status(503, b"<html>", None), ApiError::Server { status: 503 }));
        assert_eq!(ApiError::from_status(404, b"not json", None).to_string(), "Linode rejected the request: HTTP 404");
    }
}
