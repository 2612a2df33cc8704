//! Key and org records: what the authority knows about a key, whichever
//! store keeps it. No record ever holds a raw key.

use serde::{Deserialize, Serialize};

use crate::guardrails::KeyTerms;
use crate::ids::{ClientId, GrantId};
use crate::ids::{KeyId, OrgId};
use crate::keys::resource::ResourceId;
use crate::keys::{Env, KeyHash, KeyHint, KeyStatus};
use crate::scopes::ScopeSet;
use crate::time::Timestamp;
use model::wire::{KeyView, QuarantineView};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRecord {
    pub id: OrgId,
    pub name: String,
    pub created_at: Timestamp,
    /// Whether keys may be minted with no expiry (an explicit `never`).
    pub allow_never_expiry: bool,
}

/// Where an access token came from: carried on its key record, so the
/// trail, introspection and the dashboard can name the client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenOrigin {
    pub grant: GrantId,
    pub client: ClientId,
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
    /// The tool servers (resources) it is good for; empty: every one, and
    /// the authority's own API. A credential naming resources is refused
    /// everywhere else, the authority's API included.
    pub resources: Vec<ResourceId>,
    /// Set on OAuth access tokens: the grant and client they were issued to.
    pub oauth: Option<TokenOrigin>,
    /// Not-before, allowed networks and metadata.
    pub terms: KeyTerms,
    /// The agent key that minted it (see `store::lineage`):
    /// revoking the parent revokes this key too.
    pub parent: Option<KeyId>,
    /// Set while the key is held in quarantine (see `store::quarantine`).
    pub quarantine: Option<QuarantineView>,
}

impl KeyRecord {
    /// Revoked wins over expired: it is the stronger, deliberate statement;
    /// both win over quarantined (a hold on a key that still could work).
    pub fn status(&self, now: Timestamp) -> KeyStatus {
        if self.revoked_at.is_some_and(|r| r <= now) {
            KeyStatus::Revoked
        } else if self.expires_at.is_some_and(|e| e <= now) {
            KeyStatus::Expired
        } else if self.quarantine.is_some() {
            KeyStatus::Quarantined
        } else {
            KeyStatus::Active
        }
    }

    /// The key as the API shows it at `now`: never the secret.
    pub fn view(&self, now: Timestamp) -> KeyView {
        let (revoked_at, revokes_at) = match self.revoked_at {
            Some(r) if r <= now => (Some(r), None),
            Some(r) => (None, Some(r)),
            None => (None, None),
        };
        let revoked = revoked_at.is_some();
        KeyView {
            id: self.id.clone(),
            org: self.org.clone(),
            name: self.name.clone(),
            env: self.env,
            agent: self.agent.clone(),
            scopes: self.scopes.clone(),
            hint: self.hint.clone(),
            status: self.status(now),
            created_at: self.created_at,
            created_by: self.created_by.clone(),
            expires_at: self.expires_at,
            revoked_at,
            revoked_by: self.revoked_by.clone().filter(|_| revoked),
            revoke_reason: self.revoke_reason.clone().filter(|_| revoked),
            revokes_at,
            last_used_at: self.last_used_at,
            rotated_from: self.rotated_from.clone(),
            rotated_to: self.rotated_to.clone(),
            resources: self
                .resources
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            grant: self.oauth.as_ref().map(|o| o.grant.clone()),
            not_before: self.terms.not_before,
            allowed_networks: self.terms.networks.to_strings(),
            metadata: self.terms.metadata.as_ref().map(|m| m.as_map().clone()),
            limits: self.terms.limits.views(),
            parent: self.parent.clone(),
            quarantine: self.quarantine.clone(),
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
    pub(crate) fn rotation_conflict(&self, successor: &KeyRecord) -> Option<&'static str> {
        if self.rotated_to.is_some() {
            Some("key was already rotated")
        } else if self.revoked_at.is_some_and(|r| r <= successor.created_at) {
            Some("key is revoked")
        } else if self.quarantine.is_some() {
            Some("key is in quarantine: release it first, or revoke it")
        } else {
            None
        }
    }
}

/// A tool scope (`svc:<service>:<action>`) a tool server of an org
/// registered for that org. The built-in catalog is not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The org that registered it; `None` for a registration made before
    /// registrations were per org (shared by every org, never written now).
    pub org: Option<OrgId>,
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

/// A plain active key of `org` for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn test_key(org: &str, id: &str) -> KeyRecord {
    KeyRecord {
        id: KeyId::from_stored(id.into()),
        org: OrgId::parse(org).unwrap(),
        name: "a".into(),
        env: Env::Live,
        agent: None,
        scopes: [crate::scopes::Scope::parse("svc:wiki:read").unwrap()]
            .into_iter()
            .collect(),
        hash: KeyHash::from_bytes([0; 32]),
        hint: KeyHint::from_stored("h".into()),
        created_by: None,
        created_at: Timestamp::from_millis(0),
        expires_at: None,
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
        last_used_at: None,
        rotated_from: None,
        rotated_to: None,
        resources: Vec::new(),
        oauth: None,
        terms: KeyTerms::default(),
        parent: None,
        quarantine: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_700_000_000_000);

