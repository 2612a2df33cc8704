//! Dashboard sessions in SQLite: one row per session, keyed by the token's
//! hash (see `crate::sessions`).

use rusqlite::{params, Connection, OptionalExtension};

use super::map_err;
use crate::ids::OrgId;
use crate::sessions::{SessionActor, SessionRecord, TokenHash};
use crate::store::StoreError;
use crate::time::Timestamp;

pub(super) fn create(c: &Connection, t: &TokenHash, s: &SessionRecord) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO sessions (token_hash, org, actor_id, created_at, last_seen_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(map_err)?
    .execute(params![
        &t.as_bytes()[..],
        s.org.as_str(),
        s.actor.stored_id(),
        s.created_at.as_millis(),
        s.last_seen_at.as_millis(),
    ])
    .map_err(map_err)?;
    Ok(())
}

pub(super) fn get(c: &Connection, t: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
    c.prepare_cached(
        "SELECT org, actor_id, created_at, last_seen_at FROM sessions WHERE token_hash = ?1",
    )
    .map_err(map_err)?
    .query_row([&t.as_bytes()[..]], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })
    .optional()
    .map_err(map_err)?
    .map(|(org, actor, created, seen)| {
        Ok::<_, StoreError>(SessionRecord {
            org: OrgId::from_stored(org),
            actor: SessionActor::from_stored(actor),
            created_at: Timestamp::from_millis(created),
            last_seen_at: Timestamp::from_millis(seen),
        })
    })
    .transpose()
}

pub(super) fn touch(c: &Connection, t: &TokenHash, seen: Timestamp) -> Result<(), StoreError> {
    c.prepare_cached(
        "UPDATE sessions SET last_seen_at = MAX(last_seen_at, ?2) WHERE token_hash = ?1",
    )
    .map_err(map_err)?
    .execute(params![&t.as_bytes()[..], seen.as_millis()])
    .map_err(map_err)?;
    Ok(())
}

pub(super) fn delete(c: &Connection, t: &TokenHash) -> Result<(), StoreError> {
    c.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")
        .map_err(map_err)?
        .execute([&t.as_bytes()[..]])
        .map_err(map_err)?;
    Ok(())
}

pub(super) fn delete_of(
    c: &Connection,
    org: &OrgId,
    actor: &SessionActor,
) -> Result<u64, StoreError> {
    let n = c
        .prepare_cached("DELETE FROM sessions WHERE org = ?1 AND actor_id = ?2")
        .map_err(map_err)?
        .execute(params![org.as_str(), actor.stored_id()])
        .map_err(map_err)?;
    Ok(n as u64)
}

pub(super) fn sweep(
    c: &Connection,
    created_before: Timestamp,
    seen_before: Timestamp,
) -> Result<u64, StoreError> {
    let n = c
        .prepare_cached("DELETE FROM sessions WHERE created_at < ?1 OR last_seen_at < ?2")
        .map_err(map_err)?
        .execute(params![created_before.as_millis(), seen_before.as_millis()])
        .map_err(map_err)?;
    Ok(n as u64)
}
