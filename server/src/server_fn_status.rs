//! server_fn answers every error with a 500, its own (arguments that could not be decoded) and
//! ours. This middleware gives each the status the error itself names (`AppError::status`, the
//! one place a status is chosen): a forged or truncated post is a 400, never reported (or alerted
//! on) as a server failure; Linode or the database being down is a 503.

use app::error::AppError;
use axum::{body::Body, extract::Request, middleware::Next, response::Response};
use http::{
    header::{ACCEPT, CONTENT_TYPE},
    HeaderValue, Method, StatusCode,
};
use leptos::server_fn::error::{FromServerFnError, SERVER_FN_ERROR_HEADER};

/// An encoded `AppError` is a few hundred bytes.
const MAX_ERROR_BYTES: usize = 64 * 1024;

pub async fn client_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(status) = StatusCode::from_u16(AppError::de(bytes.clone()).status()) {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The body and headers server_fn itself sends for an error, with the error's status, so the
/// hydrated page shows the message (for refusals made before a server function runs: rate
/// limits, cross-site posts).
pub fn app_error(error: &AppError, request: &Request) -> Response {
    let mut response = Response::new(Body::from(error.ser()));
    *response.status_mut() = status_of(error);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(path) = HeaderValue::from_str(request.uri().path()) {
        headers.insert(SERVER_FN_ERROR_HEADER, path);
    }
    response
}

/// The status `error` is answered with.
pub fn status_of(error: &AppError) -> StatusCode {
    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Navigations (the callback) and form posts without WASM ask for HTML; the hydrated page's
/// server-function call does not.
pub fn wants_html(request: &Request) -> bool {
    matches!(*request.method(), Method::GET | Method::HEAD)
        || request
            .headers()
            .get(ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
}
