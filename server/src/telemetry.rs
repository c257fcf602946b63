//! One span per request, named by a request id that is also sent back in `x-request-id`, so an
//! operator can find a person's failed deployment in the logs from what their browser received.
//!
//! The span carries the path and never the query: `/auth/callback`'s query holds the OAuth code
//! (tower-http's default span records the whole URI, hence this one). Headers are not recorded
//! either; they carry the session cookies.

use std::time::Duration;

use axum::{body::Body, extract::Request};
use http::{header::RETRY_AFTER, StatusCode};
use http::{HeaderName, HeaderValue, Response};
use rand::RngCore;
use tower_http::{
    classify::{ClassifiedResponse, ClassifyResponse, NeverClassifyEos, ServerErrorsFailureClass},
    request_id::{MakeRequestId, RequestId},
};
use tracing::Span;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// 64 random bits, as hex.
#[derive(Clone, Copy, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let mut bytes = [0u8; 8];
        rand::rng().fill_bytes(&mut bytes);
        HeaderValue::from_str(&hex::encode(bytes)).ok().map(RequestId::new)
    }
}

/// Drops an `x-request-id` the client sent unless a trusted proxy set it: a client must not choose
/// the id its requests are logged under.
pub fn untrusted_request_id<B>(trusted_proxy: bool) -> impl Fn(Request<B>) -> Request<B> + Clone {
    move |mut request| {
        if !trusted_proxy {
            request.headers_mut().remove(REQUEST_ID);
        }
        request
    }
}

/// The longest path a span records: a client chooses the path, and every line logged while its
/// request is served carries the span, so an 8 KiB path would make each line 8 KiB long.
const LOGGED_PATH_BYTES: usize = 200;

pub fn make_span(request: &Request<Body>) -> Span {
    let id = request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
    let path = request.uri().path();
    if path.len() <= LOGGED_PATH_BYTES {
        return tracing::info_span!("request", id, method = %request.method(), path);
    }
    let end = (0..=LOGGED_PATH_BYTES).rev().find(|&end| path.is_char_boundary(end)).unwrap_or(0);
    let start = &path[..end];
    let path = format_args!("{start}… ({} bytes)", path.len());
    tracing::info_span!("request", id, method = %request.method(), path = %path)
}

pub fn on_response(response: &Response<Body>, latency: Duration, _span: &Span) {
    tracing::info!(status = response.status().as_u16(), latency_ms = latency.as_millis() as u64, "answered");
}

pub fn on_failure(failure: ServerErrorsFailureClass, latency: Duration, _span: &Span) {
    tracing::error!(%failure, latency_ms = latency.as_millis() as u64, "request failed");
}

/// Which answers are failures, logged at ERROR (what operators alert on): server errors, except
/// a 503 that says when to ask again (`Retry-After`). Those are meant, such as the success view's
/// answer to a prefetch, which anyone can ask for: counted as failures, they would let anyone
/// write an ERROR line per request.
#[derive(Clone, Copy, Default)]
pub struct ServerFaults;

impl ClassifyResponse for ServerFaults {
    type FailureClass = ServerErrorsFailureClass;
    type ClassifyEos = NeverClassifyEos<ServerErrorsFailureClass>;

    fn classify_response<B>(self, response: &Response<B>) -> ClassifiedResponse<Self::FailureClass, Self::ClassifyEos> {
        let status = response.status();
        let meant = status == StatusCode::SERVICE_UNAVAILABLE && response.headers().contains_key(RETRY_AFTER);
        if status.is_server_error() && !meant {
            ClassifiedResponse::Ready(Err(ServerErrorsFailureClass::StatusCode(status)))
        } else {
            ClassifiedResponse::Ready(Ok(()))
        }
    }

    fn classify_error<E: std::fmt::Display + 'static>(self, error: &E) -> Self::FailureClass {
        ServerErrorsFailureClass::Error(error.to_string())
    }
}
