//! Webhook endpoints, the outbox and deliveries on Firestore (see
//! `crate::webhooks`):
//! - `orgs/{org}/webhooks/{id}`: an endpoint (`record`: JSON).
//! - `webhook_messages/{id}`: the outbox, across orgs (`fanned` 0 until the
//!   message has its deliveries), written in the commit of its event.
//! - `webhook_deliveries/{webhook}.{message}`: one per endpoint and message;
//!   `due` is the next attempt (or lease end) of a pending one.
//!
//! Claims and fan-outs are written under update-time preconditions, so two
//! servers never both claim a delivery or fan a message out twice.

use std::collections::{HashMap, HashSet};

use firestore::gcloud_sdk::google::firestore::v1::{Document, Write};

use super::docs::{self, Reader};
use super::indexes::{Direction, Query};
use super::{create, delete, set, update_if_unchanged, CommitError, FirestoreStore};
use crate::audit::AuditEvent;
use crate::ids::{KeyId, OrgId, WebhookId};
use crate::store::{KeyRecord, StoreError};
use crate::time::Timestamp;
use crate::webhooks::{Delivery, DeliveryState, WebhookMessage, WebhookRecord};

const MESSAGES: &str = "webhook_messages";
const DELIVERIES: &str = "webhook_deliveries";
const RECORD: &str = "record";
const DUE: &str = "due";

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(doc: &Document, field: &str) -> Result<T, StoreError> {
    let text = Reader::new(doc).str(field)?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("{field}: {e}")))
}

impl FirestoreStore {
    fn webhook_path(&self, org: &OrgId, id: &WebhookId) -> String {
        format!("{}/webhooks/{}", self.org_path(org), id.as_str())
    }

    fn message_path(&self, id: &str) -> String {
        format!("{}/{MESSAGES}/{id}", self.root())
    }

    fn delivery_path(&self, d: &Delivery) -> String {
        format!("{}/{DELIVERIES}/{}", self.root(), d.id())
    }
}

fn message_fields(m: &WebhookMessage) -> Result<docs::Fields, StoreError> {
    Ok(docs::Fields::from([
        ("org".into(), docs::string(m.org.as_str())),
        ("created_at".into(), docs::int(m.created_at.as_millis())),
        ("fanned".into(), docs::int(0)),
        ("message".into(), docs::string(&to_json(m)?)),
    ]))
}

/// The outbox write for `event`'s message, if it announces one: part of
/// every commit that writes the event (`audit::event_writes`).
pub(super) fn message_write(s: &FirestoreStore, event: &AuditEvent) -> Option<Write> {
    let m = crate::webhooks::message_for(event)?;
    // A message that cannot be encoded is a bug; the event still commits
    // rather than the change failing, and the gap is logged.
    match message_fields(&m) {
        Ok(fields) => Some(set(s.message_path(&m.id), fields)),
        Err(e) => {
            tracing::error!(message = %m.id, error = %e, "webhook message not encoded");
            None
        }
    }
}

fn delivery_fields(d: &Delivery) -> Result<docs::Fields, StoreError> {
    let due = match d.state {
        DeliveryState::Pending => d.next_attempt_at.map(Timestamp::as_millis),
        DeliveryState::Delivered | DeliveryState::Failed => None,
    };
    Ok(docs::Fields::from([
        ("org".into(), docs::string(d.message.org.as_str())),
        ("webhook".into(), docs::string(d.webhook.as_str())),
        ("state".into(), docs::string(d.state.as_str())),
        (DUE.into(), due.map_or_else(docs::null, docs::int)),
        (
            "created_at".into(),
            docs::int(d.message.created_at.as_millis()),
        ),
        (RECORD.into(), docs::string(&to_json(d)?)),
    ]))
}

pub(super) async fn put_webhook(
    s: &FirestoreStore,
    hook: &WebhookRecord,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let fields = docs::Fields::from([
        ("created_at".into(), docs::int(hook.created_at.as_millis())),
        (RECORD.into(), docs::string(&to_json(hook)?)),
    ]);
    let mut writes = vec![set(s.webhook_path(&hook.org, &hook.id), fields)];
    writes.extend(super::audit::event_writes(s, std::slice::from_ref(event)));
    Ok(s.commit(writes).await?)
}

pub(super) async fn list_webhooks(
    s: &FirestoreStore,
    org: &OrgId,
) -> Result<Vec<WebhookRecord>, StoreError> {
    let found = s
        .query(Query::of(
            Some(format!("orgs/{}", org.as_str())),
            "webhooks",
        ))
        .await?;
    let mut hooks: Vec<WebhookRecord> = found
        .iter()
        .map(|d| from_json(d, RECORD))
        .collect::<Result<_, _>>()?;
    hooks.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(hooks)
}

pub(super) async fn delete_webhook(
    s: &FirestoreStore,
    org: &OrgId,
    id: &WebhookId,
    event: &AuditEvent,
) -> Result<bool, StoreError> {
    let path = s.webhook_path(org, id);
    if s.get(&path).await?.is_none() {
        return Ok(false);
    }
    let mut writes = vec![delete(path)];
    writes.extend(super::audit::event_writes(s, std::slice::from_ref(event)));
    s.commit(writes).await?;
    Ok(true)
}

