//! Coalesced `last_used_at` tracking.
//!
//! A hit marks the key in a small map; the background flusher swaps the map
//! out and writes one batch. Marking is throttled per key by the map itself:
//! a key already marked within the last second costs one lock and a compare.
//! Precision of `last_used_at` is therefore about one flush interval.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::ids::{KeyId, OrgId};
use crate::policy::KeyContext;
use crate::time::Timestamp;

const GRANULARITY_MS: i64 = 1000;

#[derive(Default)]
pub(crate) struct UsageTracker {
    pending: Mutex<HashMap<KeyId, (OrgId, Timestamp)>>,
}

impl UsageTracker {
    pub(crate) fn mark(&self, ctx: &KeyContext, now: Timestamp) {
        let mut p = self.pending.lock();
        match p.get_mut(&ctx.key_id) {
            Some((_, at)) if now.as_millis() - at.as_millis() < GRANULARITY_MS => {}
            Some((_, at)) => *at = now,
            None => {
                p.insert(ctx.key_id.clone(), (ctx.org.clone(), now));
            }
        }
    }

    pub(crate) fn drain(&self) -> Vec<(OrgId, KeyId, Timestamp)> {
        let taken = std::mem::take(&mut *self.pending.lock());
        taken
            .into_iter()
            .map(|(id, (org, at))| (org, id, at))
            .collect()
    }

    /// Puts back a batch the store refused, keeping newer marks.
    pub(crate) fn restore(&self, batch: Vec<(OrgId, KeyId, Timestamp)>) {
        let mut p = self.pending.lock();
        for (org, id, at) in batch {
            p.entry(id).or_insert((org, at));
        }
    }
}
