//! Policies: who may mint, revoke, rotate, list and read what.
//!
//! Rules (enforced here, never only in a UI):
//! - **Tenant isolation**: a principal acts only inside its own org. A key id
//!   of another org answers [`NotFound`](crate::AuthorityError::NotFound),
//!   exactly like a missing one; a mint request naming another org is
//!   refused before anything is read.
//! - **Permissions**: listing and reading keys needs `svc:keys:read`; mint,
//!   revoke and rotate need `svc:keys:write`; bulk revoke needs
//!   `svc:keys:admin`; audit queries need `svc:audit:read`; audit ingest
//!   needs `svc:audit:write`; introspection needs `svc:keys:introspect`.
//!   `admin:org` implies all of them inside its org.
//! - **No escalation**: every scope of a minted or rotated key must be
//!   implied by the principal's scopes, and its expiry must not be later than
//!   the principal's. An agent-bound principal (`agent:x`) can only mint keys
//!   bound to the same agent, so it cannot shed its attribution.
//! - **Expiry**: `expires_days` in 1..=366, default 90; no expiry only when
//!   asked for explicitly (`never`), the org allows it and the principal
//!   itself never expires. Requests beyond the principal's own expiry are
//!   refused (not silently clamped), naming the latest allowed instant.
//! - **Scopes**: short forms are accepted and stored canonically; unknown
//!   service scopes are refused with close matches; `org:<x>` must name the
//!   key's own org; at most one `agent:` binding.
//! - **Revoke** is idempotent: revoking a revoked key succeeds and changes
//!   nothing (no second audit event). Revoking a key inside its rotation grace
//!   period revokes it now.
//! - **Rotate** mints a successor with the same name, scopes, agent and env
//!   and the same lifetime length (counted from now), capped at the
//!   principal's expiry; a never-expiring key stays never-expiring only if the
//!   principal never expires and the org still allows it, otherwise it gets
//!   the principal's expiry. The old key is revoked after the grace period
//!   (default 3600 s, 0 = now, at most 30 days). A key can be rotated once;
//!   revoked or expired keys cannot be rotated.
//! - **Bulk revoke** (incident): every key of one agent, or of the whole org
//!   ([`BulkRevokeTarget`]: the whole org is always named, never implied);
//!   the caller's own key is spared unless `include_caller` is set, so the
//!   responder keeps control.

mod principal;
pub(crate) mod rules;

pub use model::wire::{
    BulkRevokeRequest, BulkRevokeResult, BulkRevokeTarget, ExpiryChoice, KeyListFilter, KeyView,
    MintRequest, MintedKey, RotateRequest, RotatedKey,
};
pub use principal::KeyContext;

#[cfg(test)]
mod tests;
