//! Hourly event counts, written with the events, so a timeline over weeks
//! sums a few thousand rows instead of counting millions of events.
//!
//! One row per org (tag `''`) or about-tag (`key:…`, `agent:…`), facet
//! (kind, action, decision) and hour: the same cuts the explorer filters
//! by. Retention subtracts what it deletes, so the counts stay the events'.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use super::map_err;
use crate::store::StoreError;

/// Milliseconds in one row.
pub(super) const HOUR_MS: i64 = 3_600_000;

/// The tag of an org's whole trail.
pub(super) const WHOLE_ORG: &str = "";

/// The hour `ts` lies in (floored, so instants before 1970 too).
pub(super) fn hour_of(ts_ms: i64) -> i64 {
    ts_ms.div_euclid(HOUR_MS)
}

/// One event's facet, as stored.
pub(super) struct FacetOf<'a> {
    pub kind: &'a str,
    pub action: &'a str,
    pub decision: &'a str,
}

/// Changes to the hourly counts, gathered over a batch of events (or of
/// pruned ones) and written once per row: a batch of a thousand tool calls
/// of one hour touches a few rows, not three per event.
#[derive(Default)]
pub(super) struct HourCounts(HashMap<(String, String, String, String, String, i64), i64>);

impl HourCounts {
    /// Adds `delta` events at `ts_ms`, for the whole org and each tag.
    pub(super) fn add(
        &mut self,
        org: &str,
        tags: &[String],
        facet: &FacetOf<'_>,
        ts_ms: i64,
        delta: i64,
    ) {
        let hour = hour_of(ts_ms);
        for tag in std::iter::once(WHOLE_ORG).chain(tags.iter().map(String::as_str)) {
            let row = (
                org.to_owned(),
                tag.to_owned(),
                facet.kind.to_owned(),
                facet.action.to_owned(),
                facet.decision.to_owned(),
                hour,
            );
            *self.0.entry(row).or_default() += delta;
        }
    }

    /// Writes the changes; rows a prune took to zero go.
    pub(super) fn write(self, c: &Connection) -> Result<(), StoreError> {
        let mut upsert = c
            .prepare_cached(
                "INSERT INTO audit_hours (org, tag, kind, action, decision, hour, events) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT DO UPDATE SET events = events + excluded.events",
            )
            .map_err(map_err)?;
        let mut emptied = std::collections::BTreeSet::new();
        for ((org, tag, kind, action, decision, hour), n) in self.0 {
            if n < 0 {
                emptied.insert(org.clone());
            }
            upsert
                .execute(params![org, tag, kind, action, decision, hour, n])
                .map_err(map_err)?;
        }
        for org in emptied {
            c.prepare_cached("DELETE FROM audit_hours WHERE org = ?1 AND events <= 0")
                .map_err(map_err)?
                .execute(params![org])
                .map_err(map_err)?;
        }
        Ok(())
    }
}

/// Adds the counts of hours `[from, to)` of one tag and facet to buckets of
/// `bucket_ms` (a multiple of an hour, so no hour straddles two buckets).
pub(super) fn add_hours(
    c: &Connection,
    org: &str,
    tag: &str,
    facet: &FacetOf<'_>,
    (from, to): (i64, i64),
    bucket_ms: i64,
    mut add: impl FnMut(i64, u64),
) -> Result<(), StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT hour, events FROM audit_hours WHERE org = ?1 AND tag = ?2 AND kind = ?3 \
             AND action = ?4 AND decision = ?5 AND hour >= ?6 AND hour < ?7",
        )
        .map_err(map_err)?;
    let mut rows = st
        .query(params![
            org,
            tag,
            facet.kind,
            facet.action,
            facet.decision,
            from,
            to
        ])
        .map_err(map_err)?;
    while let Some(r) = rows.next().map_err(map_err)? {
        let hour: i64 = r.get(0).map_err(map_err)?;
        let events: i64 = r.get(1).map_err(map_err)?;
        let start = (hour * HOUR_MS).div_euclid(bucket_ms) * bucket_ms;
        add(start, events.max(0) as u64);
    }
    Ok(())
}