pub(super) async fn enqueue(
    s: &FirestoreStore,
    messages: &[WebhookMessage],
) -> Result<(), StoreError> {
    for m in messages {
        match s
            .commit(vec![create(s.message_path(&m.id), message_fields(m)?)])
            .await
        {
            Ok(()) | Err(CommitError::Exists(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

pub(super) async fn fan_out(s: &FirestoreStore, limit: u32) -> Result<u32, StoreError> {
    let pending = s
        .query(
            Query::of(None, MESSAGES)
                .eq("fanned", docs::int(0))
                .limit(limit),
        )
        .await?;
    let mut hooks: HashMap<OrgId, Vec<WebhookRecord>> = HashMap::new();
    let mut handled = 0;
    for doc in &pending {
        let m: WebhookMessage = from_json(doc, "message")?;
        if !hooks.contains_key(&m.org) {
            hooks.insert(m.org.clone(), list_webhooks(s, &m.org).await?);
        }
        let mut writes = vec![update_if_unchanged(
            doc,
            docs::Fields::from([("fanned".into(), docs::int(1))]),
            &["fanned"],
        )?];
        for hook in &hooks[&m.org] {
            if hook.receives(m.event_type) && hook.created_at <= m.created_at {
                let d = Delivery::new(&hook.id, &m);
                // `set`, not `create`: a leftover delivery of the same
                // message (its outbox row pruned and made again) must not
                // keep this message from ever being fanned out.
                writes.push(set(s.delivery_path(&d), delivery_fields(&d)?));
            }
        }
        match s.commit(writes).await {
            Ok(()) => handled += 1,
            // Another server fanned it out first.
            Err(CommitError::Stale) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(handled)
}

pub(super) async fn claim(
    s: &FirestoreStore,
    now: Timestamp,
    lease_until: Timestamp,
    limit: u32,
    busy: &[WebhookId],
) -> Result<Vec<Delivery>, StoreError> {
    // Oldest due first; more than `limit` are read so that one endpoint's
    // backlog cannot fill the batch.
    let due = s
        .query(
            Query::of(None, DELIVERIES)
                .eq("state", docs::string(DeliveryState::Pending.as_str()))
                .lt(DUE, docs::int(now.as_millis().saturating_add(1)))
                .order(DUE, Direction::Ascending)
                .limit(limit.saturating_mul(8)),
        )
        .await?;
    let mut seen: HashSet<WebhookId> = busy.iter().cloned().collect();
    let mut claimed = Vec::new();
    for doc in &due {
        if claimed.len() >= limit as usize {
            break;
        }
        let mut d: Delivery = from_json(doc, RECORD)?;
        if !seen.insert(d.webhook.clone()) {
            continue;
        }
        d.next_attempt_at = Some(lease_until);
        let write = update_if_unchanged(doc, delivery_fields(&d)?, &[DUE, RECORD])?;
        match s.commit(vec![write]).await {
            Ok(()) => claimed.push(d),
            // Claimed by another server (or finished) meanwhile.
            Err(CommitError::Stale | CommitError::Missing) => {
                seen.remove(&d.webhook);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(claimed)
}

pub(super) async fn record(s: &FirestoreStore, d: &Delivery) -> Result<(), StoreError> {
    Ok(s.commit(vec![set(s.delivery_path(d), delivery_fields(d)?)])
        .await?)
}

pub(super) async fn list_deliveries(
    s: &FirestoreStore,
    org: &OrgId,
    webhook: &WebhookId,
    limit: u32,
) -> Result<Vec<Delivery>, StoreError> {
    let found = s
        .query(
            Query::of(None, DELIVERIES)
                .eq("webhook", docs::string(webhook.as_str()))
                .order("created_at", Direction::Descending)
                .limit(limit),
        )
        .await?;
    let mut out = Vec::with_capacity(found.len());
    for doc in &found {
        let d: Delivery = from_json(doc, RECORD)?;
        // Webhook ids are random and global; the org is checked anyway.
        if &d.message.org == org {
            out.push(d);
        }
    }
    Ok(out)
}

pub(super) async fn keys_expiring(
    s: &FirestoreStore,
    after: Timestamp,
    up_to: Timestamp,
    cursor: Option<&(Timestamp, KeyId)>,
    limit: u32,
) -> Result<Vec<KeyRecord>, StoreError> {
    let mut q = Query::group("keys")
        .gt("expires_at", docs::int(after.as_millis()))
        .lt("expires_at", docs::int(up_to.as_millis().saturating_add(1)))
        .order("expires_at", Direction::Ascending)
        .order("id", Direction::Ascending)
        .limit(limit);
    if let Some((at, id)) = cursor {
        q = q.after(vec![docs::int(at.as_millis()), docs::string(id.as_str())]);
    }
    let found = s.query(q).await?;
    found.iter().map(docs::key_from).collect()
}

pub(super) async fn prune(
    s: &FirestoreStore,
    before: Timestamp,
    limit: u32,
) -> Result<u64, StoreError> {
    let messages = s
        .query(
            Query::of(None, MESSAGES)
                .eq("fanned", docs::int(1))
                .lt("created_at", docs::int(before.as_millis()))
                .limit(limit)
                .fields(&["fanned"]),
        )
        .await?;
    let deliveries = s
        .query(
            Query::of(None, DELIVERIES)
                .lt("created_at", docs::int(before.as_millis()))
                .limit(limit)
                .fields(&["state"]),
        )
        .await?;
    let finished = deliveries.iter().filter(|d| {
        Reader::new(d)
            .str("state")
            .is_ok_and(|state| state != DeliveryState::Pending.as_str())
    });
    let writes: Vec<Write> = messages
        .iter()
        .chain(finished)
        .map(|d| delete(d.name.clone()))
        .collect();
    let n = writes.len() as u64;
    for chunk in writes.chunks(super::MAX_COMMIT_WRITES) {
        s.commit(chunk.to_vec()).await?;
    }
    Ok(n)
}
