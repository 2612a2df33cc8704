//! Members and tickets in SQLite (see `crate::people`): a member is one
//! row, its record as JSON beside the org, id and email that find it; a
//! ticket is one row taken with `DELETE … RETURNING`, so of two concurrent
//! takes exactly one gets it.

use rusqlite::{params, Connection, OptionalExtension};

use super::audit::insert_event;
use super::keys::org_exists;
use super::map_err;
use crate::audit::AuditEvent;
use crate::ids::{MemberId, OrgId};
use crate::people::{MemberRecord, TicketPurpose, TicketRecord};
use crate::sessions::TokenHash;
use crate::store::StoreError;
use crate::time::Timestamp;

fn to_json(m: &MemberRecord) -> Result<String, StoreError> {
    serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json(text: &str) -> Result<MemberRecord, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("member record: {e}")))
}

pub(super) fn create_member(
    c: &mut Connection,
    m: &MemberRecord,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    if !org_exists(&tx, &m.org)? {
        return Err(StoreError::NotFound);
    }
    tx.prepare_cached(
        "INSERT INTO members (org, id, email, revision, record) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(map_err)?
    .execute(params![
        m.org.as_str(),
        m.id.as_str(),
        m.email,
        m.revision as i64,
        to_json(m)?
    ])
    .map_err(map_err)?;
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)
}

fn one(
    c: &Connection,
    sql: &str,
    org: &OrgId,
    key: &str,
) -> Result<Option<MemberRecord>, StoreError> {
    c.prepare_cached(sql)
        .map_err(map_err)?
        .query_row(params![org.as_str(), key], |r| r.get::<_, String>(0))
        .optional()
        .map_err(map_err)?
        .map(|text| from_json(&text))
        .transpose()
}

pub(super) fn get_member(
    c: &Connection,
    org: &OrgId,
    id: &MemberId,
) -> Result<Option<MemberRecord>, StoreError> {
    one(
        c,
        "SELECT record FROM members WHERE org = ?1 AND id = ?2",
        org,
        id.as_str(),
    )
}

pub(super) fn find_member_by_email(
    c: &Connection,
    org: &OrgId,
    email: &str,
) -> Result<Option<MemberRecord>, StoreError> {
    one(
        c,
        "SELECT record FROM members WHERE org = ?1 AND email = ?2",
        org,
        email,
    )
}

pub(super) fn list_members(c: &Connection, org: &OrgId) -> Result<Vec<MemberRecord>, StoreError> {
    let mut stmt = c
        .prepare_cached("SELECT record FROM members WHERE org = ?1 ORDER BY email")
        .map_err(map_err)?;
    let rows = stmt
        .query_map([org.as_str()], |r| r.get::<_, String>(0))
        .map_err(map_err)?;
    rows.map(|row| from_json(&row.map_err(map_err)?)).collect()
}

pub(super) fn update_member(
    c: &mut Connection,
    m: &MemberRecord,
    event: Option<&AuditEvent>,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let stored: Option<i64> = tx
        .prepare_cached("SELECT revision FROM members WHERE org = ?1 AND id = ?2")
        .map_err(map_err)?
        .query_row(params![m.org.as_str(), m.id.as_str()], |r| r.get(0))
        .optional()
        .map_err(map_err)?;
    match stored {
        None => return Err(StoreError::NotFound),
        Some(rev) if rev as u64 + 1 != m.revision => {
            return Err(StoreError::Conflict(format!(
                "member {} changed meanwhile (revision {rev})",
                m.id
            )))
        }
        Some(_) => {}
    }
    tx.prepare_cached(
        "UPDATE members SET email = ?3, revision = ?4, record = ?5 WHERE org = ?1 AND id = ?2",
    )
    .map_err(map_err)?
    .execute(params![
        m.org.as_str(),
        m.id.as_str(),
        m.email,
        m.revision as i64,
        to_json(m)?
    ])
    .map_err(map_err)?;
    if let Some(event) = event {
        insert_event(&tx, event)?;
    }
    tx.commit().map_err(map_err)
}

pub(super) fn delete_member(
    c: &mut Connection,
    org: &OrgId,
    id: &MemberId,
    event: &AuditEvent,
) -> Result<bool, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let n = tx
        .prepare_cached("DELETE FROM members WHERE org = ?1 AND id = ?2")
        .map_err(map_err)?
        .execute(params![org.as_str(), id.as_str()])
        .map_err(map_err)?;
    if n == 0 {
        return Ok(false);
    }
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)?;
    Ok(true)
}

pub(super) fn put_ticket(c: &Connection, t: &TicketRecord) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO tickets (hash, org, purpose, expires_at, payload) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(map_err)?
    .execute(params![
        &t.hash.as_bytes()[..],
        t.org.as_str(),
        t.purpose.as_str(),
        t.expires_at.as_millis(),
        t.payload
    ])
    .map_err(map_err)?;
    Ok(())
}

fn purpose(text: &str) -> Result<TicketPurpose, StoreError> {
    TicketPurpose::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("ticket purpose `{text}`")))
}

fn ticket_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn ticket_from(
    hash: &TokenHash,
    (org, kind, expires, payload): (String, String, i64, String),
    now: Timestamp,
) -> Result<Option<TicketRecord>, StoreError> {
    let ticket = TicketRecord {
        hash: *hash,
        org: OrgId::from_stored(org),
        purpose: purpose(&kind)?,
        expires_at: Timestamp::from_millis(expires),
        payload,
    };
    Ok((ticket.expires_at > now).then_some(ticket))
}

pub(super) fn get_ticket(
    c: &Connection,
    hash: &TokenHash,
    now: Timestamp,
) -> Result<Option<TicketRecord>, StoreError> {
    c.prepare_cached("SELECT org, purpose, expires_at, payload FROM tickets WHERE hash = ?1")
        .map_err(map_err)?
        .query_row([&hash.as_bytes()[..]], ticket_row)
        .optional()
        .map_err(map_err)?
        .map_or(Ok(None), |row| ticket_from(hash, row, now))
}

pub(super) fn take_ticket(
    c: &Connection,
    hash: &TokenHash,
    now: Timestamp,
) -> Result<Option<TicketRecord>, StoreError> {
    c.prepare_cached(
        "DELETE FROM tickets WHERE hash = ?1 RETURNING org, purpose, expires_at, payload",
    )
    .map_err(map_err)?
    .query_row([&hash.as_bytes()[..]], ticket_row)
    .optional()
    .map_err(map_err)?
    .map_or(Ok(None), |row| ticket_from(hash, row, now))
}

pub(super) fn sweep_tickets(c: &Connection, now: Timestamp) -> Result<u64, StoreError> {
    let n = c
        .prepare_cached("DELETE FROM tickets WHERE expires_at <= ?1")
        .map_err(map_err)?
        .execute([now.as_millis()])
        .map_err(map_err)?;
    Ok(n as u64)
}
