//! Query shapes for the audit explorer, timeline, verification and retention.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::AuthorityError;
use crate::ids::{EventId, KeyId, OrgId};
use crate::time::Timestamp;
use model::audit::{AuditEvent, Checkpoint, Decision, EventKind, NewEvent};
use model::wire::{AuditFilterParams, ToolCall};

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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimelineQuery {
    #[serde(flatten)]
    pub filter: AuditFilter,
    /// Bucket width in seconds; default chosen from the range (≤ 200 buckets).
    pub bucket_secs: Option<u64>,
}

/// A chain known to a store: registered with its first event, with its
/// retention checkpoint and its newest seal (as stored: unverified).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainInfo {
    pub org: OrgId,
    pub writer: String,
    pub checkpoint: Option<Checkpoint>,
    pub seal: Option<super::Seal>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PruneStats {
    pub deleted: u64,
    pub checkpoints: u64,
}

/// Key ids an admin event's subject may name (a rotation names two); more
/// are not indexed, so a caller-chosen subject cannot multiply the tags.
const MAX_SUBJECT_KEYS: usize = 2;

fn key_tag(key: &KeyId) -> String {
    format!("key:{key}")
}

fn agent_tag(agent: &str) -> String {
    format!("agent:{agent}")
}

fn pair_tag(key: &KeyId, agent: &str) -> String {
    format!("{} {}", key_tag(key), agent_tag(agent))
}

/// The keys an event is about: the one that acted and every key its
/// subject names (a rotation names two).
pub(crate) fn about_keys(e: &NewEvent) -> impl Iterator<Item = KeyId> + '_ {
    let subject_keys = e
        .subject
        .as_deref()
        .into_iter()
        .flat_map(str::split_whitespace)
        .filter_map(KeyId::parse)
        .take(MAX_SUBJECT_KEYS);
    e.actor_key_id.iter().cloned().chain(subject_keys)
}

/// The agents an event is about: the actor's and the subject's.
fn about_agents(e: &NewEvent) -> impl Iterator<Item = &str> {
    [e.agent.as_deref(), e.subject_agent.as_deref()]
        .into_iter()
        .flatten()
}

/// [`about_tags`] without the key+agent pairs: one `key:<id>` per key and
/// one `agent:<name>` per agent. A store that can check the agent on the
/// event itself indexes only these (SQLite: fewer rows per tool call).
pub fn about_key_and_agent_tags(e: &NewEvent) -> Vec<String> {
    let mut tags: Vec<String> = about_keys(e).map(|k| key_tag(&k)).collect();
    tags.extend(about_agents(e).map(agent_tag));
    tags.sort();
    tags.dedup();
    tags
}

/// What an event is about, as the tags the key and agent filters look up:
/// `key:<id>` for the key that acted and every key the subject names,
/// `agent:<name>` for the actor's agent and the subject's, and
/// `key:<id> agent:<name>` for each pair, so both filters together are one
/// lookup too (Firestore allows one `array-contains` per query). Stores
/// index these with the event; the filters' meaning lives here only.
pub fn about_tags(e: &NewEvent) -> Vec<String> {
    let keys: BTreeSet<KeyId> = about_keys(e).collect();
    let agents: BTreeSet<&str> = about_agents(e).collect();
    let mut tags = about_key_and_agent_tags(e);
    for key in &keys {
        for agent in &agents {
            tags.push(pair_tag(key, agent));
        }
    }
    tags.sort();
    tags
}

