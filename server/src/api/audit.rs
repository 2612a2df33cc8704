//! `/audit` endpoints: query, one event, timeline, verify, export and
//! batch ingest from remote tool servers.

use authority::audit::{AuditEvent, AuditFilter, AuditQuery, Decision, EventKind, TimelineQuery};
use authority::time::Timestamp;
use authority::{KeyId, ToolCall};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::error::ApiError;
use super::json::ApiJson;
use super::query::ApiQuery;
use super::required::{AuditRead, AuditWrite, Authed};
use super::ApiState;

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
    cursor: Option<String>,
    limit: Option<u32>,
    /// Export only: `csv` (default) or `ndjson`.
    format: Option<String>,
    /// Timeline only: bucket width in seconds.
    bucket_secs: Option<i32>,
}

impl AuditParams {
    fn filter(&self) -> Result<AuditFilter, ApiError> {
        let key_id = match &self.key_id {
            Some(id) => Some(KeyId::parse(id).ok_or_else(|| {
                ApiError::invalid_field(format!(
                    "`key_id` {id:?} is not a key id (they look like `key_…`)"
                ))
            })?),
            None => None,
        };
        let decision = match self.decision.as_deref() {
            Some(text) => Some(Decision::parse(text).ok_or_else(|| {
                ApiError::invalid_field("`decision` must be `allowed` or `denied`")
            })?),
            None => None,
        };
        let kind =
            match self.kind.as_deref() {
                Some(text) => Some(EventKind::parse(text).ok_or_else(|| {
                    ApiError::invalid_field("`kind` must be `tool_call` or `admin`")
                })?),
                None => None,
            };
        Ok(AuditFilter {
            key_id,
            agent: self.agent.clone(),
            tool: self.tool.clone(),
            decision,
            kind,
            since: parse_time("since", self.since.as_deref())?,
            until: parse_time("until", self.until.as_deref())?,
        })
    }
}

fn parse_time(field: &str, value: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    value
        .map(|text| {
            Timestamp::parse(text).ok_or_else(|| {
                ApiError::invalid_field(format!(
                    "`{field}` must be an RFC 3339 time (2026-11-26T10:00:00Z) or epoch milliseconds"
                ))
            })
        })
        .transpose()
}

/// `GET /api/v1/audit`: newest first, cursor pagination.
#[utoipa::path(
    get,
    path = "/audit",
    summary = "Query the audit trail, newest first",
    description = "Requires `svc:audit:read` (or `admin:org`).",
    params(("key_id" = Option<String>, Query), ("agent" = Option<String>, Query), ("tool" = Option<String>, Query), ("decision" = Option<String>, Query, description = "allowed or denied"), ("kind" = Option<String>, Query, description = "tool_call or admin"), ("since" = Option<String>, Query, description = "RFC 3339 or epoch ms, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339 or epoch ms, exclusive"), ("cursor" = Option<String>, Query), ("limit" = Option<u32>, Query, description = "1-1000, default 100")),
    responses(
        (status = 200, description = "A page of events", body = super::openapi::AuditPage),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 400, description = "Bad query string", body = super::openapi::ErrorEnvelope), (status = 422, description = "Invalid filter, cursor or limit", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn query(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditRead>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let query = AuditQuery {
        filter: params.filter()?,
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
        (status = 200, description = "The event", body = super::openapi::AuditEvent),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 404, description = "No such event in your org", body = super::openapi::ErrorEnvelope),
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
    params(("key_id" = Option<String>, Query), ("agent" = Option<String>, Query), ("tool" = Option<String>, Query), ("decision" = Option<String>, Query, description = "allowed or denied"), ("kind" = Option<String>, Query, description = "tool_call or admin"), ("since" = Option<String>, Query, description = "RFC 3339 or epoch ms, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339 or epoch ms, exclusive"), ("bucket_secs" = Option<i32>, Query, description = "bucket width in seconds, at least 1")),
    responses(
        (status = 200, description = "Buckets", body = super::openapi::Timeline),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 400, description = "Bad query string", body = super::openapi::ErrorEnvelope), (status = 422, description = "Invalid range or bucket", body = super::openapi::ErrorEnvelope),
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
        filter: params.filter()?,
        bucket_secs,
    };
    let buckets = state.authority.audit_timeline(&principal, query).await?;
    Ok(Json(serde_json::json!({ "buckets": buckets })).into_response())
}

