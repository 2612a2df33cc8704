//! The durable audit spool of a remote guard: a small SQLite file in the
//! spool directory.
//!
//! - A tool call's event is committed here (`synchronous=FULL`: fsynced)
//!   before the call may run; calls arriving together share one commit.
//! - A shipper sends the oldest events in batches to
//!   `POST /api/v1/audit/events` and deletes them only after the authority
//!   answered 201 (durable there). While the authority is unreachable the
//!   events wait on disk, and a restarted tool server ships what a previous
//!   run left behind.
//! - Delivery is at-least-once: if the authority commits a batch but its
//!   answer is lost, the batch is sent again.
//! - The file is opened in exclusive locking mode, so two processes cannot
//!   share a spool (and ship the same events twice).
//! - A batch the authority rejects as invalid (4xx other than auth) is
//!   moved to a `rejected` table for an operator instead of blocking the
//!   queue forever.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::{params, Connection};
use tokio::sync::{mpsc, oneshot, Notify};

use super::client::{ApiError, AuthorityApi};
use crate::facade::ToolCall;

/// Events per ingest request (the API accepts up to 1000).
const SHIP_BATCH: usize = 500;
/// Events per local commit.
const COMMIT_BATCH: usize = 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Why an event could not be made durable locally.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SpoolError {
    #[error("cannot open the audit spool {path}: {cause}")]
    Open { path: PathBuf, cause: String },
    #[error("cannot write the audit spool: {0}")]
    Write(String),
    #[error("the audit spool has stopped")]
    Stopped,
}

type Pending = (ToolCall, oneshot::Sender<Result<(), SpoolError>>);

/// Handle to the spool; appends wait for the fsync.
pub(crate) struct Spool {
    queue: mpsc::UnboundedSender<Pending>,
    db: Arc<Mutex<Connection>>,
    pub(crate) pending: Arc<AtomicU64>,
    pub(crate) shipped: Arc<AtomicU64>,
    pub(crate) ship_error: Arc<Mutex<Option<String>>>,
    pub(crate) wake: Arc<Notify>,
}

fn open(dir: &Path) -> Result<Connection, SpoolError> {
    let path = dir.join("audit-spool.db");
    let fail = |cause: String| SpoolError::Open {
        path: path.clone(),
        cause,
    };
    std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    let conn = Connection::open(&path).map_err(|e| fail(e.to_string()))?;
    // A spool held by another process should fail fast, not wait.
    conn.busy_timeout(Duration::from_millis(200))
        .map_err(|e| fail(e.to_string()))?;
    conn.execute_batch(
        "PRAGMA locking_mode = EXCLUSIVE;
         PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         BEGIN EXCLUSIVE;
         CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
         CREATE TABLE IF NOT EXISTS rejected (id INTEGER PRIMARY KEY, body TEXT NOT NULL, error TEXT NOT NULL);
         COMMIT;",
    )
    .map_err(|e| fail(format!("{e} (is another process using this spool directory?)")))?;
    Ok(conn)
}

impl Spool {
    /// Opens (or creates) the spool and starts its writer task.
    pub(crate) fn open(dir: &Path) -> Result<Self, SpoolError> {
        let conn = open(dir)?;
        let count: i64 = conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .map_err(|e| SpoolError::Write(e.to_string()))?;
        let db = Arc::new(Mutex::new(conn));
        let (queue, rx) = mpsc::unbounded_channel();
        let spool = Self {
            queue,
            db: db.clone(),
            pending: Arc::new(AtomicU64::new(u64::try_from(count).unwrap_or(0))),
            shipped: Arc::new(AtomicU64::new(0)),
            ship_error: Arc::new(Mutex::new(None)),
            wake: Arc::new(Notify::new()),
        };
        tokio::spawn(writer(rx, db, spool.pending.clone(), spool.wake.clone()));
        Ok(spool)
    }

