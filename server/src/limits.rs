//! One body limit and one time limit for every route: the REST API, the
//! dashboard's pages and server functions, and static files.
//!
//! A body that says it is too large (`Content-Length`) is refused before a
//! byte of it is read, with 413 in the error envelope. A body that does not
//! say (chunked) is cut off at the limit while it is read: the handler
//! reading it fails (the REST API answers 413 in the envelope, a server
//! function a 400), and memory stays bounded either way.

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The largest request body any route accepts.
pub const MAX_BODY_BYTES: usize = model::wire::MAX_REQUEST_BYTES;

/// How long any handler may take to produce its response head (streams,
/// once started, are the handler's to bound).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn limit_body(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return ApiError::too_large(MAX_BODY_BYTES).into_response();
    }
    let (parts, body) = request.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, MAX_BODY_BYTES));
    next.run(Request::from_parts(parts, limited)).await
}