/// `GET /api/v1/audit/verify`: checks every hash chain of the caller's org.
#[utoipa::path(
    get,
    path = "/audit/verify",
    summary = "Verify every hash chain of your org",
    description = "Requires `svc:audit:read` (or `admin:org`).",
    responses(
        (status = 200, description = "Verification report", body = serde_json::Value),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn verify(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditRead>,
) -> Result<Response, ApiError> {
    let report = state.authority.verify_audit(&principal).await?;
    Ok(Json(report).into_response())
}

/// Body of `POST /audit/events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestBody {
    events: Vec<ToolCall>,
}

/// `POST /api/v1/audit/events`: answered only once every event is durable.
#[utoipa::path(
    post,
    path = "/audit/events",
    summary = "Ingest a batch of tool-call events from a remote tool server",
    description = "Requires `svc:audit:write` (or `admin:org`).",
    request_body = super::openapi::IngestBody,
    responses(
        (status = 201, description = "Every event is durable", body = super::openapi::IngestAnswer),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 400, description = "Body is not JSON", body = super::openapi::ErrorEnvelope), (status = 413, description = "Body too large", body = super::openapi::ErrorEnvelope), (status = 422, description = "Invalid event or batch too big", body = super::openapi::ErrorEnvelope),
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
        Json(serde_json::json!({ "accepted": ids.len(), "ids": ids })),
    )
        .into_response())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExportFormat {
    Csv,
    Ndjson,
}

/// Rows per page read from the store while streaming an export.
const EXPORT_PAGE: u32 = 1000;

/// `GET /api/v1/audit/export?format=csv|ndjson`: the whole query, streamed
/// page by page so memory stays flat however large the trail is.
#[utoipa::path(
    get,
    path = "/audit/export",
    summary = "Export a query as CSV or NDJSON, streamed",
    description = "Requires `svc:audit:read` (or `admin:org`).",
    params(("key_id" = Option<String>, Query), ("agent" = Option<String>, Query), ("tool" = Option<String>, Query), ("decision" = Option<String>, Query, description = "allowed or denied"), ("kind" = Option<String>, Query, description = "tool_call or admin"), ("since" = Option<String>, Query, description = "RFC 3339 or epoch ms, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339 or epoch ms, exclusive"), ("format" = Option<String>, Query, description = "csv (default) or ndjson")),
    responses(
        (status = 200, description = "The events", content_type = "text/csv", body = String),
        (status = 401, description = "Missing, malformed, unknown, expired or revoked key", body = super::openapi::ErrorEnvelope),
        (status = 403, description = "The key lacks the required scope (named in the message)", body = super::openapi::ErrorEnvelope),
        (status = 429, description = "Too many failed authentications from this address", body = super::openapi::ErrorEnvelope),
        (status = 400, description = "Bad query string", body = super::openapi::ErrorEnvelope), (status = 422, description = "Invalid filter or format", body = super::openapi::ErrorEnvelope),
    )
)]
pub async fn export(
    State(state): State<ApiState>,
    Authed { principal, .. }: Authed<AuditRead>,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Response, ApiError> {
    let filter = params.filter()?;
    export_stream(state.authority, principal, filter, params.format.as_deref()).await
}

/// Streams the events matching `filter` as CSV (`format` absent or `csv`)
/// or NDJSON, page by page. Shared by the REST export and the dashboard's
/// session-authenticated download (`/dashboard/export`).
pub async fn export_stream(
    authority: authority::Authority,
    principal: std::sync::Arc<authority::KeyContext>,
    filter: AuditFilter,
    format: Option<&str>,
) -> Result<Response, ApiError> {
    let format = match format {
        None | Some("csv") => ExportFormat::Csv,
        Some("ndjson") => ExportFormat::Ndjson,
        Some(other) => {
            return Err(ApiError::invalid_field(format!(
                "`format` {other:?} is not supported: use `csv` or `ndjson`"
            )))
        }
    };
    // Fail before the 200 is sent if the caller may not read or the store is down.
    let first = authority
        .audit_query(
            &principal,
            AuditQuery {
                filter: filter.clone(),
                cursor: None,
                limit: Some(EXPORT_PAGE),
            },
        )
        .await?;

    struct Pages {
        authority: authority::Authority,
        principal: std::sync::Arc<authority::KeyContext>,
        filter: AuditFilter,
        next: Option<authority::audit::AuditPage>,
        header_sent: bool,
        format: ExportFormat,
    }
    let pages = Pages {
        authority,
        principal,
        filter,
        next: Some(first),
        header_sent: false,
        format,
    };
    let stream = futures::stream::unfold(pages, |mut pages| async move {
        let mut chunk = String::new();
        if !pages.header_sent {
            pages.header_sent = true;
            if pages.format == ExportFormat::Csv {
                chunk.push_str(CSV_HEADER);
            }
        }
        let page = pages.next.take()?;
        for event in &page.events {
            match pages.format {
                ExportFormat::Csv => csv_row(&mut chunk, event),
                ExportFormat::Ndjson => {
                    chunk.push_str(&serde_json::to_string(event).unwrap_or_default());
                    chunk.push('\n');
                }
            }
        }
        if let Some(cursor) = page.next_cursor {
            let query = AuditQuery {
                filter: pages.filter.clone(),
                cursor: Some(cursor),
                limit: Some(EXPORT_PAGE),
            };
            match pages.authority.audit_query(&pages.principal, query).await {
                Ok(next) => pages.next = Some(next),
                Err(error) => {
                    // Headers are gone; cutting the stream short is the only
                    // honest signal left, and a truncated export must not
                    // look complete.
                    tracing::error!(%error, "audit export aborted mid-stream");
                    return Some((Err(std::io::Error::other("audit export aborted")), pages));
                }
            }
        }
        Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), pages))
    });

    let (content_type, extension) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Ndjson => ("application/x-ndjson", "ndjson"),
    };
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"acekeys-audit.{extension}\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

