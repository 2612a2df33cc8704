//! Why the guard refused a request or a tool call, as a stable code and a
//! message safe to show the caller. The layer turns each into its HTTP
//! answer.

use authority::scopes::Scope;
use authority::Unauthenticated;

/// Why a request or a tool call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No Bearer credential: 401 with a challenge that carries no error
    /// code (RFC 6750 §3.1).
    MissingKey,
    /// Malformed, unknown, expired, revoked or wrong-env key: 401,
    /// `error="invalid_token"`.
    InvalidKey(Unauthenticated),
    /// The key is valid but lacks the tool's scope: a JSON-RPC error.
    InsufficientScope { tool: String, scope: Scope },
    /// The tool was never declared, so nothing can allow it.
    UnknownTool { tool: String },
    /// The authority could not be asked: 503, fail closed.
    Unavailable,
    /// The audit event could not be recorded (the store failed, or the
    /// remote spool is full): 503, fail closed.
    AuditUnavailable,
    /// Too many unauthenticated tool calls (from this client, or from all):
    /// 429 with `Retry-After`, and not audited.
    Throttled { retry_after_secs: u64 },
    /// A rate limit or budget of the key is reached: 429, with
    /// `Retry-After` when the window or the budget's period ends.
    Limited(crate::LimitReached),
}

impl Refusal {
    /// A stable machine-readable code (also the audit reason).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::MissingKey => "missing_key",
            Refusal::InvalidKey(why) => why.code(),
            Refusal::InsufficientScope { .. } => "insufficient_scope",
            Refusal::UnknownTool { .. } => "unknown_tool",
            Refusal::Unavailable => "unavailable",
            Refusal::AuditUnavailable => "audit_unavailable",
            Refusal::Throttled { .. } => "throttled",
            Refusal::Limited(reached) => match reached.kind {
                model::wire::LimitKind::Rate => "rate_limited",
                model::wire::LimitKind::Budget => "budget_exhausted",
            },
        }
    }

    /// The code shown to the caller: [`Self::code`], except that
    /// unknown, expired and revoked keys are all `invalid_key`.
    pub fn public_code(&self) -> &'static str {
        match self {
            Refusal::InvalidKey(why) => why.public_code(),
            other => other.code(),
        }
    }

    /// A message safe to show the caller (never contains the key).
    pub fn message(&self) -> String {
        match self {
            Refusal::MissingKey => "missing `Authorization: Bearer <acekeys key>` header".into(),
            // Alike for unknown, expired and revoked keys, as at the REST
            // API: the caller learns nothing about stored keys; the audit
            // event keeps the exact reason (`code`).
            Refusal::InvalidKey(why) => why.public_message(),
            Refusal::InsufficientScope { tool, scope } => {
                format!("this key lacks the scope `{scope}` that tool `{tool}` requires")
            }
            Refusal::UnknownTool { tool } => format!("unknown tool `{tool}`"),
            Refusal::Unavailable => "the key authority is temporarily unavailable".into(),
            Refusal::AuditUnavailable => {
                "the audit trail is unavailable, so the call was refused".into()
            }
            Refusal::Throttled { .. } => {
                "too many calls without a valid key; retry after the time in Retry-After".into()
            }
            Refusal::Limited(reached) => match (reached.kind, reached.retry_after_secs) {
                (model::wire::LimitKind::Rate, _) => {
                    "this key's rate limit is reached; retry after the seconds in Retry-After".into()
                }
                (model::wire::LimitKind::Budget, Some(_)) => {
                    "this key's budget of calls is spent until it refills; retry after the seconds in Retry-After".into()
                }
                (model::wire::LimitKind::Budget, None) => {
                    "this key's budget of calls is spent; an admin can raise it".into()
                }
            },
        }
    }
}
