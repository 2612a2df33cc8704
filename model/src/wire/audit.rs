//! Bodies of the `/audit` endpoints: tool-call reports (ingest), pages of
//! events, the timeline.

use serde::{Deserialize, Serialize};

use crate::audit::{AuditEvent, Decision};
use crate::ids::{EventId, KeyId, OrgId};
use crate::time::Timestamp;

/// One tool call's decision, as a tool server (or the guard) reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolCall {
    /// The key's org; `None` for keys that could not be attributed. On
    /// ingest the authority records the reporting key's org whatever this says.
    #[serde(default)]
    pub org: Option<OrgId>,
    #[serde(default)]
    pub key_id: Option<KeyId>,
    #[serde(default)]
    pub agent: Option<String>,
    pub tool: String,
    #[serde(default)]
    pub required_scope: Option<String>,
    pub decision: Decision,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub client_ip: Option<String>,
    /// At most `i64::MAX` (what every store keeps exactly; a larger value
    /// would be stored clamped and no longer match its chain hash).
    #[serde(default, deserialize_with = "storable_latency")]
    #[cfg_attr(feature = "openapi", schema(maximum = 9_223_372_036_854_775_807_u64))]
    pub latency_us: Option<u64>,
    /// Default: when the authority receives it.
    #[serde(default)]
    pub ts: Option<Timestamp>,
}

impl ToolCall {
    /// The most characters each text field keeps. Longer values are cut
    /// (marked with a trailing `…`), never refused, so an honest event is
    /// never lost over the length of a name an attacker chose.
    pub const MAX_TOOL: usize = 200;
    pub const MAX_AGENT: usize = 100;
    pub const MAX_REQUIRED_SCOPE: usize = 200;
    pub const MAX_REASON: usize = 500;
    pub const MAX_SERVER: usize = 200;
    pub const MAX_REQUEST_ID: usize = 200;
    pub const MAX_CLIENT_IP: usize = 64;

    /// The call with every text field cut to its limit, and every control,
    /// bidirectional or invisible character written out (`<U+202E>`, see
    /// [`crate::text::reveal`]) so the trail shows what was reported. The
    /// guard bounds each event before it spools it; the authority bounds
    /// each event it records, whoever sent it.
    #[must_use]
    pub fn bounded(self) -> Self {
        let cut = |s: Option<String>, n: usize| s.map(|v| cut_to(v, n));
        Self {
            org: self.org,
            key_id: self.key_id,
            agent: cut(self.agent, Self::MAX_AGENT),
            tool: cut_to(self.tool, Self::MAX_TOOL),
            required_scope: cut(self.required_scope, Self::MAX_REQUIRED_SCOPE),
            decision: self.decision,
            reason: cut(self.reason, Self::MAX_REASON),
            server: cut(self.server, Self::MAX_SERVER),
            request_id: cut(self.request_id, Self::MAX_REQUEST_ID),
            client_ip: cut(self.client_ip, Self::MAX_CLIENT_IP),
            latency_us: self.latency_us,
            ts: self.ts,
        }
    }
}

/// `s` revealed, then cut: at most `max` characters, else its first
/// `max - 1` and `…`. Only the first `max + 1` characters are revealed
/// (the rest is cut anyway), so a huge hostile value never grows here.
fn cut_to(s: String, max: usize) -> String {
    let head = match s.char_indices().nth(max + 1) {
        Some((end, _)) => &s[..end],
        None => s.as_str(),
    };
    let s = match crate::text::reveal(head) {
        std::borrow::Cow::Borrowed(_) if head.len() == s.len() => s,
        revealed => revealed.into_owned(),
    };
    match s.char_indices().nth(max) {
        None => s,
        Some(_) => {
            let end = s.char_indices().nth(max - 1).map_or(s.len(), |(i, _)| i);
            let mut cut = s[..end].to_owned();
            cut.push('…');
            cut
        }
    }
}

/// The largest request body the REST API accepts, in bytes (`413` above).
/// Audit ingest batches are the biggest legitimate bodies: a sender sizes
/// its batches in bytes under this.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// The most events one `POST /audit/events` may carry.
pub const MAX_INGEST_EVENTS: usize = 1000;

fn storable_latency<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<u64>::deserialize(d)?;
    match value {
        Some(us) if i64::try_from(us).is_err() => Err(serde::de::Error::custom(
            "latency_us must be at most 9223372036854775807 microseconds",
        )),
        other => Ok(other),
    }
}

/// `POST /audit/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IngestBody {
    /// At most [`MAX_INGEST_EVENTS`] per batch, in at most
    /// [`MAX_REQUEST_BYTES`].
    pub events: Vec<ToolCall>,
}

