//! `POST /api/v1/leaks/github`: the secret scanning partner endpoint. No
//! Bearer key: the report is authenticated by its ECDSA signature (see
//! `authority::guardrails::leaks`). Failed signatures count against the
//! client address like failed keys do.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use authority::guardrails::leaks::LeakReportError;
use authority::LeakError;

use super::ApiState;
use crate::error::ApiError;

/// `POST /api/v1/leaks/github`
#[utoipa::path(
    post,
    path = "/leaks/github",
    summary = "Report exposed acekeys tokens (GitHub secret scanning partner format)",
    description = "No Bearer key: the body must be signed (ECDSA P-256, SHA-256, base64 DER) with a configured key, named in `Github-Public-Key-Identifier`, the signature in `Github-Public-Key-Signature`. Each reported key of this authority is revoked (or held in quarantine, per `--leak-response`) and the leak's URL goes into its org's audit trail.",
    // No Bearer key: the document's default security does not apply.
    security(()),
    request_body(content = Vec<model::wire::LeakReportItem>, description = "The report: `[{token, type, url, source}]`, at most 1,000 tokens"),
    params(
        ("Github-Public-Key-Identifier" = String, Header, description = "Which configured key signed the body"),
        ("Github-Public-Key-Signature" = String, Header, description = "base64 DER ECDSA signature of the exact body"),
    ),
    responses(
        (status = 200, description = "One verdict per token", body = Vec<model::wire::LeakVerdict>),
        (status = 401, description = "Unsigned, or the signature does not verify", body = model::wire::ErrorEnvelope),
        (status = 404, description = "Leak reports are not configured on this server", body = model::wire::ErrorEnvelope),
        (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope),
        (status = 422, description = "Not a report, or more than 1,000 tokens", body = model::wire::ErrorEnvelope),
        (status = 429, description = "Too many failed signatures from this address", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn github(
    State(state): State<ApiState>,
    axum::Extension(crate::client_addr::ClientAddr(client)): axum::Extension<
        crate::client_addr::ClientAddr,
    >,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if let Some(wait) = state.gate.blocked(client) {
        return Err(ApiError::rate_limited(
            authority::throttle::retry_after_secs(wait),
        ));
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let result = state
        .authority
        .receive_leak_report(
            header("github-public-key-identifier"),
            header("github-public-key-signature"),
            &body,
        )
        .await;
    match result {
        Ok(verdicts) => Ok(Json(verdicts).into_response()),
        Err(LeakError::Authority(e)) => Err(e.into()),
        Err(LeakError::Report(e)) => Err(match e {
            LeakReportError::NotConfigured => {
                ApiError::new(StatusCode::NOT_FOUND, "not_configured", e.to_string())
            }
            LeakReportError::Unsigned | LeakReportError::BadSignature => {
                if let Some(wait) = state.gate.failed(client) {
                    return Err(ApiError::rate_limited(
                        authority::throttle::retry_after_secs(wait),
                    ));
                }
                ApiError::unauthenticated("bad_signature", e.to_string())
            }
            LeakReportError::Malformed(_) | LeakReportError::TooMany => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_report",
                e.to_string(),
            ),
        }),
    }
}
