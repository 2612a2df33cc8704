//! Members and tickets on Firestore (see `crate::people`).
//!
//! - A member is `orgs/{org}/members/{sha256(email)}`: the email is unique
//!   in the org because the document's name is its hash (a second create
//!   fails its precondition). Fields `id`, `email`, `revision` and the
//!   whole record as JSON; lookups by id are a single-field query.
//! - A ticket is `tickets/{hex token hash}`, taken by a read and a delete
//!   guarded by the read's update time: of two servers taking one ticket,
//!   one delete fails its precondition and that server gets nothing.

use firestore::gcloud_sdk::google::firestore::v1::{
    precondition::ConditionType, write, Document, Precondition, Write,
};
use sha2::{Digest, Sha256};

use super::audit::event_writes;
use super::docs::{self, Reader};
use super::indexes::Query;
use super::writes::{create, update_if_unchanged, CommitError};
use super::FirestoreStore;
use crate::audit::AuditEvent;
use crate::ids::{MemberId, OrgId};
use crate::people::{MemberRecord, TicketPurpose, TicketRecord};
use crate::sessions::TokenHash;
use crate::store::StoreError;
use crate::time::Timestamp;

fn member_path(s: &FirestoreStore, org: &OrgId, email: &str) -> String {
    let hash = model::hex::encode(&Sha256::digest(email.as_bytes()));
    format!("{}/members/{hash}", s.org_path(org))
}

fn ticket_path(s: &FirestoreStore, hash: &TokenHash) -> String {
    format!("{}/tickets/{}", s.root(), hash.to_hex())
}

fn member_fields(m: &MemberRecord) -> Result<docs::Fields, StoreError> {
    let record = serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(docs::Fields::from([
        ("id".into(), docs::string(m.id.as_str())),
        ("email".into(), docs::string(&m.email)),
        ("revision".into(), docs::int(m.revision as i64)),
        ("record".into(), docs::string(&record)),
    ]))
}

fn member_from(doc: &Document) -> Result<MemberRecord, StoreError> {
    let text = Reader::new(doc).str("record")?;
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("member record: {e}")))
}

/// A delete that happens only if the document is unchanged since `doc`
/// was read.
fn delete_if_unchanged(doc: &Document) -> Result<Write, StoreError> {
    let update_time = doc
        .update_time
        .ok_or_else(|| StoreError::Corrupt("document without update time".into()))?;
    Ok(Write {
        operation: Some(write::Operation::Delete(doc.name.clone())),
        update_mask: None,
        update_transforms: Vec::new(),
        current_document: Some(Precondition {
            condition_type: Some(ConditionType::UpdateTime(update_time)),
        }),
    })
}

pub(super) async fn create_member(
    s: &FirestoreStore,
    m: &MemberRecord,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    // Orgs are never deleted: checking first cannot race with removal.
    if s.get(&s.org_path(&m.org)).await?.is_none() {
        return Err(StoreError::NotFound);
    }
    let mut writes = vec![create(member_path(s, &m.org, &m.email), member_fields(m)?)];
    writes.extend(event_writes(s, std::slice::from_ref(event)));
    match s.commit(writes).await {
        Err(CommitError::Exists(_)) => Err(StoreError::Conflict(format!(
            "the org already has a member with the email {}",
            m.email
        ))),
        other => Ok(other?),
    }
}

async fn member_doc(
    s: &FirestoreStore,
    org: &OrgId,
    id: &MemberId,
) -> Result<Option<Document>, StoreError> {
    let q = Query::of(Some(format!("orgs/{}", org.as_str())), "members")
        .eq("id", docs::string(id.as_str()))
        .limit(1);
    Ok(s.query(q).await?.into_iter().next())
}

pub(super) async fn get_member(
    s: &FirestoreStore,
    org: &OrgId,
    id: &MemberId,
) -> Result<Option<MemberRecord>, StoreError> {
    member_doc(s, org, id)
        .await?
        .as_ref()
        .map(member_from)
        .transpose()
}

pub(super) async fn find_member_by_email(
    s: &FirestoreStore,
    org: &OrgId,
    email: &str,
) -> Result<Option<MemberRecord>, StoreError> {
    s.get(&member_path(s, org, email))
        .await?
        .as_ref()
        .map(member_from)
        .transpose()
}

pub(super) async fn list_members(
    s: &FirestoreStore,
    org: &OrgId,
) -> Result<Vec<MemberRecord>, StoreError> {
    let q = Query::of(Some(format!("orgs/{}", org.as_str())), "members");
    let mut members = s
        .query(q)
        .await?
        .iter()
        .map(member_from)
        .collect::<Result<Vec<_>, _>>()?;
    members.sort_by(|a, b| a.email.cmp(&b.email));
    Ok(members)
}

