//! Audit statements: append, chains, retention (the explorer's reads are
//! `audit_query`'s).

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::audit_hours::{FacetOf, HourCounts};
use super::map_err;
use crate::audit::{
    about_key_and_agent_tags, AuditEvent, ChainHash, ChainInfo, ChainLink, Checkpoint, Decision,
    EventKind, NewEvent, PruneStats, Seal,
};
use crate::ids::{EventId, KeyId, OrgId};
use crate::store::StoreError;
use crate::time::Timestamp;

pub(super) const COLS: &str =
    "id, ts, org, actor, agent, kind, action, scope, decision, reason, subject, server, \
    request_id, client_ip, latency_us, writer, seq, prev_hash, hash, reported_by, person, \
    subject_agent";

fn hash_col(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<ChainHash>> {
    let v: Vec<u8> = r.get(i)?;
    Ok(<[u8; 32]>::try_from(v.as_slice()).ok().map(ChainHash))
}

pub(super) fn event_from_row(r: &Row<'_>) -> rusqlite::Result<Result<AuditEvent, StoreError>> {
    let kind: String = r.get(5)?;
    let decision: String = r.get(8)?;
    let (Some(kind), Some(decision)) = (EventKind::parse(&kind), Decision::parse(&decision)) else {
        return Ok(Err(StoreError::Corrupt("audit kind/decision".into())));
    };
    let (Some(prev_hash), Some(hash)) = (hash_col(r, 17)?, hash_col(r, 18)?) else {
        return Ok(Err(StoreError::Corrupt("audit hash length".into())));
    };
    Ok(Ok(AuditEvent {
        id: EventId::from_stored(r.get(0)?),
        body: NewEvent {
            ts: Timestamp::from_millis(r.get(1)?),
            org: OrgId::from_stored(r.get(2)?),
            actor_key_id: r.get::<_, Option<String>>(3)?.map(KeyId::from_stored),
            agent: r.get(4)?,
            kind,
            action: r.get(6)?,
            required_scope: r.get(7)?,
            decision,
            reason: r.get(9)?,
            subject: r.get(10)?,
            server: r.get(11)?,
            request_id: r.get(12)?,
            client_ip: r.get(13)?,
            latency_us: r.get::<_, Option<i64>>(14)?.map(|v| v.max(0) as u64),
            reported_by: r.get::<_, Option<String>>(19)?.map(KeyId::from_stored),
            person: match r.get::<_, Option<String>>(20)? {
                None => None,
                Some(text) => match serde_json::from_str(&text) {
                    Ok(person) => Some(person),
                    Err(_) => return Ok(Err(StoreError::Corrupt("audit person".into()))),
                },
            },
            subject_agent: r.get(21)?,
        },
        chain: ChainLink {
            writer: r.get(15)?,
            seq: r.get::<_, i64>(16)?.max(0) as u64,
            prev_hash,
            hash,
        },
    }))
}

/// Writes one event with everything that indexes it (inside the caller's
/// transaction, beside the change it records).
pub(super) fn insert_event(c: &Connection, e: &AuditEvent) -> Result<(), StoreError> {
    insert_events(c, std::slice::from_ref(e))
}

/// Writes events with their about-rows, and their facets and hourly counts
/// once per distinct row of the batch (a batch of one hour's tool calls
/// touches a few rows instead of four per event).
fn insert_events(c: &Connection, events: &[AuditEvent]) -> Result<(), StoreError> {
    let mut hours = HourCounts::default();
    let mut facets = std::collections::BTreeSet::new();
    for e in events {
        let b = &e.body;
        let tags = insert_rows(c, e)?;
        let facet = FacetOf {
            kind: b.kind.as_str(),
            action: &b.action,
            decision: b.decision.as_str(),
        };
        hours.add(b.org.as_str(), &tags, &facet, b.ts.as_millis(), 1);
        facets.insert((
            b.org.as_str(),
            b.kind.as_str(),
            b.action.as_str(),
            b.decision.as_str(),
        ));
    }
    let mut known = c
        .prepare_cached(
            "INSERT OR IGNORE INTO audit_facets (org, kind, action, decision) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(map_err)?;
    for (org, kind, action, decision) in facets {
        known
            .execute(params![org, kind, action, decision])
            .map_err(map_err)?;
    }
    hours.write(c)
}

/// The event's row, its about-rows, its webhook message and its chain's
/// registration; answers the event's tags.
fn insert_rows(c: &Connection, e: &AuditEvent) -> Result<Vec<String>, StoreError> {
    let b = &e.body;
    c.prepare_cached(&format!(
        "INSERT INTO audit_events ({COLS}) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
    ))
    .map_err(map_err)?
    .execute(params![
        e.id.as_str(),
        b.ts.as_millis(),
        b.org.as_str(),
        b.actor_key_id.as_ref().map(KeyId::as_str),
        b.agent,
        b.kind.as_str(),
        b.action,
        b.required_scope,
        b.decision.as_str(),
        b.reason,
        b.subject,
        b.server,
        b.request_id,
        b.client_ip,
        b.latency_us.map(|l| i64::try_from(l).unwrap_or(i64::MAX)),
        e.chain.writer,
        i64::try_from(e.chain.seq).unwrap_or(i64::MAX),
        &e.chain.prev_hash.0[..],
        &e.chain.hash.0[..],
        b.reported_by.as_ref().map(KeyId::as_str),
        b.person
            .as_ref()
            .and_then(|person| serde_json::to_string(person).ok()),
        b.subject_agent,
    ])
    .map_err(map_err)?;
    let tags = indexed_tags(b);
    insert_about(c, &e.id, b, &tags)?;
    // The message an admin event owes the org's webhooks, in its commit.
    if let Some(message) = crate::webhooks::message_for(e) {
        super::webhooks::insert_message(c, &message)?;
    }
    if e.chain.seq == 1 {
        c.prepare_cached("INSERT OR IGNORE INTO audit_chains (org, writer) VALUES (?1, ?2)")
            .map_err(map_err)?
            .execute(params![b.org.as_str(), e.chain.writer])
            .map_err(map_err)?;
    }
    Ok(tags)
}

/// The tags SQLite indexes: [`about_key_and_agent_tags`]. A query for
/// both filters walks the key's rows and checks the agent on the event
/// itself ([`filtered`]), which costs less than a third row for every tool
/// call on the write path.
fn indexed_tags(b: &NewEvent) -> Vec<String> {
    about_key_and_agent_tags(b)
}

/// The event's `audit_about` rows. A plain insert: the event's own insert
/// just succeeded, so its id (part of every row's key) is new.
fn insert_about(
    c: &Connection,
    id: &EventId,
    b: &NewEvent,
    tags: &[String],
) -> Result<(), StoreError> {
    let mut st = c
        .prepare_cached(
            "INSERT INTO audit_about (org, tag, ts, id, kind, action, decision) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(map_err)?;
    for tag in tags {
        st.execute(params![
            b.org.as_str(),
            tag,
            b.ts.as_millis(),
            id.as_str(),
            b.kind.as_str(),
            b.action,
            b.decision.as_str()
        ])
        .map_err(map_err)?;
    }
    Ok(())
}

/// The part of an event its about-tags are computed from.
fn about_body(r: &Row<'_>) -> rusqlite::Result<(String, NewEvent)> {
    let mut body = NewEvent::new(
        Timestamp::from_millis(r.get(1)?),
        OrgId::from_stored(r.get(2)?),
        EventKind::ToolCall,
        "",
        Decision::Allowed,
    );
    body.actor_key_id = r.get::<_, Option<String>>(3)?.map(KeyId::from_stored);
    body.agent = r.get(4)?;
    body.subject = r.get(5)?;
    body.subject_agent = r.get(6)?;
    Ok((r.get(0)?, body))
}

const ABOUT_COLS: &str =
    "id, ts, org, actor, agent, subject, subject_agent, kind, action, decision";

/// Fills `audit_about` for events written before it existed (migration 9).
pub(super) fn backfill_about(c: &Connection) -> rusqlite::Result<()> {
    let mut select = c.prepare(&format!("SELECT {ABOUT_COLS} FROM audit_events"))?;
    let mut insert =
        c.prepare("INSERT OR IGNORE INTO audit_about (org, tag, ts, id) VALUES (?1, ?2, ?3, ?4)")?;
    let mut rows = select.query([])?;
    while let Some(row) = rows.next()? {
        let (id, body) = about_body(row)?;
        for tag in indexed_tags(&body) {
            insert.execute(params![body.org.as_str(), tag, body.ts.as_millis(), id])?;
        }
    }
    Ok(())
}

pub(super) fn append(c: &mut Connection, events: &[AuditEvent]) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    insert_events(&tx, events)?;
    tx.commit().map_err(map_err)
}

pub(super) fn get(
    c: &Connection,
    org: &OrgId,
    id: &EventId,
) -> Result<Option<AuditEvent>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {COLS} FROM audit_events WHERE id = ?1 AND org = ?2"
        ))
        .map_err(map_err)?;
    st.query_row(params![id.as_str(), org.as_str()], event_from_row)
        .optional()
        .map_err(map_err)?
        .transpose()
}

