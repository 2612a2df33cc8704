//! Request and response types of the key-management calls.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{KeyId, OrgId};
use crate::keys::{Env, KeyHint, RawKey};
use crate::scopes::ScopeSet;
use crate::store::{KeyRecord, KeyStatus};
use crate::time::Timestamp;

/// How long a new key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpiryChoice {
    /// 90 days.
    #[default]
    Default,
    Days(u32),
    /// No expiry: only when explicitly asked and allowed.
    Never,
}

/// `POST /keys/mint`. JSON: `orgId` (or `org_id`), `name`, `scopes`,
/// `expires_days` (absent → 90, a number → that many days, `null` → never),
/// `env` (absent → the caller's).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MintRequest {
    #[serde(rename = "orgId", alias = "org_id", default)]
    pub org_id: Option<String>,
    pub name: String,
    pub scopes: Vec<String>,
    #[serde(default, alias = "expiresDays", deserialize_with = "expiry_field")]
    pub expires_days: ExpiryChoice,
    #[serde(default)]
    pub env: Option<Env>,
}

fn expiry_field<'de, D: Deserializer<'de>>(d: D) -> Result<ExpiryChoice, D::Error> {
    // Only called when the field is present: `null` is an explicit "never".
    Ok(match Option::<u32>::deserialize(d)? {
        None => ExpiryChoice::Never,
        Some(n) => ExpiryChoice::Days(n),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct RotateRequest {
    /// Seconds the old key keeps working; default 3600, 0 = revoke now.
    pub grace_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct BulkRevokeRequest {
    /// Only keys bound to this agent; `None` = every key of the org.
    pub agent: Option<String>,
    pub reason: Option<String>,
    /// Also revoke the calling key (spared by default).
    pub include_caller: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkRevokeResult {
    pub revoked: u64,
    pub key_ids: Vec<KeyId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct KeyListFilter {
    pub status: Option<KeyStatus>,
    pub agent: Option<String>,
    pub env: Option<Env>,
}

/// A key as the API shows it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyView {
    pub id: KeyId,
    pub org: OrgId,
    pub name: String,
    pub env: Env,
    pub agent: Option<String>,
    pub scopes: ScopeSet,
    pub hint: KeyHint,
    pub status: KeyStatus,
    pub created_at: Timestamp,
    pub created_by: Option<KeyId>,
    pub expires_at: Option<Timestamp>,
    /// Set once the key is revoked.
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    /// Set while a rotation grace period runs: the key stops working then.
    pub revokes_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub rotated_from: Option<KeyId>,
    pub rotated_to: Option<KeyId>,
}

impl KeyView {
    pub fn from_record(k: &KeyRecord, now: Timestamp) -> Self {
        let status = k.status(now);
        let (revoked_at, revokes_at) = match k.revoked_at {
            Some(r) if r <= now => (Some(r), None),
            Some(r) => (None, Some(r)),
            None => (None, None),
        };
        let revoked = revoked_at.is_some();
        Self {
            id: k.id.clone(),
            org: k.org.clone(),
            name: k.name.clone(),
            env: k.env,
            agent: k.agent.clone(),
            scopes: k.scopes.clone(),
            hint: k.hint.clone(),
            status,
            created_at: k.created_at,
            created_by: k.created_by.clone(),
            expires_at: k.expires_at,
            revoked_at,
            revoked_by: k.revoked_by.clone().filter(|_| revoked),
            revoke_reason: k.revoke_reason.clone().filter(|_| revoked),
            revokes_at,
            last_used_at: k.last_used_at,
            rotated_from: k.rotated_from.clone(),
            rotated_to: k.rotated_to.clone(),
        }
    }
}

/// The one response that carries a raw key: mint, rotate, bootstrap.
/// Serializes the secret as `key`; nothing else in the crate serializes one.
#[derive(Debug)]
pub struct MintedKey {
    pub key: RawKey,
    pub view: KeyView,
}

impl Serialize for MintedKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            key: &'a str,
            #[serde(flatten)]
            view: &'a KeyView,
        }
        Wire {
            key: self.key.expose_secret(),
            view: &self.view,
        }
        .serialize(s)
    }
}

#[derive(Debug, Serialize)]
pub struct RotatedKey {
    /// The successor, with its raw key (shown once).
    pub successor: MintedKey,
    /// The old key, with `revokes_at` (grace) or `revoked_at` (grace 0).
    pub previous: KeyView,
}
