//! The revocation listener: `GET /api/v1/revocations/stream` (SSE), so a
//! revoked key is evicted from the cache within milliseconds rather than
//! at the end of the cache TTL.
//!
//! - Every event id is remembered and sent back as `Last-Event-ID` on
//!   reconnect: the authority replays what happened in between.
//! - `reset` (the authority dropped events for this listener) and a failed
//!   reconnect (revocations may be missed for an unknown time) drop the
//!   whole cache. A connection without a resume point drops it too.
//! - A connection silent for longer than [`IDLE_LIMIT`] (the authority
//!   sends a checkpoint every 10 s and keep-alives) counts as lost.
//! - While the stream is down the guard reports itself degraded and
//!   `warn!`s; cached answers then live at most the cache TTL.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use parking_lot::Mutex;
use serde::Deserialize;

use super::cache::IntrospectionCache;
use super::client::{check, transport, ApiError, AuthorityApi};
use crate::allowance::Allowances;
use crate::tripwire::Tripwires;
use authority::ids::{KeyId, OrgId};
use authority::time::{Clock, SystemClock, Timestamp};

/// A connection that delivers nothing for this long is treated as lost.
const IDLE_LIMIT: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Shared between the listener and `Guard::status`.
#[derive(Default)]
pub(crate) struct StreamState {
    pub(crate) connected: AtomicBool,
    pub(crate) connects: AtomicU64,
    pub(crate) last_error: Mutex<Option<String>>,
    last_event_id: Mutex<Option<String>>,
}

#[derive(Deserialize)]
struct RevocationData {
    key_id: String,
    org: String,
    revoked_at: Timestamp,
}

/// A `hold` event: a key went into quarantine or came out of it.
#[derive(Deserialize)]
struct HoldData {
    key_id: String,
    org: String,
    change: authority::revocation::KeyChange,
}

/// Runs until aborted.
pub(crate) async fn listen(
    http: reqwest::Client,
    api: Arc<AuthorityApi>,
    cache: Arc<IntrospectionCache>,
    state: Arc<StreamState>,
    scopes: Arc<Vec<authority::ScopeRegistration>>,
    tripwires: Arc<Tripwires>,
    allowances: Arc<Allowances>,
) {
    let mut failures: u32 = 0;
    loop {
        let resume = state.last_event_id.lock().clone();
        match connect(&http, &api, resume.as_deref()).await {
            Ok(response) => {
                if failures > 0 || resume.is_some() {
                    // The authority may have restarted and forgotten them.
                    api.register_scopes_or_warn(&scopes).await;
                }
                failures = 0;
                let hooks = Hooks {
                    tripwires: &tripwires,
                    allowances: &allowances,
                };
                let ended = consume(response, &cache, &hooks, &state, resume.is_none()).await;
                if state.connected.swap(false, Ordering::SeqCst) {
                    tracing::warn!(reason = %ended, "revocation stream lost; reconnecting (cached keys are bounded by the cache TTL meanwhile)");
                }
                *state.last_error.lock() = Some(format!("revocation stream: {ended}"));
            }
            Err(e) => {
                failures += 1;
                if failures == 1 {
                    // Revocations may be missed for as long as this lasts.
                    cache.clear();
                    allowances.clear();
                    tracing::warn!(error = %e, "cannot connect the revocation stream; cache dropped, guard degraded");
                }
                *state.last_error.lock() = Some(format!("revocation stream: {e}"));
                let backoff = Duration::from_millis(100u64 << failures.min(5)).min(MAX_BACKOFF);
                tokio::time::sleep(backoff).await;
            }
        }
    }
}

async fn connect(
    http: &reqwest::Client,
    api: &AuthorityApi,
    resume: Option<&str>,
) -> Result<reqwest::Response, ApiError> {
    let mut request = http
        .get(api.url("/api/v1/revocations/stream"))
        .header(reqwest::header::AUTHORIZATION, api.bearer())
        .header(reqwest::header::ACCEPT, "text/event-stream");
    if let Some(id) = resume {
        request = request.header("last-event-id", id);
    }
    check(request.send().await.map_err(transport)?).await
}

/// Reads events until the stream ends; returns why it ended.
async fn consume(
    response: reqwest::Response,
    cache: &Arc<IntrospectionCache>,
    hooks: &Hooks<'_>,
    state: &StreamState,
    fresh: bool,
) -> String {
    let mut body = response.bytes_stream();
    let mut parser = SseParser::default();
    let mut first = true;
    loop {
        let chunk = match tokio::time::timeout(IDLE_LIMIT, body.next()).await {
            Err(_) => return "idle for too long".into(),
            Ok(None) => return "closed by the authority".into(),
            Ok(Some(Err(e))) => return transport(e).to_string(),
            Ok(Some(Ok(chunk))) => chunk,
        };
        for event in parser.feed(&chunk) {
            if first {
                first = false;
                if fresh {
                    // Nothing says what was revoked before this connection.
                    cache.clear();
                    hooks.allowances.clear();
                }
                state.connected.store(true, Ordering::SeqCst);
                state.connects.fetch_add(1, Ordering::Relaxed);
                *state.last_error.lock() = None;
                tracing::info!("revocation stream connected");
            }
            apply(&event, cache, hooks);
            if let Some(id) = event.id {
                *state.last_event_id.lock() = Some(id);
            }
        }
    }
}

