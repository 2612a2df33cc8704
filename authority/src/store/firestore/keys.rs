//! Orgs and keys on Firestore.

use firestore::gcloud_sdk::google::firestore::v1::{
    document_transform::{field_transform::TransformType, FieldTransform},
    precondition::ConditionType,
    Document, DocumentMask, Precondition, Write,
};
use std::collections::HashMap;

use firestore::gcloud_sdk::tonic::Code;

use super::audit::event_writes;
use super::docs::{self, Reader};
use super::indexes::{Direction, Query};
use super::{create, retrying, set, update_if_unchanged, CommitError, FirestoreStore};
use crate::audit::AuditEvent;
use crate::ids::{KeyId, OrgId};
use crate::keys::KeyHash;
use crate::store::{
    BulkSelection, CatalogEntry, KeyRecord, OrgRecord, Revocation, RevokeResult, StoreError,
};
use crate::time::Timestamp;

pub(super) async fn pepper_fingerprint(
    s: &FirestoreStore,
    fingerprint: &[u8; 32],
) -> Result<[u8; 32], StoreError> {
    let path = format!("{}/meta/pepper", s.root());
    match s
        .commit(vec![create(
            path.clone(),
            docs::fingerprint_fields(fingerprint),
        )])
        .await
    {
        Ok(()) => Ok(*fingerprint),
        Err(CommitError::Exists(_)) => {
            let doc = s
                .get(&path)
                .await?
                .ok_or_else(|| StoreError::Corrupt("meta/pepper vanished".into()))?;
            Reader::new(&doc).hash32("fingerprint")
        }
        Err(e) => Err(e.into()),
    }
}

/// Shared registrations (from before they were per org) live in the
/// top-level `scopes`, an org's in `orgs/{org}/scopes`.
pub(super) async fn list_scopes(
    s: &FirestoreStore,
    org: &OrgId,
) -> Result<Vec<CatalogEntry>, StoreError> {
    let shared = s.query(Query::of(None, "scopes")).await?;
    let own = s
        .query(Query::of(Some(format!("orgs/{}", org.as_str())), "scopes"))
        .await?;
    let entry = |doc, owner: Option<&OrgId>| {
        let r = Reader::new(doc);
        Ok(CatalogEntry {
            org: owner.cloned(),
            service: r.str("service")?,
            action: r.str("action")?,
            description: r.str("description")?,
        })
    };
    let mut entries = shared
        .iter()
        .map(|d| entry(d, None))
        .chain(own.iter().map(|d| entry(d, Some(org))))
        .collect::<Result<Vec<_>, StoreError>>()?;
    entries.sort_by(|a, b| (&a.service, &a.action, &a.org).cmp(&(&b.service, &b.action, &b.org)));
    Ok(entries)
}

pub(super) async fn add_scopes(
    s: &FirestoreStore,
    entries: &[CatalogEntry],
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let mut writes: Vec<Write> = entries
        .iter()
        .map(|e| {
            let parent = match &e.org {
                Some(org) => s.org_path(org),
                None => s.root().to_owned(),
            };
            create(
                format!("{parent}/scopes/{}:{}", e.service, e.action),
                docs::catalog_fields(e),
            )
        })
        .collect();
    writes.extend(event_writes(s, std::slice::from_ref(event)));
    Ok(s.commit(writes).await?)
}

pub(super) async fn is_empty(s: &FirestoreStore) -> Result<bool, StoreError> {
    let any = s.query(Query::of(None, "orgs").limit(1)).await?;
    Ok(any.is_empty())
}

pub(super) async fn get_org(
    s: &FirestoreStore,
    org: &OrgId,
) -> Result<Option<OrgRecord>, StoreError> {
    s.get(&s.org_path(org))
        .await?
        .map(|d| docs::org_from(&d))
        .transpose()
}

/// The writes that create a key: the record, its hash lookup and its usage
/// document, all only if absent (a duplicate id or hash fails the commit).
pub(super) fn key_writes(s: &FirestoreStore, k: &KeyRecord) -> [Write; 3] {
    [
        create(s.key_path(&k.org, &k.id), docs::key_fields(k)),
        create(s.hash_path(&k.hash), docs::hash_lookup_fields(k)),
        create(s.usage_path(&k.org, &k.id), docs::usage_fields(k)),
    ]
}

