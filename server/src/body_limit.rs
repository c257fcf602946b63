//! A cap on request bodies, in size and in time. Our forms send three short fields, so anything
//! much larger is abuse or a mistake; it is refused with 413 before a handler sees it. A body
//! that takes longer than `HTTP_BODY_TIMEOUT_SECS` to arrive (a client dribbling it a byte at a
//! time to hold the connection) is answered 408 and its connection closed.
//!
//! The body is read here, up to the cap, rather than left to a limited stream: server_fn turns a
//! stream that breaks half-way into its own error (a redirect back to the form), not a 413. The
//! time is for the whole body, not per read: a per-read timeout never fires on a client that
//! sends one byte just before each one ends.

use std::time::Duration;

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{
    header::{CONNECTION, CONTENT_LENGTH},
    HeaderValue, StatusCode,
};
use http_body_util::LengthLimitError;

/// Our forms send three short fields; anything much larger is not from them.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

/// How long a whole request body may take to arrive (`HTTP_BODY_TIMEOUT_SECS`).
#[derive(Clone, Copy, Debug)]
pub struct BodyTimeout(pub Duration);

pub async fn limit(State(BodyTimeout(timeout)): State<BodyTimeout>, request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    let Ok(read) = tokio::time::timeout(timeout, axum::body::to_bytes(body, MAX_BODY_BYTES)).await else {
        // The request's span names the path (cut to a length a log line can hold).
        tracing::info!(timeout_ms = timeout.as_millis() as u64, "request body too slow");
        return too_slow(timeout);
    };
    match read {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(error) => {
            if error.into_inner().is::<LengthLimitError>() {
                too_large()
            } else {
                // The client went away or sent a broken chunked body.
                (StatusCode::BAD_REQUEST, "The request body could not be read.").into_response()
            }
        }
    }
}

fn too_large() -> Response {
    let message = format!("The request is too large: this site accepts at most {} KB.", MAX_BODY_BYTES / 1024);
    (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
}

fn too_slow(timeout: Duration) -> Response {
    let message =
        format!("The request took too long to arrive: this site waits at most {} s for it.", timeout.as_secs_f64());
    let mut response = (StatusCode::REQUEST_TIMEOUT, message).into_response();
    // The rest of the body may still be on its way: the connection cannot carry another request.
    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    response
}
