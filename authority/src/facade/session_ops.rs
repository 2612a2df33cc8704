//! What the dashboard's sessions ask of the authority: is the key behind a
//! session still good, and what may it grant when minting.

use super::Authority;
use crate::error::{AuthorityError, SessionEnd, Unauthenticated};
use crate::ids::{KeyId, OrgId};
use crate::policy::KeyContext;
use crate::scopes::Scope;
use crate::store::KeyStatus;
use crate::time::Timestamp;

/// What the new-key form may offer the signed-in principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintLimits {
    /// Whether `never` may be chosen (org allows it and the principal never expires).
    pub never_allowed: bool,
    /// No key may outlive this (the principal's own expiry).
    pub latest_expiry: Option<Timestamp>,
    /// Set when the principal is agent-bound: minted keys must carry it.
    pub agent: Option<String>,
}

impl Authority {
    /// The principal behind a dashboard session: the key record loaded
    /// fresh, valid only while the key is active, in its org, and still
    /// holds `admin:org` (sign-in's requirement). Anything else answers
    /// `Unauthenticated`, and the caller ends the session.
    pub async fn session_principal(
        &self,
        key_id: &KeyId,
        org: &OrgId,
    ) -> Result<KeyContext, AuthorityError> {
        let ended = |why| AuthorityError::Unauthenticated(Unauthenticated::SessionEnded(why));
        let record = self
            .inner
            .store
            .get_key(org, key_id)
            .await?
            .filter(|k| &k.org == org)
            .ok_or_else(|| ended(SessionEnd::KeyGone))?;
        match record.status(self.now()) {
            KeyStatus::Active => {}
            KeyStatus::Revoked => return Err(ended(SessionEnd::KeyRevoked)),
            KeyStatus::Expired => return Err(ended(SessionEnd::KeyExpired)),
        }
        let ctx = KeyContext::from_record(&record);
        if !ctx.allows(&Scope::AdminOrg) {
            return Err(ended(SessionEnd::NotAdmin));
        }
        Ok(ctx)
    }

    /// Limits the new-key form shows; the mint rules enforce the same.
    pub async fn mint_limits(&self, p: &KeyContext) -> Result<MintLimits, AuthorityError> {
        let org = self
            .inner
            .store
            .get_org(&p.org)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        Ok(MintLimits {
            never_allowed: org.allow_never_expiry && p.expires_at.is_none(),
            latest_expiry: p.expires_at,
            agent: p.agent.clone(),
        })
    }
}
