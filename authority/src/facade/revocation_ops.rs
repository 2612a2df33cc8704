//! Revocations of an org since an instant, for resuming a revocation
//! stream (`GET /revocations/stream` with `Last-Event-ID`).

use super::Authority;
use crate::error::AuthorityError;
use crate::policy::rules::{keys_introspect, require};
use crate::policy::KeyContext;
use crate::revocation::{Origin, RevocationEvent};
use crate::time::Timestamp;

impl Authority {
    /// Every key of the caller's org whose revocation took effect at or
    /// after `since`, or is scheduled (rotation grace), oldest first.
    /// Needs `svc:keys:introspect`: the scope of tool servers that keep a
    /// validator cache fresh.
    pub async fn revocations_since(
        &self,
        p: &KeyContext,
        since: Timestamp,
    ) -> Result<Vec<RevocationEvent>, AuthorityError> {
        require(p, &keys_introspect())?;
        let keys = self.inner.store.list_keys(&p.org).await?;
        let mut revoked: Vec<RevocationEvent> = keys
            .into_iter()
            .filter_map(|key| {
                let at = key.revoked_at?;
                (at >= since).then(|| RevocationEvent {
                    key_id: key.id,
                    org: key.org,
                    key_hash: key.hash.to_hex(),
                    revoked_at: at,
                    origin: Origin::Local,
                })
            })
            .collect();
        revoked.sort_by_key(|event| event.revoked_at);
        Ok(revoked)
    }
}
