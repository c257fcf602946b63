//! `GET /oauth/authorize` shows the login/consent page; `POST /oauth/authorize` (the page's
//! own form) answers it and sends the browser back to the client.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use time::OffsetDateTime;
use url::Url;

use super::consent_page::{consent_page, error_page};
use super::{parse_scopes, FormFields};
use crate::state::{random_hex, token_id, AppState, CodeRecord, PendingAuthorization};

/// The user picked by default on the page (an unrestricted one); any posted name is accepted.
pub(crate) const DEFAULT_USERNAME: &str = crate::account::UNRESTRICTED_USER;

/// Whether `requested` lies under `registered`: same origin, and the same path or a path
/// below it. A query string of its own is allowed (Cloud Manager sends `?returnTo=`).
pub(super) fn redirect_allowed(registered: &Url, requested: &Url) -> bool {
    let base = registered.path().trim_end_matches('/');
    let path = requested.path();
    registered.scheme() == requested.scheme()
        && registered.host_str() == requested.host_str()
        && registered.port_or_known_default() == requested.port_or_known_default()
        && requested.fragment().is_none()
        && (path.trim_end_matches('/') == base || path.starts_with(&format!("{base}/")))
}

/// A 302 to `uri` with `params` appended to whatever query it already has.
fn redirect_with(mut uri: Url, params: &[(&str, Option<&str>)]) -> Response {
    {
        let mut query = uri.query_pairs_mut();
        for (name, value) in params {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(uri.as_str()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// RFC 6749 §4.1.2.1 error redirect (Linode's own is [undocumented]).
fn redirect_error(uri: Url, error: &str, description: &str, state: Option<&str>) -> Response {
    redirect_with(uri, &[("error", Some(error)), ("error_description", Some(description)), ("state", state)])
}

fn bad_page(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(error_page("This sign-in link is not valid", message))).into_response()
}

pub(crate) async fn show(State(app): State<Arc<AppState>>, Query(query): Query<super::Query>) -> Response {
    let param = |name: &str| query.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let mut store = app.store();

    // Problems with the client or redirect URI: an error page, never a redirect (RFC 6749
    // §4.1.2.1), so an attacker cannot bounce the browser anywhere.
    let Some(client) = param("client_id").and_then(|id| store.client(id)).cloned() else {
        return bad_page("The application that sent you here is not registered (unknown client_id).");
    };
    let Ok(registered) = Url::parse(&client.redirect_uri) else {
        return bad_page("The application's registered redirect URI is not a valid URL.");
    };
    let redirect_uri = match param("redirect_uri") {
        None => registered,
        Some(raw) => match Url::parse(raw) {
            Ok(requested) if redirect_allowed(&registered, &requested) => requested,
            _ => return bad_page("The redirect_uri does not match the one registered for this application."),
        },
    };

    let state = param("state");
    if state.is_some_and(|state| state.len() > crate::state::MAX_STATE_LEN) {
        return redirect_error(redirect_uri, "invalid_request", "state is too long", None);
    }
    if param("response_type") != Some("code") {
        return redirect_error(
            redirect_uri,
            "unsupported_response_type",
            "Only response_type=code is supported",
            state,
        );
    }
    // Both `scopes` (linode_api4) and `scope` (Cloud Manager) are in use. Sending neither is
    // [undocumented]; RFC 6749 §3.3 lets the server fail it, which is what happens here.
    let scopes = match parse_scopes(param("scopes").or(param("scope")).unwrap_or_default()) {
        Ok(scopes) => scopes,
        Err(reason) => return redirect_error(redirect_uri, "invalid_scope", &reason, state),
    };
    let code_challenge = match (param("code_challenge"), param("code_challenge_method")) {
        (None, _) => None,
        (Some(challenge), Some("S256")) => Some(challenge.to_owned()),
        (Some(_), _) => {
            return redirect_error(redirect_uri, "invalid_request", "code_challenge_method must be S256", state)
        }
    };

    let request_id = random_hex(32);
    let page = consent_page(&client.label, &scopes, &request_id, DEFAULT_USERNAME);
    let now = Instant::now();
    store.pending.retain(|_, p| p.expires > now);
    crate::state::cap(&mut store.pending, crate::state::MAX_PENDING, |p| p.expires <= now, |p| p.expires);
    store.pending.insert(
        request_id,
        PendingAuthorization {
            client_id: client.id,
            scopes,
            redirect_uri,
            redirect_uri_param: param("redirect_uri").map(str::to_owned),
            state: state.map(str::to_owned),
            code_challenge,
            expires: now + app.config.timings.code_ttl,
        },
    );
    ([(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

pub(crate) async fn decide(State(app): State<Arc<AppState>>, form: FormFields) -> Response {
    let mut store = app.store();
    let pending = form.get("request").and_then(|id| store.pending.remove(id)).filter(|p| p.expires > Instant::now());
    let Some(pending) = pending else {
        return bad_page("This sign-in request has expired or was already answered. Start again from the application.");
    };
    let state = pending.state.as_deref();
    if form.get("decision") != Some("approve") {
        return redirect_error(pending.redirect_uri, "access_denied", "The user denied the request", state);
    }
    // Only scopes that were both requested and left ticked are granted, in request order.
    let ticked: Vec<&str> = form.all("scope").collect();
    let granted: Vec<String> = pending.scopes.iter().filter(|s| ticked.contains(&s.as_str())).cloned().collect();
    // Approving with every box unticked still issues a token, with no scope at all: RFC 6749
    // §3.3 lets the server grant less than asked, and it is exactly what a client's
    // insufficient-scope path must cope with. Denying is the separate "Deny" button.
    let username = form.get("username").map(str::trim).filter(|u| !u.is_empty()).unwrap_or(DEFAULT_USERNAME).to_owned();
    let code = random_hex(20);
    let now = Instant::now();
    crate::state::cap(&mut store.codes, crate::state::MAX_CODES, |c| c.expires <= now, |c| c.expires);
    store.codes.insert(
        code.clone(),
        CodeRecord {
            code_id: token_id(&code),
            client_id: pending.client_id,
            scopes: granted,
            username,
            redirect_uri_param: pending.redirect_uri_param,
            code_challenge: pending.code_challenge,
            issued_at: OffsetDateTime::now_utc(),
            expires: Instant::now() + app.config.timings.code_ttl,
            used: false,
            token_id: None,
        },
    );
    redirect_with(pending.redirect_uri, &[("code", Some(&code)), ("state", state)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn redirect_uri_must_lie_under_the_registered_one() {
        let registered = url("http://127.0.0.1:3000/auth/callback");
        for ok in [
            "http://127.0.0.1:3000/auth/callback",
            "http://127.0.0.1:3000/auth/callback?returnTo=%2F",
            "http://127.0.0.1:3000/auth/callback/deeper",
        ] {
            assert!(redirect_allowed(&registered, &url(ok)), "{ok}");
        }
        for bad in [
            "http://127.0.0.1:3001/auth/callback",
            "https://127.0.0.1:3000/auth/callback",
            "http://evil.example/auth/callback",
            "http://127.0.0.1:3000/auth/callbackx",
            "http://127.0.0.1:3000/auth",
            "http://127.0.0.1:3000/auth/callback#frag",
        ] {
            assert!(!redirect_allowed(&registered, &url(bad)), "{bad}");
        }
    }
}
