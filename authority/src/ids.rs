//! Public identifiers: org ids, key ids (`key_…`), audit event ids (`evt_…`).
//!
//! Rules:
//! - Ids are public and safe to log; none is derived from key material.
//! - Org ids follow the scope segment grammar and must start with a letter or
//!   digit, so ids beginning with `_` stay reserved for the authority itself
//!   (e.g. [`OrgId::unattributed`] for calls whose key names no org).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::keys::base62;

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// An organisation (tenant) id, e.g. `acme`.
    OrgId
);
string_id!(
    /// A key's public id, `key_` + 20 base62 characters.
    KeyId
);
string_id!(
    /// An audit event id, `evt_` + 20 base62 characters.
    EventId
);

/// Why an org id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("org id must be 1-63 characters of [a-z0-9_-], starting with a letter or digit")]
pub struct InvalidOrgId;

impl OrgId {
    pub fn parse(s: &str) -> Result<Self, InvalidOrgId> {
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 63
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidOrgId)
        }
    }

    /// The reserved org that holds tool-call events whose key could not be
    /// attributed to any org (malformed or unknown keys).
    pub fn unattributed() -> Self {
        Self("_unattributed".to_owned())
    }

    /// Rebuilds an id read back from a store; no validation.
    pub(crate) fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl KeyId {
    pub(crate) fn generate() -> Self {
        Self(format!("key_{}", base62::random_string(20)))
    }

    /// Accepts any `key_` id of plausible shape; whether it exists is the
    /// store's business.
    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("key_")?;
        (!rest.is_empty() && rest.len() <= 64 && rest.bytes().all(base62::is_base62))
            .then(|| Self(s.to_owned()))
    }

    pub(crate) fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl EventId {
    /// `evt_` + 8 base62 characters of the current time in milliseconds +
    /// 12 random ones: ids sort roughly by creation time, so the unique
    /// index on them is appended to rather than written all over.
    pub(crate) fn generate() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut t = [b'0'; 8];
        let mut v = ms;
        for slot in t.iter_mut().rev() {
            *slot = base62::ALPHABET[(v % 62) as usize];
            v /= 62;
        }
        let t = std::str::from_utf8(&t).unwrap_or("00000000");
        Self(format!("evt_{t}{}", base62::random_string(12)))
    }

    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix("evt_")?;
        (!rest.is_empty() && rest.len() <= 64 && rest.bytes().all(base62::is_base62))
            .then(|| Self(s.to_owned()))
    }

    pub(crate) fn from_stored(s: String) -> Self {
        Self(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_ids() {
        assert!(OrgId::parse("acme").is_ok());
        assert!(OrgId::parse("a-b_c9").is_ok());
        assert!(OrgId::parse("").is_err());
        assert!(OrgId::parse("_x").is_err());
        assert!(OrgId::parse("Acme").is_err());
        assert!(OrgId::parse("a:b").is_err());
        assert!(OrgId::parse(&"a".repeat(64)).is_err());
    }

    #[test]
    fn key_ids() {
        let id = KeyId::generate();
        assert!(id.as_str().starts_with("key_"));
        assert_eq!(KeyId::parse(id.as_str()), Some(id));
        assert_eq!(KeyId::parse("key_"), None);
        assert_eq!(KeyId::parse("evt_abc"), None);
        assert_eq!(KeyId::parse("key_a/b"), None);
    }
}