pub(super) async fn create_org(
    s: &FirestoreStore,
    org: &OrgRecord,
    key: &KeyRecord,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let mut writes = vec![create(s.org_path(&org.id), docs::org_fields(org))];
    writes.extend(key_writes(s, key));
    writes.extend(event_writes(s, std::slice::from_ref(event)));
    s.commit(writes).await.map_err(|e| match e {
        CommitError::Exists(_) => StoreError::Conflict(format!("org {} exists", org.id)),
        other => other.into(),
    })
}

pub(super) async fn insert_key(
    s: &FirestoreStore,
    key: &KeyRecord,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    // Orgs are never deleted, so checking first and committing after
    // cannot race with the org going away.
    if s.get(&s.org_path(&key.org)).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    let mut writes = key_writes(s, key).to_vec();
    writes.extend(event_writes(s, std::slice::from_ref(event)));
    Ok(s.commit(writes).await?)
}

/// A key's document (its update time guards read-modify-writes) and its
/// record, with `last_used_at` from the usage document read alongside.
pub(super) async fn key_doc(
    s: &FirestoreStore,
    org: &OrgId,
    id: &KeyId,
) -> Result<Option<(Document, KeyRecord)>, StoreError> {
    let (key_path, usage_path) = (s.key_path(org, id), s.usage_path(org, id));
    let (key, usage) = tokio::join!(s.get(&key_path), s.get(&usage_path));
    let Some(doc) = key? else {
        return Ok(None);
    };
    let mut k = docs::key_from(&doc)?;
    if let Some(u) = usage? {
        k.last_used_at = docs::usage_from(&u)?;
    }
    Ok((&k.org == org).then_some((doc, k)))
}

pub(super) async fn get_key(
    s: &FirestoreStore,
    org: &OrgId,
    id: &KeyId,
) -> Result<Option<KeyRecord>, StoreError> {
    Ok(key_doc(s, org, id).await?.map(|(_, k)| k))
}

pub(super) async fn find_by_hash(
    s: &FirestoreStore,
    hash: &KeyHash,
) -> Result<Option<KeyRecord>, StoreError> {
    let Some(lookup) = s.get(&s.hash_path(hash)).await? else {
        return Ok(None);
    };
    let r = Reader::new(&lookup);
    let (org, id) = (
        OrgId::from_stored(r.str("org")?),
        KeyId::from_stored(r.str("key_id")?),
    );
    // The validator's miss path: the key document alone, not its usage.
    let Some(doc) = s.get(&s.key_path(&org, &id)).await? else {
        return Ok(None);
    };
    let key = docs::key_from(&doc)?;
    // The lookup names the key; the key's own org and hash must agree.
    Ok((key.org == org && &key.hash == hash).then_some(key))
}

/// Every key of `org`, newest first, as [`key_doc`] reads one.
async fn key_docs(
    s: &FirestoreStore,
    org: &OrgId,
) -> Result<Vec<(Document, KeyRecord)>, StoreError> {
    let parent = format!("orgs/{}", org.as_str());
    // Firestore breaks ties by document name in the direction of the last
    // sort: created_at desc, then id desc, like the SQLite backend.
    let keys = Query::of(Some(parent.clone()), "keys").order("created_at", Direction::Descending);
    let (keys, usage) = tokio::join!(s.query(keys), s.query(Query::of(Some(parent), "usage")));
    let mut last_used: HashMap<String, Option<Timestamp>> = HashMap::new();
    for doc in usage? {
        let id = doc.name.rsplit('/').next().unwrap_or_default().to_owned();
        last_used.insert(id, docs::usage_from(&doc)?);
    }
    keys?
        .into_iter()
        .map(|d| {
            let mut k = docs::key_from(&d)?;
            k.last_used_at = last_used.get(k.id.as_str()).copied().flatten();
            Ok((d, k))
        })
        .collect()
}

