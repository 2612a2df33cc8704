//! Audit statements: append, queries, timeline, chains, retention.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row};

use super::map_err;
use crate::audit::{
    AuditCursor, AuditEvent, AuditFilter, ChainHash, ChainInfo, ChainLink, Checkpoint, Decision,
    EventKind, NewEvent, PruneStats, Seal, TimelineBucket,
};
use crate::ids::{EventId, KeyId, OrgId};
use crate::store::StoreError;
use crate::time::Timestamp;

const COLS: &str =
    "id, ts, org, actor, agent, kind, action, scope, decision, reason, subject, server, \
    request_id, client_ip, latency_us, writer, seq, prev_hash, hash, reported_by, person";

fn hash_col(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<ChainHash>> {
    let v: Vec<u8> = r.get(i)?;
    Ok(<[u8; 32]>::try_from(v.as_slice()).ok().map(ChainHash))
}

fn event_from_row(r: &Row<'_>) -> rusqlite::Result<Result<AuditEvent, StoreError>> {
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
        },
        chain: ChainLink {
            writer: r.get(15)?,
            seq: r.get::<_, i64>(16)?.max(0) as u64,
            prev_hash,
            hash,
        },
    }))
}

pub(super) fn insert_event(c: &Connection, e: &AuditEvent) -> Result<(), StoreError> {
    let b = &e.body;
    c.prepare_cached(&format!(
        "INSERT INTO audit_events ({COLS}) VALUES \
         (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)"
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
    ])
    .map_err(map_err)?;
    if e.chain.seq == 1 {
        c.prepare_cached("INSERT OR IGNORE INTO audit_chains (org, writer) VALUES (?1, ?2)")
            .map_err(map_err)?
            .execute(params![b.org.as_str(), e.chain.writer])
            .map_err(map_err)?;
    }
    Ok(())
}

pub(super) fn append(c: &mut Connection, events: &[AuditEvent]) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    for e in events {
        insert_event(&tx, e)?;
    }
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

/// `WHERE` clause and parameters for `org` + `filter`.
fn where_clause(org: &OrgId, f: &AuditFilter) -> (String, Vec<Value>) {
    let mut sql = String::from("org = ?");
    let mut p: Vec<Value> = vec![Value::Text(org.as_str().to_owned())];
    let mut add = |cond: &str, v: Value| {
        sql.push_str(" AND ");
        sql.push_str(cond);
        p.push(v);
    };
    if let Some(k) = &f.key_id {
        add("actor = ?", Value::Text(k.as_str().to_owned()));
    }
    if let Some(a) = &f.agent {
        add("agent = ?", Value::Text(a.clone()));
    }
    if let Some(t) = &f.tool {
        add("action = ?", Value::Text(t.clone()));
    }
    if let Some(d) = f.decision {
        add("decision = ?", Value::Text(d.as_str().to_owned()));
    }
    if let Some(k) = f.kind {
        add("kind = ?", Value::Text(k.as_str().to_owned()));
    }
    if let Some(s) = f.since {
        add("ts >= ?", Value::Integer(s.as_millis()));
    }
    if let Some(u) = f.until {
        add("ts < ?", Value::Integer(u.as_millis()));
    }
    (sql, p)
}

pub(super) fn query(
    c: &Connection,
    org: &OrgId,
    f: &AuditFilter,
    cursor: Option<&AuditCursor>,
    limit: u32,
) -> Result<Vec<AuditEvent>, StoreError> {
    let (mut sql, mut p) = where_clause(org, f);
    if let Some(cur) = cursor {
        sql.push_str(" AND (ts < ? OR (ts = ? AND id < ?))");
        p.push(Value::Integer(cur.ts.as_millis()));
        p.push(Value::Integer(cur.ts.as_millis()));
        p.push(Value::Text(cur.id.as_str().to_owned()));
    }
    p.push(Value::Integer(i64::from(limit)));
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {COLS} FROM audit_events WHERE {sql} ORDER BY ts DESC, id DESC LIMIT ?"
        ))
        .map_err(map_err)?;
    let rows = st
        .query_map(params_from_iter(p), event_from_row)
        .map_err(map_err)?;
    rows.map(|r| r.map_err(map_err)?).collect()
}

pub(super) fn timeline(
    c: &Connection,
    org: &OrgId,
    f: &AuditFilter,
    bucket_ms: i64,
) -> Result<Vec<TimelineBucket>, StoreError> {
    let bucket_ms = bucket_ms.max(1);
    let (sql, mut p) = where_clause(org, f);
    let mut all = vec![Value::Integer(bucket_ms), Value::Integer(bucket_ms)];
    all.append(&mut p);
    let mut st = c
        .prepare_cached(&format!(
            "SELECT (ts / ?) * ? AS b, SUM(decision = 'allowed'), SUM(decision = 'denied') \
             FROM audit_events WHERE {sql} GROUP BY b ORDER BY b"
        ))
        .map_err(map_err)?;
    let rows = st
        .query_map(params_from_iter(all), |r| {
            Ok(TimelineBucket {
                start: Timestamp::from_millis(r.get(0)?),
                allowed: r.get::<_, i64>(1)?.max(0) as u64,
                denied: r.get::<_, i64>(2)?.max(0) as u64,
            })
        })
        .map_err(map_err)?;
    rows.map(|r| r.map_err(map_err)).collect()
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
