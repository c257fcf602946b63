//! A cap on request bodies. Our forms send three short fields, so anything much larger is abuse
//! or a mistake; it is refused with 413 before a handler sees it.
//!
//! The body is read here, up to the cap, rather than left to a limited stream: server_fn turns a
//! stream that breaks half-way into its own error (a redirect back to the form), not a 413.

use axum::{
    body::Body,
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{header::CONTENT_LENGTH, StatusCode};
use http_body_util::LengthLimitError;

/// Our forms send three short fields; anything much larger is not from them.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

pub async fn limit(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return too_large();
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
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
