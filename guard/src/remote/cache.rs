//! The remote guard's introspection cache.
//!
//! - Keyed by SHA-256 of the raw key: the raw key is never kept.
//! - Entries live at most the TTL (≤ 60 s), and never past the key's expiry.
//! - An index `key_id → hashes` lets a revocation event (which names the
//!   key id, not the key) evict every entry of that key at once, and
//!   remembers recent revocations so the next call is audited as `revoked`
//!   with its key id rather than as an unknown key.
//! - An epoch counter, bumped by every eviction, stops an introspection
//!   that raced a revocation from caching the key again.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use sha2::{Digest, Sha256};

use authority::ids::{KeyId, OrgId};
use authority::KeyContext;

pub(crate) type KeyDigest = [u8; 32];

/// How long a revoked key's identity is remembered for attribution.
const REVOKED_MEMORY: Duration = Duration::from_secs(600);

pub(crate) fn digest(raw: &str) -> KeyDigest {
    Sha256::digest(raw.as_bytes()).into()
}

pub(crate) struct IntrospectionCache {
    entries: moka::sync::Cache<KeyDigest, Arc<KeyContext>>,
    by_key: Mutex<HashMap<KeyId, HashSet<KeyDigest>>>,
    revoked: moka::sync::Cache<KeyDigest, (KeyId, OrgId)>,
    epoch: AtomicU64,
}

impl IntrospectionCache {
    pub(crate) fn new(ttl: Duration, capacity: u64) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .time_to_live(ttl)
                .max_capacity(capacity)
                .build(),
            by_key: Mutex::new(HashMap::new()),
            revoked: moka::sync::Cache::builder()
                .time_to_live(REVOKED_MEMORY)
                .max_capacity(capacity)
                .build(),
            epoch: AtomicU64::new(0),
        }
    }

    pub(crate) fn get(&self, key: &KeyDigest) -> Option<Arc<KeyContext>> {
        self.entries.get(key)
    }

    pub(crate) fn revoked(&self, key: &KeyDigest) -> Option<(KeyId, OrgId)> {
        self.revoked.get(key)
    }

    pub(crate) fn remove(&self, key: &KeyDigest) {
        self.entries.invalidate(key);
    }

    /// Read before asking the authority; pass to [`insert`](Self::insert).
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Caches an answer unless an eviction happened since `epoch`.
    pub(crate) fn insert(&self, epoch: u64, key: KeyDigest, ctx: Arc<KeyContext>) -> bool {
        let mut index = self.by_key.lock();
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return false;
        }
        index.entry(ctx.key_id.clone()).or_default().insert(key);
        self.entries.insert(key, ctx);
        true
    }

    /// A key was revoked: evict every cached answer for it. `effective`
    /// is false for a revocation scheduled for later (rotation grace).
    pub(crate) fn evict_key(&self, key_id: &KeyId, org: &OrgId, effective: bool) {
        let hashes = {
            let mut index = self.by_key.lock();
            self.epoch.fetch_add(1, Ordering::SeqCst);
            index.remove(key_id).unwrap_or_default()
        };
        for hash in hashes {
            self.entries.invalidate(&hash);
            if effective {
                self.revoked.insert(hash, (key_id.clone(), org.clone()));
            }
        }
    }

    /// Drops every cached answer (stream reset, missed revocations).
    pub(crate) fn clear(&self) {
        {
            let mut index = self.by_key.lock();
            self.epoch.fetch_add(1, Ordering::SeqCst);
            index.clear();
        }
        self.entries.invalidate_all();
    }

    /// Forgets index entries whose cache entries have expired.
    pub(crate) fn prune_index(&self) {
        let mut index = self.by_key.lock();
        index.retain(|_, hashes| {
            hashes.retain(|h| self.entries.contains_key(h));
            !hashes.is_empty()
        });
    }

    pub(crate) fn len(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authority::Env;
    use authority::ScopeSet;

    fn ctx(id: &str) -> Arc<KeyContext> {
        Arc::new(KeyContext {
            key_id: KeyId::parse(id).unwrap(),
            org: OrgId::parse("acme").unwrap(),
            name: String::new(),
            env: Env::Live,
            agent: None,
            scopes: ScopeSet::default(),
            expires_at: None,
            created_by: None,
            person: None,
            resources: Vec::new(),
            oauth: None,
            networks: Default::default(),
            limits: Default::default(),
            metadata: None,
        })
    }

    #[test]
    fn revocation_evicts_every_entry_of_the_key_and_blocks_racing_inserts() {
        let cache = IntrospectionCache::new(Duration::from_secs(60), 100);
        let id = "key_AAAAAAAAAAAAAAAAAAAA";
        let c = ctx(id);
        let (a, b) = (digest("a"), digest("b"));
        assert!(cache.insert(cache.epoch(), a, c.clone()));
        let racing = cache.epoch();
        assert!(cache.insert(racing, b, c.clone()));
        cache.evict_key(&c.key_id, &c.org, true);
        assert!(cache.get(&a).is_none() && cache.get(&b).is_none());
        assert_eq!(cache.revoked(&a).map(|r| r.0), Some(c.key_id.clone()));
        // An introspection that started before the revocation must not re-cache.
        assert!(!cache.insert(racing, a, c.clone()));
        assert!(cache.get(&a).is_none());
    }
}
