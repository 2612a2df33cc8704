//! A trace of revoked and expired keys refused outside tool calls.
//!
//! Requests that are not tool calls (`initialize`, `tools/list`, the event
//! stream) are not audited: that keeps the trail to one event per tool
//! call. But a revoked or expired key that is still being tried is exactly
//! the attacker after a leak, and an attacker's client is refused at its
//! `initialize`, before any tool call. So such a refusal is recorded as a
//! denied event naming the key and its org (the key exists, so both are
//! known), with the request's JSON-RPC method as the action.
//!
//! At most one event per key per [`TRACE_EVERY`] (the authority traces a
//! dead key at the same rate), so a client retrying in a loop writes one
//! event a minute; and each one also takes a token from the guard's
//! unauthenticated limit, so many dead keys at once cannot flood the trail
//! either. Unknown and malformed keys name no org and stay unaudited here,
//! like any request that is not a tool call.

use std::time::Duration;

use authority::ids::KeyId;
use authority::Outcome;

/// The shortest interval between two traces of the same key.
pub const TRACE_EVERY: Duration = Duration::from_secs(60);

/// Keys remembered at once: bounds memory whatever the number of dead keys
/// tried. A forgotten key is traced again, still within the global limit.
const MAX_KEYS: u64 = 100_000;

/// The dead keys traced within the last [`TRACE_EVERY`].
pub(crate) struct RecentlyTraced(moka::sync::Cache<KeyId, ()>);

impl RecentlyTraced {
    pub(crate) fn new() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(MAX_KEYS)
                .time_to_live(TRACE_EVERY)
                .build(),
        )
    }

    /// The key of a refusal to trace now: a revoked or expired key not
    /// traced within the last minute.
    pub(crate) fn due<'a>(&self, outcome: &'a Outcome) -> Option<&'a KeyId> {
        match outcome {
            Outcome::Revoked { key_id, .. } | Outcome::Expired { key_id, .. }
                if !self.0.contains_key(key_id) =>
            {
                Some(key_id)
            }
            _ => None,
        }
    }

    /// Remembers that `key` was traced.
    pub(crate) fn traced(&self, key: &KeyId) {
        self.0.insert(key.clone(), ());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authority::ids::OrgId;

    #[test]
    fn only_dead_keys_are_due_and_each_once_a_minute() {
        let traced = RecentlyTraced::new();
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
