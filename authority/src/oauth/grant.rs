//! Grants: what a person consented to for one client at one tool server,
//! and the refresh-token family that keeps it going.
//!
//! Rules:
//! - A grant is created by exchanging an authorization code; its id is
//!   derived from the code ([`crate::ids::GrantId::of_code_digest`]), so a
//!   replayed code finds and revokes the grant it started.
//! - Each refresh rotates the refresh token: the store keeps every refresh
//!   token's hash with its generation, and the grant the generation now
//!   valid. An older generation presented again is a stolen token in use:
//!   the whole grant is revoked.
//! - Access tokens are key records (`ace_at_…`) naming the grant: the
//!   validator, its cache and the revocation stream treat them as keys.
//!   Revoking the grant revokes them in the same commit.

use crate::ids::{GrantId, KeyId, OrgId};
use crate::keys::record::{KeyRecord, Revocation};
use crate::keys::{Env, KeyHash};
use crate::scopes::ScopeSet;
use crate::time::Timestamp;

use crate::ids::ClientId;
use crate::keys::resource::ResourceId;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GrantRecord {
    pub id: GrantId,
    pub org: OrgId,
    pub env: Env,
    pub client_id: ClientId,
    /// The client's name when consent was given (a registered client's
    /// name is its own claim; this is what the person saw).
    pub client_name: String,
    pub resource: ResourceId,
    pub scopes: ScopeSet,
    pub agent: Option<String>,
    /// The consenting person's member credential id (as on the keys they mint).
    pub granted_by: KeyId,
    pub granted_by_email: String,
    pub created_at: Timestamp,
    /// When the grant ends: no refresh after it, no access token beyond it.
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    /// The generation of the one refresh token that is valid now.
    pub refresh_generation: u64,
    /// When the last access token was issued.
    pub refreshed_at: Timestamp,
}

impl GrantRecord {
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none_or(|r| r > now) && self.expires_at.is_none_or(|e| e > now)
    }

    /// Whether revoking at `rev.at` changes anything (as for keys).
    pub(crate) fn revocation_applies(&self, rev: &Revocation) -> bool {
        self.revoked_at.is_none_or(|r| r > rev.at)
    }

    /// Why `next` cannot become this grant's refresh token, if it cannot:
    /// the store's precondition for [`crate::store::Store::refresh_grant`],
    /// shared by every backend.
    pub(crate) fn refresh_conflict(
        &self,
        next: &RefreshRecord,
        at: Timestamp,
    ) -> Option<&'static str> {
        if next.generation != self.refresh_generation + 1 {
            Some("the refresh token was already used")
        } else if !self.is_active(at) {
            Some("the grant has ended")
        } else {
            None
        }
    }

    /// The grant after `next` became its refresh token at `at`.
    pub(crate) fn refreshed(mut self, next: &RefreshRecord, at: Timestamp) -> Self {
        self.refresh_generation = next.generation;
        self.refreshed_at = at;
        self
    }

    /// Whether revoking this grant at `rev.at` must revoke `token` too: one
    /// of its access tokens that still works then.
    pub(crate) fn token_revocation_applies(&self, token: &KeyRecord, rev: &Revocation) -> bool {
        token.oauth.as_ref().is_some_and(|o| o.grant == self.id)
            && token.revocation_applies(rev)
            && token.expires_at.is_none_or(|e| e > rev.at)
    }

    pub(crate) fn apply_revocation(&mut self, rev: &Revocation) {
        self.revoked_at = Some(rev.at);
        self.revoked_by = Some(rev.by.clone());
        self.revoke_reason = rev.reason.clone();
    }
}

/// One refresh token as stored: its keyed hash names the grant and the
/// generation it was issued as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub hash: KeyHash,
    pub grant: GrantId,
    pub org: OrgId,
    pub generation: u64,
}
