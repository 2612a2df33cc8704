//! OAuth clients, grants and refresh tokens on Firestore.
//!
//! Layout: `oauth_clients/{client id}` and `oauth_grants/{grant id}` hold
//! JSON records (a grant also its `org`, which the listing filters on);
//! `oauth_refresh/{hash hex}` names a refresh token's grant and generation.
//! A grant's refresh and revocation guard the grant document by its update
//! time, so of two racing refreshes exactly one commits.

use firestore::gcloud_sdk::google::firestore::v1::{Document, Write};

use super::audit::event_writes;
use super::docs::{self, Reader};
use super::indexes::Query;
use super::keys::{key_writes, revoke_writes};
use super::{create, retrying, update_if_unchanged, CommitError, FirestoreStore};
use crate::audit::AuditEvent;
use crate::ids::{GrantId, OrgId};
use crate::keys::KeyHash;
use crate::oauth::{ClientId, GrantRecord, OAuthClient, RefreshRecord};
use crate::store::{GrantRevoked, KeyRecord, Revocation, StoreError};

fn client_path(s: &FirestoreStore, id: &ClientId) -> String {
    // Registered ids are `cli_` + base62; document URLs are never stored.
    format!("{}/oauth_clients/{}", s.root(), id.as_str())
}

fn grant_path(s: &FirestoreStore, id: &GrantId) -> String {
    format!("{}/oauth_grants/{}", s.root(), id.as_str())
}

fn refresh_path(s: &FirestoreStore, hash: &KeyHash) -> String {
    format!("{}/oauth_refresh/{}", s.root(), hash.to_hex())
}

fn json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn record<T: serde::de::DeserializeOwned>(doc: &Document) -> Result<T, StoreError> {
    let text = Reader::new(doc).str("record")?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("oauth record: {e}")))
}

const GRANT_FIELDS: [&str; 3] = ["org", "created_at", "record"];

fn grant_fields(g: &GrantRecord) -> Result<docs::Fields, StoreError> {
    Ok(docs::Fields::from([
        ("org".into(), docs::string(g.org.as_str())),
        ("created_at".into(), docs::int(g.created_at.as_millis())),
        ("record".into(), docs::string(&json(g)?)),
    ]))
}

fn refresh_write(s: &FirestoreStore, r: &RefreshRecord) -> Write {
    create(
        refresh_path(s, &r.hash),
        docs::Fields::from([
            ("grant".into(), docs::string(r.grant.as_str())),
            ("org".into(), docs::string(r.org.as_str())),
            (
                "generation".into(),
                docs::int(i64::try_from(r.generation).unwrap_or(i64::MAX)),
            ),
        ]),
    )
}

pub(super) async fn insert_client(
    s: &FirestoreStore,
    client: &OAuthClient,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let mut writes = vec![create(
        client_path(s, &client.id),
        docs::Fields::from([("record".into(), docs::string(&json(client)?))]),
    )];
    writes.extend(event_writes(s, std::slice::from_ref(event)));
    Ok(s.commit(writes).await?)
}

pub(super) async fn get_client(
    s: &FirestoreStore,
    id: &ClientId,
) -> Result<Option<OAuthClient>, StoreError> {
    if id.is_document_url() {
        return Ok(None);
    }
    s.get(&client_path(s, id))
        .await?
        .as_ref()
        .map(record)
        .transpose()
}

pub(super) async fn start_grant(
    s: &FirestoreStore,
    grant: &GrantRecord,
    refresh: &RefreshRecord,
    access: &KeyRecord,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    // Orgs are never deleted: checking first cannot race with a removal.
    if s.get(&s.org_path(&grant.org)).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    let mut writes = vec![
        create(grant_path(s, &grant.id), grant_fields(grant)?),
        refresh_write(s, refresh),
    ];
    writes.extend(key_writes(s, access));
    writes.extend(event_writes(s, std::slice::from_ref(event)));
    s.commit(writes).await.map_err(|e| match e {
        CommitError::Exists(_) => StoreError::Conflict(format!("grant {} exists", grant.id)),
        other => other.into(),
    })
}

