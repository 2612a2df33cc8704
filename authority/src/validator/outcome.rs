//! The result of validating a key for one required scope.

use std::sync::Arc;

use serde::Serialize;

use crate::ids::{KeyId, OrgId};
use crate::keys::{Env, ParseError};
use crate::policy::KeyContext;
use crate::scopes::Scope;

/// Every way a validation can end. Only `Valid` grants access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Valid(Arc<KeyContext>),
    /// Not an acekeys key (no store lookup happened).
    Malformed(ParseError),
    /// Well-formed but no such key.
    Unknown,
    Expired {
        key_id: KeyId,
        org: OrgId,
    },
    Revoked {
        key_id: KeyId,
        org: OrgId,
    },
    /// A `test` key on a `live` server or vice versa.
    WrongEnv {
        expected: Env,
        got: Env,
    },
    /// The key is valid but lacks `missing`.
    InsufficientScope {
        context: Arc<KeyContext>,
        missing: Scope,
    },
    /// The store could not be asked; fail closed, and do not call the key invalid.
    Unavailable,
}

/// A serializable summary (introspection, logs, audit reasons).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeSummary {
    pub code: &'static str,
    pub message: String,
    pub http_status: u16,
}

impl Outcome {
    pub fn is_valid(&self) -> bool {
        matches!(self, Outcome::Valid(_))
    }

    /// The key's context when the key itself is valid (even if it lacks the
    /// required scope).
    pub fn context(&self) -> Option<&Arc<KeyContext>> {
        match self {
            Outcome::Valid(c) | Outcome::InsufficientScope { context: c, .. } => Some(c),
            _ => None,
        }
    }

    /// Stable code for API errors and audit reasons.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Valid(_) => "valid",
            Outcome::Malformed(e) => e.code(),
            Outcome::Unknown => "unknown_key",
            Outcome::Expired { .. } => "expired_key",
            Outcome::Revoked { .. } => "revoked_key",
            Outcome::WrongEnv { .. } => "wrong_env",
            Outcome::InsufficientScope { .. } => "insufficient_scope",
            Outcome::Unavailable => "unavailable",
        }
    }

    pub fn message(&self) -> String {
        match self {
            Outcome::Valid(_) => "valid".into(),
            Outcome::Malformed(e) => e.to_string(),
            Outcome::Unknown => "invalid API key".into(),
            Outcome::Expired { .. } => "API key expired".into(),
            Outcome::Revoked { .. } => "API key revoked".into(),
            Outcome::WrongEnv { expected, got } => {
                format!("this server accepts `{expected}` keys; this is a `{got}` key")
            }
            Outcome::InsufficientScope { missing, .. } => format!("missing scope `{missing}`"),
            Outcome::Unavailable => "the key authority is temporarily unavailable".into(),
        }
    }

    /// 200, 400 (malformed), 401, 403 or 503, as DESIGN.md's API maps them.
    pub fn http_status(&self) -> u16 {
        match self {
            Outcome::Valid(_) => 200,
            Outcome::Malformed(_) => 400,
            Outcome::Unknown
            | Outcome::Expired { .. }
            | Outcome::Revoked { .. }
            | Outcome::WrongEnv { .. } => 401,
            Outcome::InsufficientScope { .. } => 403,
            Outcome::Unavailable => 503,
        }
    }

    pub fn summary(&self) -> OutcomeSummary {
        OutcomeSummary {
            code: self.code(),
            message: self.message(),
            http_status: self.http_status(),
        }
    }
}
