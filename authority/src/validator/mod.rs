//! Cached key validation.
//!
//! Rules:
//! - Order of checks: format (no lookup for garbage) → environment → HMAC →
//!   cache → store. Nothing is keyed by the raw key: caches use the HMAC.
//! - Positive cache entries live at most `cache_ttl` (clamped to ≤ 60 s) and
//!   never past the key's own expiry or scheduled revocation, which are
//!   re-checked against the clock on every hit.
//! - Unknown hashes go to a bounded negative cache (a flood of random keys
//!   cannot grow memory or hammer the store).
//! - A revocation applied locally evicts at once. A lookup racing with a
//!   revocation cannot re-insert stale data: misses remember the revocation
//!   epoch before reading the store and only cache if it did not move.
//! - A store failure or timeout is [`Outcome::Unavailable`], never
//!   `Unknown`: callers fail closed without telling anyone their key is bad.
//! - `last_used_at` is marked in memory at most once per key per second and
//!   flushed in batches by a background task.

mod outcome;
mod usage;

use std::sync::atomic::{AtomicU64, Ordering};

use crate::stats::Stats;
use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;

pub use crate::revocation::{Origin, RevocationEvent};
pub use outcome::{parse_for_env, Outcome};
pub(crate) use usage::UsageTracker;

use crate::keys::{Env, KeyHash, Pepper};
use crate::policy::KeyContext;
use crate::scopes::Scope;
use crate::store::{KeyRecord, Store};
use crate::time::{Clock, Timestamp};

/// Validator tuning.
#[derive(Debug, Clone)]
pub struct ValidatorConfig {
    /// Positive-entry lifetime; values above 60 s are clamped to 60 s.
    pub cache_ttl: Duration,
    pub cache_capacity: u64,
    pub negative_ttl: Duration,
    pub negative_capacity: u64,
    /// A store lookup slower than this is `Unavailable`.
    pub store_timeout: Duration,
}

impl Default for ValidatorConfig {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(60),
            cache_capacity: 100_000,
            negative_ttl: Duration::from_secs(60),
            negative_capacity: 10_000,
            store_timeout: Duration::from_secs(2),
        }
    }
}

pub(crate) const MAX_TTL: Duration = Duration::from_secs(60);

struct Entry {
    ctx: Arc<KeyContext>,
    expires_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
    not_before: Option<Timestamp>,
    quarantined: bool,
}

pub(crate) struct Validator {
    store: Arc<dyn Store>,
    pepper: Pepper,
    env: Env,
    clock: Arc<dyn Clock>,
    positive: Cache<KeyHash, Arc<Entry>>,
    negative: Cache<KeyHash, ()>,
    epoch: AtomicU64,
    /// Makes "the epoch is unchanged, so cache what the store said" one
    /// step with respect to evictions: without it an eviction landing
    /// between the check and the insert would be overwritten by the
    /// pre-revocation record it was meant to remove.
    cache_writes: parking_lot::Mutex<()>,
    store_timeout: Duration,
    pub(crate) usage: Arc<UsageTracker>,
    stats: Arc<crate::stats::Stats>,
}