    fn key() -> KeyRecord {
        let mut k = test_key("acme", "key_a");
        k.created_at = NOW.plus_days(-1);
        k
    }

    fn revocation(at: Timestamp) -> Revocation {
        Revocation {
            at,
            by: "key_admin".into(),
            reason: Some("leaked".into()),
        }
    }

    /// A revocation or an expiry takes effect at its instant, not after it;
    /// revoked wins over expired.
    #[test]
    fn status_at_the_boundaries() {
        let mut k = key();
        assert_eq!(k.status(NOW), KeyStatus::Active);
        k.expires_at = Some(NOW.plus_secs(1));
        assert_eq!(k.status(NOW), KeyStatus::Active);
        k.expires_at = Some(NOW);
        assert_eq!(k.status(NOW), KeyStatus::Expired);
        k.revoked_at = Some(NOW.plus_secs(1));
        assert_eq!(k.status(NOW), KeyStatus::Expired);
        k.revoked_at = Some(NOW);
        assert_eq!(k.status(NOW), KeyStatus::Revoked);
    }

    /// A revocation in the future (a rotation's grace period) is shown as
    /// `revokes_at`, with no revoker or reason yet; from its instant on it
    /// is `revoked_at` with both.
    #[test]
    fn view_splits_past_and_scheduled_revocations() {
        let mut k = key();
        k.apply_revocation(&revocation(NOW.plus_secs(60)));
        let v = k.view(NOW);
        assert_eq!(v.status, KeyStatus::Active);
        assert_eq!(v.revoked_at, None);
        assert_eq!(v.revokes_at, Some(NOW.plus_secs(60)));
        assert_eq!(v.revoked_by, None);
        assert_eq!(v.revoke_reason, None);

        let v = k.view(NOW.plus_secs(60));
        assert_eq!(v.status, KeyStatus::Revoked);
        assert_eq!(v.revoked_at, Some(NOW.plus_secs(60)));
        assert_eq!(v.revokes_at, None);
        assert_eq!(v.revoked_by.as_deref(), Some("key_admin"));
        assert_eq!(v.revoke_reason.as_deref(), Some("leaked"));
        assert_eq!(v.id, k.id);
        assert_eq!(v.name, "a");
    }

    /// Revoking changes a key only if it is not already revoked at or
    /// before that instant: an earlier revocation is never postponed.
    #[test]
    fn revocation_applies_only_when_it_comes_first() {
        let mut k = key();
        assert!(k.revocation_applies(&revocation(NOW)));
        k.apply_revocation(&revocation(NOW));
        assert_eq!(k.revoked_at, Some(NOW));
        assert_eq!(k.revoked_by.as_deref(), Some("key_admin"));
        assert_eq!(k.revoke_reason.as_deref(), Some("leaked"));
        assert!(!k.revocation_applies(&revocation(NOW)));
        assert!(!k.revocation_applies(&revocation(NOW.plus_secs(1))));
        assert!(k.revocation_applies(&revocation(NOW.plus_secs(-1))));
    }

    /// A key rotates once, and not once its revocation took effect at the
    /// successor's creation; a pending (grace) revocation does not block.
    #[test]
    fn rotation_conflicts() {
        let mut successor = key();
        successor.created_at = NOW;
        let mut k = key();
        assert_eq!(k.rotation_conflict(&successor), None);
        k.revoked_at = Some(NOW.plus_secs(1));
        assert_eq!(k.rotation_conflict(&successor), None);
        k.revoked_at = Some(NOW);
        assert_eq!(k.rotation_conflict(&successor), Some("key is revoked"));
        k.revoked_at = None;
        k.rotated_to = Some(KeyId::from_stored("key_b".into()));
        assert_eq!(
            k.rotation_conflict(&successor),
            Some("key was already rotated")
        );
    }
}
