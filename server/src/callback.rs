//! `GET /auth/callback`, the adapter: read the query and the browser's cookies, let the deploy
//! service complete the flow, and answer 303 to the result page (post/redirect/get, so reloading
//! the result never repeats anything) with the outcome cookie set and, once spent, the flow
//! cookie removed.

use axum::{
    extract::{RawQuery, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
};

use app::server_side::AppState;
use deploy::{
    result_ref::ResultRef,
    sealed::{FlowCookie, OutcomeCookie},
    service::{CallbackParams, CallbackReply},
};

use crate::plain_page;

/// Where the result is shown.
pub const RESULT_PATH: &str = "/deployment";

pub async fn auth_callback(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let started = std::time::Instant::now();
    let response = answer(&state, &headers, query).await;
    deploy::metrics::callback_duration(started.elapsed());
    response
}

async fn answer(state: &AppState, headers: &HeaderMap, query: Option<String>) -> Response {
    let deploy = &state.deploy;
    // A malformed query is treated like an empty one: it lacks the `state` we need.
    let params: CallbackParams = serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let flow = deploy.sealer().open::<FlowCookie>(headers);
    let own = deploy.sealer().open::<OutcomeCookie>(headers);
    let (result, spends_flow) = match deploy.complete_callback(flow, own, params).await {
        CallbackReply::Result { result, spends_flow } => (result, spends_flow),
        // Not this browser's flow: the failure itself, no cookie set or removed.
        CallbackReply::Refused(failure) => {
            let page = plain_page::PlainPage {
                status: StatusCode::BAD_REQUEST,
                testid: "failed",
                kind: failure.kind.as_str(),
                title: &failure.title,
                message: &failure.message,
                next: "Any deployment this browser started, and any result it has not seen yet, is untouched.",
            };
            return plain_page::page(&state.leptos_options, page);
        }
    };

    let mut response = Redirect::to(RESULT_PATH).into_response();
    let headers = response.headers_mut();
    if let Some(cookie) = outcome_cookie(deploy, result) {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    if spends_flow {
        if let Ok(value) = HeaderValue::from_str(&deploy.sealer().removal::<FlowCookie>()) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The outcome cookie, within what every browser keeps. A failure shown without the store carries
/// its retry link in the cookie, SSH keys sealed in it: with several long keys that is more than
/// a browser keeps, and a browser drops an oversized cookie silently (the person would come back
/// to "no deployment" instead of what went wrong). Such a failure is sealed with its link's keys
/// left out: every other choice is still offered again.
fn outcome_cookie(deploy: &deploy::DeployService, result: ResultRef) -> Option<String> {
    let ttl = deploy.settings().outcome_ttl;
    let cookie = deploy.sealer().seal::<OutcomeCookie>(&result, ttl)?;
    match result {
        ResultRef::Shown(mut failure) if cookie.len() > deploy::sealed::MAX_COOKIE => {
            failure.retry = failure.retry.as_deref().map(without_keys);
            deploy.sealer().seal::<OutcomeCookie>(&ResultRef::Shown(failure), ttl)
        }
        _ => Some(cookie),
    }
}

/// A retry link (`/?type=…`) without its sealed SSH keys, saying so to the form.
fn without_keys(link: &str) -> String {
    let query = link.strip_prefix("/?").unwrap_or_default();
    let (keys, mut kept): (Vec<_>, Vec<_>) =
        url::form_urlencoded::parse(query.as_bytes()).partition(|(name, _)| name == deploy::failure::RETRY_KEYS_PARAM);
    if !keys.is_empty() {
        kept.push((domain::prefill::KEYS_LEFT_OUT_PARAM.into(), "1".into()));
    }
    format!("/?{}", url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish())
}

#[cfg(test)]
mod tests {
    use super::without_keys;

    #[test]
    fn a_retry_link_loses_only_its_keys() {
        assert_eq!(
            without_keys("/?type=g6-nanode-1&region=us-east&keys=c2VhbGVk&label=my+app"),
            "/?type=g6-nanode-1&region=us-east&label=my+app&keys_left_out=1"
        );
        assert_eq!(without_keys("/?type=g6-nanode-1"), "/?type=g6-nanode-1");
    }
}