fn checkpoint(c: &Connection, org: &str, writer: &str) -> Result<Option<Checkpoint>, StoreError> {
    c.prepare_cached(
        "SELECT seq, hash, pruned_at FROM audit_checkpoints WHERE org = ?1 AND writer = ?2",
    )
    .map_err(map_err)?
    .query_row(params![org, writer], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })
    .optional()
    .map_err(map_err)?
    .map(|(seq, hash, at)| {
        let hash = <[u8; 32]>::try_from(hash.as_slice())
            .map_err(|_| StoreError::Corrupt("checkpoint hash length".into()))?;
        Ok(Checkpoint {
            seq: seq.max(0) as u64,
            hash: ChainHash(hash),
            pruned_at: Timestamp::from_millis(at),
        })
    })
    .transpose()
}

pub(super) fn chains(c: &Connection, org: Option<&OrgId>) -> Result<Vec<ChainInfo>, StoreError> {
    let sql = "SELECT org, writer FROM audit_chains WHERE ?1 IS NULL OR org = ?1 \
               UNION SELECT org, writer FROM audit_checkpoints WHERE ?1 IS NULL OR org = ?1 \
               ORDER BY 1, 2";
    let pairs: Vec<(String, String)> = {
        let mut st = c.prepare_cached(sql).map_err(map_err)?;
        let rows = st
            .query_map([org.map(OrgId::as_str)], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(map_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(map_err)?
    };
    pairs
        .into_iter()
        .map(|(o, w)| {
            let cp = checkpoint(c, &o, &w)?;
            let org = OrgId::from_stored(o);
            let seal = seal(c, &org, &w)?;
            Ok(ChainInfo {
                org,
                writer: w,
                checkpoint: cp,
                seal,
            })
        })
        .collect()
}

type SealRow = (
    Option<i64>,
    Option<Vec<u8>>,
    Option<String>,
    Option<i64>,
    Option<Vec<u8>>,
);

/// The stored seal of a chain. A row someone damaged (a wrong length, a
/// list that does not parse) is returned as a seal whose signature cannot
/// verify, so verification reports it rather than failing.
fn seal(c: &Connection, org: &OrgId, writer: &str) -> Result<Option<Seal>, StoreError> {
    let row: Option<SealRow> = c
        .prepare_cached(
            "SELECT seal_seq, seal_hash, seal_writers, sealed_at, seal_signature \
             FROM audit_chains WHERE org = ?1 AND writer = ?2",
        )
        .map_err(map_err)?
        .query_row(params![org.as_str(), writer], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()
        .map_err(map_err)?;
    let Some((Some(seq), hash, writers, at, signature)) = row else {
        return Ok(None);
    };
    Ok(Some(Seal {
        org: org.clone(),
        writer: writer.to_owned(),
        seq: seq.max(0) as u64,
        hash: ChainHash(
            hash.and_then(|h| <[u8; 32]>::try_from(h.as_slice()).ok())
                .unwrap_or_default(),
        ),
        writers: writers
            .and_then(|w| serde_json::from_str(&w).ok())
            .unwrap_or_default(),
        sealed_at: Timestamp::from_millis(at.unwrap_or(0)),
        signature: signature
            .and_then(|s| <[u8; 64]>::try_from(s.as_slice()).ok())
            .unwrap_or([0; 64]),
    }))
}

pub(super) fn put_seal(c: &Connection, s: &Seal) -> Result<(), StoreError> {
    let writers = serde_json::to_string(&s.writers)
        .map_err(|e| StoreError::Corrupt(format!("seal writers: {e}")))?;
    c.prepare_cached(
        "INSERT INTO audit_chains (org, writer, seal_seq, seal_hash, seal_writers, sealed_at, seal_signature) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (org, writer) DO UPDATE SET seal_seq = excluded.seal_seq, \
         seal_hash = excluded.seal_hash, seal_writers = excluded.seal_writers, \
         sealed_at = excluded.sealed_at, seal_signature = excluded.seal_signature",
    )
    .map_err(map_err)?
    .execute(params![
        s.org.as_str(),
        s.writer,
        i64::try_from(s.seq).unwrap_or(i64::MAX),
        &s.hash.0[..],
        writers,
        s.sealed_at.as_millis(),
        &s.signature[..],
    ])
    .map_err(map_err)?;
    Ok(())
}

pub(super) fn chain_events(
    c: &Connection,
    org: &OrgId,
    writer: &str,
    after_seq: u64,
    limit: u32,
) -> Result<Vec<AuditEvent>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {COLS} FROM audit_events WHERE org = ?1 AND writer = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4"
        ))
        .map_err(map_err)?;
    let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
    let rows = st
        .query_map(
            params![org.as_str(), writer, after, i64::from(limit)],
            event_from_row,
        )
        .map_err(map_err)?;
    rows.map(|r| r.map_err(map_err)?).collect()
}

