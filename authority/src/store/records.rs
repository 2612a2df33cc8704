//! Stored records: orgs and keys. No record ever holds a raw key.

use serde::{Deserialize, Serialize};

use crate::ids::{KeyId, OrgId};
use crate::keys::{Env, KeyHash, KeyHint};
use crate::scopes::ScopeSet;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRecord {
    pub id: OrgId,
    pub name: String,
    pub created_at: Timestamp,
    /// Whether keys may be minted with no expiry (an explicit `never`).
    pub allow_never_expiry: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: KeyId,
    pub org: OrgId,
    pub name: String,
    pub env: Env,
    /// From the `agent:<name>` scope, denormalised for bulk revoke and filters.
    pub agent: Option<String>,
    pub scopes: ScopeSet,
    pub hash: KeyHash,
    pub hint: KeyHint,
    /// The minting key; `None` for bootstrap keys.
    pub created_by: Option<KeyId>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    /// May lie in the future: a rotation's grace period ends then.
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    pub last_used_at: Option<Timestamp>,
    pub rotated_from: Option<KeyId>,
    pub rotated_to: Option<KeyId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl KeyRecord {
    /// Revoked wins over expired: it is the stronger, deliberate statement.
    pub fn status(&self, now: Timestamp) -> KeyStatus {
        if self.revoked_at.is_some_and(|r| r <= now) {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|e| e <= now) {
            KeyStatus::Expired
        } else {
            KeyStatus::Active
        }
    }

    /// Whether revoking at `rev.at` changes anything: not when the key is
    /// already revoked at or before it. Every backend decides with this.
    pub(crate) fn revocation_applies(&self, rev: &Revocation) -> bool {
        self.revoked_at.is_none_or(|r| r > rev.at)
    }

    pub(crate) fn apply_revocation(&mut self, rev: &Revocation) {
        self.revoked_at = Some(rev.at);
        self.revoked_by = Some(rev.by.clone());
        self.revoke_reason = rev.reason.clone();
    }

    /// Why this key cannot hand over to `successor`, if it cannot: a key
    /// rotates once, and not after its revocation took effect.
    pub(crate) fn rotation_conflict(&self, successor: &KeyRecord) -> Option<super::StoreError> {
        if self.rotated_to.is_some() {
            Some(super::StoreError::Conflict(
                "key was already rotated".into(),
            ))
        } else if self.revoked_at.is_some_and(|r| r <= successor.created_at) {
            Some(super::StoreError::Conflict("key is revoked".into()))
        } else {
            None
        }
    }

    /// The first instant at which the key stops working, if any.
    pub fn valid_until(&self) -> Option<Timestamp> {
        match (self.expires_at, self.revoked_at) {
            (Some(e), Some(r)) => Some(e.min(r)),
            (e, r) => e.or(r),
        }
    }
}

/// A tool scope (`svc:<service>:<action>`) a tool server registered; shared
/// by every org. The built-in catalog is not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    pub service: String,
    pub action: String,
    pub description: String,
}

/// Who revoked what, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub at: Timestamp,
    /// A key id, or `system`.
    pub by: String,
    pub reason: Option<String>,
}
