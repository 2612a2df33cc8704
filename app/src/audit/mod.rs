//! The audit-trail explorer: filters in the URL, a timeline of allowed vs
//! denied calls, a cursor-paginated table, an event panel, exports and a
//! live tail.

mod chart;
#[cfg(feature = "ssr")]
pub(crate) mod convert;
mod detail;
mod filters;
mod page;
mod table;

pub use page::AuditPage;
pub(crate) use table::{key_cell, EventTable};

use leptos::prelude::*;

use crate::error::DashError;
use crate::model::{AuditFilters, AuditPageData, AuditRow, Bucket};

/// Rows per page of the explorer's table.
pub const PAGE_SIZE: u32 = 25;

#[server]
pub async fn load_audit_page(
    filters: AuditFilters,
    cursor: Option<String>,
) -> Result<AuditPageData, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let filter = convert::filter(&filters, dash.authority.now())?;
    let page = dash
        .authority
        .audit_query(
            &p,
            authority::audit::AuditQuery {
                filter,
                cursor: cursor.filter(|c| !c.is_empty()),
                limit: Some(PAGE_SIZE),
            },
        )
        .await?;
    Ok(page)
}

#[server]
pub async fn audit_timeline(filters: AuditFilters) -> Result<Vec<Bucket>, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let mut filter = convert::filter(&filters, dash.authority.now())?;
    // The chart shows both series; the decision filter applies to the table.
    filter.decision = None;
    let buckets = dash
        .authority
        .audit_timeline(
            &p,
            authority::audit::TimelineQuery {
                filter,
                bucket_secs: None,
            },
        )
        .await?;
    Ok(buckets
        .iter()
        .map(|b| Bucket {
            start_ms: b.start.as_millis(),
            allowed: b.allowed,
            denied: b.denied,
        })
        .collect())
}

#[server]
pub async fn audit_event(id: String) -> Result<AuditRow, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let event = dash.authority.audit_event(&p, &id).await?;
    Ok(event)
}

/// Denied calls at or after `since_ms`, newest first (the incident feed).
#[server]
pub async fn denials_since(
    since_ms: i64,
    agent: Option<String>,
) -> Result<Vec<AuditRow>, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let filter = authority::audit::AuditFilter {
        decision: Some(authority::audit::Decision::Denied),
        since: Some(authority::time::Timestamp::from_millis(since_ms)),
        agent: agent.filter(|a| !a.is_empty()),
        ..Default::default()
    };
    let page = dash
        .authority
        .audit_query(
            &p,
            authority::audit::AuditQuery {
                filter,
                cursor: None,
                limit: Some(50),
            },
        )
        .await?;
    Ok(page.events)
}

/// The explorer's filters as the authority's filter, for the server's
/// export download (same parsing as the page, so the file matches the view).
#[cfg(feature = "ssr")]
pub fn filter_for_export(
    filters: &AuditFilters,
    now: authority::time::Timestamp,
) -> Result<authority::audit::AuditFilter, DashError> {
    convert::filter(filters, now)
}
