//! The explorer's URL filters to the authority's filter (server only).

use authority::audit::AuditFilter;
use authority::time::Timestamp;

use crate::error::DashError;
use crate::model::AuditFilters;

/// The explorer's filters, parsed by the authority's one parser (the REST
/// API uses the same).
pub fn filter(f: &AuditFilters, now: Timestamp) -> Result<AuditFilter, DashError> {
    Ok(AuditFilter::parse(f, now)?)
}
