//! The result of validating a key for one required scope.

use std::sync::Arc;

use crate::error::Unauthenticated;
use crate::ids::{KeyId, OrgId};
use crate::keys::{Env, ParseError, ParsedKey};
use crate::policy::KeyContext;
use crate::scopes::Scope;
use model::audit::Decision;
use model::wire::ToolCall;

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
    /// The credential is valid but limited to other resources.
    WrongAudience {
        key_id: KeyId,
        org: OrgId,
    },
    /// The key is held in quarantine until a person releases it.
    Quarantined {
        key_id: KeyId,
        org: OrgId,
    },
    /// The key's not-before instant has not come yet.
    NotYetValid {
        key_id: KeyId,
        org: OrgId,
    },
    /// The key is limited to networks the caller's address is not in (or
    /// the address is unknown).
    NetworkNotAllowed {
        key_id: KeyId,
        org: OrgId,
    },
    /// The key is valid but lacks `missing`.
    InsufficientScope {
        context: Arc<KeyContext>,
        missing: Scope,
    },
    /// The store could not be asked; fail closed, and do not call the key invalid.
    Unavailable,
}

/// Parses `raw` as a bearer credential (a key or an access token) of `env`:
/// the checks every validator makes before any lookup (format, checksum,
/// kind, environment). `Err` is the outcome to answer with.
pub fn parse_for_env(raw: &str, env: Env) -> Result<ParsedKey<'_>, Outcome> {
    let parsed = crate::keys::parse(raw).map_err(Outcome::Malformed)?;
    if !parsed.kind().is_bearer() {
        return Err(Outcome::Malformed(ParseError::NotBearer));
    }
    if parsed.env() != env {
        return Err(Outcome::WrongEnv {
            expected: env,
            got: parsed.env(),
        });
    }
    Ok(parsed)
}

impl Outcome {
    pub fn is_valid(&self) -> bool {
        matches!(self, Outcome::Valid(_))
    }

    /// This outcome where the credential is presented at `resource` (see
    /// [`KeyContext::serves`]): a valid credential limited to other
    /// resources becomes [`Outcome::WrongAudience`].
    pub fn at_resource(self, resource: Option<&crate::oauth::ResourceId>) -> Self {
        match self {
            Outcome::Valid(c) | Outcome::InsufficientScope { context: c, .. }
                if !c.serves(resource) =>
            {
                Outcome::WrongAudience {
                    key_id: c.key_id.clone(),
                    org: c.org.clone(),
                }
            }
            other => other,
        }
    }

    /// This outcome for a caller at `client` (see [`KeyContext::admits`]):
    /// a valid key used from outside its networks becomes
    /// [`Outcome::NetworkNotAllowed`].
    pub fn from_address(self, client: Option<std::net::IpAddr>) -> Self {
        match self {
            Outcome::Valid(c) | Outcome::InsufficientScope { context: c, .. }
                if !c.admits(client) =>
            {
                Outcome::NetworkNotAllowed {
                    key_id: c.key_id.clone(),
                    org: c.org.clone(),
                }
            }
            other => other,
        }
    }

    /// The key's context when the key itself is valid (even if it lacks the
    /// required scope).
    pub fn context(&self) -> Option<&Arc<KeyContext>> {
        match self {
            Outcome::Valid(c) | Outcome::InsufficientScope { context: c, .. } => Some(c),
            _ => None,
        }
    }

    /// Why the key does not authenticate, when that is the outcome (not for
    /// valid keys, missing scopes or an unavailable store).
    pub fn unauthenticated(&self) -> Option<Unauthenticated> {
        Some(match self {
            Outcome::Malformed(e) => Unauthenticated::Malformed(*e),
            Outcome::Unknown => Unauthenticated::Unknown,
            Outcome::Expired { .. } => Unauthenticated::Expired,
            Outcome::Revoked { .. } => Unauthenticated::Revoked,
            Outcome::WrongAudience { .. } => Unauthenticated::WrongAudience,
            Outcome::NotYetValid { .. } => Unauthenticated::NotYetValid,
            Outcome::Quarantined { .. } => Unauthenticated::Quarantined,
            Outcome::NetworkNotAllowed { .. } => Unauthenticated::NetworkNotAllowed,
            Outcome::WrongEnv { expected, got } => Unauthenticated::WrongEnv {
                expected: *expected,
                got: *got,
            },
            Outcome::Valid(_) | Outcome::InsufficientScope { .. } | Outcome::Unavailable => {
                return None
            }
        })
    }

    /// Stable code for API errors and audit reasons.
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Valid(_) => "valid",
            Outcome::Malformed(e) => e.code(),
            Outcome::Unknown => "unknown_key",
            Outcome::Expired { .. } => "expired_key",
            Outcome::Revoked { .. } => "revoked_key",
            Outcome::WrongAudience { .. } => "wrong_audience",
            Outcome::NotYetValid { .. } => "not_yet_valid",
            Outcome::Quarantined { .. } => "quarantined_key",
            Outcome::NetworkNotAllowed { .. } => "network_not_allowed",
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
            Outcome::WrongAudience { .. } => "this credential is not for this server".into(),
            Outcome::NotYetValid { .. } => "API key not valid yet".into(),
            Outcome::Quarantined { .. } => {
                "API key in quarantine: a person of its org must release it".into()
            }
            Outcome::NetworkNotAllowed { .. } => {
                "API key not allowed from this network address".into()
            }
            Outcome::WrongEnv { expected, got } => {
                format!("this server accepts `{expected}` keys; this is a `{got}` key")
            }
            Outcome::InsufficientScope { missing, .. } => format!("missing scope `{missing}`"),
            Outcome::Unavailable => "the key authority is temporarily unavailable".into(),
        }
    }

    /// The audit event of a tool call decided by this outcome: allowed iff
    /// valid, with the outcome's code as the reason when denied.
    pub fn tool_call(&self, tool: &str, required: &Scope) -> ToolCall {
        let (org, key_id, agent) = match self {
            Outcome::Valid(c) | Outcome::InsufficientScope { context: c, .. } => {
                (Some(c.org.clone()), Some(c.key_id.clone()), c.agent.clone())
            }
            Outcome::Expired { key_id, org }
            | Outcome::Revoked { key_id, org }
            | Outcome::WrongAudience { key_id, org }
            | Outcome::NotYetValid { key_id, org }
            | Outcome::Quarantined { key_id, org }
            | Outcome::NetworkNotAllowed { key_id, org } => {
                (Some(org.clone()), Some(key_id.clone()), None)
            }
            _ => (None, None, None),
        };
        let allowed = self.is_valid();
        ToolCall {
            org,
            key_id,
            agent,
            tool: tool.to_owned(),
            required_scope: Some(required.to_string()),
            decision: if allowed {
                Decision::Allowed
            } else {
                Decision::Denied
            },
            reason: (!allowed).then(|| self.code().to_owned()),
            server: None,
            request_id: None,
            client_ip: None,
            latency_us: None,
            ts: None,
        }
    }
}
