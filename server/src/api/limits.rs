//! `/keys/{id}/limits` and `/keys/{id}/allowance`: a key's rate limits and
//! budgets, and the allowances remote guards take calls from. Thin: the
//! rules live in `authority` (`set_limits`, `allowance`).

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::wire::{AllowanceRequest, LimitsRequest};

use super::json::ApiJson;
use super::required::{Authed, KeysAdmin, KeysIntrospect};
use super::ApiState;
use crate::error::ApiError;

/// `PUT /api/v1/keys/{id}/limits`
#[utoipa::path(
    put,
    path = "/keys/{id}/limits",
    summary = "Replace a key's own rate limits and budgets",
    description = "Requires `svc:keys:admin` (or `admin:org`), every scope the key holds, and a calling key that is under no limits itself. Limits the key inherited from the key that minted it stay.",
    params(("id" = String, Path)),
    request_body = model::wire::LimitsRequest,
    responses(
        (status = 200, description = "The key as it is now", body = model::wire::KeyView),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 404, description = "No such key in your org", body = model::wire::ErrorEnvelope), (status = 409, description = "The key is revoked", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid limits", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn set(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysAdmin>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LimitsRequest>,
) -> Result<Response, ApiError> {
    let key = state.authority.set_limits(&principal, &id, body).await?;
    Ok(Json(key).into_response())
}

/// `POST /api/v1/keys/{id}/allowance`
#[utoipa::path(
    post,
    path = "/keys/{id}/allowance",
    summary = "Take calls of one limit a key counts against (for remote guards)",
    description = "Requires `svc:keys:introspect` (or `admin:org`). `id` is the calling key the guard let in; `owner`, `kind` and `scope` name one of its limits as introspection listed them. The grant is taken from the limit's counter: grants never add up to more than the limit per window.",
    params(("id" = String, Path)),
    request_body = model::wire::AllowanceRequest,
    responses(
        (status = 200, description = "Calls granted (0: the limit is spent for now)", body = model::wire::AllowanceGrant),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 404, description = "No such key in your org", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid scope", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn allowance(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysIntrospect>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AllowanceRequest>,
) -> Result<Response, ApiError> {
    let grant = state.authority.allowance(&principal, &id, body).await?;
    let mut response = Json(grant).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
