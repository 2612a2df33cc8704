//! The shipper: sends the spool's oldest events to
//! `POST /api/v1/audit/events` and settles them only on the authority's
//! answer.
//!
//! - Events are deleted only after the authority answered 201 (durable
//!   there). While it is unreachable they wait on disk, and a restarted
//!   tool server ships what a previous run left behind. Delivery is
//!   at-least-once: if the authority commits a batch but its answer is
//!   lost, the batch is sent again.
//! - A batch holds at most [`MAX_INGEST_EVENTS`] events in a body of at
//!   most [`MAX_REQUEST_BYTES`] (the authority answers 413 above). Each
//!   event is measured as it is sent: decoded, bounded
//!   ([`ToolCall::bounded`]) and encoded again, so a row an older guard
//!   spooled unbounded is cut like a new one instead of blocking the queue.
//! - A batch the authority refuses (413, or 400/422: invalid) is halved and
//!   its first half sent again, down to a single event: the honest events
//!   around a bad one are shipped, and only an event the authority refuses
//!   on its own is moved to the `rejected` table for an operator.
//! - Anything else (transport error, 5xx, 404, 429, the service key
//!   refused) leaves the batch in the spool, retried with backoff.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{params, Connection};

use super::Spool;
use crate::remote::client::{ApiError, AuthorityApi};
use authority::ToolCall;
use model::wire::{MAX_INGEST_EVENTS, MAX_REQUEST_BYTES};

const MAX_BACKOFF: Duration = Duration::from_secs(2);
const ENVELOPE_START: &str = r#"{"events":["#;
const ENVELOPE_END: &str = "]}";

/// One spooled row, read for shipping.
pub(super) struct Row {
    id: i64,
    /// Bytes of the stored body: what settling the row frees.
    stored: u64,
    /// The bounded event's JSON as it is sent, or why the row cannot be
    /// decoded.
    event: Result<String, String>,
}

impl Row {
    fn read(id: i64, body: &[u8]) -> Self {
        let event = serde_json::from_slice::<ToolCall>(body)
            .map_err(|e| format!("undecodable spool row: {e}"))
            .and_then(|call| {
                serde_json::to_string(&call.bounded())
                    .map_err(|e| format!("cannot encode the spool row again: {e}"))
            });
        Self {
            id,
            stored: body.len() as u64,
            event,
        }
    }
}

impl Spool {
    /// The shipper loop: runs until the task is aborted.
    pub(crate) async fn ship_forever(&self, api: Arc<AuthorityApi>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.ship_once(&api).await {
                Ok(0) => {
                    backoff = Duration::from_millis(100);
                    // Woken by the writer; the timeout is a safety net.
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), self.stats.wake.notified())
                            .await;
                }
                Ok(_) => backoff = Duration::from_millis(100),
                Err(e) => {
                    let first = self
                        .stats
                        .ship_error
                        .lock()
                        .replace(e.to_string())
                        .is_none();
                    if first {
                        tracing::warn!(error = %e, pending = self.stats.pending.load(Ordering::Relaxed),
                            "cannot ship audit events; they stay in the spool and are retried");
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Ships (or settles) the oldest rows; returns how many left the queue.
    pub(super) async fn ship_once(&self, api: &AuthorityApi) -> Result<usize, ApiError> {
        let db = self.db.clone();
        let rows = tokio::task::spawn_blocking(move || read_batch(&db.lock(), MAX_REQUEST_BYTES))
            .await
            .map_err(|e| ApiError::Protocol(e.to_string()))?
            .map_err(|e| ApiError::Protocol(format!("spool read: {e}")))?;
        if rows.is_empty() {
            return Ok(0);
        }
        let events: Vec<&str> = rows
            .iter()
            .filter_map(|r| r.event.as_deref().ok())
            .collect();
        let (sent, refused) = send_halving(api, &events).await?;
        // Every row up to the last event sent is settled now (all of them
        // when none could be decoded); later rows wait for the next round.
        let settled = match sent {
            0 => rows.len(),
            n => rows_through(&rows, n),
        };
        let rows = &rows[..settled];
        let undecodable: Vec<(i64, String)> = rows
            .iter()
            .filter_map(|r| r.event.as_ref().err().map(|e| (r.id, e.clone())))
            .collect();
        for (row, error) in &undecodable {
            tracing::error!(
                row,
                error,
                "an audit spool row cannot be decoded; moved to the spool's `rejected` table"
            );
        }
        let last_id = rows.last().map_or(0, |r| r.id);
        let freed: u64 = rows.iter().map(|r| r.stored).sum();
        let moved = undecodable.len() + usize::from(refused.is_some());
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            settle(&mut db.lock(), last_id, refused.as_deref(), &undecodable)
        })
        .await
        .map_err(|e| ApiError::Protocol(e.to_string()))?
        .map_err(|e| ApiError::Protocol(format!("spool delete: {e}")))?;
        let stats = &self.stats;
        release(&stats.pending, settled as u64);
        release(&stats.pending_bytes, freed);
        stats
            .shipped
            .fetch_add((settled - moved) as u64, Ordering::Relaxed);
        stats.rejected.fetch_add(moved as u64, Ordering::Relaxed);
        if stats.ship_error.lock().take().is_some() {
            tracing::info!("audit shipping resumed");
        }
        Ok(settled)
    }
}

