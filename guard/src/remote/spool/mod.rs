//! The durable audit spool of a remote guard: a small SQLite file in the
//! spool directory, and the queue it keeps for the authority.
//!
//! - A tool call's event is committed here (`synchronous=FULL`: fsynced)
//!   before the call may run; calls arriving together share one commit.
//! - The spool is bounded ([`SpoolLimits`]: pending events and their bytes).
//!   When an event does not fit, appending it fails with
//!   [`SpoolError::Full`] and its call is refused (fail closed); nothing
//!   already spooled is ever dropped or overwritten to make room.
//! - The shipper ([`ship`]) sends the oldest events to the authority and
//!   removes them only once the authority has them (or keeps one it
//!   refuses in a `rejected` table for an operator).
//! - The file is opened in exclusive locking mode, so two processes cannot
//!   share a spool (and ship the same events twice).
//! - No silent loss: an event that cannot be encoded is never stored (its
//!   call is refused, fail closed), and a stored row that cannot be decoded
//!   is moved to `rejected` with its error, logged and counted
//!   (`spool_rejected` in the guard's status) — never shipped as nothing,
//!   never deleted.

mod ship;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot, Notify};

use authority::ToolCall;

/// Events per local commit.
const COMMIT_BATCH: usize = 1024;

/// How much the spool may hold before new events are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpoolLimits {
    pub(crate) max_events: u64,
    /// Bytes of the events' JSON.
    pub(crate) max_bytes: u64,
}

/// Why an event could not be made durable locally.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SpoolError {
    #[error("cannot open the audit spool {path}: {cause}")]
    Open { path: PathBuf, cause: String },
    #[error("cannot write the audit spool: {0}")]
    Write(String),
    #[error("the audit spool has stopped")]
    Stopped,
    #[error("the audit spool is full ({events} events, {bytes} bytes waiting for the authority)")]
    Full { events: u64, bytes: u64 },
}

type Pending = (ToolCall, oneshot::Sender<Result<(), SpoolError>>);

/// Counters shared by the writer, the shipper and the guard's status.
#[derive(Default)]
pub(crate) struct SpoolStats {
    /// Events durable in the spool, not yet settled.
    pub(crate) pending: AtomicU64,
    /// Bytes of their JSON (what the byte limit counts).
    pub(crate) pending_bytes: AtomicU64,
    pub(crate) shipped: AtomicU64,
    /// Events moved to the `rejected` table (by the authority, or undecodable).
    pub(crate) rejected: AtomicU64,
    /// The last event offered was refused for lack of room.
    pub(crate) full: AtomicBool,
    pub(crate) ship_error: Mutex<Option<String>>,
    /// Wakes the shipper when events arrive.
    wake: Notify,
}

/// Handle to the spool; appends wait for the fsync.
pub(crate) struct Spool {
    queue: mpsc::UnboundedSender<Pending>,
    db: Arc<Mutex<Connection>>,
    pub(crate) stats: Arc<SpoolStats>,
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
    /// Opens (or creates) the spool and starts its writer task. What a
    /// previous run left counts against `limits` (it may even exceed them:
    /// nothing is dropped, new events wait until the shipper makes room).
    pub(crate) fn open(dir: &Path, limits: SpoolLimits) -> Result<Self, SpoolError> {
        let conn = open(dir)?;
        let (count, bytes): (i64, i64) = conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(body AS BLOB))), 0) FROM events",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| SpoolError::Write(e.to_string()))?;
        let stats = Arc::new(SpoolStats::default());
        stats
            .pending
            .store(u64::try_from(count).unwrap_or(0), Ordering::Relaxed);
        stats
            .pending_bytes
            .store(u64::try_from(bytes).unwrap_or(0), Ordering::Relaxed);
        let db = Arc::new(Mutex::new(conn));
        let (queue, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(rx, db.clone(), stats.clone(), limits));
        Ok(Self { queue, db, stats })
    }

    /// Returns once the event is fsynced in the spool, or
    /// [`SpoolError::Full`] when it does not fit.
    pub(crate) async fn append(&self, call: ToolCall) -> Result<(), SpoolError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send((call, tx))
            .map_err(|_| SpoolError::Stopped)?;
        rx.await.map_err(|_| SpoolError::Stopped)?
    }
}

fn insert_events(conn: &mut Connection, bodies: &[String]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare_cached("INSERT INTO events (body) VALUES (?1)")?;
        for body in bodies {
            stmt.execute([body])?;
        }
    }
    tx.commit()
}

/// Group commit: everything queued goes into one fsynced transaction.
/// This task is the only one that adds to the spool, so admitting events
/// against the limits here cannot race another writer; the shipper only
/// ever frees room.
async fn writer(
    mut rx: mpsc::UnboundedReceiver<Pending>,
    db: Arc<Mutex<Connection>>,
    stats: Arc<SpoolStats>,
    limits: SpoolLimits,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < COMMIT_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let mut events = stats.pending.load(Ordering::Relaxed);
        let mut bytes = stats.pending_bytes.load(Ordering::Relaxed);
        let mut admitted = Vec::with_capacity(batch.len());
        for (call, reply) in batch {
            // An event that cannot be encoded is refused on its own (its
            // call fails closed); it never becomes an empty row.
            let body = match serde_json::to_string(&call) {
                Ok(body) => body,
                Err(e) => {
                    let _ = reply.send(Err(SpoolError::Write(format!(
                        "cannot encode the audit event: {e}"
                    ))));
                    continue;
                }
            };
            let size = body.len() as u64;
            if events >= limits.max_events || bytes.saturating_add(size) > limits.max_bytes {
                if !stats.full.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        events,
                        bytes,
                        "the audit spool is full: calls are refused until the authority takes events again"
                    );
                }
                let _ = reply.send(Err(SpoolError::Full { events, bytes }));
                continue;
            }
            events += 1;
            bytes += size;
            admitted.push((body, size, reply));
        }
        if admitted.is_empty() {
            continue;
        }
        let bodies: Vec<String> = admitted.iter().map(|(body, ..)| body.clone()).collect();
        let db = db.clone();
        let result =
            tokio::task::spawn_blocking(move || insert_events(&mut db.lock(), &bodies)).await;
        let result = match result {
            Ok(Ok(())) => {
                let added: u64 = admitted.iter().map(|(_, size, _)| size).sum();
                stats
                    .pending
                    .fetch_add(admitted.len() as u64, Ordering::Relaxed);
                stats.pending_bytes.fetch_add(added, Ordering::Relaxed);
                if stats.full.swap(false, Ordering::Relaxed) {
                    tracing::info!("the audit spool has room again");
                }
                stats.wake.notify_one();
                Ok(())
            }
            Ok(Err(e)) => Err(SpoolError::Write(e.to_string())),
            Err(e) => Err(SpoolError::Write(e.to_string())),
        };
        for (_, _, reply) in admitted {
            let _ = reply.send(result.clone());
        }
    }
}
