//! The guard's health and counters, for a status endpoint or metrics.

use serde::Serialize;

/// A snapshot of the guard's health, for a status endpoint or metrics.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GuardStatus {
    /// `local` or `remote`.
    pub mode: &'static str,
    /// True when revocations may reach this guard late (stream down) or
    /// audit events are not being shipped.
    pub degraded: bool,
    /// Remote: the revocation stream is connected.
    pub stream_connected: bool,
    /// Remote: times the stream was (re)connected.
    pub stream_connects: u64,
    /// Remote: cached introspection answers.
    pub cache_entries: u64,
    /// Remote: events durable in the spool, not yet confirmed by the authority.
    pub spool_pending: u64,
    /// Remote: bytes of those events' JSON (the spool's byte cap counts these).
    pub spool_pending_bytes: u64,
    /// Remote: events the authority confirmed.
    pub shipped: u64,
    /// Remote: events kept in the spool's `rejected` table instead of the
    /// trail (the authority refused the event on its own, or the row could
    /// not be decoded); anything above 0 needs an operator.
    pub spool_rejected: u64,
    /// Remote: calls whose event did not fit in the full spool (also in
    /// `audit_failures`). An allowed call was refused (503), a denied one
    /// kept its answer; none of them is in the trail.
    pub spool_full_refusals: u64,
    /// Remote: the last shipping or stream error.
    pub last_error: Option<String>,
    pub allowed: u64,
    /// Refused calls, except the throttled ones.
    pub denied: u64,
    /// Calls whose event could not be recorded (refused if they were
    /// allowed), and lost traces of dead keys refused outside tool calls.
    pub audit_failures: u64,
    /// Tool calls without a valid key, and dead keys' requests that would
    /// have been traced, answered 429 beyond the
    /// [`UnauthenticatedLimit`](crate::UnauthenticatedLimit):
    /// counted here, not audited.
    pub unauthenticated_throttled: u64,
    /// Quarantines a guardrail rule put on a key here that could not be
    /// reported to the authority (the key was held at this guard only).
    #[serde(default)]
    pub hold_report_failures: u64,
    /// Limit counters this guard holds calls of (or a refusal from).
    pub allowances: usize,
    /// Limited calls refused (503) because no allowance could be had
    /// from the authority.
    pub allowance_failures: u64,
    /// The org's quarantine rule thresholds in force here, if it set any
    /// (otherwise the guard's own flags apply).
    #[serde(default)]
    pub org_rules: Option<authority::wire::RuleSettings>,
    /// Times the org's settings could not be read (the last ones read stay).
    #[serde(default)]
    pub org_settings_failures: u64,
}
