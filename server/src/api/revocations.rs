//! `GET /api/v1/revocations/stream`: Server-Sent Events of the caller's
//! org's revocations, for remote validators to evict at once.
//!
//! Resumption: every event's id is the server's clock (epoch ms) when it
//! was sent. On reconnect with `Last-Event-ID: T`, every revocation of the
//! org that took effect at or after `T - RESUME_SLACK`, or is scheduled
//! for later, is sent again before the live feed, so none is missed across
//! a reconnect (repeats are harmless: evicting twice is a no-op). A
//! `checkpoint` event every few seconds keeps `T` recent.
//!
//! A key put in quarantine or released comes as a `hold` event
//! (`{key_id, org, at, change}`): evict, and do not remember it as revoked.
//!
//! The stream ends when the caller's own key stops working.
//!
//! A key may hold at most [`MAX_STREAMS_PER_KEY`] streams at once (a guard
//! needs one; a few more cover reconnects that overlap the old stream's
//! end); past that the request gets 429, so one key cannot pin an unbounded
//! number of tasks and broadcast receivers on the server.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use authority::revocation::{CatchUp, KeyChange};
use authority::time::Timestamp;
use authority::{KeyId, RevocationEvent};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use super::required::{Authed, KeysIntrospect, RequiredScope};
use super::ApiState;
use crate::error::ApiError;

/// How far before the client's last event id a resume looks back: the clock
/// skew between authority nodes sharing a store that a resume tolerates (a
/// revocation stamped by a node whose clock runs behind this one's). A
/// minute, like the longest cache TTL; a wider window only repeats events.
const RESUME_SLACK_MS: i64 = 60_000;
/// How often a checkpoint is sent and the caller's key re-checked.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(10);
/// Open streams one key may hold.
pub const MAX_STREAMS_PER_KEY: usize = 8;

/// Open streams per key.
#[derive(Default)]
pub struct StreamSlots(std::sync::Mutex<HashMap<KeyId, usize>>);

/// One open stream's slot, given back when the stream's task ends.
struct StreamSlot {
    slots: Arc<StreamSlots>,
    key: KeyId,
}