/// Takes `n` off a pending counter. Saturating: a count that drifted (a
/// row changed behind the spool's back) must not wrap around and make the
/// spool look full forever.
fn release(counter: &AtomicU64, n: u64) {
    let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
        Some(v.saturating_sub(n))
    });
}

/// Sends `events`, halving on every refusal: returns how many of the first
/// events the authority settled, and its reason when it refused the single
/// event left (then that one is the last of them).
async fn send_halving(
    api: &AuthorityApi,
    events: &[&str],
) -> Result<(usize, Option<String>), ApiError> {
    let mut take = events.len();
    while take > 0 {
        match api.ingest_json(envelope(&events[..take])).await {
            Ok(()) => return Ok((take, None)),
            Err(ApiError::Rejected { status, message }) if take > 1 => {
                tracing::warn!(
                    status,
                    events = take,
                    %message,
                    "the authority refused a batch of audit events; sending its first half"
                );
                take /= 2;
            }
            Err(ApiError::Rejected { status, message }) => {
                return Ok((1, Some(format!("{status}: {message}"))));
            }
            Err(e) => return Err(e),
        }
    }
    Ok((0, None))
}

/// How many of `rows` hold the first `events` decodable events.
fn rows_through(rows: &[Row], events: usize) -> usize {
    let mut seen = 0;
    for (i, row) in rows.iter().enumerate() {
        seen += usize::from(row.event.is_ok());
        if seen == events {
            return i + 1;
        }
    }
    rows.len()
}

/// `{"events":[e1,e2,…]}` from events already encoded.
pub(super) fn envelope(events: &[&str]) -> String {
    let size = ENVELOPE_START.len()
        + ENVELOPE_END.len()
        + events.iter().map(|e| e.len() + 1).sum::<usize>();
    let mut body = String::with_capacity(size);
    body.push_str(ENVELOPE_START);
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(event);
    }
    body.push_str(ENVELOPE_END);
    body
}

/// The oldest rows, as many as fit one request: at most
/// [`MAX_INGEST_EVENTS`] rows, and decodable events whose envelope is at
/// most `max_body` bytes (at least one, however large: the authority's
/// answer decides about it).
pub(super) fn read_batch(conn: &Connection, max_body: usize) -> rusqlite::Result<Vec<Row>> {
    let mut stmt = conn.prepare_cached("SELECT id, body FROM events ORDER BY id LIMIT ?1")?;
    let mut cursor = stmt.query([MAX_INGEST_EVENTS as i64])?;
    let mut rows = Vec::new();
    let mut size = ENVELOPE_START.len() + ENVELOPE_END.len();
    let mut events = 0usize;
    while let Some(stored) = cursor.next()? {
        let id: i64 = stored.get(0)?;
        // Read as bytes: a body that is not text must become an
        // undecodable row, not an error that stops all shipping.
        let row = match stored.get_ref(1)?.as_bytes() {
            Ok(body) => Row::read(id, body),
            Err(e) => Row {
                id,
                stored: 0,
                event: Err(format!("undecodable spool row: {e}")),
            },
        };
        if let Ok(event) = &row.event {
            let added = event.len() + usize::from(events > 0);
            if events > 0 && size + added > max_body {
                break;
            }
            size += added;
            events += 1;
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Removes the rows up to `last_id` from the queue once they are settled:
/// shipped, or kept in `rejected` with their error (every undecodable row,
/// and the rest when the authority refused them).
fn settle(
    conn: &mut Connection,
    last_id: i64,
    refused: Option<&str>,
    undecodable: &[(i64, String)],
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut keep = tx.prepare_cached(
            "INSERT OR REPLACE INTO rejected (id, body, error) SELECT id, body, ?2 FROM events WHERE id = ?1",
        )?;
        for (id, error) in undecodable {
            keep.execute(params![id, error])?;
        }
    }
    if let Some(error) = refused {
        tracing::error!(
            error,
            "the authority refused an audit event on its own; kept in the spool's `rejected` table"
        );
        tx.execute(
            "INSERT OR IGNORE INTO rejected (id, body, error) SELECT id, body, ?2 FROM events WHERE id <= ?1",
            params![last_id, error],
        )?;
    }
    tx.execute("DELETE FROM events WHERE id <= ?1", [last_id])?;
    tx.commit()
}
