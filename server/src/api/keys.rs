//! `/keys` endpoints: mint, list, get, revoke, rotate, bulk revoke.
//!
//! Each handler authenticates for its scope, parses, calls one authority
//! method and maps the error; the rules themselves live in `authority`.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::wire::{
    BulkRevokeBody, BulkRevokeRequest, KeyList, KeyListFilter, MintRequest, QuarantineBody,
    RevokeBody, RotateRequest,
};

use super::json::{ApiJson, OptionalJson};
use super::query::ApiQuery;
use super::required::{Authed, KeysAdmin, KeysQuarantine, KeysRead, KeysWrite};
use super::ApiState;
use crate::error::ApiError;

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
    request_body = model::wire::MintRequest,
    responses(
        (status = 201, description = "Minted", body = model::wire::MintedKey),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid field, unknown scope, or escalation beyond the caller", body = model::wire::ErrorEnvelope),
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
        (status = 200, description = "Keys, newest first", body = model::wire::KeyList),
        super::openapi::AuthFailures,
        (status = 400, description = "Bad query string", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn list(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysRead>,
    ApiQuery(filter): ApiQuery<KeyListFilter>,
) -> Result<Response, ApiError> {
    let keys = state.authority.list_keys(&principal, filter).await?;
    Ok(Json(KeyList { keys }).into_response())
}

/// `GET /api/v1/keys/{id}`
#[utoipa::path(
    get,
    path = "/keys/{id}",
    summary = "Get one key",
    description = "Requires `svc:keys:read` (or `admin:org`).",
    params(("id" = String, Path, description = "key_…")),
    responses(
        (status = 200, description = "The key", body = model::wire::KeyView),
        super::openapi::AuthFailures,
        (status = 404, description = "No such key in your org", body = model::wire::ErrorEnvelope),
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

/// `POST /api/v1/keys/{id}/revoke` (idempotent)
#[utoipa::path(
    post,
    path = "/keys/{id}/revoke",
    summary = "Revoke a key (idempotent)",
    description = "Requires `svc:keys:write` (or `admin:org`).",
    params(("id" = String, Path)),
    request_body = Option<model::wire::RevokeBody>,
    responses(
        (status = 200, description = "The revoked key", body = model::wire::KeyView),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 404, description = "No such key in your org", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid reason", body = model::wire::ErrorEnvelope),
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

/// `POST /api/v1/keys/{id}/quarantine` (idempotent)
#[utoipa::path(
    post,
    path = "/keys/{id}/quarantine",
    summary = "Hold a key (and its derived keys) in quarantine until a person releases it",
    description = "Requires `svc:keys:quarantine` (guards whose guardrail rule tripped; implied by `svc:keys:admin`). A key holding `admin:org` is held only by an `admin:org` caller.",
    params(("id" = String, Path)),
    request_body = Option<model::wire::QuarantineBody>,
    responses(
        (status = 200, description = "The key as it is now", body = model::wire::KeyView),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 404, description = "No such key in your org", body = model::wire::ErrorEnvelope), (status = 409, description = "Too many derived keys for one commit", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid rule or reason", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn quarantine(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysQuarantine>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<QuarantineBody>,
) -> Result<Response, ApiError> {
    let key = state.authority.quarantine(&principal, &id, body).await?;
    Ok(Json(key).into_response())
}

/// `POST /api/v1/keys/{id}/release` (idempotent)
#[utoipa::path(
    post,
    path = "/keys/{id}/release",
    summary = "Release a key from quarantine (with the derived keys its hold held)",
    description = "Requires `svc:keys:admin` (or `admin:org`) and every scope the key holds.",
    params(("id" = String, Path)),
    request_body = Option<model::wire::RevokeBody>,
    responses(
        (status = 200, description = "The key as it is now", body = model::wire::KeyView),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 404, description = "No such key in your org", body = model::wire::ErrorEnvelope), (status = 409, description = "Held because of its parent: release the parent", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid reason", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn release(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysAdmin>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<RevokeBody>,
) -> Result<Response, ApiError> {
    let key = state
        .authority
        .release(&principal, &id, body.reason)
        .await?;
    Ok(Json(key).into_response())
}

/// `POST /api/v1/keys/{id}/rotate`
#[utoipa::path(
    post,
    path = "/keys/{id}/rotate",
    summary = "Rotate: a successor key (raw once) and a grace period for the old one",
    description = "Requires `svc:keys:write` (or `admin:org`).",
    params(("id" = String, Path)),
    request_body = Option<model::wire::RotateRequest>,
    responses(
        (status = 201, description = "Successor and the old key", body = model::wire::RotatedKey),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 404, description = "No such key in your org", body = model::wire::ErrorEnvelope), (status = 409, description = "The key is revoked or already rotated", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid grace period", body = model::wire::ErrorEnvelope),
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

/// `POST /api/v1/keys/revoke`: the incident switch.
#[utoipa::path(
    post,
    path = "/keys/revoke",
    summary = "Incident switch: revoke every key of an agent or of the org",
    description = "Requires `svc:keys:admin` (or `admin:org`).",
    request_body = model::wire::BulkRevokeBody,
    responses(
        (status = 200, description = "How many keys were revoked", body = model::wire::BulkRevokeResult),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "Neither or both of agent and all", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn bulk_revoke(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysAdmin>,
    ApiJson(body): ApiJson<BulkRevokeBody>,
) -> Result<Response, ApiError> {
    let request = BulkRevokeRequest::try_from(body).map_err(ApiError::invalid_field)?;
    let result = state.authority.bulk_revoke(&principal, request).await?;
    crate::metrics::keys_revoked(result.revoked);
    Ok(Json(result).into_response())
}
