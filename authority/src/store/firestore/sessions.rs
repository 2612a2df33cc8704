//! Dashboard sessions on Firestore: `sessions/{hex token hash}` (see
//! `crate::sessions`), so every server of the deployment accepts them.

use super::docs::{self, Reader};
use super::indexes::Query;
use super::writes::{create, delete, raise_existing, CommitError};
use super::FirestoreStore;
use crate::ids::OrgId;
use crate::sessions::{SessionActor, SessionRecord, TokenHash};
use crate::store::StoreError;
use crate::time::Timestamp;

fn path(s: &FirestoreStore, t: &TokenHash) -> String {
    format!("{}/sessions/{}", s.root(), t.to_hex())
}

pub(super) async fn create_session(
    s: &FirestoreStore,
    t: &TokenHash,
    session: &SessionRecord,
) -> Result<(), StoreError> {
    let fields = docs::Fields::from([
        ("org".into(), docs::string(session.org.as_str())),
        ("actor_id".into(), docs::string(session.actor.stored_id())),
        (
            "created_at".into(),
            docs::int(session.created_at.as_millis()),
        ),
        (
            "last_seen_at".into(),
            docs::int(session.last_seen_at.as_millis()),
        ),
    ]);
    Ok(s.commit(vec![create(path(s, t), fields)]).await?)
}

pub(super) async fn get_session(
    s: &FirestoreStore,
    t: &TokenHash,
) -> Result<Option<SessionRecord>, StoreError> {
    let Some(doc) = s.get(&path(s, t)).await? else {
        return Ok(None);
    };
    let r = Reader::new(&doc);
    Ok(Some(SessionRecord {
        org: OrgId::from_stored(r.str("org")?),
        actor: SessionActor::from_stored(r.str("actor_id")?),
        created_at: Timestamp::from_millis(r.int("created_at")?),
        last_seen_at: Timestamp::from_millis(r.int("last_seen_at")?),
    }))
}

pub(super) async fn touch_session(
    s: &FirestoreStore,
    t: &TokenHash,
    seen: Timestamp,
) -> Result<(), StoreError> {
    match s
        .commit(vec![raise_existing(
            path(s, t),
            "last_seen_at",
            seen.as_millis(),
        )])
        .await
    {
        Ok(()) | Err(CommitError::Missing) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn delete_session(s: &FirestoreStore, t: &TokenHash) -> Result<(), StoreError> {
    Ok(s.commit(vec![delete(path(s, t))]).await?)
}

async fn delete_all(s: &FirestoreStore, q: Query) -> Result<u64, StoreError> {
    let docs = s.query(q).await?;
    let n = docs.len() as u64;
    for chunk in docs.chunks(super::MAX_COMMIT_WRITES) {
        s.commit(chunk.iter().map(|d| delete(d.name.clone())).collect())
            .await?;
    }
    Ok(n)
}

pub(super) async fn delete_sessions_of(
    s: &FirestoreStore,
    org: &OrgId,
    actor: &SessionActor,
) -> Result<u64, StoreError> {
    let q = Query::of(None, "sessions")
        .eq("org", docs::string(org.as_str()))
        .eq("actor_id", docs::string(actor.stored_id()));
    delete_all(s, q).await
}

pub(super) async fn sweep_sessions(
    s: &FirestoreStore,
    created_before: Timestamp,
    seen_before: Timestamp,
) -> Result<u64, StoreError> {
    // Two range queries (Firestore has no OR over two fields' ranges
    // without a composite index); a session in both is deleted twice,
    // which is harmless.
    let old = Query::of(None, "sessions").lt("created_at", docs::int(created_before.as_millis()));
    let idle = Query::of(None, "sessions").lt("last_seen_at", docs::int(seen_before.as_millis()));
    Ok(delete_all(s, old).await? + delete_all(s, idle).await?)
}