pub(super) async fn revoked_since(
    s: &FirestoreStore,
    org: &OrgId,
    since: Timestamp,
    limit: u32,
) -> Result<Vec<KeyRecord>, StoreError> {
    // One range filter ordered by the same field: served by Firestore's
    // automatic single-field index; documents without the field (null is a
    // value, but below any integer) never match `>=` an integer.
    let q = Query::of(Some(format!("orgs/{}", org.as_str())), "keys")
        .gte("revoked_at", docs::int(since.as_millis()))
        .order("revoked_at", Direction::Ascending)
        .limit(limit);
    s.query(q).await?.iter().map(docs::key_from).collect()
}

pub(super) async fn list_keys(
    s: &FirestoreStore,
    org: &OrgId,
) -> Result<Vec<KeyRecord>, StoreError> {
    Ok(key_docs(s, org)
        .await?
        .into_iter()
        .map(|(_, k)| k)
        .collect())
}

/// Marks a key revoked (if its document is unchanged since `doc` was read)
/// and tells every server's listener.
pub(super) fn revoke_writes(
    s: &FirestoreStore,
    doc: &Document,
    k: &KeyRecord,
    rev: &Revocation,
) -> Result<[Write; 2], StoreError> {
    Ok([
        update_if_unchanged(doc, docs::revoked_fields(rev), &docs::REVOCATION_FIELDS)?,
        set(
            s.revocation_path(&k.hash),
            docs::revocation_notice_fields(k, rev.at, super::wall_clock_millis()),
        ),
    ])
}

pub(super) async fn revoke_key(
    s: &FirestoreStore,
    org: &OrgId,
    id: &KeyId,
    rev: &Revocation,
    event: &AuditEvent,
) -> Result<RevokeResult, StoreError> {
    // Like the incident switch: the key, as many descendants as one commit
    // holds and the event go first; a larger tree continues in further
    // commits, each re-reading the keys (a lost race retries what is
    // left). Stopped part way, the error says so, and revoking the key
    // again finishes the cascade (an already revoked key still sweeps its
    // descendants).
    let mut first: Option<(KeyRecord, bool)> = None;
    let mut revoked: Vec<KeyRecord> = Vec::new();
    let mut lost_races = 0;
    loop {
        let Some((doc, k)) = key_doc(s, org, id).await? else {
            return Ok(RevokeResult::NotFound);
        };
        let applies = k.revocation_applies(rev);
        let mut pending = pending_descendants(s, org, id, rev).await?;
        if !applies && pending.is_empty() {
            let (key, changed) = first.unwrap_or((k, false));
            return Ok(if changed {
                RevokeResult::Revoked {
                    key,
                    descendants: revoked,
                }
            } else {
                RevokeResult::AlreadyRevoked {
                    key,
                    descendants: revoked,
                }
            });
        }
        pending.truncate(BULK_CHUNK - usize::from(applies));
        let mut writes = Vec::with_capacity(pending.len() * 2 + 4);
        if applies {
            writes.extend(revoke_writes(s, &doc, &k, rev)?);
        }
        for (d_doc, d) in &pending {
            writes.extend(revoke_writes(s, d_doc, d, rev)?);
        }
        if first.is_none() {
            writes.extend(event_writes(s, std::slice::from_ref(event)));
        }
        match s.commit(writes).await {
            Ok(()) => {
                lost_races = 0;
                let mut k = k;
                if applies {
                    k.apply_revocation(rev);
                }
                first.get_or_insert((k, applies));
                revoked.extend(pending.into_iter().map(|(_, mut d)| {
                    d.apply_revocation(rev);
                    d
                }));
            }
            Err(CommitError::Stale) if lost_races < super::MAX_ATTEMPTS => {
                super::backoff(lost_races).await;
                lost_races += 1;
            }
            Err(e) if first.is_none() => return Err(e.into()),
            Err(e) => {
                return Err(StoreError::Unavailable(format!(
                    "the revocation reached {} derived keys and stopped ({}); revoke the key again to finish",
                    revoked.len(),
                    StoreError::from(e)
                )))
            }
        }
    }
}

/// The descendants of `id` a revocation at `rev` would still change, with
/// their documents.
async fn pending_descendants(
    s: &FirestoreStore,
    org: &OrgId,
    id: &KeyId,
    rev: &Revocation,
) -> Result<Vec<(Document, KeyRecord)>, StoreError> {
    Ok(descendant_docs(s, org, id)
        .await?
        .into_iter()
        .filter(|(_, d)| crate::store::cascade_applies(d, rev))
        .collect())
}

