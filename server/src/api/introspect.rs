//! `POST /api/v1/introspect`: RFC 7662-style key checks for tool servers
//! written in any language. The caller needs its own `svc:keys:introspect`
//! key; an inactive, unknown or other-org key answers `{"active": false}`
//! and nothing else.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::json::ApiJson;
use super::required::{Authed, KeysIntrospect};
use super::ApiState;

/// The key to check.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntrospectBody {
    /// The raw key (RFC 7662 calls it `token`).
    token: String,
}

/// RFC 7662 names plus acekeys' own fields.
#[derive(Debug, Serialize)]
struct IntrospectAnswer {
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<String>,
    /// Space-separated, as RFC 7662 has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    scopes: Option<Vec<String>>,
    /// Expiry in seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token_type: Option<&'static str>,
}

/// `POST /api/v1/introspect`
#[utoipa::path(
    post,
    path = "/introspect",
    summary = "Check a key for a tool server (RFC 7662 style)",
    description = "Requires `svc:keys:introspect` (or `admin:org`).",
    request_body = super::openapi::IntrospectBody,
    responses(
        (status = 200, description = "active: true with the key's facts, or active: false", body = super::openapi::IntrospectAnswer),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 400, description = "Body is not JSON", body = super::openapi::ErrorEnvelope), (status = 413, description = "Body too large", body = super::openapi::ErrorEnvelope), (status = 422, description = "No token", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn introspect(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysIntrospect>,
    ApiJson(body): ApiJson<IntrospectBody>,
) -> Result<Response, ApiError> {
    let answer = state.authority.introspect(&principal, &body.token).await?;
    let scopes = answer.scopes.map(|set| set.to_strings());
    let wire = IntrospectAnswer {
        active: answer.active,
        key_id: answer.key_id.map(|id| id.to_string()),
        org: answer.org.map(|org| org.to_string()),
        env: answer.env.map(|env| env.as_str().to_owned()),
        agent: answer.agent,
        scope: scopes.as_ref().map(|list| list.join(" ")),
        scopes,
        exp: answer.expires_at.map(|at| at.as_millis().div_euclid(1000)),
        token_type: answer.active.then_some("Bearer"),
    };
    let mut response = Json(wire).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
