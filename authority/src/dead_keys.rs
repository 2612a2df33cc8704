//! Which revoked or expired keys (or valid keys used before their start or
//! outside their networks) were traced in the audit trail lately.
//!
//! A dead key still being tried is exactly the attacker after a leak, so
//! its refusals leave a denied event naming it (the authority's for the
//! REST API, sign-in and introspection; a guard's for refusals before any
//! tool call). One rule for both: at most one trace per key per
//! [`TRACE_EVERY`], so a client retrying in a loop writes one event a
//! minute, with bounded memory whatever the number of dead keys tried.
//! Unknown and malformed keys name no org and are never due.

use std::time::Duration;

use crate::ids::KeyId;
use crate::validator::Outcome;

/// The shortest interval between two traces of the same key.
pub const TRACE_EVERY: Duration = Duration::from_secs(60);

/// Keys remembered at once: bounds memory whatever the number of dead keys
/// tried. A forgotten key is traced again, still within the global limit.
const MAX_KEYS: u64 = 100_000;

/// The dead keys traced within the last [`TRACE_EVERY`].
pub struct DeadKeyTraces(moka::sync::Cache<KeyId, ()>);

impl Default for DeadKeyTraces {
    fn default() -> Self {
        Self::new()
    }
}

impl DeadKeyTraces {
    pub fn new() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_live(TRACE_EVERY)
                .build(),
        )
    }

    /// The key of a refusal to trace now: a revoked, expired, not yet
    /// valid or out-of-network key not traced within the last minute.
    pub fn due<'a>(&self, outcome: &'a Outcome) -> Option<&'a KeyId> {
        match outcome {
            Outcome::Revoked { key_id, .. }
            | Outcome::Expired { key_id, .. }
            | Outcome::NotYetValid { key_id, .. }
            | Outcome::Quarantined { key_id, .. }
            | Outcome::NetworkNotAllowed { key_id, .. }
                if !self.0.contains_key(key_id) =>
            {
                Some(key_id)
            }
            _ => None,
        }
    }

    /// Remembers that `key` was traced.
    pub fn traced(&self, key: &KeyId) {
        self.0.insert(key.clone(), ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::OrgId;

    #[test]
    fn only_dead_keys_are_due_and_each_once_a_minute() {
        let traced = DeadKeyTraces::new();
        let key = KeyId::parse("key_AAAAAAAAAAAAAAAAAAAA").unwrap();
        let org = OrgId::parse("acme").unwrap();
        let revoked = Outcome::Revoked {
            key_id: key.clone(),
            org: org.clone(),
        };
        assert_eq!(traced.due(&revoked), Some(&key));
        traced.traced(&key);
        assert_eq!(traced.due(&revoked), None);
        let expired = Outcome::Expired {
            key_id: key.clone(),
            org,
        };
        assert_eq!(traced.due(&expired), None, "the same key, still recent");
        assert_eq!(traced.due(&Outcome::Unknown), None);
    }
}
