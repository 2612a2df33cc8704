//! `/api/v1/scopes`: the scope catalog that drives the scope picker and
//! validates mint requests, and the call by which tool servers add the
//! scopes their tools require.

use axum::extract::State;
use axum::Json;

use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::ApiError;
use super::json::ApiJson;
use super::required::{Authed, CatalogWrite, KeysRead};
use super::ApiState;

/// Body of `POST /api/v1/scopes`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    scopes: Vec<authority::ScopeRegistration>,
}

#[utoipa::path(
    post,
    path = "/scopes",
    summary = "Add the scopes a tool server's tools require (add-only)",
    description = "Requires `svc:catalog:write` (or `admin:org`). Existing scopes and descriptions never change.",
    request_body = super::openapi::RegisterScopesBody,
    responses(
        (status = 200, description = "Canonical scopes and how many were new", body = super::openapi::RegisteredScopes),
        (status = 400, description = "Body is not JSON", body = super::openapi::ErrorEnvelope),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks svc:catalog:write", body = super::openapi::ErrorEnvelope),
        (status = 413, description = "Body too large", body = super::openapi::ErrorEnvelope),
        (status = 422, description = "Not a tool scope, or a bad description", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn register(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<CatalogWrite>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response, ApiError> {
    let registered = state
        .authority
        .register_tool_scopes(&principal, &body.scopes)
        .await?;
    Ok(Json(registered).into_response())
}

/// `GET /api/v1/scopes`
#[utoipa::path(
    get,
    path = "/scopes",
    summary = "The scope catalog",
    description = "Requires `svc:keys:read` (or `admin:org`).",
    responses(
        (status = 200, description = "Services and their actions", body = super::openapi::ScopeCatalog),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 503, description = "The store could not be reached", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn catalog(
    State(state): State<ApiState>,
    _caller: Authed<KeysRead>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let services = state.authority.scope_catalog().await?;
    Ok(Json(serde_json::json!({ "services": services })))
}