    /// Returns once the event is fsynced in the spool.
    pub(crate) async fn append(&self, call: ToolCall) -> Result<(), SpoolError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((call, tx))
            .map_err(|_| SpoolError::Stopped)?;
        rx.await.map_err(|_| SpoolError::Stopped)?
    }

    /// The shipper loop: runs until the task is aborted.
    pub(crate) async fn ship_forever(&self, api: Arc<AuthorityApi>) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.ship_once(&api).await {
                Ok(0) => {
                    backoff = Duration::from_millis(100);
                    // Woken by the writer; the timeout is a safety net.
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), self.wake.notified()).await;
                }
                Ok(_) => backoff = Duration::from_millis(100),
                Err(e) => {
                    let first = self.ship_error.lock().replace(e.to_string()).is_none();
                    if first {
                        tracing::warn!(error = %e, pending = self.pending.load(Ordering::Relaxed),
                            "cannot ship audit events; they stay in the spool and are retried");
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Ships the oldest batch; returns how many events were confirmed.
    async fn ship_once(&self, api: &AuthorityApi) -> Result<usize, ApiError> {
        let db = self.db.clone();
        let batch = tokio::task::spawn_blocking(move || read_batch(&db.lock()))
            .await
            .map_err(|e| ApiError::Protocol(e.to_string()))?
            .map_err(|e| ApiError::Protocol(format!("spool read: {e}")))?;
        let Some(last_id) = batch.last().map(|(id, _)| *id) else {
            return Ok(0);
        };
        let calls: Vec<ToolCall> = batch
            .iter()
            .filter_map(|(_, body)| serde_json::from_str(body).ok())
            .collect();
        let result = api.ingest(&calls).await;
        let rejected = match result {
            Ok(()) => None,
            Err(ApiError::Rejected { status, message }) => Some(format!("{status}: {message}")),
            Err(e) => return Err(e),
        };
        let db = self.db.clone();
        let n = batch.len();
        tokio::task::spawn_blocking(move || settle(&mut db.lock(), last_id, rejected.as_deref()))
            .await
            .map_err(|e| ApiError::Protocol(e.to_string()))?
            .map_err(|e| ApiError::Protocol(format!("spool delete: {e}")))?;
        self.pending.fetch_sub(n as u64, Ordering::Relaxed);
        self.shipped.fetch_add(n as u64, Ordering::Relaxed);
        if self.ship_error.lock().take().is_some() {
            tracing::info!("audit shipping resumed");
        }
        Ok(n)
    }
}

fn read_batch(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached("SELECT id, body FROM events ORDER BY id LIMIT ?1")?;
    let rows = stmt.query_map([SHIP_BATCH as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

fn settle(conn: &mut Connection, last_id: i64, rejected: Option<&str>) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    if let Some(error) = rejected {
        tracing::error!(
            error,
            "the authority rejected a batch of audit events; kept in the spool's `rejected` table"
        );
        tx.execute(
            "INSERT INTO rejected (id, body, error) SELECT id, body, ?2 FROM events WHERE id <= ?1",
            params![last_id, error],
        )?;
    }
    tx.execute("DELETE FROM events WHERE id <= ?1", [last_id])?;
    tx.commit()
}

/// Group commit: everything queued goes into one fsynced transaction.
async fn writer(
    mut rx: mpsc::UnboundedReceiver<Pending>,
    db: Arc<Mutex<Connection>>,
    pending: Arc<AtomicU64>,
    wake: Arc<Notify>,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < COMMIT_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let bodies: Vec<String> = batch
            .iter()
            .map(|(call, _)| serde_json::to_string(call).unwrap_or_default())
            .collect();
        let db = db.clone();
        let result = tokio::task::spawn_blocking(move || -> rusqlite::Result<()> {
            let mut conn = db.lock();
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached("INSERT INTO events (body) VALUES (?1)")?;
                for body in &bodies {
                    stmt.execute([body])?;
                }
            }
            tx.commit()
        })
        .await;
        let result = match result {
            Ok(Ok(())) => {
                pending.fetch_add(batch.len() as u64, Ordering::Relaxed);
                wake.notify_one();
                Ok(())
            }
            Ok(Err(e)) => Err(SpoolError::Write(e.to_string())),
            Err(e) => Err(SpoolError::Write(e.to_string())),
        };
        for (_, reply) in batch {
            let _ = reply.send(result.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_process_cannot_open_the_same_spool() {
        let dir = tempfile::tempdir().unwrap();
        let _first = open(dir.path()).unwrap();
        let second = open(dir.path());
        assert!(matches!(second, Err(SpoolError::Open { .. })), "{second:?}");
    }
}
