//! Query shapes for the audit explorer, timeline, verification and retention.

use serde::{Deserialize, Serialize};

use super::model::{AuditEvent, Checkpoint, Decision, EventKind};
use crate::ids::{EventId, KeyId, OrgId};
use crate::time::Timestamp;

/// Filters shared by queries and the timeline. All present filters must match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    pub key_id: Option<KeyId>,
    pub agent: Option<String>,
    /// Tool name or admin action.
    pub tool: Option<String>,
    pub decision: Option<Decision>,
    pub kind: Option<EventKind>,
    /// Inclusive lower bound.
    pub since: Option<Timestamp>,
    /// Exclusive upper bound.
    pub until: Option<Timestamp>,
}

/// Position after which the next page starts (newest first: events strictly
/// older than `(ts, id)`). Opaque on the wire: `<ts>.<id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCursor {
    pub ts: Timestamp,
    pub id: EventId,
}

impl AuditCursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.ts.as_millis(), self.id)
    }

    pub fn decode(s: &str) -> Option<Self> {
        let (ts, id) = s.split_once('.')?;
        Some(Self {
            ts: Timestamp::from_millis(ts.parse().ok()?),
            id: EventId::parse(id)?,
        })
    }

    pub fn after(e: &AuditEvent) -> Self {
        Self {
            ts: e.body.ts,
            id: e.id.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    #[serde(flatten)]
    pub filter: AuditFilter,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1..=1000, default 100.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Present when more events may follow.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimelineQuery {
    #[serde(flatten)]
    pub filter: AuditFilter,
    /// Bucket width in seconds; default chosen from the range (≤ 200 buckets).
    pub bucket_secs: Option<u64>,
}

/// Counts for one bucket `[start, start + width)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineBucket {
    pub start: Timestamp,
    pub allowed: u64,
    pub denied: u64,
}

/// A chain known to a store: events and/or a retention checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainInfo {
    pub org: OrgId,
    pub writer: String,
    pub checkpoint: Option<Checkpoint>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PruneStats {
    pub deleted: u64,
    pub checkpoints: u64,
}

impl AuditFilter {
    /// Whether `e` matches; the reference semantics every backend must share.
    pub fn matches(&self, e: &AuditEvent) -> bool {
        let b = &e.body;
        self.key_id
            .as_ref()
            .is_none_or(|k| b.actor_key_id.as_ref() == Some(k))
            && self
                .agent
                .as_ref()
                .is_none_or(|a| b.agent.as_ref() == Some(a))
            && self.tool.as_ref().is_none_or(|t| &b.action == t)
            && self.decision.is_none_or(|d| b.decision == d)
            && self.kind.is_none_or(|k| b.kind == k)
            && self.since.is_none_or(|s| b.ts >= s)
            && self.until.is_none_or(|u| b.ts < u)
    }
}
