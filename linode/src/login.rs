//! Linode's login server: the authorize URL, the code exchange and token revocation.
//!
//! Built on the `oauth2` crate (RFC 6749 requests and responses, RFC 7009 revocation), with the
//! client credentials in the form body as Linode expects them. Linode's own quirks are handled
//! here: the authorize URL names the permission `scopes` (what linode_api4 sends), and the token
//! reply's space-separated `scope` is parsed with Linode's scope grammar.

use std::time::Duration;

use oauth2::{
    basic::{BasicClient, BasicErrorResponse},
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ErrorResponse, HttpClientError, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, TokenResponse,
    TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::{
    error::{plain, root_cause, LoginError},
    scopes::Scopes,
    secrets::{AccessToken, RefreshToken},
};

/// The OAuth client the operator registered at Linode.
#[derive(Clone)]
pub struct OAuthClientCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
}

impl std::fmt::Debug for OAuthClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish()
    }
}

/// A PKCE code verifier (RFC 7636): random, kept by the client until the code exchange, whose
/// S256 digest travels in the authorize URL. A code seen by someone else (a proxy log, browser
/// history) cannot be redeemed without it. `Debug` never shows it.
#[derive(Clone)]
pub struct PkceVerifier(SecretString);

impl PkceVerifier {
    /// 32 random bytes, base64url: 43 characters, as RFC 7636 §4.1 recommends.
    pub fn random() -> Self {
        let (_, verifier) = PkceCodeChallenge::new_random_sha256();
        Self(SecretString::from(verifier.secret().clone()))
    }

    pub fn from_secret(verifier: impl Into<String>) -> Self {
        Self(SecretString::from(verifier.into()))
    }

    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }

    fn challenge(&self) -> PkceCodeChallenge {
        PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(self.secret().to_owned()))
    }
}

impl std::fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PkceVerifier([REDACTED])")
    }
}

/// What the code exchange yields.
#[derive(Debug)]
pub struct TokenGrant {
    pub access_token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
    pub expires_in: Duration,
    /// What the person actually granted, which may be less than was asked.
    pub scopes: Scopes,
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

#[derive(Clone)]
pub struct LoginClient {
    oauth: Client,
    client_secret: SecretString,
    revoke_url: Url,
    http: reqwest::Client,
}

impl LoginClient {
    pub fn new(login_base: Url, credentials: OAuthClientCredentials, http: reqwest::Client) -> Self {
        let endpoint = |path: &str| {
            let mut url = login_base.clone();
            url.set_path(&format!("{}/oauth/{path}", login_base.path().trim_end_matches('/')));
            url
        };
        let oauth = BasicClient::new(ClientId::new(credentials.client_id))
            .set_client_secret(ClientSecret::new(credentials.client_secret.expose_secret().to_owned()))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::from_url(endpoint("authorize")))
            .set_token_uri(TokenUrl::from_url(endpoint("token")));
        Self { oauth, client_secret: credentials.client_secret, revoke_url: endpoint("revoke"), http }
    }

    /// Sends browsers to `login_base` for the authorize page while the server's own calls (token,
    /// revoke) keep the base given to [`LoginClient::new`]: for a login server the browser reaches
    /// at another address than the server does (the embedded sandbox, which the server calls over
    /// a loopback listener that outlives the public one at shutdown).
    pub fn with_authorize_base(mut self, login_base: &Url) -> Self {
        let mut url = login_base.clone();
        url.set_path(&format!("{}/oauth/authorize", login_base.path().trim_end_matches('/')));
        self.oauth = self.oauth.set_auth_uri(AuthUrl::from_url(url));
        self
    }

    /// Where to send the browser: `…/oauth/authorize?response_type=code&client_id=…&state=…&
    /// redirect_uri=…&scopes=…`, plus `code_challenge=…&code_challenge_method=S256` with PKCE.
    pub fn authorize_url(&self, scopes: &str, redirect_uri: &Url, state: &str, pkce: Option<&PkceVerifier>) -> Url {
        let redirect = RedirectUrl::from_url(redirect_uri.clone());
        let mut request = self
            .oauth
            .authorize_url(|| CsrfToken::new(state.to_owned()))
            .set_redirect_uri(std::borrow::Cow::Owned(redirect))
            .add_extra_param("scopes", scopes);
        if let Some(verifier) = pkce {
            request = request.set_pkce_challenge(verifier.challenge());
        }
        let (url, _) = request.url();
        url
    }

