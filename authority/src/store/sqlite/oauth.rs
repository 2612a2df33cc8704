//! OAuth clients, grants and refresh tokens on SQLite.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::audit::insert_event;
use super::keys::{insert_key, key_from_row, set_revoked, KEY_COLS};
use super::map_err;
use crate::audit::AuditEvent;
use crate::ids::{GrantId, OrgId};
use crate::keys::KeyHash;
use crate::oauth::{ClientId, GrantRecord, OAuthClient, RefreshRecord};
use crate::store::{GrantRevoked, KeyRecord, Revocation, StoreError};

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("oauth record: {e}")))
}

pub(super) fn insert_client(
    c: &mut Connection,
    client: &OAuthClient,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    tx.execute(
        "INSERT INTO oauth_clients (id, record) VALUES (?1, ?2)",
        params![client.id.as_str(), to_json(client)?],
    )
    .map_err(map_err)?;
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)
}

/// The JSON record of the row of `table` with this `id`.
fn record_by_id<T: serde::de::DeserializeOwned>(
    c: &Connection,
    table: &'static str,
    id: &str,
) -> Result<Option<T>, StoreError> {
    c.prepare_cached(&format!("SELECT record FROM {table} WHERE id = ?1"))
        .map_err(map_err)?
        .query_row([id], |r| r.get::<_, String>(0))
        .optional()
        .map_err(map_err)?
        .map(|text| from_json(&text))
        .transpose()
}

pub(super) fn get_client(c: &Connection, id: &ClientId) -> Result<Option<OAuthClient>, StoreError> {
    record_by_id(c, "oauth_clients", id.as_str())
}

pub(super) fn get_grant(c: &Connection, id: &GrantId) -> Result<Option<GrantRecord>, StoreError> {
    record_by_id(c, "oauth_grants", id.as_str())
}

fn put_grant(tx: &Transaction<'_>, g: &GrantRecord) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE oauth_grants SET record = ?2 WHERE id = ?1",
        params![g.id.as_str(), to_json(g)?],
    )
    .map_err(map_err)?;
    Ok(())
}

fn insert_refresh(tx: &Transaction<'_>, r: &RefreshRecord) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO oauth_refresh (hash, grant_id, org, generation) VALUES (?1, ?2, ?3, ?4)",
        params![
            &r.hash.as_bytes()[..],
            r.grant.as_str(),
            r.org.as_str(),
            i64::try_from(r.generation).unwrap_or(i64::MAX)
        ],
    )
    .map_err(map_err)?;
    Ok(())
}

pub(super) fn start_grant(
    c: &mut Connection,
    grant: &GrantRecord,
    refresh: &RefreshRecord,
    access: &KeyRecord,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    if !super::keys::org_exists(&tx, &grant.org)? {
        return Err(StoreError::NotFound);
    }
    tx.execute(
        "INSERT INTO oauth_grants (id, org, created_at, record) VALUES (?1, ?2, ?3, ?4)",
        params![
            grant.id.as_str(),
            grant.org.as_str(),
            grant.created_at.as_millis(),
            to_json(grant)?
        ],
    )
    .map_err(|e| match map_err(e) {
        StoreError::Conflict(_) => StoreError::Conflict(format!("grant {} exists", grant.id)),
        other => other,
    })?;
    insert_refresh(&tx, refresh)?;
    insert_key(&tx, access)?;
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)
}

pub(super) fn find_refresh(
    c: &Connection,
    hash: &KeyHash,
) -> Result<Option<RefreshRecord>, StoreError> {
    c.query_row(
        "SELECT grant_id, org, generation FROM oauth_refresh WHERE hash = ?1",
        [&hash.as_bytes()[..]],
        |r| {
            Ok(RefreshRecord {
                hash: *hash,
                grant: GrantId::from_stored(r.get(0)?),
                org: OrgId::from_stored(r.get(1)?),
                generation: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
            })
        },
    )
    .optional()
    .map_err(map_err)
}

pub(super) fn refresh_grant(
    c: &mut Connection,
    next: &RefreshRecord,
    access: &KeyRecord,
    event: &AuditEvent,
) -> Result<GrantRecord, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let grant = get_grant(&tx, &next.grant)?.ok_or(StoreError::NotFound)?;
    if let Some(why) = grant.refresh_conflict(next, access.created_at) {
        return Err(StoreError::Conflict(why.into()));
    }
    let grant = grant.refreshed(next, access.created_at);
    put_grant(&tx, &grant)?;
    insert_refresh(&tx, next)?;
    insert_key(&tx, access)?;
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)?;
    Ok(grant)
}

fn grant_tokens(tx: &Transaction<'_>, id: &GrantId) -> Result<Vec<KeyRecord>, StoreError> {
    let mut st = tx
        .prepare_cached(&format!(
            "SELECT {KEY_COLS} FROM keys INDEXED BY keys_by_grant WHERE grant_id = ?1"
        ))
        .map_err(map_err)?;
    let rows = st.query_map([id.as_str()], key_from_row).map_err(map_err)?;
    rows.map(|r| r.map_err(map_err)?).collect()
}

pub(super) fn revoke_grant(
    c: &mut Connection,
    org: &OrgId,
    id: &GrantId,
    rev: &Revocation,
    event: &AuditEvent,
) -> Result<Option<GrantRevoked>, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let Some(mut grant) = get_grant(&tx, id)?.filter(|g| &g.org == org) else {
        return Ok(None);
    };
    let mut tokens: Vec<KeyRecord> = grant_tokens(&tx, id)?
        .into_iter()
        .filter(|k| grant.token_revocation_applies(k, rev))
        .collect();
    let grant_changes = grant.revocation_applies(rev);
    if grant_changes {
        grant.apply_revocation(rev);
        put_grant(&tx, &grant)?;
    }
    for k in &mut tokens {
        set_revoked(&tx, &k.id, rev)?;
        k.apply_revocation(rev);
    }
    let changed = grant_changes || !tokens.is_empty();
    if changed {
        insert_event(&tx, event)?;
    }
    tx.commit().map_err(map_err)?;
    Ok(Some(GrantRevoked {
        grant,
        tokens,
        changed,
    }))
}

pub(super) fn list_grants(c: &Connection, org: &OrgId) -> Result<Vec<GrantRecord>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT record FROM oauth_grants WHERE org = ?1 ORDER BY created_at DESC, id DESC",
        )
        .map_err(map_err)?;
    let rows = st
        .query_map([org.as_str()], |r| r.get::<_, String>(0))
        .map_err(map_err)?;
    rows.map(|text| from_json(&text.map_err(map_err)?))
        .collect()
}
