//! The building blocks of every change: document writes (create, set,
//! guarded update, merge, delete), why a commit failed, and the retry loop
//! for read-modify-writes that lose a race.

use std::time::Duration;

use firestore::gcloud_sdk::google::firestore::v1::{
    precondition::ConditionType, write, Document, DocumentMask, Precondition, Write,
};

use super::docs;
use crate::store::StoreError;

/// How many times a read-modify-write is retried after losing a race.
pub(crate) const MAX_ATTEMPTS: usize = 16;

/// Why a commit did not happen.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// A create-if-absent precondition failed: the document exists.
    Exists(String),
    /// An update-time precondition failed (someone wrote in between) or the
    /// commit was aborted by contention: read again and retry.
    Stale,
    /// An exists precondition failed: the document is gone.
    Missing,
    Other(StoreError),
}

impl From<CommitError> for StoreError {
    fn from(e: CommitError) -> Self {
        match e {
            CommitError::Exists(m) => StoreError::Conflict(m),
            // Only reached when retrying is not possible or gave up.
            CommitError::Stale => StoreError::Unavailable(
                "firestore: the commit lost to concurrent writes; try again".into(),
            ),
            CommitError::Missing => StoreError::NotFound,
            CommitError::Other(e) => e,
        }
    }
}

impl From<StoreError> for CommitError {
    fn from(e: StoreError) -> Self {
        CommitError::Other(e)
    }
}

/// A document write: create (must not exist), set, or masked update.
pub(crate) fn create(path: String, fields: docs::Fields) -> Write {
    write_doc(path, fields, None, Some(ConditionType::Exists(false)))
}

pub(crate) fn set(path: String, fields: docs::Fields) -> Write {
    write_doc(path, fields, None, None)
}

/// Updates only `mask`'s fields of a document whose last update was at
/// `update_time` (optimistic concurrency).
pub(crate) fn update_if_unchanged(
    doc: &Document,
    fields: docs::Fields,
    mask: &[&str],
) -> Result<Write, StoreError> {
    let update_time = doc
        .update_time
        .ok_or_else(|| StoreError::Corrupt("document without update time".into()))?;
    Ok(write_doc(
        doc.name.clone(),
        fields,
        Some(mask),
        Some(ConditionType::UpdateTime(update_time)),
    ))
}

/// Raises an integer field of a document that must exist to at least
/// `value`, on the server (a `maximum` transform): concurrent writers can
/// never lower it. [`CommitError::Missing`] if the document is gone.
pub(crate) fn raise_existing(path: String, field: &str, value: i64) -> Write {
    use firestore::gcloud_sdk::google::firestore::v1::document_transform::{
        field_transform::TransformType, FieldTransform,
    };
    let mut w = write_doc(
        path,
        docs::Fields::new(),
        Some(&[]),
        Some(ConditionType::Exists(true)),
    );
    w.update_transforms = vec![FieldTransform {
        field_path: field.to_owned(),
        transform_type: Some(TransformType::Maximum(docs::int(value))),
    }];
    w
}

/// Updates only `mask`'s fields, creating the document if needed.
pub(crate) fn merge(path: String, fields: docs::Fields, mask: &[&str]) -> Write {
    write_doc(path, fields, Some(mask), None)
}

fn write_doc(
    name: String,
    fields: docs::Fields,
    mask: Option<&[&str]>,
    condition: Option<ConditionType>,
) -> Write {
    Write {
        operation: Some(write::Operation::Update(Document {
            name,
            fields,
            create_time: None,
            update_time: None,
        })),
        update_mask: mask.map(|m| DocumentMask {
            field_paths: m.iter().map(|f| (*f).to_owned()).collect(),
        }),
        update_transforms: Vec::new(),
        current_document: condition.map(|c| Precondition {
            condition_type: Some(c),
        }),
    }
}

pub(crate) fn delete(path: String) -> Write {
    Write {
        operation: Some(write::Operation::Delete(path)),
        update_mask: None,
        update_transforms: Vec::new(),
        current_document: None,
    }
}

/// Waits before retry `n` after a lost race: exponential from 2 ms, capped
/// at 128 ms, with jitter so racing servers do not retry in step.
pub(crate) async fn backoff(n: usize) {
    let base = 2u64 << n.min(6);
    let mut jitter = [0u8; 1];
    let _ = getrandom::fill(&mut jitter);
    let ms = base + u64::from(jitter[0]) % base;
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// Runs a read-modify-write until it commits without a lost race.
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CommitError>>,
{
    for n in 0..MAX_ATTEMPTS {
        match attempt().await {
            Err(CommitError::Stale) => backoff(n).await,
            other => return other.map_err(StoreError::from),
        }
    }
    Err(StoreError::Unavailable(
        "firestore: too much contention on one document, try again".into(),
    ))
}
