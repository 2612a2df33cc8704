//! Webhook endpoints, the outbox and deliveries (see `crate::webhooks`).
//! Records are JSON; the columns beside them are what the queries select on.

use std::collections::{HashMap, HashSet};

use rusqlite::{params, Connection};

use super::audit::insert_event;
use super::keys::{key_from_row, KEY_COLS};
use super::map_err;
use crate::audit::AuditEvent;
use crate::ids::{KeyId, OrgId, WebhookId};
use crate::store::{KeyRecord, StoreError};
use crate::time::Timestamp;
use crate::webhooks::{Delivery, DeliveryState, WebhookMessage, WebhookRecord};

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The outbox row of `message`, unless one with its id is there. Called
/// by `insert_event` inside the event's own transaction.
pub(super) fn insert_message(c: &Connection, m: &WebhookMessage) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT OR IGNORE INTO webhook_messages (id, org, created_at, message) VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(map_err)?
    .execute(params![m.id, m.org.as_str(), m.created_at.as_millis(), to_json(m)?])
    .map_err(map_err)?;
    Ok(())
}

pub(super) fn put_webhook(
    c: &mut Connection,
    hook: &WebhookRecord,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    tx.prepare_cached(
        "INSERT INTO webhooks (org, id, created_at, record) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (org, id) DO UPDATE SET record = ?4",
    )
    .map_err(map_err)?
    .execute(params![
        hook.org.as_str(),
        hook.id.as_str(),
        hook.created_at.as_millis(),
        to_json(hook)?
    ])
    .map_err(map_err)?;
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)
}

pub(super) fn list_webhooks(c: &Connection, org: &OrgId) -> Result<Vec<WebhookRecord>, StoreError> {
    let mut st = c
        .prepare_cached("SELECT record FROM webhooks WHERE org = ?1 ORDER BY created_at, id")
        .map_err(map_err)?;
    let rows = st
        .query_map([org.as_str()], |r| r.get::<_, String>(0))
        .map_err(map_err)?;
    rows.map(|r| from_json(&r.map_err(map_err)?, "webhook"))
        .collect()
}

pub(super) fn delete_webhook(
    c: &mut Connection,
    org: &OrgId,
    id: &WebhookId,
    event: &AuditEvent,
) -> Result<bool, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let gone = tx
        .prepare_cached("DELETE FROM webhooks WHERE org = ?1 AND id = ?2")
        .map_err(map_err)?
        .execute(params![org.as_str(), id.as_str()])
        .map_err(map_err)?;
    if gone == 0 {
        return Ok(false);
    }
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)?;
    Ok(true)
}

pub(super) fn enqueue(c: &mut Connection, messages: &[WebhookMessage]) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    for m in messages {
        insert_message(&tx, m)?;
    }
    tx.commit().map_err(map_err)
}

fn insert_delivery(c: &Connection, d: &Delivery) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT OR IGNORE INTO webhook_deliveries (id, org, webhook, state, due, created_at, record) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .map_err(map_err)?
    .execute(params![
        d.id(),
        d.message.org.as_str(),
        d.webhook.as_str(),
        d.state.as_str(),
        d.next_attempt_at.map(Timestamp::as_millis),
        d.message.created_at.as_millis(),
        to_json(d)?
    ])
    .map_err(map_err)?;
    Ok(())
}

pub(super) fn fan_out(c: &mut Connection, limit: u32) -> Result<u32, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let pending: Vec<(String, String)> = {
        let mut st = tx
            .prepare_cached(
                "SELECT id, message FROM webhook_messages WHERE fanned = 0 ORDER BY created_at LIMIT ?1",
            )
            .map_err(map_err)?;
        let rows = st
            .query_map([i64::from(limit)], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(map_err)?;
        rows.collect::<rusqlite::Result<_>>().map_err(map_err)?
    };
    let mut hooks: HashMap<OrgId, Vec<WebhookRecord>> = HashMap::new();
    for (id, text) in &pending {
        let m: WebhookMessage = from_json(text, "webhook message")?;
        if !hooks.contains_key(&m.org) {
            hooks.insert(m.org.clone(), list_webhooks(&tx, &m.org)?);
        }
        for hook in &hooks[&m.org] {
            if hook.receives(m.event_type) && hook.created_at <= m.created_at {
                insert_delivery(&tx, &Delivery::new(&hook.id, &m))?;
            }
        }
        tx.prepare_cached("UPDATE webhook_messages SET fanned = 1 WHERE id = ?1")
            .map_err(map_err)?
            .execute([id])
            .map_err(map_err)?;
    }
    tx.commit().map_err(map_err)?;
    Ok(pending.len() as u32)
}

