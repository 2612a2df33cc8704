//! A trace in the trail of every revoked or expired key that is still
//! being tried: after a leak, that is exactly the attacker.
//!
//! Rules:
//! - Only refusals the store can attribute (the key exists, so its org and
//!   id are known) are recorded, in that key's org, as a denied
//!   `authenticate` admin event naming the key and the scope asked for.
//!   Unknown and malformed keys name no org: recording them would let
//!   anyone fill the trail with random strings; they are counted in the
//!   metrics instead.
//! - At most one event per key per [`TRACE_EVERY`]: a script retrying a
//!   dead key a thousand times a second writes one event a minute.
//! - Best effort and off the request path: the refusal is answered at
//!   once; a failed write is logged, never turned into an error for the
//!   caller (who is being refused anyway).

use std::time::Duration;

use super::Authority;
use crate::audit::Decision;
use crate::ids::KeyId;
use crate::scopes::Scope;
use crate::validator::Outcome;

/// The shortest interval between two traces of the same key.
pub const TRACE_EVERY: Duration = Duration::from_secs(60);

pub(super) type RecentlyTraced = moka::sync::Cache<KeyId, ()>;

pub(super) fn recently_traced() -> RecentlyTraced {
    moka::sync::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(TRACE_EVERY)
        .build()
}

impl Authority {
    /// Records `outcome` if it is an attributable refusal (see the rules).
    pub(super) fn trace_refused_key(&self, outcome: &Outcome, required: Option<&Scope>) {
        let (key_id, org, reason) = match outcome {
            Outcome::Revoked { key_id, org } => (key_id, org, "revoked_key"),
            Outcome::Expired { key_id, org } => (key_id, org, "expired_key"),
            _ => return,
        };
        if self.inner.refusals_traced.contains_key(key_id) {
            return;
        }
        self.inner.refusals_traced.insert(key_id.clone(), ());
        let mut body = self.admin_event(None, org, "authenticate", self.now());
        body.decision = Decision::Denied;
        body.actor_key_id = Some(key_id.clone());
        body.reason = Some(reason.to_owned());
        body.required_scope = required.map(ToString::to_string);
        let authority = self.clone();
        tokio::spawn(async move {
            let store = authority.inner.store.clone();
            let written = authority
                .with_admin_event(body, move |ev| async move {
                    store
                        .append_audit(std::slice::from_ref(&ev))
                        .await
                        .map(|()| ((), true))
                })
                .await;
            if let Err(error) = written {
                tracing::warn!(%error, "could not record a refused key in the audit trail");
            }
        });
    }
}
