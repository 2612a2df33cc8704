//! The revocation event stream.
//!
//! Every revocation accepted by this process is published here after its
//! transaction committed; transports (the SSE endpoint, a Firestore listener)
//! subscribe to fan it out, and feed remote revocations back in through
//! [`Authority::apply_remote_revocation`](crate::Authority::apply_remote_revocation).
//! A subscriber that lags (the channel holds 4096 events) gets
//! `RecvError::Lagged` and must treat every cached decision as stale.

use serde::{Deserialize, Serialize};

use crate::ids::{KeyId, OrgId};
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Accepted by this process.
    Local,
    /// Learned from another node; transports should not re-send it there.
    Remote,
}

/// The most revocations one resumed stream replays; beyond it the client is
/// told to start over ([`CatchUp::TooMany`]), so a resume costs one bounded
/// index read however many keys the org has.
pub const MAX_CATCH_UP: u32 = 1000;

/// What a resumed revocation stream sends before the live events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatchUp {
    /// Every revocation since the resume point, oldest first.
    Events(Vec<RevocationEvent>),
    /// More than [`MAX_CATCH_UP`] since the resume point: the client must
    /// treat every cached decision as stale (a `reset`), as after a gap.
    TooMany,
}

/// What happened to a key, as the revocation stream tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyChange {
    /// It stops working at `revoked_at` (for good).
    #[default]
    Revoked,
    /// It was put in quarantine at `revoked_at`: refused until released.
    Quarantined,
    /// Its quarantine was lifted at `revoked_at`.
    Released,
    /// Its limits changed at `revoked_at`: whatever a cache or a guard's
    /// allowance holds about it is stale.
    Updated,
}

impl KeyChange {
    /// The name stores and streams carry.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyChange::Revoked => "revoked",
            KeyChange::Quarantined => "quarantined",
            KeyChange::Released => "released",
            KeyChange::Updated => "updated",
        }
    }

    /// Reads a stored name back; anything else (notices written before
    /// there were other changes) is a revocation.
    pub fn from_stored(name: Option<&str>) -> Self {
        [Self::Quarantined, Self::Released, Self::Updated]
            .into_iter()
            .find(|c| Some(c.as_str()) == name)
            .unwrap_or(Self::Revoked)
    }
}

/// A key stopped (or will stop, at `revoked_at`, after a rotation grace
/// period) working, or its quarantine began or ended (`change`). Carries the lookup hash so caches keyed by it can evict
/// without a store read; the hash reveals nothing without the pepper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationEvent {
    pub key_id: KeyId,
    pub org: OrgId,
    /// Hex HMAC of the key.
    pub key_hash: String,
    /// When the change takes effect.
    pub revoked_at: Timestamp,
    pub origin: Origin,
    #[serde(default)]
    pub change: KeyChange,
}
