//! Limits on keys and the allowance counters guards take calls from.

use rusqlite::{params, Connection, OptionalExtension};

use super::audit::insert_event;
use super::keys::{get_key, limits_to_storage};
use super::map_err;
use crate::audit::AuditEvent;
use crate::guardrails::limits::take;
use crate::guardrails::KeyLimits;
use crate::ids::{KeyId, OrgId};
use crate::store::{KeyRecord, StoreError};

pub(super) fn set_limits(
    c: &mut Connection,
    org: &OrgId,
    id: &KeyId,
    limits: &KeyLimits,
    event: &AuditEvent,
) -> Result<Option<KeyRecord>, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let Some(mut k) = get_key(&tx, org, id)? else {
        return Ok(None);
    };
    if k.revoked_at.is_some() {
        return Err(StoreError::Conflict(
            "the key is revoked: its limits no longer matter".into(),
        ));
    }
    tx.prepare_cached("UPDATE keys SET limits = ?3 WHERE org = ?1 AND id = ?2")
        .map_err(map_err)?
        .execute(params![
            org.as_str(),
            id.as_str(),
            limits_to_storage(limits)
        ])
        .map_err(map_err)?;
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)?;
    k.terms.limits = limits.clone();
    Ok(Some(k))
}

pub(super) fn take_allowance(
    c: &mut Connection,
    org: &OrgId,
    owner: &KeyId,
    counter: &str,
    window_start: i64,
    cap: u64,
) -> Result<u64, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let stored: Option<(i64, i64)> = tx
        .prepare_cached(
            "SELECT window_start, used FROM allowances WHERE org = ?1 AND owner = ?2 AND counter = ?3",
        )
        .map_err(map_err)?
        .query_row(params![org.as_str(), owner.as_str(), counter], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(map_err)?;
    let stored = stored.map(|(w, used)| (w, u64::try_from(used).unwrap_or(u64::MAX)));
    let Some(taken) = take(stored, window_start, cap) else {
        return Ok(0);
    };
    tx.prepare_cached(
        "INSERT INTO allowances (org, owner, counter, window_start, used) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (org, owner, counter) DO UPDATE SET window_start = ?4, used = ?5",
    )
    .map_err(map_err)?
    .execute(params![
        org.as_str(),
        owner.as_str(),
        counter,
        taken.window_start,
        i64::try_from(taken.used).unwrap_or(i64::MAX)
    ])
    .map_err(map_err)?;
    tx.commit().map_err(map_err)?;
    Ok(taken.granted)
}
