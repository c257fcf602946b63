//! The login server (login.linode.com): authorize, token, revoke.

pub(crate) mod authorize;
mod consent_page;
pub(crate) mod revoke;
pub(crate) mod token;

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{header, HeaderMap};
use base64::Engine;

use crate::errors::OAuthError;

/// Scope families the login server knows: the spec's (v4.176.0 and v4.189.0) plus
/// linode_api4's `OAuthScopes` families (docs/LINODE.md, OAuth).
const RESOURCES: &[&str] = &[
    "account",
    "clients",
    "databases",
    "domains",
    "events",
    "firewall",
    "images",
    "ips",
    "linodes",
    "lke",
    "longview",
    "nodebalancers",
    "object_storage",
    "stackscripts",
    "tickets",
    "tokens",
    "users",
    "volumes",
    "vpc",
];

/// Splits a `scope`/`scopes` parameter on commas and spaces (linode_api4 joins with `,`,
/// the login server answers with spaces) and checks every piece; order is kept, duplicates
/// dropped, and the pieces are kept exactly as spelled so they can be echoed back.
pub(crate) fn parse_scopes(raw: &str) -> Result<Vec<String>, String> {
    let mut scopes: Vec<String> = Vec::new();
    for piece in raw.split([',', ' ']).filter(|p| !p.is_empty()) {
        let known = piece == "*"
            || piece.split_once(':').is_some_and(|(resource, level)| {
                RESOURCES.contains(&resource) && matches!(level, "read_only" | "read_write" | "*")
            });
        if !known {
            return Err(format!("Unknown scope {piece:?}"));
        }
        if !scopes.iter().any(|s| s == piece) {
            scopes.push(piece.to_owned());
        }
    }
    if scopes.is_empty() {
        return Err("No scope requested".to_owned());
    }
    Ok(scopes)
}

/// Whether `granted` allows `resource` at the given level: `*` and `resource:*` allow
/// everything, `read_write` implies `read_only`.
pub(crate) fn allows(granted: &[String], resource: &str, write: bool) -> bool {
    granted.iter().any(|scope| {
        scope == "*"
            || scope.split_once(':').is_some_and(|(r, level)| {
                r == resource
                    && match level {
                        "*" | "read_write" => true,
                        "read_only" => !write,
                        _ => false,
                    }
            })
    })
}

pub(crate) use crate::secret_eq::secrets_equal;

/// Form fields from an `application/x-www-form-urlencoded` or `multipart/form-data` body
/// (the login server takes both, never JSON). Repeated names are kept in order.
pub(crate) struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str()).filter(|value| !value.is_empty())
    }

    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(key, _)| key == name).map(|(_, value)| value.as_str())
    }
}

impl<S: Send + Sync> FromRequest<S> for FormFields {
    type Rejection = OAuthError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let mut multipart = Multipart::from_request(request, state)
                .await
                .map_err(|e| OAuthError::invalid_request(e.body_text()))?;
            let mut fields = Vec::new();
            while let Some(field) =
                multipart.next_field().await.map_err(|e| OAuthError::invalid_request(e.body_text()))?
            {
                let name = field.name().unwrap_or_default().to_owned();
                let value = field.text().await.map_err(|e| OAuthError::invalid_request(e.body_text()))?;
                fields.push((name, value));
            }
            return Ok(Self(fields));
        }
        if content_type.starts_with("application/json") {
            return Err(OAuthError::invalid_request("The body must be form-encoded or multipart, not JSON"));
        }
        let body = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|e| OAuthError::invalid_request(e.body_text()))?;
        Ok(Self(url::form_urlencoded::parse(&body).into_owned().collect()))
    }
}

/// Client credentials from HTTP Basic (RFC 6749 §2.3.1) or the form body.
pub(crate) struct ClientCredentials {
    pub id: String,
    pub secret: Option<String>,
    /// True when they came from the Authorization header.
    pub basic: bool,
}

impl ClientCredentials {
    pub(crate) fn from_request(headers: &HeaderMap, form: &FormFields) -> Result<Self, OAuthError> {
        if let Some((id, secret)) = basic_credentials(headers) {
            if form.get("client_id").is_some_and(|form_id| form_id != id) {
                return Err(OAuthError::invalid_request("client_id in the body differs from the Authorization header"));
            }
            return Ok(Self { id, secret: Some(secret), basic: true });
        }
        let id = form.get("client_id").ok_or_else(|| OAuthError::invalid_request("client_id is required"))?;
        Ok(Self { id: id.to_owned(), secret: form.get("client_secret").map(str::to_owned), basic: false })
    }
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes()).map(|(_, v)| v.into_owned()).next().unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// Percent-decoded query parameters (last one wins).
pub(crate) type Query = HashMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split_on_commas_and_spaces_and_keep_spelling() {
        assert_eq!(
            parse_scopes("linodes:read_write,stackscripts:read_only events:*").expect("ok"),
            ["linodes:read_write", "stackscripts:read_only", "events:*"]
        );
        assert_eq!(parse_scopes("*").expect("ok"), ["*"]);
        assert!(parse_scopes("linodes:delete").is_err());
        assert!(parse_scopes("spaceships:read_only").is_err());
        assert!(parse_scopes(" , ").is_err());
    }

    #[test]
    fn scope_levels() {
        let granted = |s: &str| vec![s.to_owned()];
        assert!(allows(&granted("*"), "linodes", true));
        assert!(allows(&granted("linodes:*"), "linodes", true));
        assert!(allows(&granted("linodes:read_write"), "linodes", false));
        assert!(!allows(&granted("linodes:read_only"), "linodes", true));
        assert!(!allows(&granted("domains:read_write"), "linodes", false));
    }
}