/// Every descendant of `id`, with its document. One equality query finds
/// whether the key has children at all; only then is the org's key list
/// read to walk the tree.
async fn descendant_docs(
    s: &FirestoreStore,
    org: &OrgId,
    id: &KeyId,
) -> Result<Vec<(Document, KeyRecord)>, StoreError> {
    let children = Query::of(Some(format!("orgs/{}", org.as_str())), "keys")
        .eq("parent", docs::string(id.as_str()))
        .limit(1);
    if s.query(children).await?.is_empty() {
        return Ok(Vec::new());
    }
    let all = key_docs(s, org).await?;
    let tree = crate::store::lineage::descendants(all.iter().map(|(_, k)| k), &[id]);
    Ok(all
        .into_iter()
        .filter(|(_, d)| tree.contains(&d.id))
        .collect())
}

pub(super) async fn set_quarantine(
    s: &FirestoreStore,
    org: &OrgId,
    id: &KeyId,
    hold: Option<&model::wire::QuarantineView>,
    now: Timestamp,
    event: &AuditEvent,
) -> Result<Option<Vec<KeyRecord>>, StoreError> {
    let change = if hold.is_some() {
        crate::revocation::KeyChange::Quarantined
    } else {
        crate::revocation::KeyChange::Released
    };
    retrying(|| async move {
        let Some((doc, root)) = key_doc(s, org, id).await? else {
            return Ok(None);
        };
        let descendants = descendant_docs(s, org, id).await?;
        let plan = crate::store::quarantine::plan_hold(
            &root,
            descendants.iter().map(|(_, d)| d),
            hold,
            now,
        );
        if plan.is_empty() {
            return Ok(Some(Vec::new()));
        }
        // One commit: each key and its notice, the event and its chain.
        if plan.len() > BULK_CHUNK {
            return Err(StoreError::Conflict(format!(
                "{} keys would change in one quarantine, more than one commit holds ({BULK_CHUNK}); revoke the key instead",
                plan.len()
            ))
            .into());
        }
        let mut writes = Vec::with_capacity(plan.len() * 2 + 2);
        let mut changed = Vec::with_capacity(plan.len());
        for (k, q) in plan {
            let k_doc = if k.id == root.id {
                &doc
            } else {
                &descendants
                    .iter()
                    .find(|(_, d)| d.id == k.id)
                    .expect("planned from these")
                    .0
            };
            writes.push(update_if_unchanged(
                k_doc,
                docs::quarantine_fields(q.as_ref()),
                &[docs::QUARANTINE_FIELD],
            )?);
            writes.push(set(
                s.revocation_path(&k.hash),
                docs::change_notice_fields(k, change, now, super::wall_clock_millis()),
            ));
            let mut k = k.clone();
            k.quarantine = q;
            changed.push(k);
        }
        writes.extend(event_writes(s, std::slice::from_ref(event)));
        s.commit(writes).await?;
        Ok(Some(changed))
    })
    .await
}

pub(super) async fn rotate_key(
    s: &FirestoreStore,
    org: &OrgId,
    old: &KeyId,
    succ: &KeyRecord,
    rev: &Revocation,
    event: &AuditEvent,
) -> Result<KeyRecord, StoreError> {
    retrying(|| async move {
        let (doc, mut k) = key_doc(s, org, old).await?.ok_or(StoreError::NotFound)?;
        if let Some(conflict) = k.rotation_conflict(succ) {
            return Err(StoreError::Conflict(conflict.into()).into());
        }
        k.rotated_to = Some(succ.id.clone());
        let revoke = k.revocation_applies(rev);
        if revoke {
            k.apply_revocation(rev);
        }
        let mut fields = docs::revoked_fields(rev);
        let mut mask: Vec<&str> = vec!["rotated_to"];
        if revoke {
            mask.extend(docs::REVOCATION_FIELDS);
        } else {
            fields.clear();
        }
        fields.insert("rotated_to".into(), docs::string(succ.id.as_str()));
        let mut writes = vec![update_if_unchanged(&doc, fields, &mask)?];
        if revoke {
            writes.push(set(
                s.revocation_path(&k.hash),
                docs::revocation_notice_fields(&k, rev.at, super::wall_clock_millis()),
            ));
        }
        writes.extend(key_writes(s, succ));
        writes.extend(event_writes(s, std::slice::from_ref(event)));
        s.commit(writes).await?;
        Ok(k)
    })
    .await
}

