//! Group-committed, durable recording of tool-call events.
//!
//! Callers hand events to one flusher task through a bounded queue and wait.
//! The flusher takes everything queued (up to `max_batch` events, capped by
//! the store's [`max_append_batch`](crate::store::Store::max_append_batch)),
//! places the events in their chains, writes them in ONE store transaction
//! (one fsync on SQLite, one commit on Firestore), and only then answers
//! every caller of the batch. While a batch
//! commits the next one accumulates, so throughput grows with concurrency
//! while each caller still waits for its own durable write.
//!
//! Fail closed: if the batch cannot be written, every caller in it gets an
//! error, and the chain heads are not advanced (no sequence gap). If the
//! acknowledgement does not arrive within `ack_timeout` the caller gets an
//! error too, although the event may still land later.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::audit::chain::ChainState;
use crate::audit::heads::HeadBook;
use crate::ids::EventId;
use crate::stats::Stats;
use crate::store::{Store, StoreError};
use model::audit::{AuditEvent, NewEvent};

#[derive(Debug, Clone)]
pub struct RecorderConfig {
    pub max_batch: usize,
    pub queue: usize,
    pub ack_timeout: Duration,
}

impl Default for RecorderConfig {
    fn default() -> Self {
        Self {
            max_batch: 8192,
            queue: 65_536,
            ack_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecorderError {
    #[error("audit event could not be recorded: {0}")]
    Store(StoreError),
    #[error("audit recorder is shut down")]
    Closed,
    #[error("audit event not acknowledged in time")]
    Timeout,
}

struct Job {
    events: Vec<(EventId, NewEvent)>,
    reply: oneshot::Sender<Result<(), RecorderError>>,
}

/// Handle to the flusher; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Job>,
    writer: Arc<str>,
    ack_timeout: Duration,
}

impl Recorder {
    /// Batches waiting for the flusher right now.
    pub fn queue_depth(&self) -> u64 {
        (self.tx.max_capacity() - self.tx.capacity()) as u64
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("writer", &self.writer)
            .finish()
    }
}

impl Recorder {
    /// Starts the flusher on the current Tokio runtime.
    pub(crate) fn start(
        store: Arc<dyn Store>,
        writer: String,
        cfg: RecorderConfig,
        stats: Arc<Stats>,
        heads: Arc<HeadBook>,
    ) -> Self {
        let (tx, rx) = mpsc::channel(cfg.queue.max(1));
        let writer: Arc<str> = writer.into();
        let max_batch = cfg.max_batch.min(store.max_append_batch()).max(1);
        tokio::spawn(flusher(
            store,
            ChainState::new(writer.to_string()),
            rx,
            max_batch,
            stats,
            heads,
        ));
        Self {
            tx,
            writer,
            ack_timeout: cfg.ack_timeout,
        }
    }

    /// Records one event; returns once it is durable.
    pub async fn record(&self, event: NewEvent) -> Result<EventId, RecorderError> {
        let id = EventId::generate();
        self.submit(vec![(id.clone(), event)]).await?;
        Ok(id)
    }

    /// Records several events atomically (all or none) when they fit in one
    /// store commit ([`Store::max_append_batch`]); a larger job is written
    /// in consecutive parts (see the flusher).
    pub async fn record_batch(&self, events: Vec<NewEvent>) -> Result<Vec<EventId>, RecorderError> {
        let with_ids: Vec<(EventId, NewEvent)> = events
            .into_iter()
            .map(|e| (EventId::generate(), e))
            .collect();
        let ids = with_ids.iter().map(|(id, _)| id.clone()).collect();
        self.submit(with_ids).await?;
        Ok(ids)
    }

    async fn submit(&self, events: Vec<(EventId, NewEvent)>) -> Result<(), RecorderError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { events, reply })
            .await
            .map_err(|_| RecorderError::Closed)?;
        match tokio::time::timeout(self.ack_timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(RecorderError::Closed),
            Err(_) => Err(RecorderError::Timeout),
        }
    }
}

async fn flusher(
    store: Arc<dyn Store>,
    mut state: ChainState,
    mut rx: mpsc::Receiver<Job>,
    max_batch: usize,
    stats: Arc<Stats>,
    heads: Arc<HeadBook>,
) {
    // A job that would push a commit past `max_batch` waits for the next.
    let mut carried: Option<Job> = None;
    loop {
        let first = match carried.take() {
            Some(job) => job,
            None => match rx.recv().await {
                Some(job) => job,
                None => break,
            },
        };
        let mut n = first.events.len();
        let mut jobs = vec![first];
        while n < max_batch {
            match rx.try_recv() {
                Ok(j) if n + j.events.len() <= max_batch => {
                    n += j.events.len();
                    jobs.push(j);
                }
                Ok(j) => {
                    carried = Some(j);
                    break;
                }
                Err(_) => break,
            }
        }
        let mut pending: Vec<(EventId, NewEvent)> = Vec::with_capacity(n);
        let mut replies = Vec::with_capacity(jobs.len());
        for job in jobs {
            pending.extend(job.events);
            replies.push(job.reply);
        }
        // Only a single job larger than the store's atomic commit is split:
        // each part commits atomically; if one fails, the parts before it
        // stay recorded and every caller of the job is refused (a retry
        // records them again: duplicates, never loss).
        let mut answer = Ok(());
        let mut scratch = state.clone();
        let mut rest = pending.into_iter().peekable();
        while rest.peek().is_some() {
            let events: Vec<AuditEvent> = rest
                .by_ref()
                .take(max_batch)
                .map(|(id, body)| scratch.place(id, body))
                .collect();
            let started = std::time::Instant::now();
            let result = store.append_audit(&events).await;
            let elapsed = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            Stats::add(&stats.audit_commit_micros, elapsed);
            Stats::add(&stats.audit_commits, 1);
            match result {
                Ok(()) => {
                    Stats::add(&stats.audit_events, events.len() as u64);
                    state = scratch.clone();
                    heads.advance(&events);
                }
                Err(e) => {
                    Stats::add(&stats.audit_commit_failures, 1);
                    tracing::error!(error = %e, events = events.len(), "audit batch not recorded; callers refused");
                    if matches!(e, StoreError::Unavailable(_)) {
                        state = state.restarted();
                    }
                    answer = Err(RecorderError::Store(e));
                    break;
                }
            }
        }
        for r in replies {
            let _ = r.send(answer.clone());
        }
    }
}
