//! `GET /api/v1/scopes`: the scope catalog that drives the scope picker
//! and validates mint requests.

use axum::extract::State;
use axum::Json;

use super::required::{Authed, KeysRead};
use super::ApiState;

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
    )
)]
pub async fn catalog(
    State(state): State<ApiState>,
    _caller: Authed<KeysRead>,
) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "services": state.authority.scope_catalog() }))
}
