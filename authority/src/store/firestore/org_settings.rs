//! An org's guardrail settings: `orgs/{org}/settings/guardrails`, one JSON
//! field.

use super::docs::{self, Reader};
use super::{set, FirestoreStore};
use crate::audit::AuditEvent;
use crate::ids::OrgId;
use crate::store::StoreError;
use model::wire::OrgSettings;

const FIELD: &str = "settings";

fn path(s: &FirestoreStore, org: &OrgId) -> String {
    format!("{}/settings/guardrails", s.org_path(org))
}

pub(super) async fn get(s: &FirestoreStore, org: &OrgId) -> Result<OrgSettings, StoreError> {
    match s.get(&path(s, org)).await? {
        None => Ok(OrgSettings::default()),
        Some(doc) => serde_json::from_str(&Reader::new(&doc).str(FIELD)?)
            .map_err(|e| StoreError::Corrupt(format!("org settings: {e}"))),
    }
}

pub(super) async fn put(
    s: &FirestoreStore,
    org: &OrgId,
    settings: &OrgSettings,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut writes = vec![set(
        path(s, org),
        docs::Fields::from([(FIELD.into(), docs::string(&text))]),
    )];
    writes.extend(super::audit::event_writes(s, std::slice::from_ref(event)));
    Ok(s.commit(writes).await?)
}