impl StreamSlots {
    fn take(slots: &Arc<StreamSlots>, key: &KeyId) -> Option<StreamSlot> {
        let mut open = slots
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(key.clone()).or_insert(0);
        if *count >= MAX_STREAMS_PER_KEY {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            slots: slots.clone(),
            key: key.clone(),
        })
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self
            .slots
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

#[derive(Serialize)]
struct RevocationData {
    key_id: String,
    org: String,
    revoked_at: Timestamp,
}

/// `GET /api/v1/revocations/stream`
#[utoipa::path(
    get,
    path = "/revocations/stream",
    summary = "Server-Sent Events of revocations in your org; resumable with Last-Event-ID",
    description = "Requires `svc:keys:introspect` (or `admin:org`).",
    params(("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses(
        (status = 200, description = "text/event-stream of `revocation`, `checkpoint` and `reset` events", content_type = "text/event-stream"),
        super::openapi::AuthFailures,
        (status = 400, description = "Bad Last-Event-ID", body = model::wire::ErrorEnvelope),
    )
)]
pub async fn stream(
    State(state): State<ApiState>,
    Authed {
        principal,
        raw_key,
        client,
        ..
    }: Authed<KeysIntrospect>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let resume_from = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "`Last-Event-ID` must be an event id this stream sent (epoch milliseconds)",
                    )
                })?,
        ),
    };
    let slot = StreamSlots::take(&state.streams, &principal.key_id).ok_or_else(|| {
        ApiError::rate_limited_because(
            5,
            format!("this key already holds {MAX_STREAMS_PER_KEY} open revocation streams; close one first"),
        )
    })?;
    // Subscribe before reading the catch-up so nothing falls in between.
    let live = state.authority.subscribe_revocations();
    // `None`: too many to replay; the client is told to start over.
    let catch_up = match resume_from {
        Some(since_ms) => {
            let since = Timestamp::from_millis(since_ms.saturating_sub(RESUME_SLACK_MS));
            match state.authority.revocations_since(&principal, since).await? {
                CatchUp::Events(events) => Some(
                    events
                        .into_iter()
                        .map(|event| RevocationData {
                            key_id: event.key_id.to_string(),
                            org: event.org.to_string(),
                            revoked_at: event.revoked_at,
                        })
                        .collect(),
                ),
                CatchUp::TooMany => None,
            }
        }
        None => Some(Vec::new()),
    };

    let (sender, receiver) = mpsc::channel(64);
    tokio::spawn(async move {
        let _slot = slot;
        feed(state, principal, (raw_key, client), catch_up, live, sender).await;
    });
    Ok(Sse::new(ReceiverStream::new(receiver))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The stream's own key as presented, and where from: re-checked at every
/// checkpoint, so a revoked key (or one moved outside its networks) ends it.
type Presented = (String, std::net::IpAddr);

async fn feed(
    state: ApiState,
    principal: std::sync::Arc<authority::KeyContext>,
    presented: Presented,
    catch_up: Option<Vec<RevocationData>>,
    live: broadcast::Receiver<RevocationEvent>,
    sender: mpsc::Sender<Result<Event, Infallible>>,
) {
    let mut clock = EventClock::default();
    if sender.send(Ok(checkpoint(&mut clock))).await.is_err() {
        return;
    }
    let Some(catch_up) = catch_up else {
        let _ = sender.send(Ok(reset(&mut clock))).await;
        return feed_live(state, principal, presented, live, sender, clock).await;
    };
    for data in catch_up {
        if sender
            .send(Ok(revocation(&mut clock, &data)))
            .await
            .is_err()
        {
            return;
        }
    }
    feed_live(state, principal, presented, live, sender, clock).await;
}

async fn feed_live(
    state: ApiState,
    principal: std::sync::Arc<authority::KeyContext>,
    (raw_key, client): Presented,
    mut live: broadcast::Receiver<RevocationEvent>,
    sender: mpsc::Sender<Result<Event, Infallible>>,
    mut clock: EventClock,
) {
    let mut ticker = tokio::time::interval(CHECKPOINT_EVERY);
    ticker.tick().await;
    loop {
        let event = tokio::select! {
            received = live.recv() => match received {
                Ok(event) if event.org == principal.org && event.change != KeyChange::Revoked => {
                    hold(&mut clock, &event)
                }
                Ok(event) if event.org == principal.org => {
                    // A rotation's grace period is announced ahead of time; the
                    // stream ends only once its own key has actually stopped.
                    let own_key = event.key_id == principal.key_id
                        && event.revoked_at <= state.authority.now();
                    let data = RevocationData {
                        key_id: event.key_id.to_string(),
                        org: event.org.to_string(),
                        revoked_at: event.revoked_at,
                    };
                    if sender.send(Ok(revocation(&mut clock, &data))).await.is_err() || own_key {
                        return;
                    }
                    continue;
                }
                Ok(_) => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Some revocations were dropped: the client must treat
                    // every cached decision as stale.
                    reset(&mut clock)
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = ticker.tick() => {
                if state.authority.authorize_from(&raw_key, &KeysIntrospect::scope(), Some(client)).await.is_err() {
                    return;
                }
                checkpoint(&mut clock)
            }
            () = sender.closed() => return,
        };
        if sender.send(Ok(event)).await.is_err() {
            return;
        }
    }
}

/// Event ids: the send time in epoch ms, strictly increasing per stream.
#[derive(Default)]
struct EventClock {
    last: i64,
}

impl EventClock {
    fn next(&mut self) -> i64 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
            });
        self.last = now.max(self.last + 1);
        self.last
    }
}

/// Every cached decision is stale: after a gap in the live feed, or a
/// resume with more revocations than one catch-up replays.
fn reset(clock: &mut EventClock) -> Event {
    Event::default()
        .event("reset")
        .id(clock.next().to_string())
        .data("{}")
}

fn checkpoint(clock: &mut EventClock) -> Event {
    let id = clock.next();
    Event::default()
        .event("checkpoint")
        .id(id.to_string())
        .data(format!("{{\"at\":{id}}}"))
}

/// A `hold` event: a key went into quarantine or came out of it. Sent only
/// live (a resumed stream does not replay holds; a guard that reconnects
/// keeps cached keys at most its cache TTL, 60 s at most).
fn hold(clock: &mut EventClock, event: &RevocationEvent) -> Event {
    let json = serde_json::json!({
        "key_id": event.key_id,
        "org": event.org,
        "at": event.revoked_at,
        "change": event.change,
    });
    Event::default()
        .event("hold")
        .id(clock.next().to_string())
        .data(json.to_string())
}

fn revocation(clock: &mut EventClock, data: &RevocationData) -> Event {
    let json = serde_json::to_string(data).unwrap_or_else(|_| "{}".to_owned());
    Event::default()
        .event("revocation")
        .id(clock.next().to_string())
        .data(json)
}
