//! Streaming an audit export, for the REST API (`GET /api/v1/audit/export`)
//! and the dashboard's session-authenticated download alike. What each row
//! says is the authority's (`authority::audit::export`); this module pages
//! through the query and streams the rows.

use std::sync::Arc;

use authority::audit::{AuditFilter, AuditPage, AuditQuery, ExportFormat};
use authority::{Authority, KeyContext};
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Rows per page read from the store while streaming an export.
const EXPORT_PAGE: u32 = 1000;

struct Pages {
    authority: Authority,
    principal: Arc<KeyContext>,
    filter: AuditFilter,
    next: Option<AuditPage>,
    header_sent: bool,
    format: ExportFormat,
}

/// Streams the events matching `filter` as CSV (`format` absent or `csv`)
/// or NDJSON, page by page, so memory stays flat however large the trail
/// is. Refusals (scope, store down, bad format) come before the 200.
pub async fn stream(
    authority: Authority,
    principal: Arc<KeyContext>,
    filter: AuditFilter,
    format: Option<&str>,
) -> Result<Response, ApiError> {
    let format = ExportFormat::parse(format)?;
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
            chunk.push_str(pages.format.header());
        }
        let page = pages.next.take()?;
        for event in &page.events {
            if let Err(error) = pages.format.write_event(&mut chunk, event) {
                return Some((Err(aborted(&error)), pages));
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
                Err(error) => return Some((Err(aborted(&error)), pages)),
            }
        }
        Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), pages))
    });

    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"acekeys-audit.{}\"",
        format.file_extension()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// Headers are gone once streaming started; cutting the stream short is the
/// only honest signal left, and a truncated export must not look complete.
fn aborted(error: &authority::AuthorityError) -> std::io::Error {
    tracing::error!(
        %error,
        cause = error.internal_cause().unwrap_or(""),
        "audit export aborted mid-stream"
    );
    std::io::Error::other("audit export aborted")
}