impl Validator {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        pepper: Pepper,
        env: Env,
        clock: Arc<dyn Clock>,
        cfg: &ValidatorConfig,
        stats: Arc<crate::stats::Stats>,
    ) -> Self {
        Self {
            store,
            pepper,
            env,
            clock,
            positive: Cache::builder()
                .max_capacity(cfg.cache_capacity)
                .time_to_live(cfg.cache_ttl.min(MAX_TTL))
                .build(),
            negative: Cache::builder()
                .max_capacity(cfg.negative_capacity)
                .time_to_live(cfg.negative_ttl.min(MAX_TTL))
                .build(),
            epoch: AtomicU64::new(0),
            cache_writes: parking_lot::Mutex::new(()),
            store_timeout: cfg.store_timeout,
            usage: Arc::new(UsageTracker::default()),
            stats,
        }
    }

    pub(crate) fn env(&self) -> Env {
        self.env
    }

    pub(crate) fn pepper(&self) -> &Pepper {
        &self.pepper
    }

    /// Checks a key and marks it used (the key itself is calling).
    pub(crate) async fn validate(&self, raw: &str, required: Option<&Scope>) -> Outcome {
        let outcome = self.check(raw, required).await;
        if let Some(ctx) = outcome.context() {
            self.usage.mark(ctx, self.clock.now());
        }
        outcome
    }

    /// Checks a key without marking it used: for a caller asking about a
    /// key it holds (introspection), which is not that key's use.
    pub(crate) async fn check(&self, raw: &str, required: Option<&Scope>) -> Outcome {
        let parsed = match parse_for_env(raw, self.env) {
            Ok(parsed) => parsed,
            Err(outcome) => return outcome,
        };
        let hash = self.pepper.hash(parsed.expose_secret());
        let now = self.clock.now();
        if let Some(e) = self.positive.get(&hash) {
            Stats::add(&self.stats.cache_hits, 1);
            return self.decide(&e, required, now);
        }
        if self.negative.contains_key(&hash) {
            Stats::add(&self.stats.negative_cache_hits, 1);
            return Outcome::Unknown;
        }
        Stats::add(&self.stats.store_lookups, 1);
        let epoch = self.epoch.load(Ordering::Acquire);
        let found =
            tokio::time::timeout(self.store_timeout, self.store.find_key_by_hash(&hash)).await;
        let rec = match found {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "key lookup failed");
                return Outcome::Unavailable;
            }
            Err(_) => {
                tracing::warn!("key lookup timed out");
                return Outcome::Unavailable;
            }
        };
        let Some(rec) = rec.filter(|r| r.hash == hash) else {
            let _writing = self.cache_writes.lock();
            if self.epoch.load(Ordering::Acquire) == epoch {
                self.negative.insert(hash, ());
            }
            return Outcome::Unknown;
        };
        let entry = Arc::new(entry_of(&rec));
        {
            let _writing = self.cache_writes.lock();
            if self.epoch.load(Ordering::Acquire) == epoch {
                self.positive.insert(hash, entry.clone());
            }
        }
        self.decide(&entry, required, now)
    }

    fn decide(&self, e: &Entry, required: Option<&Scope>, now: Timestamp) -> Outcome {
        if e.revoked_at.is_some_and(|r| r <= now) {
            return Outcome::Revoked {
                key_id: e.ctx.key_id.clone(),
                org: e.ctx.org.clone(),
            };
        }
        if e.expires_at.is_some_and(|x| x <= now) {
            return Outcome::Expired {
                key_id: e.ctx.key_id.clone(),
                org: e.ctx.org.clone(),
            };
        }
        if e.quarantined {
            return Outcome::Quarantined {
                key_id: e.ctx.key_id.clone(),
                org: e.ctx.org.clone(),
            };
        }
        if e.not_before.is_some_and(|nb| nb > now) {
            return Outcome::NotYetValid {
                key_id: e.ctx.key_id.clone(),
                org: e.ctx.org.clone(),
            };
        }
        // The env in the record wins over the prefix if they ever disagree.
        if e.ctx.env != self.env {
            return Outcome::WrongEnv {
                expected: self.env,
                got: e.ctx.env,
            };
        }
        match required {
            Some(s) if !e.ctx.allows(s) => Outcome::InsufficientScope {
                context: e.ctx.clone(),
                missing: s.clone(),
            },
            _ => Outcome::Valid(e.ctx.clone()),
        }
    }

    /// Evicts a key everywhere in this process's caches.
    pub(crate) fn evict(&self, hash: &KeyHash) {
        let _writing = self.cache_writes.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.positive.invalidate(hash);
    }

    /// A newly minted key must not hit a stale negative entry.
    pub(crate) fn forget_negative(&self, hash: &KeyHash) {
        self.negative.invalidate(hash);
    }

    /// After a lagged revocation stream: nothing cached can be trusted.
    pub(crate) fn evict_all(&self) {
        let _writing = self.cache_writes.lock();
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.positive.invalidate_all();
    }
}

fn entry_of(r: &KeyRecord) -> Entry {
    Entry {
        ctx: Arc::new(KeyContext::from_record(r)),
        expires_at: r.expires_at,
        revoked_at: r.revoked_at,
        not_before: r.terms.not_before,
        quarantined: r.quarantine.is_some(),
    }
}

#[cfg(test)]
mod tests;
