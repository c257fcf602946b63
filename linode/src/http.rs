use std::time::Duration;

/// The HTTP client every call goes through: bounded connect and total time so a stalled Linode
/// cannot hold a person's request forever, no redirects (a redirected OAuth call is an SSRF
/// vector, as the `oauth2` crate warns), and a real User-Agent (Linode's edge has refused
/// anonymous-looking clients).
pub fn http_client(user_agent: &str) -> reqwest::Client {
    http_client_with_timeouts(user_agent, Timeouts::default())
}

/// How long a call to Linode may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    /// The whole call, from connecting to the last byte of the body.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { connect: Duration::from_secs(5), total: Duration::from_secs(20) }
    }
}

/// [`http_client`] with other time limits (operators on slow links; tests that stall Linode
/// without waiting 20 s).
pub fn http_client_with_timeouts(user_agent: &str, timeouts: Timeouts) -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(user_agent)
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.total)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a rustls client with static settings always builds")
}

/// Records one call to Linode for the operator's metrics: `linode_calls_total` by endpoint and
/// outcome (the HTTP status, or `error` when no answer came) and `linode_call_duration_seconds`
/// by endpoint. `endpoint` is a route template (`GET /linode/instances/{id}`): ids would make a
/// series per Linode.
pub(crate) fn record_call(endpoint: String, outcome: String, elapsed: Duration) {
    metrics::histogram!("linode_call_duration_seconds", "endpoint" => endpoint.clone()).record(elapsed.as_secs_f64());
    metrics::counter!("linode_calls_total", "endpoint" => endpoint, "outcome" => outcome).increment(1);
}

/// `linode/instances/80000001` → `linode/instances/{id}`.
pub(crate) fn route_template(path: &str) -> String {
    path.split('/')
        .map(
            |segment| if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) { "{id}" } else { segment },
        )
        .collect::<Vec<_>>()
        .join("/")
}
