//! Linode API v4: the public catalog (read without a token) and the Linodes of the person who
//! granted one.

use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use reqwest::{header, Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use url::Url;

use crate::{
    error::ApiError,
    models::{
        CreateFirewall, CreateInstance, Firewall, Grants, Image, Instance, LinodeType, Page, Profile, Region,
        StackScript,
    },
    secrets::AccessToken,
};

/// The largest page Linode serves: the whole catalog in one or two requests.
const PAGE_SIZE: u32 = 500;
/// Reads are idempotent, so a failed one is tried again this many times in all.
const READ_ATTEMPTS: usize = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// A `Retry-After` longer than this is not waited for: the caller gets the 429 instead.
const LONGEST_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct ApiClient {
    base: Url,
    http: reqwest::Client,
}

impl ApiClient {
    /// `api_base` includes the version, e.g. `https://api.linode.com/v4`.
    pub fn new(api_base: Url, http: reqwest::Client) -> Self {
        Self { base: api_base, http }
    }

    /// Every plan. Public: sent without a token.
    pub async fn types(&self) -> Result<Vec<LinodeType>, ApiError> {
        self.list("linode/types").await
    }

    /// Every region. Public.
    pub async fn regions(&self) -> Result<Vec<Region>, ApiError> {
        self.list("regions").await
    }

    /// The public images (anonymous requests only see those).
    pub async fn images(&self) -> Result<Vec<Image>, ApiError> {
        self.list("images").await
    }

    /// A public StackScript.
    pub async fn stackscript(&self, id: u64) -> Result<StackScript, ApiError> {
        self.read(&format!("linode/stackscripts/{id}"), None, &[]).await
    }

    /// Creates a Linode. Never retried: a request that timed out may still have created one.
    pub async fn create_instance(&self, token: &AccessToken, request: &CreateInstance) -> Result<Instance, ApiError> {
        let builder = self.request(Method::POST, "linode/instances", Some(token)).json(request);
        let response = self.send("POST", "linode/instances", builder).await?;
        decode(response).await
    }

    pub async fn instance(&self, token: &AccessToken, id: u64) -> Result<Instance, ApiError> {
        self.read(&format!("linode/instances/{id}"), Some(token), &[]).await
    }

    /// The Linodes of the token's account that carry `label` (labels are unique per account, so
    /// at most one): `GET /linode/instances` with an `X-Filter`. How a deployment interrupted
    /// during its create call learns whether the Linode exists.
    pub async fn instances_labelled(&self, token: &AccessToken, label: &str) -> Result<Vec<Instance>, ApiError> {
        let filter = serde_json::json!({ "label": label }).to_string();
        let attempt = || async {
            let builder = self.request(Method::GET, "linode/instances", Some(token)).header("X-Filter", &filter);
            let response = self.send("GET", "linode/instances", builder).await?;
            decode::<Page<Instance>>(response).await.map(|page| page.data)
        };
        attempt.retry(read_backoff()).when(ApiError::is_retryable).await
    }

    pub async fn profile(&self, token: &AccessToken) -> Result<Profile, ApiError> {
        self.read("profile", Some(token), &[]).await
    }

    /// Creates a Cloud Firewall (`firewall:read_write`). Never retried, like a Linode's create.
    pub async fn create_firewall(&self, token: &AccessToken, request: &CreateFirewall) -> Result<Firewall, ApiError> {
        let builder = self.request(Method::POST, "networking/firewalls", Some(token)).json(request);
        decode(self.send("POST", "networking/firewalls", builder).await?).await
    }

    /// Deletes a Cloud Firewall; one already gone counts as deleted. Retried like a read: a
    /// delete is idempotent.
    pub async fn delete_firewall(&self, token: &AccessToken, id: u64) -> Result<(), ApiError> {
        let path = format!("networking/firewalls/{id}");
        let attempt = || async {
            let builder = self.request(Method::DELETE, &path, Some(token));
            match self.send("DELETE", &path, builder).await {
                Ok(_) | Err(ApiError::Rejected { status: 404, .. }) => Ok(()),
                Err(error) => Err(error),
            }
        };
        attempt.retry(read_backoff()).when(ApiError::is_retryable).await
    }

    /// The firewalls of the token's account labelled `label` (labels are unique per account).
    pub async fn firewalls_labelled(&self, token: &AccessToken, label: &str) -> Result<Vec<Firewall>, ApiError> {
        let filter = serde_json::json!({ "label": label }).to_string();
        let attempt = || async {
            let builder = self.request(Method::GET, "networking/firewalls", Some(token)).header("X-Filter", &filter);
            let response = self.send("GET", "networking/firewalls", builder).await?;
            decode::<Page<Firewall>>(response).await.map(|page| page.data)
        };
        attempt.retry(read_backoff()).when(ApiError::is_retryable).await
    }

    /// `GET /profile/grants` (any token, no scope): `None` for an unrestricted user (Linode
    /// answers 204), the grants of a restricted one. Linode recommends it to third-party apps
    /// for telling, before they try, whether the person may create Linodes.
    pub async fn grants(&self, token: &AccessToken) -> Result<Option<Grants>, ApiError> {
        let attempt = || async {
            let builder = self.request(Method::GET, "profile/grants", Some(token));
            let response = self.send("GET", "profile/grants", builder).await?;
            if response.status() == reqwest::StatusCode::NO_CONTENT {
                return Ok(None);
            }
            decode::<Grants>(response).await.map(Some)
        };
        attempt.retry(read_backoff()).when(ApiError::is_retryable).await
    }

    async fn list<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        let mut page = 1;
        loop {
            let query = [("page", page.to_string()), ("page_size", PAGE_SIZE.to_string())];
            let current: Page<T> = self.read(path, None, &query).await?;
            items.extend(current.data);
            if current.page >= current.pages {
                return Ok(items);
            }
            page = current.page + 1;
        }
    }

    /// A GET, retried with backoff on timeouts, network errors, 5xx and short 429s.
    async fn read<T: DeserializeOwned>(
        &self,
        path: &str,
        token: Option<&AccessToken>,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let attempt = || async {
            let builder = self.request(Method::GET, path, token).query(query);
            decode(self.send("GET", path, builder).await?).await
        };
        attempt
            .retry(read_backoff())
            .when(|error| match error {
                // A short wait is worth it; a long one is the caller's to decide.
                ApiError::RateLimited { retry_after: Some(wait) } => *wait <= LONGEST_WAIT,
                other => other.is_retryable(),
            })
            // Linode said how long: wait that, within the same number of attempts.
            .adjust(|error, planned| match error {
                ApiError::RateLimited { retry_after: Some(wait) } => planned.map(|_| *wait),
                _ => planned,
            })
            .notify(|error, wait| tracing::debug!(path, %error, wait_ms = wait.as_millis() as u64, "retrying a Linode read"))
            .await
    }

    fn request(&self, method: Method, path: &str, token: Option<&AccessToken>) -> RequestBuilder {
        let url = format!("{}/{path}", self.base.as_str().trim_end_matches('/'));
        let builder = self.http.request(method, url).header(header::ACCEPT, "application/json");
        match token {
            Some(token) => builder.bearer_auth(token.secret()),
            None => builder,
        }
    }

    /// Sends a request and turns any non-2xx answer into an [`ApiError`].
    async fn send(&self, method: &str, path: &str, builder: RequestBuilder) -> Result<Response, ApiError> {
        let started = Instant::now();
        let result = builder.send().await;
        let elapsed = started.elapsed();
        let elapsed_ms = elapsed.as_millis() as u64;
        let endpoint = format!("{method} /{}", crate::http::route_template(path));
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(method, path, elapsed_ms, "Linode call failed");
                crate::http::record_call(endpoint, "error".to_owned(), elapsed);
                return Err(ApiError::from_reqwest(&error));
            }
        };
        let status = response.status();
        crate::http::record_call(endpoint, status.as_u16().to_string(), elapsed);
        tracing::debug!(method, path, status = status.as_u16(), elapsed_ms, "Linode call");
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.bytes().await.unwrap_or_default();
        Err(ApiError::from_status(status.as_u16(), &body, retry_after))
    }
}

/// Reads are tried `READ_ATTEMPTS` times, `FIRST_BACKOFF` apart and doubling (backon's default
/// factor), no jitter (a few
/// calls per deployment do not stampede).
fn read_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default().with_min_delay(FIRST_BACKOFF).with_max_times(READ_ATTEMPTS - 1)
}

async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
    let body = response.bytes().await.map_err(|error| ApiError::from_reqwest(&error))?;
    serde_json::from_slice(&body).map_err(|error| ApiError::Decode(error.to_string()))
}