async fn grant_doc(
    s: &FirestoreStore,
    id: &GrantId,
) -> Result<Option<(Document, GrantRecord)>, StoreError> {
    let Some(doc) = s.get(&grant_path(s, id)).await? else {
        return Ok(None);
    };
    let grant = record(&doc)?;
    Ok(Some((doc, grant)))
}

pub(super) async fn get_grant(
    s: &FirestoreStore,
    id: &GrantId,
) -> Result<Option<GrantRecord>, StoreError> {
    Ok(grant_doc(s, id).await?.map(|(_, g)| g))
}

pub(super) async fn find_refresh(
    s: &FirestoreStore,
    hash: &KeyHash,
) -> Result<Option<RefreshRecord>, StoreError> {
    let Some(doc) = s.get(&refresh_path(s, hash)).await? else {
        return Ok(None);
    };
    let r = Reader::new(&doc);
    Ok(Some(RefreshRecord {
        hash: *hash,
        grant: GrantId::from_stored(r.str("grant")?),
        org: OrgId::from_stored(r.str("org")?),
        generation: u64::try_from(r.int("generation")?).unwrap_or(0),
    }))
}

pub(super) async fn refresh_grant(
    s: &FirestoreStore,
    next: &RefreshRecord,
    access: &KeyRecord,
    event: &AuditEvent,
) -> Result<GrantRecord, StoreError> {
    retrying(|| async move {
        let (doc, grant) = grant_doc(s, &next.grant)
            .await?
            .ok_or(CommitError::Missing)?;
        if let Some(why) = grant.refresh_conflict(next, access.created_at) {
            return Err(CommitError::Other(StoreError::Conflict(why.into())));
        }
        let grant = grant.refreshed(next, access.created_at);
        let mut writes = vec![
            update_if_unchanged(&doc, grant_fields(&grant)?, &GRANT_FIELDS)?,
            refresh_write(s, next),
        ];
        writes.extend(key_writes(s, access));
        writes.extend(event_writes(s, std::slice::from_ref(event)));
        s.commit(writes).await?;
        Ok(grant)
    })
    .await
}

pub(super) async fn revoke_grant(
    s: &FirestoreStore,
    org: &OrgId,
    id: &GrantId,
    rev: &Revocation,
    event: &AuditEvent,
) -> Result<Option<GrantRevoked>, StoreError> {
    retrying(|| async move {
        let Some((doc, mut grant)) = grant_doc(s, id).await?.filter(|(_, g)| &g.org == org) else {
            return Ok(None);
        };
        let tokens = s
            .query(
                Query::of(Some(format!("orgs/{}", org.as_str())), "keys")
                    .eq("grant_id", docs::string(id.as_str())),
            )
            .await?;
        let mut writes = Vec::new();
        let mut revoked = Vec::new();
        for token_doc in &tokens {
            let mut k = docs::key_from(token_doc)?;
            if grant.token_revocation_applies(&k, rev) {
                writes.extend(revoke_writes(s, token_doc, &k, rev)?);
                k.apply_revocation(rev);
                revoked.push(k);
            }
        }
        let grant_changes = grant.revocation_applies(rev);
        if grant_changes {
            grant.apply_revocation(rev);
            writes.push(update_if_unchanged(
                &doc,
                grant_fields(&grant)?,
                &GRANT_FIELDS,
            )?);
        }
        let changed = !writes.is_empty();
        if changed {
            writes.extend(event_writes(s, std::slice::from_ref(event)));
            s.commit(writes).await?;
        }
        Ok(Some(GrantRevoked {
            grant,
            tokens: revoked,
            changed,
        }))
    })
    .await
}

pub(super) async fn list_grants(
    s: &FirestoreStore,
    org: &OrgId,
) -> Result<Vec<GrantRecord>, StoreError> {
    // Equality alone is served by the automatic single-field index; an
    // org's grants are few enough to order here.
    let docs = s
        .query(Query::of(None, "oauth_grants").eq("org", docs::string(org.as_str())))
        .await?;
    let mut grants = docs
        .iter()
        .map(record::<GrantRecord>)
        .collect::<Result<Vec<_>, _>>()?;
    grants.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    Ok(grants)
}
