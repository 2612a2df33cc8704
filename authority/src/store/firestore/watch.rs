//! Revocations across servers: a Firestore listener on `revocations/*`.
//!
//! Every revocation commits a notice `revocations/{hash}` with the key; each
//! server listens to the notices written since it started (minus a margin
//! for clock skew between servers) and feeds them to its authority, which
//! evicts the key from its cache and re-broadcasts it on its own revocation
//! stream.
//!
//! The listener's view is treated as a set, not a sequence of events: a
//! reset followed by a resend of every matching notice (what the emulator
//! does on each change) re-delivers notices already seen, so each is passed
//! on only when its `revoked_at` is new for that key. Firestore's client
//! reconnects and resumes by itself; while it is disconnected the
//! validator's cache TTL (at most 60 s) bounds how stale a decision can be.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use firestore::gcloud_sdk::google::firestore::v1::listen_response::ResponseType;
use firestore::{
    FirestoreListenerParams, FirestoreListenerTarget, FirestoreListenerTargetParams,
    FirestoreMemListenStateStorage, FirestoreTargetType,
};
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::docs::{self, Reader};
use super::indexes::Query;
use super::{unavailable, wall_clock_millis, FirestoreStore};
use crate::ids::{KeyId, OrgId};
use crate::keys::KeyHash;
use crate::store::StoreError;
use crate::time::Timestamp;
use crate::validator::{Origin, RevocationEvent};

/// Notices written up to this long before the listener started are
/// delivered too (servers' clocks disagree a little).
const SKEW_MARGIN_MS: i64 = 5 * 60 * 1000;
const TARGET: u32 = 1;

fn notice(doc: &firestore::gcloud_sdk::google::firestore::v1::Document) -> Option<RevocationEvent> {
    let hash_hex = doc.name.rsplit('/').next()?;
    KeyHash::from_hex(hash_hex)?;
    let r = Reader::new(doc);
    Some(RevocationEvent {
        key_id: KeyId::from_stored(r.str("key_id").ok()?),
        org: OrgId::from_stored(r.str("org").ok()?),
        key_hash: hash_hex.to_owned(),
        revoked_at: Timestamp::from_millis(r.int("revoked_at").ok()?),
        origin: Origin::Remote,
    })
}

/// Starts the listener; it runs until `sink` closes.
pub(super) async fn start(
    s: &FirestoreStore,
    sink: mpsc::Sender<RevocationEvent>,
) -> Result<(), StoreError> {
    let since = wall_clock_millis() - SKEW_MARGIN_MS;
    let params = Query::of(None, "revocations")
        .gte("written_at", docs::int(since))
        .into_params(s.db().get_documents_path());
    let mut listener = s
        .db()
        .create_listener_with_params(
            FirestoreMemListenStateStorage::new(),
            FirestoreListenerParams::new().with_retry_delay(Duration::from_millis(500)),
        )
        .await
        .map_err(unavailable)?;
    listener
        .add_target(FirestoreListenerTargetParams::new(
            FirestoreListenerTarget::new(TARGET),
            FirestoreTargetType::Query(params),
            HashMap::new(),
        ))
        .map_err(unavailable)?;
    let seen: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let cb_sink = sink.clone();
    listener
        .start(move |event| {
            let (seen, sink) = (seen.clone(), cb_sink.clone());
            async move {
                if let ResponseType::DocumentChange(change) = event {
                    if let Some(doc) = change.document.as_ref() {
                        if let Some(ev) = notice(doc) {
                            let at = ev.revoked_at.as_millis();
                            let new = seen.lock().insert(ev.key_hash.clone(), at) != Some(at);
                            if new {
                                // A closed sink ends the watch below.
                                let _ = sink.send(ev).await;
                            }
                        } else {
                            tracing::warn!(doc = %doc.name, "unreadable revocation notice ignored");
                        }
                    }
                }
                Ok(())
            }
        })
        .await
        .map_err(unavailable)?;
    tokio::spawn(async move {
        sink.closed().await;
        if let Err(e) = listener.shutdown().await {
            tracing::warn!(error = %e, "revocation listener stopped with an error");
        }
    });
    Ok(())
}