pub(super) fn claim(
    c: &mut Connection,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
    busy: &[WebhookId],
) -> Result<Vec<Delivery>, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let mut claimed = Vec::new();
    let mut seen: HashSet<WebhookId> = busy.iter().cloned().collect();
    {
        // Oldest due first; more rows than `limit` are read so that one
        // endpoint's backlog cannot fill the batch.
        let mut st = tx
            .prepare_cached(
                "SELECT record FROM webhook_deliveries INDEXED BY webhook_deliveries_due \
                 WHERE state = 'pending' AND due <= ?1 ORDER BY due LIMIT ?2",
            )
            .map_err(map_err)?;
        let rows = st
            .query_map(
                params![now.as_millis(), i64::from(limit).saturating_mul(8)],
                |r| r.get::<_, String>(0),
            )
            .map_err(map_err)?;
        for text in rows {
            let d: Delivery = from_json(&text.map_err(map_err)?, "delivery")?;
            if claimed.len() < limit as usize && seen.insert(d.webhook.clone()) {
                claimed.push(d);
            }
        }
    }
    for d in &mut claimed {
        d.next_attempt_at = Some(lease_until);
        update_delivery(&tx, d)?;
    }
    tx.commit().map_err(map_err)?;
    Ok(claimed)
}

fn update_delivery(c: &Connection, d: &Delivery) -> Result<(), StoreError> {
    let due = match d.state {
        DeliveryState::Pending => d.next_attempt_at.map(Timestamp::as_millis),
        DeliveryState::Delivered | DeliveryState::Failed => None,
    };
    c.prepare_cached(
        "UPDATE webhook_deliveries SET state = ?2, due = ?3, record = ?4 WHERE id = ?1",
    )
    .map_err(map_err)?
    .execute(params![d.id(), d.state.as_str(), due, to_json(d)?])
    .map_err(map_err)?;
    Ok(())
}

pub(super) fn record(c: &mut Connection, d: &Delivery) -> Result<(), StoreError> {
    update_delivery(c, d)
}

pub(super) fn list_deliveries(
    c: &Connection,
    org: &OrgId,
    webhook: &WebhookId,
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT record FROM webhook_deliveries WHERE webhook = ?1 AND org = ?2 \
             ORDER BY created_at DESC, id DESC LIMIT ?3",
        )
        .map_err(map_err)?;
    let rows = st
        .query_map(
            params![webhook.as_str(), org.as_str(), i64::from(limit)],
            |r| r.get::<_, String>(0),
        )
        .map_err(map_err)?;
    rows.map(|r| from_json(&r.map_err(map_err)?, "delivery"))
        .collect()
}

pub(super) fn keys_expiring(
    c: &Connection,
    after: Timestamp,
    up_to: Timestamp,
    cursor: Option<&(Timestamp, KeyId)>,
    limit: u32,
) -> Result<Vec<KeyRecord>, StoreError> {
    let (from_ms, from_id) = match cursor {
        Some((at, id)) => (at.as_millis(), id.as_str().to_owned()),
        None => (after.as_millis(), String::new()),
    };
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {KEY_COLS} FROM keys INDEXED BY keys_by_expiry \
             WHERE expires_at IS NOT NULL \
             AND (expires_at, id) > (?1, ?2) AND expires_at > ?3 AND expires_at <= ?4 \
             ORDER BY expires_at, id LIMIT ?5"
        ))
        .map_err(map_err)?;
    let rows = st
        .query_map(
            params![
                from_ms,
                from_id,
                after.as_millis(),
                up_to.as_millis(),
                i64::from(limit)
            ],
            key_from_row,
        )
        .map_err(map_err)?;
    rows.map(|r| r.map_err(map_err)?).collect()
}

pub(super) fn prune(c: &mut Connection, before: Timestamp, limit: u32) -> Result<u64, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let messages = tx
        .prepare_cached(
            "DELETE FROM webhook_messages WHERE id IN (SELECT id FROM webhook_messages \
             WHERE created_at < ?1 AND fanned = 1 LIMIT ?2)",
        )
        .map_err(map_err)?
        .execute(params![before.as_millis(), i64::from(limit)])
        .map_err(map_err)?;
    let deliveries = tx
        .prepare_cached(
            "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries \
             WHERE created_at < ?1 AND state != 'pending' LIMIT ?2)",
        )
        .map_err(map_err)?
        .execute(params![before.as_millis(), i64::from(limit)])
        .map_err(map_err)?;
    tx.commit().map_err(map_err)?;
    Ok((messages + deliveries) as u64)
}
