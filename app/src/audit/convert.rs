//! The explorer's URL filters to the authority's filter, and events to
//! table rows (server only).

use authority::audit::{AuditEvent, AuditFilter};
use authority::time::Timestamp;

use crate::error::DashError;
use crate::model::{AuditFilters, AuditRow};

/// The explorer's filters, parsed by the authority's one parser (the REST
/// API uses the same).
pub fn filter(f: &AuditFilters, now: Timestamp) -> Result<AuditFilter, DashError> {
    Ok(AuditFilter::parse(f, now)?)
}

pub fn row(e: &AuditEvent) -> AuditRow {
    let b = &e.body;
    AuditRow {
        id: e.id.to_string(),
        ts: b.ts.to_rfc3339(),
        kind: b.kind.as_str().to_owned(),
        key_id: b.actor_key_id.as_ref().map(ToString::to_string),
        agent: b.agent.clone(),
        action: b.action.clone(),
        required_scope: b.required_scope.clone(),
        decision: b.decision.as_str().to_owned(),
        reason: b.reason.clone(),
        subject: b.subject.clone(),
        server: b.server.clone(),
        request_id: b.request_id.clone(),
        client_ip: b.client_ip.clone(),
        latency_us: b.latency_us,
        chain: format!(
            "{} #{} {}",
            e.chain.writer,
            e.chain.seq,
            e.chain.hash.to_hex()
        ),
    }
}
