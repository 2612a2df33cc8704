//! Streaming an audit export, for the REST API (`GET /api/v1/audit/export`)
//! and the dashboard's session-authenticated download alike. What each row
//! says is the authority's (`authority::audit::export`); this module pages
//! through the query and streams the rows.

use std::sync::Arc;

use authority::audit::{AuditFilter, AuditPage, ExportFormat};
use authority::{Authority, KeyContext};
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

type PageRead = tokio::task::JoinHandle<Result<AuditPage, authority::AuthorityError>>;

/// Starts reading the page after `cursor`, so the store reads it while the
/// previous page is written out.
fn read_ahead(
    authority: &Authority,
    principal: &Arc<KeyContext>,
    filter: &AuditFilter,
    cursor: Option<String>,
) -> PageRead {
    let (authority, principal, filter) = (authority.clone(), principal.clone(), filter.clone());
    tokio::spawn(async move {
        authority
            .audit_export_page(&principal, filter, cursor)
            .await
    })
}

struct Pages {
    authority: Authority,
    principal: Arc<KeyContext>,
    filter: AuditFilter,
    next: Option<PageRead>,
}

/// Streams the events matching `filter` as CSV (`format` absent or `csv`)
/// or NDJSON, page by page (one being read while the one before is
/// written), so memory stays flat however large the trail is. Refusals
/// (scope, store down, bad format) come before the 200.
pub async fn stream(
    authority: Authority,
    principal: Arc<KeyContext>,
    filter: AuditFilter,
    format: Option<&str>,
) -> Result<Response, ApiError> {
    let format = ExportFormat::parse(format)?;
    let first = authority
        .audit_export_page(&principal, filter.clone(), None)
        .await?;
    let next = first
        .next_cursor
        .clone()
        .map(|cursor| read_ahead(&authority, &principal, &filter, Some(cursor)));
    let pages = Pages {
        authority,
        principal,
        filter,
        next,
    };
    let first = futures::stream::once(async move { Ok(first) });
    let rest = futures::stream::unfold(pages, |mut pages| async move {
        let read = pages.next.take()?;
        let page = match read.await {
            Ok(Ok(page)) => page,
            Ok(Err(error)) => return Some((Err(error), pages)),
            Err(join) => {
                let error = authority::AuthorityError::Internal {
                    cause: format!("export page read failed: {join}"),
                };
                return Some((Err(error), pages));
            }
        };
        pages.next = page.next_cursor.clone().map(|cursor| {
            read_ahead(
                &pages.authority,
                &pages.principal,
                &pages.filter,
                Some(cursor),
            )
        });
        Some((Ok(page), pages))
    });
    let mut header_sent = false;
    let body = futures::StreamExt::map(futures::StreamExt::chain(first, rest), move |page| {
        let page = page.map_err(|e| aborted(&e))?;
        let mut chunk = String::new();
        if !header_sent {
            header_sent = true;
            chunk.push_str(format.header());
        }
        for event in &page.events {
            format
                .write_event(&mut chunk, event)
                .map_err(|e| aborted(&e))?;
        }
        Ok::<_, std::io::Error>(Bytes::from(chunk))
    });

    let mut response = Body::from_stream(body).into_response();
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
