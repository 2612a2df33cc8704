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
//! - No silent loss: an event that cannot be encoded is never stored (its
//!   call is refused, fail closed), and a stored row that cannot be decoded
//!   is moved to `rejected` with its error, logged and counted
//!   (`spool_rejected` in the guard's status) — never shipped as nothing,
//!   never deleted.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::{params, Connection};
use tokio::sync::{mpsc, oneshot, Notify};

use super::client::{ApiError, AuthorityApi};
use authority::ToolCall;

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
    /// Events moved to the `rejected` table (by the authority, or undecodable).
    pub(crate) rejected: Arc<AtomicU64>,
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
            rejected: Arc::new(AtomicU64::new(0)),
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
        let decoded = decode_batch(&batch);
        let sent = decoded.calls.len();
        let result = if sent == 0 {
            Ok(())
        } else {
            api.ingest(decoded.calls).await
        };
        let rejected = match result {
            Ok(()) => None,
            Err(ApiError::Rejected { status, message }) => Some(format!("{status}: {message}")),
            Err(e) => return Err(e),
        };
        let db = self.db.clone();
        let n = batch.len();
        let undecodable = decoded.undecodable;
        let moved = undecodable.len() + if rejected.is_some() { sent } else { 0 };
        tokio::task::spawn_blocking(move || {
            settle(&mut db.lock(), last_id, rejected.as_deref(), &undecodable)
        })
        .await
        .map_err(|e| ApiError::Protocol(e.to_string()))?
        .map_err(|e| ApiError::Protocol(format!("spool delete: {e}")))?;
        self.pending.fetch_sub(n as u64, Ordering::Relaxed);
        self.shipped
            .fetch_add((n - moved) as u64, Ordering::Relaxed);
        self.rejected.fetch_add(moved as u64, Ordering::Relaxed);
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

/// A batch read back from the spool, split into what can be shipped and
/// what cannot be decoded.
struct DecodedBatch {
    calls: Vec<ToolCall>,
    /// Row ids and why each could not be decoded.
    undecodable: Vec<(i64, String)>,
}

fn decode_batch(batch: &[(i64, String)]) -> DecodedBatch {
    let mut decoded = DecodedBatch {
        calls: Vec::with_capacity(batch.len()),
        undecodable: Vec::new(),
    };
    for (id, body) in batch {
        match serde_json::from_str::<ToolCall>(body) {
            Ok(call) => decoded.calls.push(call),
            Err(error) => {
                tracing::error!(
                    row = id,
                    %error,
                    "an audit spool row cannot be decoded; moved to the spool's `rejected` table"
                );
                decoded
                    .undecodable
                    .push((*id, format!("undecodable spool row: {error}")));
            }
        }
    }
    decoded
}

/// Removes the rows up to `last_id` from the queue once they are settled:
/// shipped, or kept in `rejected` with their error (every row when the
/// authority rejected the batch, and every undecodable row in any case).
fn settle(
    conn: &mut Connection,
    last_id: i64,
    rejected: Option<&str>,
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
    if let Some(error) = rejected {
        tracing::error!(
            error,
            "the authority rejected a batch of audit events; kept in the spool's `rejected` table"
        );
        tx.execute(
            "INSERT OR IGNORE INTO rejected (id, body, error) SELECT id, body, ?2 FROM events WHERE id <= ?1",
            params![last_id, error],
        )?;
    }
    tx.execute("DELETE FROM events WHERE id <= ?1", [last_id])?;
    tx.commit()
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
        // An event that cannot be encoded is refused on its own (its call
        // fails closed); it never becomes an empty row.
        let mut encoded = Vec::with_capacity(batch.len());
        for (call, reply) in batch {
            match serde_json::to_string(&call) {
                Ok(body) => encoded.push((body, reply)),
                Err(e) => {
                    let _ = reply.send(Err(SpoolError::Write(format!(
                        "cannot encode the audit event: {e}"
                    ))));
                }
            }
        }
        if encoded.is_empty() {
            continue;
        }
        let bodies: Vec<String> = encoded.iter().map(|(body, _)| body.clone()).collect();
        let db = db.clone();
        let result =
            tokio::task::spawn_blocking(move || insert_events(&mut db.lock(), &bodies)).await;
        let result = match result {
            Ok(Ok(())) => {
                pending.fetch_add(encoded.len() as u64, Ordering::Relaxed);
                wake.notify_one();
                Ok(())
            }
            Ok(Err(e)) => Err(SpoolError::Write(e.to_string())),
            Err(e) => Err(SpoolError::Write(e.to_string())),
        };
        for (_, reply) in encoded {
            let _ = reply.send(result.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use authority::audit::Decision;
    use authority::RawKey;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn call(tool: &str) -> ToolCall {
        ToolCall {
            org: None,
            key_id: None,
            agent: None,
            tool: tool.to_owned(),
            required_scope: None,
            decision: Decision::Allowed,
            reason: None,
            server: None,
            request_id: None,
            client_ip: None,
            latency_us: None,
            ts: None,
        }
    }

    /// A stand-in for the authority's ingest endpoint on a real loopback
    /// socket: answers 201 to every request and hands each body over.
    async fn accepting_authority() -> (String, mpsc::UnboundedReceiver<serde_json::Value>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 8192];
                    loop {
                        let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        while buf.len() < head_end + 4 + length {
                            match socket.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let body: Vec<u8> = buf
                            .drain(..head_end + 4 + length)
                            .skip(head_end + 4)
                            .collect();
                        let _ = tx.send(serde_json::from_slice(&body).unwrap());
                        let answer = "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                        if socket.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (base, rx)
    }

    #[tokio::test]
    async fn an_undecodable_row_is_kept_as_rejected_not_shipped_as_nothing_or_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        spool.append(call("first")).await.unwrap();
        // A row no guard wrote: damaged on disk, or written by another version.
        spool
            .db
            .lock()
            .execute("INSERT INTO events (body) VALUES ('{\"tool\": 42')", [])
            .unwrap();
        spool.pending.fetch_add(1, Ordering::Relaxed);
        spool.append(call("second")).await.unwrap();

        let (base, mut bodies) = accepting_authority().await;
        let api = AuthorityApi::new(
            reqwest::Client::new(),
            base,
            Arc::new(RawKey::new_unchecked("ace_test_unused".into())),
        );
        assert_eq!(spool.ship_once(&api).await.unwrap(), 3);

        let sent = bodies.recv().await.unwrap();
        let tools: Vec<&str> = sent["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["tool"].as_str().unwrap())
            .collect();
        assert_eq!(
            tools,
            ["first", "second"],
            "only decodable events are shipped"
        );

        let conn = spool.db.lock();
        let (body, error): (String, String) = conn
            .query_row("SELECT body, error FROM rejected", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(body, "{\"tool\": 42");
        assert!(error.contains("undecodable"), "{error}");
        let left: i64 = conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
        assert_eq!(spool.rejected.load(Ordering::Relaxed), 1);
        assert_eq!(spool.shipped.load(Ordering::Relaxed), 2);
        assert_eq!(spool.pending.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_second_process_cannot_open_the_same_spool() {
        let dir = tempfile::tempdir().unwrap();
        let _first = open(dir.path()).unwrap();
        let second = open(dir.path());
        assert!(matches!(second, Err(SpoolError::Open { .. })), "{second:?}");
    }
}
