//! What a key is, as everyone outside the authority sees it: its
//! environment, its status, its display hint, and (once) its raw text.

use std::fmt;

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// The environment a key belongs to. A server runs in exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Env {
    Live,
    Test,
}

impl Env {
    pub fn as_str(self) -> &'static str {
        match self {
            Env::Live => "live",
            Env::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "live" => Some(Env::Live),
            "test" => Some(Env::Test),
            _ => None,
        }
    }
}

impl fmt::Display for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a key is in its life. Revoked wins over expired, and both over
/// quarantined (a reversible hold a person lifts or turns into a revocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
    Quarantined,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
            KeyStatus::Quarantined => "quarantined",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(KeyStatus::Active),
            "expired" => Some(KeyStatus::Expired),
            "revoked" => Some(KeyStatus::Revoked),
            "quarantined" => Some(KeyStatus::Quarantined),
            _ => None,
        }
    }
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A raw API key. Secret: never logged, never stored; its `Debug` is
/// redacted, it has no `Display`, it is zeroized on drop and compared in
/// constant time. Only [`crate::wire::MintedKey`] serializes one.
pub struct RawKey(String);

impl RawKey {
    /// Wraps key text as a secret; says nothing about its format (see the
    /// authority's `keys::parse` for that).
    pub fn new_unchecked(s: String) -> Self {
        Self(s)
    }

    /// The key text, for the one-time response and for hashing only.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawKey(<redacted>)")
    }
}

impl PartialEq for RawKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for RawKey {}

impl Drop for RawKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// `ace_live_aBcD…wXyZ`: enough for a human to recognise a key, far too
/// little to use it (8 of 32 secret characters).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct KeyHint(String);

impl KeyHint {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A hint the authority computed or a store kept.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Debug for KeyHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for KeyHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_key_debug_is_redacted() {
        let k = RawKey::new_unchecked("ace_live_secretsecret".into());
        assert_eq!(format!("{k:?}"), "RawKey(<redacted>)");
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            KeyStatus::Active,
            KeyStatus::Expired,
            KeyStatus::Revoked,
            KeyStatus::Quarantined,
        ] {
            assert_eq!(KeyStatus::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{s}\""));
        }
    }
}