pub(super) async fn update_member(
    s: &FirestoreStore,
    m: &MemberRecord,
    event: Option<&AuditEvent>,
) -> Result<(), StoreError> {
    let Some(doc) = member_doc(s, &m.org, &m.id).await? else {
        return Err(StoreError::NotFound);
    };
    let stored = Reader::new(&doc).int("revision")?;
    if stored as u64 + 1 != m.revision {
        return Err(StoreError::Conflict(format!(
            "member {} changed meanwhile (revision {stored})",
            m.id
        )));
    }
    let stored_email = Reader::new(&doc).str("email")?;
    if stored_email != m.email {
        return Err(StoreError::Conflict(
            "a member's email cannot change; remove and invite again".into(),
        ));
    }
    let mut writes = vec![update_if_unchanged(
        &doc,
        member_fields(m)?,
        &["id", "email", "revision", "record"],
    )?];
    writes.extend(
        event
            .map(|e| event_writes(s, std::slice::from_ref(e)))
            .unwrap_or_default(),
    );
    match s.commit(writes).await {
        Err(CommitError::Stale) => Err(StoreError::Conflict(format!(
            "member {} changed meanwhile",
            m.id
        ))),
        other => Ok(other?),
    }
}

pub(super) async fn delete_member(
    s: &FirestoreStore,
    org: &OrgId,
    id: &MemberId,
    event: &AuditEvent,
) -> Result<bool, StoreError> {
    let Some(doc) = member_doc(s, org, id).await? else {
        return Ok(false);
    };
    let mut writes = vec![delete_if_unchanged(&doc)?];
    writes.extend(event_writes(s, std::slice::from_ref(event)));
    match s.commit(writes).await {
        Err(CommitError::Stale | CommitError::Missing) => Ok(false),
        other => other.map(|()| true).map_err(Into::into),
    }
}

pub(super) async fn put_ticket(s: &FirestoreStore, t: &TicketRecord) -> Result<(), StoreError> {
    let fields = docs::Fields::from([
        ("org".into(), docs::string(t.org.as_str())),
        ("purpose".into(), docs::string(t.purpose.as_str())),
        ("expires_at".into(), docs::int(t.expires_at.as_millis())),
        ("payload".into(), docs::string(&t.payload)),
    ]);
    Ok(s.commit(vec![create(ticket_path(s, &t.hash), fields)])
        .await?)
}

fn purpose(text: &str) -> Result<TicketPurpose, StoreError> {
    TicketPurpose::parse(text)
        .ok_or_else(|| StoreError::Corrupt(format!("ticket purpose `{text}`")))
}

fn ticket_from(
    doc: &Document,
    hash: &TokenHash,
    now: Timestamp,
) -> Result<Option<TicketRecord>, StoreError> {
    let r = Reader::new(doc);
    let ticket = TicketRecord {
        hash: *hash,
        org: OrgId::from_stored(r.str("org")?),
        purpose: purpose(&r.str("purpose")?)?,
        expires_at: Timestamp::from_millis(r.int("expires_at")?),
        payload: r.str("payload")?,
    };
    Ok((ticket.expires_at > now).then_some(ticket))
}

pub(super) async fn get_ticket(
    s: &FirestoreStore,
    hash: &TokenHash,
    now: Timestamp,
) -> Result<Option<TicketRecord>, StoreError> {
    match s.get(&ticket_path(s, hash)).await? {
        Some(doc) => ticket_from(&doc, hash, now),
        None => Ok(None),
    }
}

pub(super) async fn take_ticket(
    s: &FirestoreStore,
    hash: &TokenHash,
    now: Timestamp,
) -> Result<Option<TicketRecord>, StoreError> {
    let Some(doc) = s.get(&ticket_path(s, hash)).await? else {
        return Ok(None);
    };
    match s.commit(vec![delete_if_unchanged(&doc)?]).await {
        Err(CommitError::Stale | CommitError::Missing) => return Ok(None),
        other => other?,
    }
    ticket_from(&doc, hash, now)
}

pub(super) async fn sweep_tickets(s: &FirestoreStore, now: Timestamp) -> Result<u64, StoreError> {
    let q = Query::of(None, "tickets").lt("expires_at", docs::int(now.as_millis() + 1));
    let docs = s.query(q).await?;
    let n = docs.len() as u64;
    for chunk in docs.chunks(super::MAX_COMMIT_WRITES) {
        s.commit(
            chunk
                .iter()
                .map(|d| super::writes::delete(d.name.clone()))
                .collect(),
        )
        .await?;
    }
    Ok(n)
}
