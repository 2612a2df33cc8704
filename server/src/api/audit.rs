//! `/audit` endpoints: query, one event, timeline, verify, export and
//! batch ingest from remote tool servers.

use authority::audit::{AuditFilter, AuditQuery, TimelineQuery};
use authority::time::Timestamp;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::wire::{AuditFilterParams, IngestAnswer, IngestBody, TimelineAnswer};
use serde::Deserialize;

use super::json::ApiJson;
use super::query::ApiQuery;
use super::required::{AuditRead, AuditWrite, Authed};
use super::ApiState;
use crate::error::ApiError;

/// Query-string filters shared by query, timeline and export.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    key_id: Option<String>,
    agent: Option<String>,
    tool: Option<String>,
    /// `allowed` or `denied`.
    decision: Option<String>,
    /// `tool_call` or `admin`.
    kind: Option<String>,
    /// RFC 3339 or epoch milliseconds, inclusive.
    since: Option<String>,
    /// RFC 3339 or epoch milliseconds, exclusive.
    until: Option<String>,
    /// `1h`, `24h`, `7d`, `30d` or `all`, ending now (ignored with `since`).
    range: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
    /// Export only: `csv` (default) or `ndjson`.
    format: Option<String>,
    /// Timeline only: bucket width in seconds.
    bucket_secs: Option<i32>,
}

impl AuditParams {
    /// The filter, parsed by the authority's one parser.
    fn filter(&self, now: Timestamp) -> Result<AuditFilter, ApiError> {
        let params = AuditFilterParams {
            key_id: self.key_id.clone(),
            agent: self.agent.clone(),
            tool: self.tool.clone(),
            decision: self.decision.clone(),
            kind: self.kind.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            range: self.range.clone(),
        };
        Ok(AuditFilter::parse(&params, now)?)
    }
}

