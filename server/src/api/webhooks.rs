//! `/webhooks`: an org's signed webhook endpoints and their delivery log.
//! Thin: the rules live in `authority` (`create_webhook` and friends).

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::wire::{DeliveryLog, WebhookRequest};
use serde::Deserialize;

use super::json::ApiJson;
use super::query::ApiQuery;
use super::required::{AuditRead, Authed, OrgAdmin};
use super::ApiState;
use crate::error::ApiError;

/// A body with a secret in it must not be cached anywhere.
fn secret_response(status: StatusCode, body: impl serde::Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /api/v1/webhooks`
#[utoipa::path(
    post,
    path = "/webhooks",
    summary = "Add a webhook endpoint (its secret is shown once)",
    description = "Requires `admin:org` on a key of the deployment's own environment. Messages (`key.expiring`, `key.revoked`, `key.quarantined`, `key.released`, `leak.reported`) are signed as Standard Webhooks prescribe with the secret answered here, and retried with backoff until the endpoint answers 2xx. At most 10 endpoints per org.",
    request_body = model::wire::WebhookRequest,
    responses(
        (status = 201, description = "The endpoint and its secret", body = model::wire::WebhookWithSecret),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 409, description = "The org has the most endpoints allowed", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid URL, event type or description", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn create(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<OrgAdmin>,
    ApiJson(body): ApiJson<WebhookRequest>,
) -> Result<Response, ApiError> {
    let created = state.authority.create_webhook(&principal, body).await?;
    Ok(secret_response(StatusCode::CREATED, created))
}

/// `GET /api/v1/webhooks`
#[utoipa::path(
    get,
    path = "/webhooks",
    summary = "List the org's webhook endpoints",
    description = "Requires `svc:audit:read` (or `admin:org`). Secrets are never shown again.",
    responses(
        (status = 200, description = "The endpoints", body = model::wire::WebhookList),
        super::openapi::AuthFailures,
    )
)]
pub async fn list(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditRead>,
) -> Result<Response, ApiError> {
    Ok(Json(state.authority.list_webhooks(&principal).await?).into_response())
}

/// `POST /api/v1/webhooks/{id}/rotate`
#[utoipa::path(
    post,
    path = "/webhooks/{id}/rotate",
    summary = "Rotate a webhook endpoint's secret (the new one is shown once)",
    description = "Requires `admin:org`. For 24 hours messages carry signatures by both the new and the previous secret, so the receiver can switch without losing one.",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The endpoint and its new secret", body = model::wire::WebhookWithSecret),
        super::openapi::AuthFailures,
        (status = 404, description = "No such endpoint in your org", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn rotate(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<OrgAdmin>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let rotated = state
        .authority
        .rotate_webhook_secret(&principal, &id)
        .await?;
    Ok(secret_response(StatusCode::OK, rotated))
}

/// `DELETE /api/v1/webhooks/{id}`
#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    summary = "Delete a webhook endpoint",
    description = "Requires `admin:org`. Messages not yet delivered to it are dropped (their deliveries show as failed).",
    params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        super::openapi::AuthFailures,
        (status = 404, description = "No such endpoint in your org", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn delete(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<OrgAdmin>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.authority.delete_webhook(&principal, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// How many of the newest deliveries (1-200, default 50).
    limit: Option<u32>,
}

/// `GET /api/v1/webhooks/{id}/deliveries`
#[utoipa::path(
    get,
    path = "/webhooks/{id}/deliveries",
    summary = "An endpoint's delivery log, newest first",
    description = "Requires `svc:audit:read` (or `admin:org`). Each message with its state (`pending`, `delivered`, `failed`), attempts, last HTTP status or error, and next attempt.",
    params(("id" = String, Path), ("limit" = Option<u32>, Query, description = "1-200, default 50")),
    responses(
        (status = 200, description = "The deliveries", body = model::wire::DeliveryLog),
        super::openapi::AuthFailures,
        (status = 400, description = "Invalid query string", body = model::wire::ErrorEnvelope),
        (status = 404, description = "No such endpoint in your org", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn deliveries(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditRead>,
    Path(id): Path<String>,
    ApiQuery(params): ApiQuery<DeliveryParams>,
) -> Result<Response, ApiError> {
    let deliveries = state
        .authority
        .webhook_deliveries(&principal, &id, params.limit)
        .await?;
    Ok(Json(DeliveryLog { deliveries }).into_response())
}
