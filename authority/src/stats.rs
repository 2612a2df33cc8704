//! Operational counters for metrics: how well the validator cache works and
//! how the audit group commit behaves.
//!
//! Relaxed atomics: cheap on the hot path and approximate under
//! concurrency, which is fine because nothing decides anything from them.
//! They carry counts only — never a key, a hash or an id.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) cache_hits: AtomicU64,
    pub(crate) negative_cache_hits: AtomicU64,
    pub(crate) store_lookups: AtomicU64,
    pub(crate) audit_commits: AtomicU64,
    pub(crate) audit_events: AtomicU64,
    pub(crate) audit_commit_failures: AtomicU64,
    pub(crate) audit_commit_micros: AtomicU64,
    pub(crate) audit_seals: AtomicU64,
    pub(crate) audit_tamper_detected: AtomicU64,
}

impl Stats {
    pub(crate) fn add(counter: &AtomicU64, amount: u64) {
        counter.fetch_add(amount, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, audit_queue_depth: u64) -> StatsSnapshot {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        StatsSnapshot {
            cache_hits: load(&self.cache_hits),
            negative_cache_hits: load(&self.negative_cache_hits),
            store_lookups: load(&self.store_lookups),
            audit_commits: load(&self.audit_commits),
            audit_events: load(&self.audit_events),
            audit_commit_failures: load(&self.audit_commit_failures),
            audit_commit_seconds: load(&self.audit_commit_micros) as f64 / 1e6,
            audit_queue_depth,
            audit_seals: load(&self.audit_seals),
            audit_tamper_detected: load(&self.audit_tamper_detected),
        }
    }
}

/// Counters since the process started (see [`crate::Authority::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StatsSnapshot {
    /// Validations answered from the positive cache.
    pub cache_hits: u64,
    /// Validations answered "unknown" from the negative cache.
    pub negative_cache_hits: u64,
    /// Validations that had to ask the store.
    pub store_lookups: u64,
    /// Audit group commits (each one transaction, one fsync on SQLite).
    pub audit_commits: u64,
    /// Tool-call events made durable by those commits.
    pub audit_events: u64,
    /// Commits that failed (their callers were refused).
    pub audit_commit_failures: u64,
    /// Total time spent in audit commits.
    pub audit_commit_seconds: f64,
    /// Batches of tool-call events waiting for the recorder right now.
    pub audit_queue_depth: u64,
    /// Chain heads signed and stored (see `audit::seal`).
    pub audit_seals: u64,
    /// Times a sealing round found one of this process's chains shortened
    /// or its seal replaced in the store behind its back.
    pub audit_tamper_detected: u64,
}
