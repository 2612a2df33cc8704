//! An org's guardrail settings: one JSON row per org that set any.

use rusqlite::{params, Connection, OptionalExtension};

use super::audit::insert_event;
use super::map_err;
use crate::audit::AuditEvent;
use crate::ids::OrgId;
use crate::store::StoreError;
use model::wire::OrgSettings;

pub(super) fn get(c: &Connection, org: &OrgId) -> Result<OrgSettings, StoreError> {
    let text: Option<String> = c
        .prepare_cached("SELECT settings FROM org_settings WHERE org = ?1")
        .map_err(map_err)?
        .query_row([org.as_str()], |r| r.get(0))
        .optional()
        .map_err(map_err)?;
    match text {
        None => Ok(OrgSettings::default()),
        Some(t) => {
            serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("org settings: {e}")))
        }
    }
}

pub(super) fn set(
    c: &mut Connection,
    org: &OrgId,
    settings: &OrgSettings,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(settings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let tx = c.transaction().map_err(map_err)?;
    tx.prepare_cached(
        "INSERT INTO org_settings (org, settings) VALUES (?1, ?2) \
         ON CONFLICT (org) DO UPDATE SET settings = ?2",
    )
    .map_err(map_err)?
    .execute(params![org.as_str(), text])
    .map_err(map_err)?;
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)
}