/// Every event of the batch is durable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestAnswer {
    pub accepted: u64,
    pub ids: Vec<EventId>,
}

/// `GET /audit`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    /// Pass as `cursor` for the next (older) page; present when more
    /// events may follow.
    pub next_cursor: Option<String>,
    /// The names of the org's keys these events name (as actor, reporter
    /// or subject), by key id, so people read names beside ids. A key that
    /// no longer exists has no entry.
    #[serde(default)]
    pub key_names: std::collections::BTreeMap<String, String>,
}

/// A key's whole life, for its dashboard page: the key as it is now and the
/// newest events about it (minted, used, denied, rotated, revoked), with the
/// names of the keys either mentions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyLife {
    pub key: super::KeyView,
    pub trail: AuditPage,
    /// The keys derived from it (minted by it as an agent's key), which
    /// its revocation revokes too; oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub derived: Vec<super::KeyView>,
}

/// Counts for one bucket `[start, start + width)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimelineBucket {
    pub start: Timestamp,
    pub allowed: u64,
    pub denied: u64,
}

/// `GET /audit/timeline`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Timeline))]
pub struct TimelineAnswer {
    pub buckets: Vec<TimelineBucket>,
}

/// The audit explorer's filters as text, exactly as they arrive in a query
/// string (REST) or the dashboard's URL. The authority parses them into its
/// filter (one parser for every transport); empty values mean "no filter".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilterParams {
    /// A key: the calls it made (`key_…`).
    pub key_id: Option<String>,
    pub agent: Option<String>,
    /// A tool name or admin action.
    pub tool: Option<String>,
    /// `allowed` or `denied`.
    pub decision: Option<String>,
    /// `tool_call` or `admin`.
    pub kind: Option<String>,
    /// RFC 3339 or epoch milliseconds, inclusive.
    pub since: Option<String>,
    /// RFC 3339 or epoch milliseconds, exclusive.
    pub until: Option<String>,
    /// A preset range ending now: `1h`, `24h`, `7d`, `30d` or `all`
    /// (ignored when `since` is given).
    pub range: Option<String>,
}

impl AuditFilterParams {
    /// `name=value` pairs of the filters that are set, for links and exports.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("key_id", &self.key_id),
            ("agent", &self.agent),
            ("tool", &self.tool),
            ("decision", &self.decision),
            ("kind", &self.kind),
            ("since", &self.since),
            ("until", &self.until),
            ("range", &self.range),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_beyond_what_stores_keep_is_refused() {
        let at = |us: u64| {
            serde_json::from_value::<ToolCall>(serde_json::json!({
                "tool": "t", "decision": "allowed", "latency_us": us
            }))
        };
        assert_eq!(
            at(i64::MAX as u64).unwrap().latency_us,
            Some(i64::MAX as u64)
        );
        let err = at(i64::MAX as u64 + 1).unwrap_err();
        assert!(err.to_string().contains("latency_us"), "{err}");
    }

    fn call(tool: &str) -> ToolCall {
        ToolCall {
            org: None,
            key_id: None,
            agent: Some("é".repeat(300)),
            tool: tool.to_owned(),
            required_scope: None,
            decision: Decision::Denied,
            reason: None,
            server: None,
            request_id: Some("x".repeat(10_000)),
            client_ip: None,
            latency_us: None,
            ts: None,
        }
    }

    #[test]
    fn bounded_cuts_every_long_field_at_a_character_and_marks_it() {
        let bounded = call(&"t".repeat(1_500_000)).bounded();
        assert_eq!(bounded.tool.chars().count(), ToolCall::MAX_TOOL);
        assert!(bounded.tool.ends_with('…'));
        let agent = bounded.agent.unwrap();
        assert_eq!(agent.chars().count(), ToolCall::MAX_AGENT);
        assert!(agent.starts_with("éé") && agent.ends_with('…'));
        assert_eq!(
            bounded.request_id.unwrap().chars().count(),
            ToolCall::MAX_REQUEST_ID
        );
    }

    #[test]
    fn bounded_writes_out_characters_that_would_mislead_a_reader() {
        let bounded = call("read_page\u{202E}txt.exe").bounded();
        assert_eq!(bounded.tool, "read_page<U+202E>txt.exe");
    }

    #[test]
    fn bounded_keeps_values_within_their_limit_unchanged() {
        let exact = "t".repeat(ToolCall::MAX_TOOL);
        assert_eq!(call(&exact).bounded().tool, exact);
        assert_eq!(call("read_page").bounded().tool, "read_page");
    }
}
