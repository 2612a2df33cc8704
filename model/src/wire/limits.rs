//! Limits on a key's tool calls (rate limits and budgets, for the whole key
//! or one tool scope) as the REST API and the dashboard speak them, and the
//! allowance a guard asks the authority for before it lets limited calls
//! through. The authority validates limits; guards enforce them.

use serde::{Deserialize, Serialize};

use crate::ids::KeyId;

/// One limit on a key's tool calls.
///
/// JSON: `{"kind": "rate", "max": 100, "per_seconds": 60}` or
/// `{"kind": "budget", "calls": 1000, "refill": "daily", "scope": "svc:wiki:write"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KeyLimit {
    /// At most `max` calls in each window of `per_seconds` (fixed windows
    /// aligned to the Unix epoch, so every guard agrees where one ends).
    Rate {
        /// The tool scope whose calls count (`svc:wiki:write`); absent:
        /// every tool call of the key.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        max: u64,
        per_seconds: u64,
    },
    /// At most `calls` calls in all, or per UTC day or calendar month.
    Budget {
        /// The tool scope whose calls count; absent: every tool call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        calls: u64,
        #[serde(default)]
        refill: Refill,
    },
}

impl KeyLimit {
    pub fn scope(&self) -> Option<&str> {
        match self {
            KeyLimit::Rate { scope, .. } | KeyLimit::Budget { scope, .. } => scope.as_deref(),
        }
    }

    pub fn kind(&self) -> LimitKind {
        match self {
            KeyLimit::Rate { .. } => LimitKind::Rate,
            KeyLimit::Budget { .. } => LimitKind::Budget,
        }
    }

    /// "100 calls per 60 s on svc:wiki:write", for people.
    pub fn describe(&self) -> String {
        let on = self
            .scope()
            .map_or_else(|| "all tools".to_owned(), str::to_owned);
        match self {
            KeyLimit::Rate {
                max, per_seconds, ..
            } => format!("{max} calls per {per_seconds} s on {on}"),
            KeyLimit::Budget { calls, refill, .. } => match refill {
                Refill::Never => format!("{calls} calls in all on {on}"),
                Refill::Daily => format!("{calls} calls per UTC day on {on}"),
                Refill::Monthly => format!("{calls} calls per calendar month (UTC) on {on}"),
            },
        }
    }
}

/// When a budget starts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Refill {
    /// Spent once, gone.
    #[default]
    Never,
    /// Full again at 00:00 UTC.
    Daily,
    /// Full again on the first of the month, 00:00 UTC.
    Monthly,
}

/// Which of a limit's two kinds: the counter it spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    Rate,
    Budget,
}

impl LimitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Rate => "rate",
            LimitKind::Budget => "budget",
        }
    }
}

/// A limit as a key carries it: its own (`owner` is the key itself, or the
/// key it was rotated from: rotating does not refill a budget), or
/// inherited from the key that minted it, whose counter its calls spend (a
/// key cannot escape its limits by minting keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LimitView {
    /// Whose counter the limit spends.
    pub owner: KeyId,
    pub limit: KeyLimit,
    /// Inherited from the key that minted it (changed only there).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inherited: bool,
}

/// `PUT /keys/{id}/limits`: the key's own limits, replacing the ones it has
/// (an empty list lifts them; inherited limits stay).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LimitsRequest {
    pub limits: Vec<KeyLimit>,
}

/// `POST /keys/{id}/allowance`: a guard asks for calls of one limit the key
/// (the caller it let in) counts against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllowanceRequest {
    /// The limit's owner, as the key's limits name it.
    pub owner: KeyId,
    pub kind: LimitKind,
    /// The limit's tool scope; absent: the key-wide limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Calls a guard may let through on one limit without asking again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllowanceGrant {
    /// How many calls; 0: the limit is spent for now.
    pub granted: u64,
    /// How long the grant (or the refusal) holds, in milliseconds: until
    /// the window or the budget's period ends. Absent: until the limit
    /// changes (a budget that never refills).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_for_ms: Option<u64>,
    /// `true` when the key no longer has this limit: nothing to count.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unlimited: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_read_and_write_their_json_form() {
        let rate: KeyLimit =
            serde_json::from_str(r#"{"kind":"rate","max":100,"per_seconds":60}"#).unwrap();
        assert_eq!(
            rate,
            KeyLimit::Rate {
                scope: None,
                max: 100,
                per_seconds: 60
            }
        );
        let budget: KeyLimit =
            serde_json::from_str(r#"{"kind":"budget","calls":5,"scope":"svc:wiki:write"}"#)
                .unwrap();
        assert_eq!(budget.kind(), LimitKind::Budget);
        assert_eq!(budget.scope(), Some("svc:wiki:write"));
        assert_eq!(
            serde_json::to_value(&budget).unwrap(),
            serde_json::json!({"kind":"budget","scope":"svc:wiki:write","calls":5,"refill":"never"})
        );
        assert!(serde_json::from_str::<KeyLimit>(r#"{"kind":"credits","calls":5}"#).is_err());
        assert!(
            serde_json::from_str::<KeyLimit>(r#"{"kind":"rate","max":-1,"per_seconds":1}"#)
                .is_err()
        );
    }
}
