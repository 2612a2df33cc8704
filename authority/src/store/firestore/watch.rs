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
//! If Firestore drops the target for good, the watcher says
//! [`SharedChange::Resync`] (the authority drops its whole cache) and logs an
//! error; it does not re-listen (a restart of the server does).
//!
//! Memory: `seen` holds one entry per key revoked since the server started;
//! past 100,000 entries the oldest half is forgotten (a resend of one of
//! those is passed on again: an extra eviction, never a missed one).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use firestore::gcloud_sdk::google::firestore::v1::listen_response::ResponseType;
use firestore::gcloud_sdk::google::firestore::v1::target_change::TargetChangeType;
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
use crate::revocation::{KeyChange, Origin, RevocationEvent};
use crate::store::{SharedChange, StoreError};
use crate::time::Timestamp;

/// Notices written up to this long before the listener started are
/// delivered too (servers' clocks disagree a little).
const SKEW_MARGIN_MS: i64 = 5 * 60 * 1000;
const TARGET: u32 = 1;
const SEEN_CAP: usize = 100_000;

/// Whether a notice is new for its key; forgets the oldest half past the cap.
fn first_sight(seen: &Mutex<HashMap<String, i64>>, ev: &RevocationEvent) -> bool {
    let at = ev.revoked_at.as_millis();
    let mut seen = seen.lock();
    if seen.get(&ev.key_hash) == Some(&at) {
        return false;
    }
    if seen.len() >= SEEN_CAP {
        let mut ages: Vec<i64> = seen.values().copied().collect();
        let (_, median, _) = ages.select_nth_unstable(SEEN_CAP / 2);
        let cut = *median;
        seen.retain(|_, t| *t > cut);
    }
    seen.insert(ev.key_hash.clone(), at);
    true
}

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
        // Notices written before quarantine existed are revocations.
        change: KeyChange::from_stored(r.opt_str("change").ok().flatten().as_deref()),
    })
}

/// Starts the listener; it runs until `sink` closes.
pub(super) async fn start(
    s: &FirestoreStore,
    sink: mpsc::Sender<SharedChange>,
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
    let control = Arc::new(listener.control_handle());
    listener
        .start(move |event| {
            let (seen, sink, control) = (seen.clone(), cb_sink.clone(), control.clone());
            async move {
                // A closed sink ends the watch below, so send errors are moot.
                match event {
                    ResponseType::DocumentChange(change) => {
                        if let Some(doc) = change.document.as_ref() {
                            match notice(doc) {
                                Some(ev) if first_sight(&seen, &ev) => {
                                    let _ = sink.send(SharedChange::Revoked(ev)).await;
                                }
                                Some(_) => {}
                                None => tracing::warn!(
                                    doc = %doc.name,
                                    "unreadable revocation notice ignored"
                                ),
                            }
                        }
                    }
                    // A target still registered is re-added (and resumed)
                    // by firestore-rs after its retry delay; one that is not
                    // has ended for good.
                    ResponseType::TargetChange(change)
                        if change.target_change_type == TargetChangeType::Remove as i32
                            && !control.has_target(&FirestoreListenerTarget::new(TARGET)) =>
                    {
                        tracing::error!(
                            cause = ?change.cause,
                            "Firestore ended the revocation listener; cached validations dropped, \
                             other servers' revocations now reach this one only through the cache TTL"
                        );
                        let _ = sink.send(SharedChange::Resync).await;
                    }
                    _ => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: i64) -> RevocationEvent {
        RevocationEvent {
            key_id: KeyId::from_stored(format!("key_{n}")),
            org: OrgId::from_stored("acme".into()),
            key_hash: format!("{n:064x}"),
            revoked_at: Timestamp::from_millis(n),
            origin: Origin::Remote,
            change: KeyChange::Revoked,
        }
    }

    #[test]
    fn a_resent_notice_passes_once_and_the_memory_stays_bounded() {
        let seen = Mutex::new(HashMap::new());
        assert!(first_sight(&seen, &ev(1)));
        assert!(!first_sight(&seen, &ev(1)), "a resend after a reset");
        let mut later = ev(1);
        later.revoked_at = Timestamp::from_millis(0);
        assert!(first_sight(&seen, &later), "an earlier revocation is news");
        for n in 2..=(SEEN_CAP as i64 + 1) {
            first_sight(&seen, &ev(n));
        }
        let len = seen.lock().len();
        assert!(len <= SEEN_CAP / 2 + 1, "{len}");
        assert!(
            !first_sight(&seen, &ev(SEEN_CAP as i64 + 1)),
            "the newest are kept"
        );
    }
}