pub(super) fn prune(c: &mut Connection, before: Timestamp) -> Result<PruneStats, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let mut stats = PruneStats::default();
    for info in chains(&tx, None)? {
        let (org, w) = (info.org.as_str(), info.writer.as_str());
        // The first event at or after the cut-off ends the prunable prefix,
        // even if later events carry older timestamps.
        let keep_from: Option<i64> = tx
            .query_row(
                "SELECT MIN(seq) FROM audit_events WHERE org = ?1 AND writer = ?2 AND ts >= ?3",
                params![org, w, before.as_millis()],
                |r| r.get(0),
            )
            .map_err(map_err)?;
        let last: Option<(i64, Vec<u8>)> = tx
            .query_row(
                "SELECT seq, hash FROM audit_events WHERE org = ?1 AND writer = ?2 AND seq < ?3 \
                 ORDER BY seq DESC LIMIT 1",
                params![org, w, keep_from.unwrap_or(i64::MAX)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(map_err)?;
        let Some((last_seq, last_hash)) = last else {
            continue;
        };
        delete_about(&tx, org, w, last_seq)?;
        let deleted = tx
            .execute(
                "DELETE FROM audit_events WHERE org = ?1 AND writer = ?2 AND seq <= ?3",
                params![org, w, last_seq],
            )
            .map_err(map_err)?;
        tx.execute(
            "INSERT INTO audit_checkpoints (org, writer, seq, hash, pruned_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (org, writer) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
             pruned_at = excluded.pruned_at",
            params![org, w, last_seq, last_hash, before.as_millis()],
        )
        .map_err(map_err)?;
        stats.deleted += deleted as u64;
        stats.checkpoints += 1;
    }
    tx.commit().map_err(map_err)?;
    Ok(stats)
}

/// Deletes the `audit_about` rows of the events retention is about to
/// delete (a chain's prefix up to `last_seq`), found by their tags, and
/// takes the events out of the hourly counts.
fn delete_about(c: &Connection, org: &str, writer: &str, last_seq: i64) -> Result<(), StoreError> {
    let mut select = c
        .prepare_cached(&format!(
            "SELECT {ABOUT_COLS} FROM audit_events WHERE org = ?1 AND writer = ?2 AND seq <= ?3"
        ))
        .map_err(map_err)?;
    let mut delete = c
        .prepare_cached(
            "DELETE FROM audit_about WHERE org = ?1 AND tag = ?2 AND ts = ?3 AND id = ?4",
        )
        .map_err(map_err)?;
    let mut rows = select
        .query(params![org, writer, last_seq])
        .map_err(map_err)?;
    let mut uncount = HourCounts::default();
    while let Some(row) = rows.next().map_err(map_err)? {
        let (id, body) = about_body(row).map_err(map_err)?;
        let tags = indexed_tags(&body);
        for tag in &tags {
            delete
                .execute(params![org, tag, body.ts.as_millis(), id])
                .map_err(map_err)?;
        }
        let (kind, action, decision): (String, String, String) = (
            row.get(7).map_err(map_err)?,
            row.get(8).map_err(map_err)?,
            row.get(9).map_err(map_err)?,
        );
        let facet = FacetOf {
            kind: &kind,
            action: &action,
            decision: &decision,
        };
        uncount.add(org, &tags, &facet, body.ts.as_millis(), -1);
    }
    uncount.write(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::chain::ChainState;
    use crate::audit::AuditFilter;

    /// Retention deletes an event's `audit_about` rows with the event, and
    /// only those: the kept event is still found by its key.
    #[test]
    fn retention_deletes_the_about_rows_of_pruned_events() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let mut chain = ChainState::new("w1".into());
        let key = KeyId::generate();
        let event = |chain: &mut ChainState, ms: i64| {
            let mut body = NewEvent::new(
                Timestamp::from_millis(ms),
                OrgId::parse("acme").unwrap(),
                EventKind::ToolCall,
                "search",
                Decision::Allowed,
            );
            body.actor_key_id = Some(key.clone());
            body.agent = Some("bot".into());
            chain.place(EventId::generate(), body)
        };
        let old = event(&mut chain, 1_000);
        let kept = event(&mut chain, 9_000);
        append(&mut conn, &[old.clone(), kept.clone()]).unwrap();
        let rows = |c: &Connection| -> i64 {
            c.query_row("SELECT COUNT(*) FROM audit_about", [], |r| r.get(0))
                .unwrap()
        };
        assert_eq!(rows(&conn), 4, "the key's and the agent's tag per event");
        let stats = prune(&mut conn, Timestamp::from_millis(5_000)).unwrap();
        assert_eq!(stats.deleted, 1);
        assert_eq!(rows(&conn), 2);
        let by_key = AuditFilter {
            key_id: Some(key.clone()),
            ..Default::default()
        };
        let found = super::super::audit_query::query(
            &conn,
            &OrgId::parse("acme").unwrap(),
            &by_key,
            None,
            10,
        )
        .unwrap();
        assert_eq!(found, [kept]);
    }
}