impl AuditFilter {
    /// Parses the explorer's filters as they arrive from any transport
    /// (REST query string, dashboard URL). Empty values are no filter;
    /// `range` counts back from `now` unless `since` is given.
    pub fn parse(params: &AuditFilterParams, now: Timestamp) -> Result<Self, AuthorityError> {
        fn given(value: &Option<String>) -> Option<&str> {
            value.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        fn time(
            field: &'static str,
            value: &Option<String>,
        ) -> Result<Option<Timestamp>, AuthorityError> {
            given(value)
                .map(|text| {
                    Timestamp::parse(text).ok_or_else(|| {
                        AuthorityError::invalid(
                            field,
                            "must be an RFC 3339 time (2026-11-26T10:00:00Z) or epoch milliseconds",
                        )
                    })
                })
                .transpose()
        }
        let key_id = given(&params.key_id)
            .map(|id| {
                KeyId::parse(id).ok_or_else(|| {
                    AuthorityError::invalid("key_id", "is not a key id (they look like `key_…`)")
                })
            })
            .transpose()?;
        let decision = given(&params.decision)
            .map(|text| {
                Decision::parse(text).ok_or_else(|| {
                    AuthorityError::invalid("decision", "must be `allowed` or `denied`")
                })
            })
            .transpose()?;
        let kind = given(&params.kind)
            .map(|text| {
                EventKind::parse(text).ok_or_else(|| {
                    AuthorityError::invalid("kind", "must be `tool_call` or `admin`")
                })
            })
            .transpose()?;
        let range_secs = match given(&params.range) {
            None | Some("all") => None,
            Some("1h") => Some(3600),
            Some("24h") => Some(86_400),
            Some("7d") => Some(7 * 86_400),
            Some("30d") => Some(30 * 86_400),
            Some(_) => {
                return Err(AuthorityError::invalid(
                    "range",
                    "must be `1h`, `24h`, `7d`, `30d` or `all`",
                ))
            }
        };
        let since = match time("since", &params.since)? {
            Some(since) => Some(since),
            None => range_secs.map(|secs| now.plus_secs(-secs)),
        };
        // No recorded event holds a longer value (`ToolCall::bounded`), and a
        // store may refuse to compare one (Firestore: 1500 bytes).
        fn bounded_text(
            field: &'static str,
            value: &Option<String>,
            max: usize,
        ) -> Result<Option<String>, AuthorityError> {
            match given(value) {
                Some(text) if text.chars().count() > max => Err(AuthorityError::invalid(
                    field,
                    format!("at most {max} characters: no recorded event has a longer one"),
                )),
                other => Ok(other.map(str::to_owned)),
            }
        }
        Ok(Self {
            key_id,
            agent: bounded_text("agent", &params.agent, ToolCall::MAX_AGENT)?,
            tool: bounded_text("tool", &params.tool, ToolCall::MAX_TOOL)?,
            decision,
            kind,
            since,
            until: time("until", &params.until)?,
        })
    }

    /// The one [`about_tags`] tag an event must carry to match the key and
    /// agent filters together, if either is given.
    pub fn about_tag(&self) -> Option<String> {
        match (&self.key_id, &self.agent) {
            (None, None) => None,
            (Some(key), None) => Some(key_tag(key)),
            (None, Some(agent)) => Some(agent_tag(agent)),
            (Some(key), Some(agent)) => Some(pair_tag(key, agent)),
        }
    }

    /// The single tag a store that indexes [`about_key_and_agent_tags`]
    /// looks up: the key's when a key is given, else the agent's. With both,
    /// the store also checks the agent on the event.
    pub fn single_about_tag(&self) -> Option<String> {
        match (&self.key_id, &self.agent) {
            (Some(key), _) => Some(key_tag(key)),
            (None, Some(agent)) => Some(agent_tag(agent)),
            (None, None) => None,
        }
    }

    /// Whether `e` matches; the reference semantics every backend must share.
    pub fn matches(&self, e: &AuditEvent) -> bool {
        let b = &e.body;
        self.about_tag()
            .is_none_or(|tag| about_tags(b).contains(&tag))
            && self.tool.as_ref().is_none_or(|t| &b.action == t)
            && self.decision.is_none_or(|d| b.decision == d)
            && self.kind.is_none_or(|k| b.kind == k)
            && self.since.is_none_or(|s| b.ts >= s)
            && self.until.is_none_or(|u| b.ts < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_params_parse_with_one_set_of_rules() {
        let now = Timestamp::from_millis(10_000_000_000);
        let params = AuditFilterParams {
            range: Some("1h".into()),
            decision: Some("denied".into()),
            kind: Some("tool_call".into()),
            agent: Some(" ".into()),
            ..Default::default()
        };
        let filter = AuditFilter::parse(&params, now).unwrap();
        assert_eq!(filter.since, Some(now.plus_secs(-3600)));
        assert_eq!(filter.decision, Some(Decision::Denied));
        assert_eq!(filter.kind, Some(EventKind::ToolCall));
        assert_eq!(filter.agent, None, "blank is no filter");

        let explicit = AuditFilterParams {
            since: Some("5".into()),
            range: Some("1h".into()),
            ..Default::default()
        };
        assert_eq!(
            AuditFilter::parse(&explicit, now).unwrap().since,
            Some(Timestamp::from_millis(5)),
            "since wins over range"
        );

        for (bad, field) in [
            (
                AuditFilterParams {
                    key_id: Some("nope".into()),
                    ..Default::default()
                },
                "key_id",
            ),
            (
                AuditFilterParams {
                    decision: Some("maybe".into()),
                    ..Default::default()
                },
                "decision",
            ),
            (
                AuditFilterParams {
                    kind: Some("x".into()),
                    ..Default::default()
                },
                "kind",
            ),
            (
                AuditFilterParams {
                    range: Some("2h".into()),
                    ..Default::default()
                },
                "range",
            ),
            (
                AuditFilterParams {
                    until: Some("soon".into()),
                    ..Default::default()
                },
                "until",
            ),
        ] {
            match AuditFilter::parse(&bad, now) {
                Err(AuthorityError::InvalidField { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
