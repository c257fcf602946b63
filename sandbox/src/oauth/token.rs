//! `POST /oauth/token`: the authorization-code grant (client secret or PKCE) and the
//! refresh-token grant. Errors follow RFC 6749 §5.2, since Linode's are [undocumented].

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;

use super::authorize::redirect_allowed;
use super::{secrets_equal, ClientCredentials, FormFields};
use crate::errors::OAuthError;
use crate::state::{AppState, Grant, NewToken, Store, TokenRecord};

/// The token response. `scope` and `scopes` carry the same space-separated value, as
/// production does (docs/LINODE.md, OAuth).
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: Option<String>,
    scope: String,
    scopes: String,
}

impl TokenResponse {
    fn new(token: &TokenRecord, expires_in: u64) -> Self {
        let scopes = token.scopes.join(" ");
        Self {
            access_token: token.access_token.clone(),
            token_type: "bearer",
            expires_in,
            refresh_token: token.refresh_token.clone(),
            scope: scopes.clone(),
            scopes,
        }
    }
}

pub(crate) async fn exchange(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Response, OAuthError> {
    let credentials = ClientCredentials::from_request(&headers, &form)?;
    let mut store = app.store();
    // A known client with a wrong secret always fails; a missing secret is only allowed
    // where PKCE stands in for it (checked by the grant).
    match store.client(&credentials.id) {
        Some(client) => {
            if let Some(secret) = &credentials.secret {
                if !secrets_equal(&client.secret, secret) {
                    return Err(OAuthError::invalid_client(credentials.basic));
                }
            }
        }
        None => return Err(OAuthError::invalid_client(credentials.basic)),
    }
    // linode_api4 sends no grant_type at all; that means the code grant (docs/LINODE.md, OAuth).
    let token = match form.get("grant_type").unwrap_or("authorization_code") {
        "authorization_code" => code_grant(&app, &mut store, &credentials, &form)?,
        "refresh_token" => refresh_grant(&app, &mut store, &credentials, &form)?,
        other => return Err(OAuthError::unsupported_grant_type(other)),
    };
    let body = TokenResponse::new(token, app.config.timings.token_ttl.as_secs());
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

fn code_grant<'s>(
    app: &AppState,
    store: &'s mut Store,
    credentials: &ClientCredentials,
    form: &FormFields,
) -> Result<&'s TokenRecord, OAuthError> {
    let code_value = form.get("code").ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let registered = store.client(&credentials.id).and_then(|c| Url::parse(&c.redirect_uri).ok());
    let is_public = store.client(&credentials.id).is_some_and(|c| c.public);
    let Some(code) = store.codes.get_mut(code_value) else {
        return Err(OAuthError::invalid_grant("The authorization code is not valid"));
    };
    if code.client_id != credentials.id {
        return Err(OAuthError::invalid_grant("The authorization code was issued to another client"));
    }
    if code.used {
        // RFC 6749 §4.1.2: a replayed code should revoke what was issued from it, since
        // either the client or an attacker has leaked it.
        if let Some(id) = code.token_id.clone() {
            store.revoke(&id);
        }
        return Err(OAuthError::invalid_grant("The authorization code was already used"));
    }
    if code.expires <= Instant::now() {
        return Err(OAuthError::invalid_grant("The authorization code has expired"));
    }
    if let Some(given) = form.get("redirect_uri") {
        // RFC 6749 §4.1.3: if one was sent to /authorize this must be identical; otherwise
        // it must be one /authorize would have accepted.
        let matches = match &code.redirect_uri_param {
            Some(sent) => sent == given,
            None => registered
                .as_ref()
                .zip(Url::parse(given).ok())
                .is_some_and(|(registered, given)| redirect_allowed(registered, &given)),
        };
        if !matches {
            return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
        }
    }
    let public_client = match (&code.code_challenge, form.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            let digest = Sha256::digest(verifier.as_bytes());
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
            if !secrets_equal(&computed, challenge) {
                return Err(OAuthError::invalid_grant("code_verifier does not match"));
            }
            // PKCE stands in for the secret only for a client registered as public: anyone
            // holding a confidential client's code and verifier must still know its secret.
            if credentials.secret.is_none() && !is_public {
                return Err(OAuthError::invalid_client(credentials.basic));
            }
            credentials.secret.is_none()
        }
        (Some(_), None) => {
            return Err(OAuthError::invalid_grant("code_verifier is required"));
        }
        (None, Some(_)) => {
            return Err(OAuthError::invalid_grant(
                "code_verifier sent but the authorization request had no code_challenge",
            ));
        }
        (None, None) if credentials.secret.is_none() => {
            return Err(OAuthError::invalid_client(credentials.basic));
        }
        (None, None) => false,
    };
    code.used = true;
    let new = NewToken {
        client_id: code.client_id.clone(),
        scopes: code.scopes.clone(),
        username: code.username.clone(),
        grant: Grant::AuthorizationCode,
        refresh_of: None,
        public_client,
    };
    let code_value = code_value.to_owned();
    let token_id = store.issue_token(&app.config, new).token_id.clone();
    if let Some(code) = store.codes.get_mut(&code_value) {
        code.token_id = Some(token_id.clone());
    }
    store.tokens.get(&token_id).ok_or_else(|| OAuthError::invalid_grant("token was not stored"))
}

/// Rotates both tokens: the old access token and refresh token stop working.
fn refresh_grant<'s>(
    app: &AppState,
    store: &'s mut Store,
    credentials: &ClientCredentials,
    form: &FormFields,
) -> Result<&'s TokenRecord, OAuthError> {
    if credentials.secret.is_none() {
        return Err(OAuthError::invalid_client(credentials.basic));
    }
    let refresh = form.get("refresh_token").ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let Some(old) = store.token_by_refresh(refresh).filter(|t| !t.revoked) else {
        return Err(OAuthError::invalid_grant("The refresh token is not valid"));
    };
    if old.client_id != credentials.id {
        return Err(OAuthError::invalid_grant("The refresh token was issued to another client"));
    }
    old.revoked = true;
    let new = NewToken {
        client_id: old.client_id.clone(),
        scopes: old.scopes.clone(),
        username: old.username.clone(),
        grant: Grant::RefreshToken,
        refresh_of: Some(old.token_id.clone()),
        public_client: false,
    };
    Ok(store.issue_token(&app.config, new))
}
