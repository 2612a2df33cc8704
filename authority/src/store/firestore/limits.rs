//! Limits on keys and the allowance counters guards take calls from: one
//! document per limit (`orgs/{org}/allowances/{owner}.{counter}`), read and
//! written back under an update-time precondition, so servers racing for
//! the same counter never hand out the same calls twice.

use super::audit::event_writes;
use super::docs::{self, Reader};
use super::keys::key_doc;
use super::FirestoreStore;
use super::{create, retrying, set, update_if_unchanged, wall_clock_millis, CommitError};
use crate::audit::AuditEvent;
use crate::guardrails::limits::take;
use crate::guardrails::KeyLimits;
use crate::ids::{KeyId, OrgId};
use crate::revocation::KeyChange;
use crate::store::{KeyRecord, StoreError};
use crate::time::Timestamp;

const WINDOW_FIELD: &str = "window_start";
const USED_FIELD: &str = "used";

pub(super) async fn set_limits(
    s: &FirestoreStore,
    org: &OrgId,
    id: &KeyId,
    limits: &KeyLimits,
    now: Timestamp,
    event: &AuditEvent,
) -> Result<Option<KeyRecord>, StoreError> {
    retrying(|| async move {
        let Some((doc, mut k)) = key_doc(s, org, id).await? else {
            return Ok(None);
        };
        if k.revoked_at.is_some() {
            return Err(StoreError::Conflict(
                "the key is revoked: its limits no longer matter".into(),
            )
            .into());
        }
        let mut writes = vec![
            update_if_unchanged(&doc, docs::limits_fields(limits), &[docs::LIMITS_FIELD])?,
            set(
                s.revocation_path(&k.hash),
                docs::change_notice_fields(&k, KeyChange::Updated, now, wall_clock_millis()),
            ),
        ];
        writes.extend(event_writes(s, std::slice::from_ref(event)));
        s.commit(writes).await?;
        k.terms.limits = limits.clone();
        Ok(Some(k))
    })
    .await
}

pub(super) async fn take_allowance(
    s: &FirestoreStore,
    org: &OrgId,
    owner: &KeyId,
    counter: &str,
    window_start: i64,
    cap: u64,
) -> Result<u64, StoreError> {
    let path = s.allowance_path(org, owner, &model::hex::encode(counter.as_bytes()));
    let path = &path;
    retrying(|| async move {
        let doc = s.get(path).await?;
        let stored = match &doc {
            None => None,
            Some(d) => {
                let r = Reader::new(d);
                Some((r.int(WINDOW_FIELD)?, r.int(USED_FIELD)?))
            }
        };
        let stored = stored.map(|(w, used)| (w, u64::try_from(used).unwrap_or(u64::MAX)));
        let Some(taken) = take(stored, window_start, cap) else {
            return Ok(0);
        };
        let fields = docs::Fields::from([
            (WINDOW_FIELD.into(), docs::int(taken.window_start)),
            (
                USED_FIELD.into(),
                docs::int(i64::try_from(taken.used).unwrap_or(i64::MAX)),
            ),
        ]);
        let write = match &doc {
            Some(d) => update_if_unchanged(d, fields, &[WINDOW_FIELD, USED_FIELD])?,
            None => create(path.clone(), fields),
        };
        match s.commit(vec![write]).await {
            // Another server created the counter first: read it again.
            Err(CommitError::Exists(_)) => Err(CommitError::Stale),
            other => other.map(|()| taken.granted),
        }
    })
    .await
}
