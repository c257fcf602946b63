//! API v4 (api.linode.com/v4): the public catalog, instances, firewalls, account settings
//! and the profile.

pub(crate) mod account;
pub(crate) mod catalog;
mod create;
pub(crate) mod firewalls;
pub(crate) mod instances;
pub(crate) mod profile;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::errors::ApiError;
use crate::oauth::allows;
use crate::state::AppState;

/// The spec version the catalog and behaviour were checked against.
pub(crate) const SPEC_VERSION: &str = "4.234.0";

/// A caller holding a live token.
pub(crate) struct Caller {
    pub token_id: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub username: String,
}

impl Caller {
    fn scopes_header(&self) -> String {
        self.scopes.join(" ")
    }
}

/// The scope an endpoint needs, as named in `X-Accepted-OAuth-Scopes`.
#[derive(Clone, Copy)]
pub(crate) struct Scope {
    pub resource: &'static str,
    pub write: bool,
    pub header: &'static str,
}

pub(crate) const LINODES_READ: Scope = Scope { resource: "linodes", write: false, header: "linodes:read_only" };
pub(crate) const LINODES_WRITE: Scope = Scope { resource: "linodes", write: true, header: "linodes:read_write" };
pub(crate) const FIREWALL_READ: Scope = Scope { resource: "firewall", write: false, header: "firewall:read_only" };
pub(crate) const FIREWALL_WRITE: Scope = Scope { resource: "firewall", write: true, header: "firewall:read_write" };
pub(crate) const ACCOUNT_READ: Scope = Scope { resource: "account", write: false, header: "account:read_only" };
pub(crate) const ACCOUNT_WRITE: Scope = Scope { resource: "account", write: true, header: "account:read_write" };

/// Who is calling: `Ok(None)` without an Authorization header, an error for a token that
/// is unknown, revoked or expired.
fn authenticate(app: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or(ApiError::InvalidToken)?;
    let store = app.store();
    let record = store.token(token).filter(|t| t.is_live(Instant::now())).ok_or(ApiError::InvalidToken)?;
    Ok(Some(Caller {
        token_id: record.token_id.clone(),
        client_id: record.client_id.clone(),
        scopes: record.scopes.clone(),
        username: record.username.clone(),
    }))
}

/// The caller's IAM user must hold `permission`; a restricted user without it gets 403.
pub(crate) fn require_permission(
    app: &AppState,
    caller: &Caller,
    permission: crate::account::Permission,
) -> Result<(), ApiError> {
    if app.store().user(&caller.username).may(permission) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// Counts every API request against Linode's limit for its class: per token when it carries
/// a live one, per client address otherwise. Allowed replies carry `X-RateLimit-*`.
pub(crate) async fn rate_limits(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or("", MatchedPath::as_str).to_owned();
    let class = crate::rate_limit::LimitClass::of(request.method(), &route);
    let caller = match authenticate(&app, request.headers()) {
        Ok(Some(caller)) => format!("token:{}", caller.token_id),
        _ => match request.extensions().get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => format!("address:{}", peer.ip()),
            // Embedded without connection info: every anonymous caller shares one window.
            None => "address:unknown".to_owned(),
        },
    };
    let allowance = app.store().limits.hit(class, &caller);
    match allowance {
        Err(refused) => refused.into_response(),
        Ok(allowance) => {
            let mut response = next.run(request).await;
            if let Some(allowance) = allowance {
                let headers = response.headers_mut();
                headers.insert("x-ratelimit-limit", HeaderValue::from(allowance.limit));
                headers.insert("x-ratelimit-remaining", HeaderValue::from(allowance.remaining));
                headers.insert("x-ratelimit-reset", HeaderValue::from(allowance.reset_epoch));
            }
            response
        }
    }
}

/// Unknown routes under `/v4` answer as Linode does: 404 with its JSON error body.
pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// For public routes: anyone may call, but a bogus token is refused when configured so.
pub(crate) fn public_caller(app: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    match authenticate(app, headers) {
        Err(ApiError::InvalidToken) if !app.config.invalid_token_on_public => Ok(None),
        other => other,
    }
}

/// For routes that need a token, optionally with a scope.
pub(crate) fn require(app: &AppState, headers: &HeaderMap, scope: Option<Scope>) -> Result<Caller, ApiError> {
    let caller = authenticate(app, headers)?.ok_or(ApiError::InvalidToken)?;
    match scope {
        Some(scope) if !allows(&caller.scopes, scope.resource, scope.write) => {
            Err(ApiError::NotAuthorized { accepted: scope.header, granted: caller.scopes_header() })
        }
        _ => Ok(caller),
    }
}

/// Adds `X-OAuth-Scopes` (the caller's) and `X-Accepted-OAuth-Scopes` (the endpoint's).
pub(crate) fn with_scope_headers(mut response: Response, caller: Option<&Caller>, accepted: Option<Scope>) -> Response {
    let headers = response.headers_mut();
    if let Some(value) = caller.and_then(|c| HeaderValue::from_str(&c.scopes_header()).ok()) {
        headers.insert("x-oauth-scopes", value);
    }
    if let Some(scope) = accepted {
        headers.insert("x-accepted-oauth-scopes", HeaderValue::from_static(scope.header));
    }
    response
}

const ALLOW_HEADERS: &str = "Authorization, Origin, X-Requested-With, Content-Type, Accept, X-Filter";
const EXPOSE_HEADERS: &str = "X-OAuth-Scopes, X-Accepted-OAuth-Scopes, X-RateLimit-Limit, \
X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, X-Spec-Version";

/// CORS as the spec narrative lists it, answers to preflight requests, and `X-Spec-Version`.
pub(crate) async fn common_headers(request: Request, next: Next) -> Response {
    let mut response = if request.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("HEAD, GET, OPTIONS, POST, PUT, DELETE"),
    );
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE_HEADERS));
    headers.insert("x-spec-version", HeaderValue::from_static(SPEC_VERSION));
    response
}
