//! Revocations of an org since an instant, for resuming a revocation
//! stream (`GET /revocations/stream` with `Last-Event-ID`).

use super::Authority;
use crate::error::AuthorityError;
use crate::policy::rules::{keys_introspect, require};
use crate::policy::KeyContext;
use crate::revocation::{CatchUp, Origin, RevocationEvent, MAX_CATCH_UP};
use crate::time::Timestamp;

impl Authority {
    /// Every key of the caller's org whose revocation took effect at or
    /// after `since`, or is scheduled (rotation grace), oldest first — or
    /// [`CatchUp::TooMany`] past [`MAX_CATCH_UP`] of them. Needs
    /// `svc:keys:introspect`: the scope of tool servers that keep a
    /// validator cache fresh.
    pub async fn revocations_since(
        &self,
        p: &KeyContext,
        since: Timestamp,
    ) -> Result<CatchUp, AuthorityError> {
        require(p, &keys_introspect())?;
        let keys = self
            .inner
            .store
            .revoked_since(&p.org, since, MAX_CATCH_UP + 1)
            .await?;
        if keys.len() > MAX_CATCH_UP as usize {
            return Ok(CatchUp::TooMany);
        }
        Ok(CatchUp::Events(
            keys.into_iter()
                .filter_map(|key| {
                    Some(RevocationEvent {
                        revoked_at: key.revoked_at?,
                        key_id: key.id,
                        org: key.org,
                        key_hash: key.hash.to_hex(),
                        origin: Origin::Local,
                        change: crate::revocation::KeyChange::Revoked,
                    })
                })
                .collect(),
        ))
    }
}
