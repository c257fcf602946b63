//! The two error dialects: Linode API v4 (`{"errors":[{"reason","field"}]}`) and OAuth
//! (RFC 6749 §5.2 `{"error","error_description"}`), each mapped once to a response.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

/// Reason Linode gives for a missing, unknown, revoked or expired token.
pub const INVALID_TOKEN: &str = "Invalid Token";
/// Reason Linode gives when a token lacks the scope an endpoint needs.
pub const NOT_AUTHORIZED: &str = "Your OAuth token is not authorized to use this endpoint.";
/// Linode's 404 reason.
pub const NOT_FOUND: &str = "Not found";
/// Linode's 403 reason for a user without the grant or IAM permission an operation needs
/// (the status is the spec's; the text is what production answers, [undocumented]).
pub const FORBIDDEN: &str = "Unauthorized";

/// One entry of Linode's `errors` array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct FieldError {
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl FieldError {
    pub(crate) fn new(field: &str, reason: impl Into<String>) -> Self {
        Self { reason: reason.into(), field: Some(field.to_owned()) }
    }
}

/// Everything an API v4 route can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("invalid token")]
    InvalidToken,
    #[error("token lacks scope {accepted}")]
    NotAuthorized { accepted: &'static str, granted: String },
    #[error("not found")]
    NotFound,
    /// A restricted IAM user without the permission the operation needs.
    #[error("forbidden")]
    Forbidden,
    #[error("bad request: {0:?}")]
    BadRequest(Vec<FieldError>),
    #[error("rate limited")]
    RateLimited { limit: u32, reset_epoch: i64, retry_after_secs: u64 },
    /// A status chosen by fault injection.
    #[error("injected {status}: {reason}")]
    Injected { status: StatusCode, reason: String },
}

impl ApiError {
    pub(crate) fn field(field: &str, reason: impl Into<String>) -> Self {
        Self::BadRequest(vec![FieldError::new(field, reason)])
    }
}

/// Serializes Linode's error body.
pub(crate) fn linode_error_body(errors: Vec<FieldError>) -> Json<serde_json::Value> {
    Json(json!({ "errors": errors }))
}

fn reason(text: &str) -> Vec<FieldError> {
    vec![FieldError { reason: text.to_owned(), field: None }]
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            Self::InvalidToken => (StatusCode::UNAUTHORIZED, linode_error_body(reason(INVALID_TOKEN))).into_response(),
            Self::NotAuthorized { accepted, granted } => {
                let mut headers = HeaderMap::new();
                headers.insert("x-accepted-oauth-scopes", HeaderValue::from_static(accepted));
                if let Ok(value) = HeaderValue::from_str(&granted) {
                    headers.insert("x-oauth-scopes", value);
                }
                (StatusCode::UNAUTHORIZED, headers, linode_error_body(reason(NOT_AUTHORIZED))).into_response()
            }
            Self::NotFound => (StatusCode::NOT_FOUND, linode_error_body(reason(NOT_FOUND))).into_response(),
            Self::Forbidden => (StatusCode::FORBIDDEN, linode_error_body(reason(FORBIDDEN))).into_response(),
            Self::BadRequest(errors) => (StatusCode::BAD_REQUEST, linode_error_body(errors)).into_response(),
            Self::RateLimited { limit, reset_epoch, retry_after_secs } => {
                let mut headers = HeaderMap::new();
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
                headers.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
                headers.insert("x-ratelimit-reset", HeaderValue::from(reset_epoch));
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    headers,
                    // Reason text [undocumented]; the spec only names the status code.
                    linode_error_body(reason("Too many requests")),
                )
                    .into_response()
            }
            Self::Injected { status, reason: r } => (status, linode_error_body(reason(&r))).into_response(),
        }
    }
}

/// OAuth error codes (RFC 6749 §5.2). Linode's own error bodies are [undocumented], so the
/// login server follows the RFC.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {description}")]
pub(crate) struct OAuthError {
    pub status: StatusCode,
    pub code: &'static str,
    pub description: String,
    /// Set when the client authenticated with HTTP Basic (RFC 6749 §5.2 then wants a
    /// `WWW-Authenticate` header on 401).
    pub basic_auth: bool,
}

impl OAuthError {
    fn new(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        Self { status, code, description: description.into(), basic_auth: false }
    }

    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub(crate) fn invalid_client(basic_auth: bool) -> Self {
        Self { basic_auth, ..Self::new(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed") }
    }

    pub(crate) fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub(crate) fn unsupported_grant_type(grant: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "unsupported_grant_type", format!("grant_type {grant:?} is not supported"))
    }

    pub(crate) fn injected(status: StatusCode, description: String) -> Self {
        let code = if status.is_server_error() { "server_error" } else { "invalid_request" };
        Self::new(status, code, description)
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": self.code, "error_description": self.description }));
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        // RFC 6749 §5.1: token responses must not be cached.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.basic_auth && self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"login.linode.com\""));
        }
        response
    }
}