    /// Exchanges an authorization code for a token (`POST …/oauth/token`), with the client
    /// secret and, when the authorization used PKCE, its verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &Url,
        pkce: Option<&PkceVerifier>,
    ) -> Result<TokenGrant, LoginError> {
        let started = std::time::Instant::now();
        let mut request = self
            .oauth
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_redirect_uri(std::borrow::Cow::Owned(RedirectUrl::from_url(redirect_uri.clone())));
        if let Some(verifier) = pkce {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().to_owned()));
        }
        let result = request.request_async(&self.http).await;
        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, ok = result.is_ok(), "POST /oauth/token");
        let outcome = if result.is_ok() { "ok" } else { "error" };
        crate::http::record_call("POST /oauth/token".to_owned(), outcome.to_owned(), started.elapsed());
        let token = result.map_err(login_error)?;
        Ok(TokenGrant {
            access_token: AccessToken::new(token.access_token().secret().clone()),
            refresh_token: token.refresh_token().map(|t| RefreshToken::new(t.secret().clone())),
            expires_in: token.expires_in().unwrap_or(Duration::from_secs(7200)),
            scopes: Scopes::parse(
                &token.scopes().map(|s| s.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")).unwrap_or_default(),
            ),
        })
    }

    /// Revokes an access token and its refresh token (`POST …/oauth/revoke`, form-encoded
    /// `token_type_hint`, `client_id`, `client_secret`, `token`, as linode_api4 sends it).
    ///
    /// Sent with reqwest directly: the `oauth2` crate refuses a revocation URL that is not
    /// https, which would rule out the local sandbox. A 200 is success; RFC 7009 §2.2 says
    /// revoking an unknown token is one too.
    pub async fn revoke(&self, token: &AccessToken) -> Result<(), LoginError> {
        let started = std::time::Instant::now();
        let form = [
            ("token_type_hint", "access_token"),
            ("client_id", self.oauth.client_id().as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("token", token.secret()),
        ];
        let result = self.http.post(self.revoke_url.clone()).form(&form).send().await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        let outcome =
            result.as_ref().map_or_else(|_| "error".to_owned(), |response| response.status().as_u16().to_string());
        crate::http::record_call("POST /oauth/revoke".to_owned(), outcome, started.elapsed());
        let response = result.map_err(|error| {
            tracing::debug!(elapsed_ms, "POST /oauth/revoke failed");
            if error.is_timeout() {
                LoginError::Timeout
            } else {
                LoginError::Network(root_cause(&error))
            }
        })?;
        let status = response.status();
        tracing::debug!(elapsed_ms, status = status.as_u16(), "POST /oauth/revoke");
        if status.is_success() {
            return Ok(());
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(match serde_json::from_slice::<OAuthErrorBody>(&body) {
            Ok(body) => LoginError::Rejected {
                error: plain(&body.error, 64),
                description: body.error_description.map(|d| plain(&d, 200)),
            },
            Err(_) => LoginError::Status(status.as_u16()),
        })
    }
}

/// RFC 6749 §5.2 error body.
#[derive(serde::Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

fn login_error(error: RequestTokenError<HttpClientError<reqwest::Error>, BasicErrorResponse>) -> LoginError {
    match error {
        RequestTokenError::ServerResponse(response) => LoginError::Rejected {
            error: plain(response.error().as_ref(), 64),
            description: response.error_description().map(|d| plain(d, 200)),
        },
        other => transport_error(other),
    }
}

fn transport_error<T: ErrorResponse + 'static>(
    error: RequestTokenError<HttpClientError<reqwest::Error>, T>,
) -> LoginError {
    match error {
        RequestTokenError::Request(HttpClientError::Reqwest(error)) if error.is_timeout() => LoginError::Timeout,
        RequestTokenError::Request(error) => LoginError::Network(root_cause(&error)),
        // A non-JSON error page (an edge's HTML 403, a bare 502…): the body is not shown.
        RequestTokenError::Parse(error, _) => LoginError::Decode(error.to_string()),
        RequestTokenError::Other(message) => LoginError::Decode(message),
        // Both callers handle server responses themselves.
        RequestTokenError::ServerResponse(_) => LoginError::Decode("unexpected error response".into()),
    }
}