const CSV_HEADER: &str = "id,ts,org,kind,actor_key_id,agent,action,required_scope,decision,reason,subject,server,request_id,client_ip,latency_us,writer,seq,hash\n";

fn csv_row(out: &mut String, event: &AuditEvent) {
    let body = &event.body;
    let fields: [String; 18] = [
        event.id.to_string(),
        body.ts.to_rfc3339(),
        body.org.to_string(),
        body.kind.as_str().to_owned(),
        body.actor_key_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        body.agent.clone().unwrap_or_default(),
        body.action.clone(),
        body.required_scope.clone().unwrap_or_default(),
        body.decision.as_str().to_owned(),
        body.reason.clone().unwrap_or_default(),
        body.subject.clone().unwrap_or_default(),
        body.server.clone().unwrap_or_default(),
        body.request_id.clone().unwrap_or_default(),
        body.client_ip.clone().unwrap_or_default(),
        body.latency_us.map(|us| us.to_string()).unwrap_or_default(),
        event.chain.writer.clone(),
        event.chain.seq.to_string(),
        event.chain.hash.to_hex(),
    ];
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        csv_field(out, field);
    }
    out.push('\n');
}

/// RFC 4180 quoting, plus a leading `'` on values a spreadsheet would run
/// as a formula (tool names and reasons come from callers).
fn csv_field(out: &mut String, value: &str) {
    let formula = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let needs_quotes = formula || value.contains([',', '"', '\n', '\r']);
    if !needs_quotes {
        out.push_str(value);
        return;
    }
    out.push('"');
    if formula {
        out.push('\'');
    }
    out.push_str(&value.replace('"', "\"\""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    fn field(value: &str) -> String {
        let mut out = String::new();
        csv_field(&mut out, value);
        out
    }

    #[test]
    fn plain_values_are_unquoted() {
        assert_eq!(field("wiki.read"), "wiki.read");
    }

    #[test]
    fn separators_and_quotes_are_quoted() {
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("@SUM(A1)"), "\"'@SUM(A1)\"");
    }
}
