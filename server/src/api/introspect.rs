//! `POST /api/v1/introspect`: RFC 7662-style key checks for tool servers
//! written in any language. The caller needs its own `svc:keys:introspect`
//! key; an inactive, unknown or other-org key answers `{"active": false}`
//! and nothing else.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::wire::IntrospectRequest;

use super::json::ApiJson;
use super::required::{Authed, KeysIntrospect};
use super::ApiState;
use crate::error::ApiError;

/// `POST /api/v1/introspect`
#[utoipa::path(
    post,
    path = "/introspect",
    summary = "Check a key for a tool server (RFC 7662 style)",
    description = "Requires `svc:keys:introspect` (or `admin:org`).",
    request_body = model::wire::IntrospectRequest,
    responses(
        (status = 200, description = "active: true with the key's facts, or active: false", body = model::wire::IntrospectAnswer),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "No token", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn introspect(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysIntrospect>,
    ApiJson(body): ApiJson<IntrospectRequest>,
) -> Result<Response, ApiError> {
    let answer = state
        .authority
        .introspect(&principal, body.token.expose_secret())
        .await?;
    let mut response = Json(answer).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
