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
//! - At most one event per key per minute ([`crate::dead_keys`], the same
//!   memory a guard uses for its own traces).
//! - Best effort and off the request path: the refusal is answered at
//!   once; a failed write is logged, never turned into an error for the
//!   caller (who is being refused anyway).

use super::Authority;
use crate::audit::Decision;
use crate::scopes::Scope;
use crate::validator::Outcome;

impl Authority {
    /// Records `outcome` if it is an attributable refusal (see the rules).
    pub(super) fn trace_refused_key(&self, outcome: &Outcome, required: Option<&Scope>) {
        let Some(key_id) = self.inner.refusals_traced.due(outcome) else {
            return;
        };
        let (org, reason) = match outcome {
            Outcome::Revoked { org, .. } => (org, "revoked_key"),
            Outcome::Expired { org, .. } => (org, "expired_key"),
            // Valid keys used too early or from elsewhere: the trail must
            // show it (a key used outside its networks is likely stolen).
            Outcome::NotYetValid { org, .. }
            | Outcome::NetworkNotAllowed { org, .. }
            | Outcome::Quarantined { org, .. } => (org, outcome.code()),
            _ => return,
        };
        self.inner.refusals_traced.traced(key_id);
        let mut body = self.admin_event(None, org, "authenticate", self.now());
        body.decision = Decision::Denied;
        body.actor_key_id = Some(key_id.clone());
        body.reason = Some(reason.to_owned());
        body.required_scope = required.map(ToString::to_string);
        let authority = self.clone();
        tokio::spawn(async move {
            if let Err(error) = authority.append_admin_event(body).await {
                tracing::warn!(%error, "could not record a refused key in the audit trail");
            }
        });
    }
}
