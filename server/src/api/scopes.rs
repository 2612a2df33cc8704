//! `/api/v1/scopes`: the scope catalog that drives the scope picker and
//! validates mint requests, and the call by which tool servers add the
//! scopes their tools require.

use axum::extract::State;
use axum::Json;

use axum::response::{IntoResponse, Response};
use model::wire::{RegisterScopesBody, ScopeCatalogAnswer};

use super::json::ApiJson;
use super::required::{Authed, CatalogWrite, KeysRead};
use super::ApiState;
use crate::error::ApiError;

#[utoipa::path(
    post,
    path = "/scopes",
    summary = "Add the scopes a tool server's tools require (add-only)",
    description = "Requires `svc:catalog:write` (or `admin:org`). Existing scopes and descriptions never change.",
    request_body = model::wire::RegisterScopesBody,
    responses(
        (status = 200, description = "Canonical scopes and how many were new", body = model::wire::RegisteredScopes),
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = model::wire::ErrorEnvelope),
        (status = 403, description = "The key lacks svc:catalog:write", body = model::wire::ErrorEnvelope),
        (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope),
        (status = 422, description = "Not a tool scope, or a bad description", body = model::wire::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn register(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<CatalogWrite>,
    ApiJson(body): ApiJson<RegisterScopesBody>,
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
        (status = 200, description = "Services and their actions", body = model::wire::ScopeCatalogAnswer),
        super::openapi::AuthFailures,
        (status = 503, description = "The store could not be reached", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn catalog(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysRead>,
) -> Result<Json<ScopeCatalogAnswer>, ApiError> {
    let services = state.authority.scope_catalog(&principal.org).await?;
    Ok(Json(ScopeCatalogAnswer { services }))
}