/// `GET /api/v1/audit`: newest first, cursor pagination.
#[utoipa::path(
    get,
    path = "/audit",
    summary = "Query the audit trail, newest first",
    description = "Requires `svc:audit:read` (or `admin:org`).",
    params(("key_id" = Option<String>, Query), ("agent" = Option<String>, Query), ("tool" = Option<String>, Query), ("decision" = Option<String>, Query, description = "allowed or denied"), ("kind" = Option<String>, Query, description = "tool_call or admin"), ("since" = Option<String>, Query, description = "RFC 3339 or epoch ms, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339 or epoch ms, exclusive"), ("range" = Option<String>, Query, description = "1h, 24h, 7d, 30d or all, ending now; ignored with since"), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-1000, default 100")),
    responses(
        (status = 200, description = "A page of events", body = model::wire::AuditPage),
        super::openapi::AuthFailures,
        (status = 400, description = "Bad query string", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid filter, cursor or limit", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn query(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditRead>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let query = AuditQuery {
        filter: params.filter(state.authority.now())?,
        cursor: params.cursor.clone(),
        limit: params.limit,
    };
    let page = state.authority.audit_query(&principal, query).await?;
    Ok(Json(page).into_response())
}

/// `GET /api/v1/audit/events/{id}`
#[utoipa::path(
    get,
    path = "/audit/events/{id}",
    summary = "One audit event",
    description = "Requires `svc:audit:read` (or `admin:org`).",
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The event", body = model::audit::AuditEvent),
        super::openapi::AuthFailures,
        (status = 404, description = "No such event in your org", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn event(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditRead>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let event = state.authority.audit_event(&principal, &id).await?;
    Ok(Json(event).into_response())
}

/// `GET /api/v1/audit/timeline`: allowed vs denied per time bucket.
#[utoipa::path(
    get,
    path = "/audit/timeline",
    summary = "Allowed and denied calls per time bucket",
    description = "Requires `svc:audit:read` (or `admin:org`).",
    params(("key_id" = Option<String>, Query), ("agent" = Option<String>, Query), ("tool" = Option<String>, Query), ("decision" = Option<String>, Query, description = "allowed or denied"), ("kind" = Option<String>, Query, description = "tool_call or admin"), ("since" = Option<String>, Query, description = "RFC 3339 or epoch ms, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339 or epoch ms, exclusive"), ("range" = Option<String>, Query, description = "1h, 24h, 7d, 30d or all, ending now; ignored with since"), ("bucket_secs" = Option<i32>, Query, description = "bucket width in seconds, at least 1")),
    responses(
        (status = 200, description = "Buckets", body = model::wire::TimelineAnswer),
        super::openapi::AuthFailures,
        (status = 400, description = "Bad query string", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid range or bucket", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn timeline(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditRead>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let bucket_secs = params
        .bucket_secs
        .map(|secs| {
            u64::try_from(secs).map_err(|_| {
                ApiError::invalid_field("`bucket_secs` must be a positive number of seconds")
            })
        })
        .transpose()?;
    let query = TimelineQuery {
        filter: params.filter(state.authority.now())?,
        bucket_secs,
    };
    let buckets = state.authority.audit_timeline(&principal, query).await?;
    Ok(Json(TimelineAnswer { buckets }).into_response())
}

/// `GET /api/v1/audit/verify`: checks every hash chain of the caller's org.
#[utoipa::path(
    get,
    path = "/audit/verify",
    summary = "Verify every hash chain of your org",
    description = "Requires `svc:audit:read` (or `admin:org`).",
    responses(
        (status = 200, description = "Verification report", body = serde_json::Value),
        super::openapi::AuthFailures,
    )
)]
pub async fn verify(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditRead>,
) -> Result<Response, ApiError> {
    let report = state.authority.verify_audit(&principal).await?;
    Ok(Json(report).into_response())
}

/// `POST /api/v1/audit/events`: answered only once every event is durable.
#[utoipa::path(
    post,
    path = "/audit/events",
    summary = "Ingest a batch of tool-call events from a remote tool server",
    description = "Requires `svc:audit:write` (or `admin:org`).",
    request_body = model::wire::IngestBody,
    responses(
        (status = 201, description = "Every event is durable", body = model::wire::IngestAnswer),
        super::openapi::AuthFailures,
        (status = 400, description = "Body is not JSON", body = model::wire::ErrorEnvelope), (status = 413, description = "Body too large", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid event or batch too big", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn ingest(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditWrite>,
    ApiJson(body): ApiJson<IngestBody>,
) -> Result<Response, ApiError> {
    let ids = state
        .authority
        .ingest_audit(&principal, body.events)
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(IngestAnswer {
            accepted: ids.len() as u64,
            ids,
        }),
    )
        .into_response())
}

/// `GET /api/v1/audit/export?format=csv|ndjson`: the whole query, streamed
/// page by page so memory stays flat however large the trail is.
#[utoipa::path(
    get,
    path = "/audit/export",
    summary = "Export a query as CSV or NDJSON, streamed",
    description = "Requires `svc:audit:read` (or `admin:org`).",
    params(("key_id" = Option<String>, Query), ("agent" = Option<String>, Query), ("tool" = Option<String>, Query), ("decision" = Option<String>, Query, description = "allowed or denied"), ("kind" = Option<String>, Query, description = "tool_call or admin"), ("since" = Option<String>, Query, description = "RFC 3339 or epoch ms, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339 or epoch ms, exclusive"), ("range" = Option<String>, Query, description = "1h, 24h, 7d, 30d or all, ending now; ignored with since"), ("format" = Option<String>, Query, description = "csv (default) or ndjson")),
    responses(
        (status = 200, description = "The events", content_type = "text/csv", body = String),
        super::openapi::AuthFailures,
        (status = 400, description = "Bad query string", body = model::wire::ErrorEnvelope), (status = 422, description = "Invalid filter or format", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn export(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditRead>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let filter = params.filter(state.authority.now())?;
    crate::export::stream(state.authority, principal, filter, params.format.as_deref()).await
}
