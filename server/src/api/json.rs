//! JSON request bodies with errors a caller can act on.
//!
//! axum's own `Json` answers in plain text and insists on a
//! `Content-Type`; this extractor answers in the error envelope: 413 past
//! the size limit, 400 for bytes that are not JSON, 422 for JSON of the
//! wrong shape, each message saying what was wrong and where.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The largest JSON body any endpoint accepts (audit ingest batches are the
/// biggest legitimate ones); the model states it for senders.
pub const MAX_BODY_BYTES: usize = crate::limits::MAX_BODY_BYTES;

/// A JSON body parsed into `T`.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses `bytes` as JSON into `T`, mapping failures to 400 or 422.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "the request body is empty: send a JSON object",
        ));
    }
    // serde accepts `[...]` for a struct; every body here is an object.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                Ok(_) => ApiError::invalid_field("the request body must be a JSON object"),
                Err(error) => {
                    ApiError::bad_request(format!("the request body is not valid JSON: {error}"))
                }
            },
        );
    }
    serde_json::from_slice(bytes).map_err(|error| {
        use serde_json::error::Category;
        match error.classify() {
            Category::Data => ApiError::invalid_field(format!(
                "the JSON body does not fit this endpoint: {error}"
            )),
            Category::Syntax | Category::Eof | Category::Io => {
                ApiError::bad_request(format!("the request body is not valid JSON: {error}"))
            }
        }
    })
}

/// An optional JSON body: an empty one, or `null`, means `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read_body(request, state).await?;
        let text = bytes.trim_ascii();
        if text.is_empty() || text == b"null" {
            Ok(OptionalJson(T::default()))
        } else {
            parse(&bytes).map(OptionalJson)
        }
    }
}

pub(super) async fn read_body<S: Send + Sync>(
    request: Request,
    state: &S,
) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, state)
        .await
        .map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large(MAX_BODY_BYTES)
            } else {
                ApiError::bad_request(format!("could not read the request body: {rejection}"))
            }
        })
}
