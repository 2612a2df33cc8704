//! The error every facade method returns.
//!
//! Rules:
//! - `Display` is the public message: safe to put in an HTTP response. The
//!   internal cause (a store error text, say) is kept in a separate field,
//!   readable through [`AuthorityError::internal_cause`] for logs only.
//! - Nothing here ever carries key material.
//! - A key of another org and a missing key are the same [`AuthorityError::NotFound`].

use crate::scopes::ScopeError;
use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorityError {
    /// The caller's key does not authenticate (401).
    #[error("{message}")]
    Unauthenticated { code: &'static str, message: String },
    /// Authenticated but not allowed (403); `missing` names a scope when one
    /// would have allowed it.
    #[error("{message}")]
    Forbidden {
        message: String,
        missing: Option<String>,
    },
    /// No such resource in the caller's org (404).
    #[error("not found")]
    NotFound,
    /// The resource's state forbids the change (409).
    #[error("{0}")]
    Conflict(String),
    /// A request field is invalid (422).
    #[error("invalid `{field}`: {message}")]
    InvalidField {
        field: &'static str,
        message: String,
    },
    /// A scope is malformed or unknown (422); the message names it and close matches.
    #[error(transparent)]
    InvalidScope(#[from] ScopeError),
    /// The store could not answer; nothing was decided (503).
    #[error("the key authority is temporarily unavailable")]
    Unavailable { cause: String },
    /// A bug or corrupt data (500).
    #[error("internal error")]
    Internal { cause: String },
}

impl AuthorityError {
    /// Stable machine-readable code for `{"error": {"code": ...}}`.
    pub fn code(&self) -> &'static str {
        match self {
            AuthorityError::Unauthenticated { code, .. } => code,
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

    pub fn http_status(&self) -> u16 {
        match self {
            AuthorityError::Unauthenticated { .. } => 401,
            AuthorityError::Forbidden { .. } => 403,
            AuthorityError::NotFound => 404,
            AuthorityError::Conflict(_) => 409,
            AuthorityError::InvalidField { .. } | AuthorityError::InvalidScope(_) => 422,
            AuthorityError::Unavailable { .. } => 503,
            AuthorityError::Internal { .. } => 500,
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

impl From<StoreError> for AuthorityError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => AuthorityError::Unavailable { cause },
            StoreError::Conflict(msg) => AuthorityError::Conflict(msg),
            StoreError::NotFound => AuthorityError::NotFound,
            StoreError::Corrupt(cause) => AuthorityError::Internal { cause },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_message_hides_cause() {
        let e = AuthorityError::from(StoreError::Unavailable("disk I/O error at /var/x".into()));
        assert_eq!(
            e.to_string(),
            "the key authority is temporarily unavailable"
        );
        assert_eq!(e.internal_cause(), Some("disk I/O error at /var/x"));
        assert_eq!(e.http_status(), 503);
    }
}
