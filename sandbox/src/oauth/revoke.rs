//! `POST /oauth/revoke` (and the legacy `POST /oauth/token/expire`): the access token and its
//! refresh token stop working. Follows RFC 7009 where Linode is [undocumented]: an unknown
//! token is still a 200.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::{secrets_equal, ClientCredentials, FormFields};
use crate::errors::OAuthError;
use crate::state::AppState;

pub(crate) async fn revoke(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    form: FormFields,
) -> Result<Json<Value>, OAuthError> {
    let credentials = ClientCredentials::from_request(&headers, &form)?;
    let token = form.get("token").ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let mut store = app.store();
    let Some(client) = store.client(&credentials.id) else {
        return Err(OAuthError::invalid_client(credentials.basic));
    };
    let secret_ok = credentials.secret.as_deref().map(|secret| secrets_equal(&client.secret, secret));
    if secret_ok == Some(false) {
        return Err(OAuthError::invalid_client(credentials.basic));
    }
    // `token_type_hint` is only a hint (RFC 7009 §2.1): look the value up as either kind.
    let record_id = match store.token(token) {
        Some(record) => Some((record.token_id.clone(), record.client_id.clone(), record.public_client)),
        None => store.token_by_refresh(token).map(|r| (r.token_id.clone(), r.client_id.clone(), r.public_client)),
    };
    if let Some((id, owner, public_client)) = record_id {
        if owner != credentials.id {
            return Err(OAuthError::invalid_grant("The token was issued to another client"));
        }
        // Cloud Manager (a public PKCE client) revokes with client_id alone; a confidential
        // client's token needs the secret.
        if secret_ok.is_none() && !public_client {
            return Err(OAuthError::invalid_client(credentials.basic));
        }
        store.revoke(&id);
    }
    Ok(Json(json!({})))
}