/// Keys per commit in a bulk revoke: two writes each (the key and its
/// notice) plus the event and its chain document stay under one commit.
const BULK_CHUNK: usize = (super::MAX_COMMIT_WRITES - 2) / 2;

pub(super) async fn bulk_revoke(
    s: &FirestoreStore,
    org: &OrgId,
    selection: &BulkSelection,
    rev: &Revocation,
    event: &AuditEvent,
) -> Result<Vec<KeyRecord>, StoreError> {
    // An org with more keys than one commit holds is revoked in several
    // commits, the event riding with the first. Each pass re-reads the keys
    // (fresh update times; keys already revoked at `rev.at` drop out), so a
    // lost race retries only what is left. A failure part way leaves the
    // keys revoked so far revoked (and reported as an error, so the caller
    // retries the rest): for an incident switch, partial beats nothing.
    let mut revoked: Vec<KeyRecord> = Vec::new();
    let mut lost_races = 0;
    loop {
        let mut hit =
            crate::store::bulk_revoke_picks(key_docs(s, org).await?, |(_, k)| k, selection, rev);
        if hit.is_empty() {
            return Ok(revoked);
        }
        hit.truncate(BULK_CHUNK);
        let mut writes = Vec::with_capacity(hit.len() * 2 + 2);
        for (doc, k) in &hit {
            writes.extend(revoke_writes(s, doc, k, rev)?);
        }
        if revoked.is_empty() {
            writes.extend(event_writes(s, std::slice::from_ref(event)));
        }
        match s.commit(writes).await {
            Ok(()) => {
                lost_races = 0;
                revoked.extend(hit.into_iter().map(|(_, mut k)| {
                    k.apply_revocation(rev);
                    k
                }));
            }
            Err(CommitError::Stale) if lost_races < super::MAX_ATTEMPTS => {
                super::backoff(lost_races).await;
                lost_races += 1;
            }
            Err(e) if revoked.is_empty() => return Err(e.into()),
            // The event and some keys are in: the outcome is partial, which
            // callers must treat like an unknown one.
            Err(e) => {
                return Err(StoreError::Unavailable(format!(
                    "bulk revoke stopped after {} keys ({}); run it again for the rest",
                    revoked.len(),
                    StoreError::from(e)
                )))
            }
        }
    }
}

pub(super) async fn touch_keys(
    s: &FirestoreStore,
    updates: &[(OrgId, KeyId, Timestamp)],
) -> Result<(), StoreError> {
    // `maximum` never lowers the mark; `exists` skips deleted keys instead
    // of creating a stub document. Independent writes: one missing key
    // must not stop the others.
    for chunk in updates.chunks(super::MAX_COMMIT_WRITES) {
        let writes: Vec<Write> = chunk
            .iter()
            .map(|(org, id, at)| Write {
                operation: Some(
                    firestore::gcloud_sdk::google::firestore::v1::write::Operation::Update(
                        Document {
                            name: s.usage_path(org, id),
                            ..Default::default()
                        },
                    ),
                ),
                update_mask: Some(DocumentMask::default()),
                update_transforms: vec![FieldTransform {
                    field_path: "last_used_at".into(),
                    transform_type: Some(TransformType::Maximum(docs::int(at.as_millis()))),
                }],
                current_document: Some(Precondition {
                    condition_type: Some(ConditionType::Exists(true)),
                }),
            })
            .collect();
        let codes = s.batch_write(writes).await?;
        if let Some(code) = codes
            .into_iter()
            .map(Code::from)
            .find(|c| !matches!(c, Code::Ok | Code::NotFound | Code::FailedPrecondition))
        {
            return Err(super::unavailable(format!(
                "last_used_at write failed: {code:?}"
            )));
        }
    }
    Ok(())
}
