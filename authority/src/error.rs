//! The error every facade method returns.
//!
//! Rules:
//! - `Display` is the public message: safe to put in a response. The
//!   internal cause (a store error text, say) is kept in a separate field,
//!   readable through [`AuthorityError::internal_cause`] for logs only.
//! - Nothing here ever carries key material.
//! - A key of another org and a missing key are the same [`AuthorityError::NotFound`].
//! - No transport status lives here: the server maps each variant to its
//!   HTTP status, the dashboard to its own error.

use crate::keys::{Env, ParseError};
use crate::scopes::{Scope, ScopeError};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    /// The caller's credential does not authenticate.
    #[error(transparent)]
    Unauthenticated(#[from] Unauthenticated),
    /// Authenticated but not allowed; `missing` names a scope when one
    /// would have allowed it.
    #[error("{message}")]
    Forbidden {
        message: String,
        missing: Option<Scope>,
    },
    /// No such resource in the caller's org.
    #[error("not found")]
    NotFound,
    /// The resource's state forbids the change.
    #[error("{0}")]
    Conflict(String),
    /// A request field is invalid.
    #[error("invalid `{field}`: {message}")]
    InvalidField {
        field: &'static str,
        message: String,
    },
    /// A scope is malformed or unknown; the message names it and close matches.
    #[error(transparent)]
    InvalidScope(#[from] ScopeError),
    /// The store could not answer; nothing was decided.
    #[error("the key authority is temporarily unavailable")]
    Unavailable { cause: String },
    /// A bug or corrupt data.
    #[error("internal error")]
    Internal { cause: String },
}

/// Why a credential does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unauthenticated {
    /// Not an acekeys key at all (no lookup happened).
    #[error("{0}")]
    Malformed(ParseError),
    #[error("invalid API key")]
    Unknown,
    #[error("API key expired")]
    Expired,
    #[error("API key revoked")]
    Revoked,
    /// A `test` key on a `live` server or vice versa.
    #[error("this server accepts `{expected}` keys; this is a `{got}` key")]
    WrongEnv { expected: Env, got: Env },
    /// A dashboard session whose key no longer qualifies.
    #[error("{0}")]
    SessionEnded(SessionEnd),
    /// A credential limited to other resources (an OAuth token issued for
    /// another tool server, a key limited to named ones).
    #[error("this credential is not for this server")]
    WrongAudience,
    /// A key held in quarantine.
    #[error("API key in quarantine: a person of its org must release it")]
    Quarantined,
    /// A key whose not-before instant has not come yet.
    #[error("API key not valid yet")]
    NotYetValid,
    /// A key limited to networks the caller is not in.
    #[error("API key not allowed from this network address")]
    NetworkNotAllowed,
}

/// Why a dashboard session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionEnd {
    #[error("the key behind this session no longer exists")]
    KeyGone,
    #[error("the key behind this session was revoked")]
    KeyRevoked,
    #[error("the key behind this session has expired")]
    KeyExpired,
    #[error("the key behind this session is in quarantine")]
    KeyQuarantined,
    #[error("the key behind this session is no longer an admin key")]
    NotAdmin,
    #[error("the person behind this session is no longer a member")]
    MemberGone,
}

impl Unauthenticated {
    /// Stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Unauthenticated::Malformed(e) => e.code(),
            Unauthenticated::Unknown => "unknown_key",
            Unauthenticated::Expired => "expired_key",
            Unauthenticated::Revoked => "revoked_key",
            Unauthenticated::WrongEnv { .. } => "wrong_env",
            Unauthenticated::SessionEnded(_) => "session_ended",
            Unauthenticated::WrongAudience => "wrong_audience",
            Unauthenticated::NotYetValid => "not_yet_valid",
            Unauthenticated::Quarantined => "quarantined_key",
            Unauthenticated::NetworkNotAllowed => "network_not_allowed",
        }
    }

    /// Whether a caller probing with this credential could learn something
    /// about stored keys from the exact reason (unknown vs expired vs
    /// revoked): such reasons are answered alike.
    pub fn reveals_stored_state(self) -> bool {
        matches!(
            self,
            Unauthenticated::Unknown
                | Unauthenticated::Expired
                | Unauthenticated::Revoked
                | Unauthenticated::WrongAudience
                | Unauthenticated::NotYetValid
                | Unauthenticated::NetworkNotAllowed
                | Unauthenticated::Quarantined
        )
    }

    /// The code a caller is shown: the same `invalid_key` for every reason
    /// that would reveal stored state, the exact one otherwise (a malformed
    /// or wrong-env key reveals nothing, and saying so saves a ticket). The
    /// audit trail keeps [`Self::code`].
    pub fn public_code(self) -> &'static str {
        match self {
            why if why.reveals_stored_state() => "invalid_key",
            // One code for every way a text is not a key; the message says which.
            Unauthenticated::Malformed(_) => "malformed_key",
            other => other.code(),
        }
    }

    /// The message a caller is shown, alike where [`Self::public_code`] is.
    pub fn public_message(self) -> String {
        if self.reveals_stored_state() {
            INVALID_KEY_MESSAGE.to_owned()
        } else {
            self.to_string()
        }
    }
}

/// The one answer for a key that is unknown, expired or revoked (or of
/// another org: to its caller that is an unknown key).
const INVALID_KEY_MESSAGE: &str = "the API key is not valid: it is unknown, expired or revoked. \
     Check the key or ask your org admin for a new one";

impl AuthorityError {
    /// Stable machine-readable code for `{"error": {"code": ...}}`.
    pub fn code(&self) -> &'static str {
        match self {
            AuthorityError::Unauthenticated(why) => why.code(),
            AuthorityError::Forbidden {
                missing: Some(_), ..
            } => "insufficient_scope",
            AuthorityError::Forbidden { .. } => "forbidden",
            AuthorityError::NotFound => "not_found",
            AuthorityError::Conflict(_) => "conflict",
            AuthorityError::InvalidField { .. } => "invalid_field",
            AuthorityError::InvalidScope(ScopeError::Unknown { .. }) => "unknown_scope",
            AuthorityError::InvalidScope(_) => "invalid_scope",
            AuthorityError::Unavailable { .. } => "unavailable",
            AuthorityError::Internal { .. } => "internal",
        }
    }

    /// For logs only; never for responses.
    pub fn internal_cause(&self) -> Option<&str> {
        match self {
            AuthorityError::Unavailable { cause } | AuthorityError::Internal { cause } => {
                Some(cause)
            }
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AuthorityError::InvalidField {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        AuthorityError::Forbidden {
            message: message.into(),
            missing: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthenticated_codes() {
        let e = AuthorityError::from(Unauthenticated::Malformed(ParseError::BadChecksum));
        assert_eq!(e.code(), "bad_checksum");
        assert!(e.to_string().contains("checksum"));
        assert!(Unauthenticated::Revoked.reveals_stored_state());
        assert!(!Unauthenticated::WrongEnv {
            expected: Env::Live,
            got: Env::Test
        }
        .reveals_stored_state());
    }
}