/// What else hears the stream besides the cache.
struct Hooks<'a> {
    tripwires: &'a Tripwires,
    allowances: &'a Allowances,
}

fn apply(event: &SseEvent, cache: &Arc<IntrospectionCache>, hooks: &Hooks<'_>) {
    match event.event.as_str() {
        // Quarantine or release: the next call asks the authority again
        // (never remembered as revoked: a released key works at once).
        "hold" => match serde_json::from_str::<HoldData>(&event.data) {
            Ok(data) => {
                let (Some(key_id), Ok(org)) = (KeyId::parse(&data.key_id), OrgId::parse(&data.org))
                else {
                    cache.clear();
                    hooks.allowances.clear();
                    return;
                };
                cache.evict_key(&key_id, &org, false);
                match data.change {
                    authority::revocation::KeyChange::Released => hooks.tripwires.release(&key_id),
                    authority::revocation::KeyChange::Updated => {
                        hooks.allowances.forget_owner(&key_id);
                    }
                    _ => {}
                }
            }
            Err(_) => {
                cache.clear();
                hooks.allowances.clear();
            }
        },
        "revocation" => match serde_json::from_str::<RevocationData>(&event.data) {
            Ok(data) => {
                let (Some(key_id), Ok(org)) = (KeyId::parse(&data.key_id), OrgId::parse(&data.org))
                else {
                    cache.clear();
                    return;
                };
                let now = SystemClock.now();
                if data.revoked_at <= now {
                    cache.evict_key(&key_id, &org, true);
                } else {
                    // Rotation grace: evict now (re-introspection is cheap)
                    // and again when the revocation takes effect.
                    cache.evict_key(&key_id, &org, false);
                    schedule(
                        key_id,
                        org,
                        data.revoked_at.as_millis() - now.as_millis(),
                        cache,
                    );
                }
            }
            // An event we cannot read may have been a revocation.
            Err(_) => cache.clear(),
        },
        "reset" => {
            tracing::warn!("revocation stream reset: dropping every cached key");
            cache.clear();
            hooks.allowances.clear();
        }
        "checkpoint" => cache.prune_index(),
        _ => {}
    }
}

fn schedule(key_id: KeyId, org: OrgId, after_ms: i64, cache: &Arc<IntrospectionCache>) {
    let cache = Arc::downgrade(cache);
    let delay = Duration::from_millis(u64::try_from(after_ms).unwrap_or(0));
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        if let Some(cache) = cache.upgrade() {
            cache.evict_key(&key_id, &org, true);
        }
    });
}

/// One dispatched server-sent event.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct SseEvent {
    pub(crate) event: String,
    pub(crate) data: String,
    pub(crate) id: Option<String>,
}

/// Incremental `text/event-stream` parser (the subset the authority sends:
/// `event`, `data`, `id`, comments).
#[derive(Default)]
pub(crate) struct SseParser {
    buffer: Vec<u8>,
    current: SseEvent,
    has_data: bool,
}

impl SseParser {
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        self.buffer.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some(pos) = self.buffer.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buffer.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if self.has_data || !self.current.event.is_empty() {
                    if self.current.event.is_empty() {
                        self.current.event = "message".into();
                    }
                    out.push(std::mem::take(&mut self.current));
                }
                self.has_data = false;
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => self.current.event = value.to_owned(),
                "data" => {
                    if self.has_data {
                        self.current.data.push('\n');
                    }
                    self.current.data.push_str(value);
                    self.has_data = true;
                }
                "id" => self.current.id = Some(value.to_owned()),
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_split_across_chunks() {
        let mut p = SseParser::default();
        assert!(p.feed(b"event: checkpoint\nid: 17\nda").is_empty());
        let events = p.feed(
            b"ta: {\"at\":17}\n\n: keep-alive\n\nevent: revocation\r\nid: 18\r\ndata: {}\r\n\r\n",
        );
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: "checkpoint".into(),
                    data: "{\"at\":17}".into(),
                    id: Some("17".into())
                },
                SseEvent {
                    event: "revocation".into(),
                    data: "{}".into(),
                    id: Some("18".into())
                },
            ]
        );
    }
}
