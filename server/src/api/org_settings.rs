//! `/org/settings`: an org's guardrail settings (leak response, quarantine
//! rule thresholds). Thin: the rules live in `authority`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::wire::OrgSettings;

use super::json::ApiJson;
use super::required::{Authed, KeysIntrospect, OrgAdmin};
use super::ApiState;
use crate::error::ApiError;

/// `GET /api/v1/org/settings`
#[utoipa::path(
    get,
    path = "/org/settings",
    summary = "The org's guardrail settings",
    description = "Requires `svc:keys:introspect` (guards read the thresholds their quarantine rules use) or `admin:org`. Absent parts fall back to the server's `--leak-response` and each guard's own flags.",
    responses(
        (status = 200, description = "The settings", body = model::wire::OrgSettings),
        super::openapi::AuthFailures,
    )
)]
pub async fn get(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<KeysIntrospect>,
) -> Result<Response, ApiError> {
    Ok(Json(state.authority.org_settings(&principal).await?).into_response())
}

/// `PUT /api/v1/org/settings`
#[utoipa::path(
    put,
    path = "/org/settings",
    summary = "Replace the org's guardrail settings",
    description = "Requires `admin:org` on a key of the deployment's own environment. `leak_response`: `revoke` or `quarantine`; `rules`: thresholds for every guard of the org (0 turns a rule off). Guards pick changes up within 30 seconds.",
    request_body = model::wire::OrgSettings,
    responses(
        (status = 200, description = "The settings now", body = model::wire::OrgSettings),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON or has unknown fields", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "A threshold out of range", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn put(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<OrgAdmin>,
    ApiJson(body): ApiJson<OrgSettings>,
) -> Result<Response, ApiError> {
    Ok(Json(state.authority.set_org_settings(&principal, body).await?).into_response())
}
