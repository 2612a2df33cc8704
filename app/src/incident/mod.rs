//! The incident switch: revoke every key of one agent, or of the whole org,
//! in one confirmed action, then watch the denials that follow.

mod page;

pub use page::IncidentPage;

use leptos::prelude::*;

use crate::error::DashError;

/// What the switch did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IncidentResult {
    pub revoked: u64,
    /// Keys of the target left active: they hold scopes the signed-in key
    /// does not.
    pub spared: u64,
    /// When it happened (epoch ms), for the denial feed.
    pub at_ms: i64,
}

/// Revokes every key of `agent`, or of the whole org when `agent` is the
/// picker's explicit "every key of the org" choice (the empty value; the
/// parameter itself is required). The signed-in key itself is spared, so
/// the responder keeps control.
#[server]
pub async fn incident_revoke(agent: String, reason: String) -> Result<IncidentResult, DashError> {
    use crate::session::server::{dashboard, principal};
    let (dash, p) = (dashboard()?, principal()?);
    let at_ms = dash.authority.now().as_millis();
    let result = dash
        .authority
        .bulk_revoke(
            &p,
            authority::BulkRevokeRequest {
                target: match agent.trim() {
                    "" => authority::BulkRevokeTarget::WholeOrg,
                    name => authority::BulkRevokeTarget::Agent(name.to_owned()),
                },
                reason: Some(reason).filter(|r| !r.trim().is_empty()),
                include_caller: false,
            },
        )
        .await?;
    Ok(IncidentResult {
        revoked: result.revoked,
        spared: result.spared.len() as u64,
        at_ms,
    })
}
