//! `/keys` endpoints: mint, list, get, revoke, rotate, bulk revoke.
//!
//! Each handler authenticates for its scope, parses, calls one authority
//! method and maps the error; the rules themselves live in `authority`.

use authority::{BulkRevokeRequest, KeyListFilter, MintRequest, RotateRequest};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::error::ApiError;
use super::json::{ApiJson, OptionalJson};
use super::query::ApiQuery;
use super::required::{Authed, KeysAdmin, KeysRead, KeysWrite};
use super::ApiState;

/// Responses carrying a raw key must never be stored by a cache or browser.
fn no_store(status: StatusCode, body: impl serde::Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /api/v1/keys/mint`
#[utoipa::path(
    post,
    path = "/keys/mint",
    summary = "Mint a key (the raw key is in this response only)",
    description = "Requires `svc:keys:write` (or `admin:org`).",
    request_body = super::openapi::MintBody,
    responses(
        (status = 201, description = "Minted", body = super::openapi::MintedKey),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 400, description = "Body is not JSON", body = super::openapi::ErrorEnvelope), (status = 413, description = "Body too large", body = super::openapi::ErrorEnvelope), (status = 422, description = "Invalid field, unknown scope, or escalation beyond the caller", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn mint(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysWrite>,
    ApiJson(request): ApiJson<MintRequest>,
) -> Result<Response, ApiError> {
    let minted = state.authority.mint(&principal, request).await?;
    crate::metrics::key_minted();
    Ok(no_store(StatusCode::CREATED, minted))
}

/// `GET /api/v1/keys`
#[utoipa::path(
    get,
    path = "/keys",
    summary = "List the org's keys (never secrets)",
    description = "Requires `svc:keys:read` (or `admin:org`).",
    params(("status" = Option<String>, Query, description = "active, expired or revoked"), ("agent" = Option<String>, Query), ("env" = Option<String>, Query, description = "live or test")),
    responses(
        (status = 200, description = "Keys, newest first", body = super::openapi::KeyList),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 400, description = "Bad query string", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn list(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysRead>,
    ApiQuery(filter): ApiQuery<KeyListFilter>,
) -> Result<Response, ApiError> {
    let keys = state.authority.list_keys(&principal, filter).await?;
    Ok(Json(serde_json::json!({ "keys": keys })).into_response())
}

/// `GET /api/v1/keys/{id}`
#[utoipa::path(
    get,
    path = "/keys/{id}",
    summary = "Get one key",
    description = "Requires `svc:keys:read` (or `admin:org`).",
    params(("id" = String, Path, description = "key_…")),
    responses(
        (status = 200, description = "The key", body = super::openapi::KeyView),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such key in your org", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn get(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysRead>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let key = state.authority.get_key(&principal, &id).await?;
    Ok(Json(key).into_response())
}

/// Body of `POST /keys/{id}/revoke`; the body itself is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /api/v1/keys/{id}/revoke` (idempotent)
#[utoipa::path(
    post,
    path = "/keys/{id}/revoke",
    summary = "Revoke a key (idempotent)",
    description = "Requires `svc:keys:write` (or `admin:org`).",
    params(("id" = String, Path)),
    request_body = Option<super::openapi::RevokeBody>,
    responses(
        (status = 200, description = "The revoked key", body = super::openapi::KeyView),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 400, description = "Body is not JSON", body = super::openapi::ErrorEnvelope), (status = 404, description = "No such key in your org", body = super::openapi::ErrorEnvelope), (status = 413, description = "Body too large", body = super::openapi::ErrorEnvelope), (status = 422, description = "Invalid reason", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn revoke(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysWrite>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<RevokeBody>,
) -> Result<Response, ApiError> {
    let key = state.authority.revoke(&principal, &id, body.reason).await?;
    crate::metrics::keys_revoked(1);
    Ok(Json(key).into_response())
}

/// `POST /api/v1/keys/{id}/rotate`
#[utoipa::path(
    post,
    path = "/keys/{id}/rotate",
    summary = "Rotate: a successor key (raw once) and a grace period for the old one",
    description = "Requires `svc:keys:write` (or `admin:org`).",
    params(("id" = String, Path)),
    request_body = Option<super::openapi::RotateBody>,
    responses(
        (status = 201, description = "Successor and the old key", body = super::openapi::RotatedKey),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 400, description = "Body is not JSON", body = super::openapi::ErrorEnvelope), (status = 404, description = "No such key in your org", body = super::openapi::ErrorEnvelope), (status = 409, description = "The key is revoked or already rotated", body = super::openapi::ErrorEnvelope), (status = 413, description = "Body too large", body = super::openapi::ErrorEnvelope), (status = 422, description = "Invalid grace period", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn rotate(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysWrite>,
    Path(id): Path<String>,
    OptionalJson(request): OptionalJson<RotateRequest>,
) -> Result<Response, ApiError> {
    let rotated = state.authority.rotate(&principal, &id, request).await?;
    crate::metrics::key_minted();
    Ok(no_store(StatusCode::CREATED, rotated))
}

/// Body of `POST /keys/revoke`. Whole-org revocation must be asked for by
/// name (`"all": true`): an empty body never empties an org.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkRevokeBody {
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    include_caller: bool,
}

/// `POST /api/v1/keys/revoke`: the incident switch.
#[utoipa::path(
    post,
    path = "/keys/revoke",
    summary = "Incident switch: revoke every key of an agent or of the org",
    description = "Requires `svc:keys:admin` (or `admin:org`).",
    request_body = super::openapi::BulkRevokeBody,
    responses(
        (status = 200, description = "How many keys were revoked", body = super::openapi::BulkRevokeResult),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 400, description = "Body is not JSON", body = super::openapi::ErrorEnvelope), (status = 413, description = "Body too large", body = super::openapi::ErrorEnvelope), (status = 422, description = "Neither or both of agent and all", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn bulk_revoke(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysAdmin>,
    ApiJson(body): ApiJson<BulkRevokeBody>,
) -> Result<Response, ApiError> {
    let agent = match (body.agent, body.all) {
        (Some(agent), false) => Some(agent),
        (None, true) => None,
        (Some(_), true) => {
            return Err(ApiError::invalid_field(
                "give either `agent` or `\"all\": true`, not both",
            ))
        }
        (None, false) => {
            return Err(ApiError::invalid_field(
                "say which keys to revoke: `\"agent\": \"NAME\"` for one agent's keys, or `\"all\": true` for every key of your org",
            ))
        }
    };
    let result = state
        .authority
        .bulk_revoke(
            &principal,
            BulkRevokeRequest {
                agent,
                reason: body.reason,
                include_caller: body.include_caller,
            },
        )
        .await?;
    crate::metrics::keys_revoked(result.revoked);
    Ok(Json(result).into_response())
}
