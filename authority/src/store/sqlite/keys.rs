//! Org and key statements.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::audit::insert_event;
use super::map_err;
use crate::audit::AuditEvent;
use crate::guardrails::{AddressRanges, KeyLimits, KeyMetadata, KeyTerms};
use crate::ids::{GrantId, KeyId, OrgId};
use crate::keys::{Env, KeyHash, KeyHint};
use crate::oauth::{ClientId, TokenOrigin};
use crate::scopes::ScopeSet;
use crate::store::{BulkSelection, KeyRecord, OrgRecord, Revocation, RevokeResult, StoreError};
use crate::time::Timestamp;

pub(super) const KEY_COLS: &str = "id, org, name, env, agent, scopes, hash, hint, created_by, \
    created_at, expires_at, revoked_at, revoked_by, revoke_reason, last_used_at, rotated_from, \
    rotated_to, resources, grant_id, client_id, not_before, networks, metadata, parent, quarantine, limits";

fn ts(v: Option<i64>) -> Option<Timestamp> {
    v.map(Timestamp::from_millis)
}

pub(super) fn key_from_row(r: &Row<'_>) -> rusqlite::Result<Result<KeyRecord, StoreError>> {
    let env: String = r.get(3)?;
    let hash: Vec<u8> = r.get(6)?;
    let Some(env) = Env::parse(&env) else {
        return Ok(Err(StoreError::Corrupt(format!("key env `{env}`"))));
    };
    let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) else {
        return Ok(Err(StoreError::Corrupt("key hash length".into())));
    };
    Ok(Ok(KeyRecord {
        id: KeyId::from_stored(r.get(0)?),
        org: OrgId::from_stored(r.get(1)?),
        name: r.get(2)?,
        env,
        agent: r.get(4)?,
        scopes: ScopeSet::from_storage(&r.get::<_, String>(5)?),
        hash: KeyHash::from_bytes(hash),
        hint: KeyHint::from_stored(r.get(7)?),
        created_by: r.get::<_, Option<String>>(8)?.map(KeyId::from_stored),
        created_at: Timestamp::from_millis(r.get(9)?),
        expires_at: ts(r.get(10)?),
        revoked_at: ts(r.get(11)?),
        revoked_by: r.get(12)?,
        revoke_reason: r.get(13)?,
        last_used_at: ts(r.get(14)?),
        rotated_from: r.get::<_, Option<String>>(15)?.map(KeyId::from_stored),
        rotated_to: r.get::<_, Option<String>>(16)?.map(KeyId::from_stored),
        resources: crate::oauth::resources_from_storage(&r.get::<_, String>(17)?),
        oauth: match (
            r.get::<_, Option<String>>(18)?,
            r.get::<_, Option<String>>(19)?,
        ) {
            (Some(grant), Some(client)) => Some(TokenOrigin {
                grant: GrantId::from_stored(grant),
                client: ClientId::from_stored(client),
            }),
            _ => None,
        },
        terms: KeyTerms {
            not_before: ts(r.get(20)?),
            networks: networks_from_storage(&r.get::<_, String>(21)?),
            metadata: r
                .get::<_, Option<String>>(22)?
                .as_deref()
                .and_then(KeyMetadata::from_storage),
            limits: match limits_from_storage(r.get::<_, Option<String>>(25)?.as_deref()) {
                Ok(l) => l,
                Err(e) => return Ok(Err(e)),
            },
        },
        parent: r.get::<_, Option<String>>(23)?.map(KeyId::from_stored),
        quarantine: match r.get::<_, Option<String>>(24)? {
            None => None,
            Some(json) => match serde_json::from_str(&json) {
                Ok(q) => Some(q),
                Err(e) => return Ok(Err(StoreError::Corrupt(format!("key quarantine: {e}")))),
            },
        },
    }))
}

/// Limits are stored as their JSON views; none as NULL.
pub(super) fn limits_to_storage(l: &KeyLimits) -> Option<String> {
    (!l.is_empty()).then(|| serde_json::to_string(&l.views()).expect("limit views serialize"))
}

fn limits_from_storage(text: Option<&str>) -> Result<KeyLimits, StoreError> {
    let Some(text) = text else {
        return Ok(KeyLimits::default());
    };
    let views: Vec<model::wire::LimitView> =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("key limits: {e}")))?;
    KeyLimits::from_views(&views).map_err(|e| StoreError::Corrupt(format!("key limits: {e}")))
}

/// A quarantine is stored as its JSON view.
pub(super) fn quarantine_to_storage(q: Option<&model::wire::QuarantineView>) -> Option<String> {
    q.map(|q| serde_json::to_string(q).expect("a quarantine view serializes"))
}

/// Networks are stored comma-separated (a CIDR range holds no comma).
pub(super) fn networks_to_storage(n: &AddressRanges) -> String {
    n.to_strings().join(",")
}

pub(super) fn networks_from_storage(text: &str) -> AddressRanges {
    let items: Vec<String> = text
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    AddressRanges::from_stored(&items)
}

fn one_key(
    c: &Connection,
    where_: &str,
    p: impl rusqlite::Params,
) -> Result<Option<KeyRecord>, StoreError> {
    let mut st = c
        .prepare_cached(&format!("SELECT {KEY_COLS} FROM keys WHERE {where_}"))
        .map_err(map_err)?;
    st.query_row(p, key_from_row)
        .optional()
        .map_err(map_err)?
        .transpose()
}

pub(super) fn get_org(c: &Connection, org: &OrgId) -> Result<Option<OrgRecord>, StoreError> {
    c.query_row(
        "SELECT id, name, created_at, allow_never_expiry FROM orgs WHERE id = ?1",
        [org.as_str()],
        |r| {
            Ok(OrgRecord {
                id: OrgId::from_stored(r.get(0)?),
                name: r.get(1)?,
                created_at: Timestamp::from_millis(r.get(2)?),
                allow_never_expiry: r.get(3)?,
            })
        },
    )
    .optional()
    .map_err(map_err)
}

pub(super) fn get_key(
    c: &Connection,
    org: &OrgId,
    id: &KeyId,
) -> Result<Option<KeyRecord>, StoreError> {
    one_key(
        c,
        "id = ?1 AND org = ?2",
        params![id.as_str(), org.as_str()],
    )
}

pub(super) fn find_by_hash(
    c: &Connection,
    hash: &KeyHash,
) -> Result<Option<KeyRecord>, StoreError> {
    one_key(c, "hash = ?1", params![&hash.as_bytes()[..]])
}

pub(super) fn list_keys(c: &Connection, org: &OrgId) -> Result<Vec<KeyRecord>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {KEY_COLS} FROM keys WHERE org = ?1 ORDER BY created_at DESC, id DESC"
        ))
        .map_err(map_err)?;
    let rows = st
        .query_map([org.as_str()], key_from_row)
        .map_err(map_err)?;
    rows.map(|r| r.map_err(map_err)?).collect()
}

pub(super) fn revoked_since(
    c: &Connection,
    org: &OrgId,
    since: Timestamp,
    limit: u32,
) -> Result<Vec<KeyRecord>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "SELECT {KEY_COLS} FROM keys INDEXED BY keys_by_org_revoked \
             WHERE org = ?1 AND revoked_at >= ?2 ORDER BY revoked_at, id LIMIT ?3"
        ))
        .map_err(map_err)?;
    let rows = st
        .query_map(
            rusqlite::params![org.as_str(), since.as_millis(), i64::from(limit)],
            key_from_row,
        )
        .map_err(map_err)?;
    rows.map(|r| r.map_err(map_err)?).collect()
}

pub(super) fn insert_key(tx: &Transaction<'_>, k: &KeyRecord) -> Result<(), StoreError> {
    tx.prepare_cached(&format!(
        "INSERT INTO keys ({KEY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
         ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)"
    ))
    .map_err(map_err)?
    .execute(params![
        k.id.as_str(),
        k.org.as_str(),
        k.name,
        k.env.as_str(),
        k.agent,
        k.scopes.to_storage(),
        &k.hash.as_bytes()[..],
        k.hint.as_str(),
        k.created_by.as_ref().map(KeyId::as_str),
        k.created_at.as_millis(),
        k.expires_at.map(Timestamp::as_millis),
        k.revoked_at.map(Timestamp::as_millis),
        k.revoked_by,
        k.revoke_reason,
        k.last_used_at.map(Timestamp::as_millis),
        k.rotated_from.as_ref().map(KeyId::as_str),
        k.rotated_to.as_ref().map(KeyId::as_str),
        crate::oauth::resources_to_storage(&k.resources),
        k.oauth.as_ref().map(|o| o.grant.as_str()),
        k.oauth.as_ref().map(|o| o.client.as_str()),
        k.terms.not_before.map(Timestamp::as_millis),
        networks_to_storage(&k.terms.networks),
        k.terms.metadata.as_ref().map(KeyMetadata::to_storage),
        k.parent.as_ref().map(KeyId::as_str),
        quarantine_to_storage(k.quarantine.as_ref()),
        limits_to_storage(&k.terms.limits),
    ])
    .map_err(map_err)?;
    Ok(())
}

pub(super) fn org_exists(tx: &Transaction<'_>, org: &OrgId) -> Result<bool, StoreError> {
    tx.query_row("SELECT 1 FROM orgs WHERE id = ?1", [org.as_str()], |_| {
        Ok(())
    })
    .optional()
    .map_err(map_err)
    .map(|o| o.is_some())
}

pub(super) fn create_org(
    c: &mut Connection,
    org: &OrgRecord,
    key: &KeyRecord,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    if org_exists(&tx, &org.id)? {
        return Err(StoreError::Conflict(format!("org {} exists", org.id)));
    }
    tx.execute(
        "INSERT INTO orgs (id, name, created_at, allow_never_expiry) VALUES (?1, ?2, ?3, ?4)",
        params![
            org.id.as_str(),
            org.name,
            org.created_at.as_millis(),
            org.allow_never_expiry
        ],
    )
    .map_err(map_err)?;
    insert_key(&tx, key)?;
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)
}

pub(super) fn insert_key_tx(
    c: &mut Connection,
    key: &KeyRecord,
    event: &AuditEvent,
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    if !org_exists(&tx, &key.org)? {
        return Err(StoreError::NotFound);
    }
    insert_key(&tx, key)?;
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)
}

pub(super) fn set_revoked(
    tx: &Transaction<'_>,
    id: &KeyId,
    rev: &Revocation,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "UPDATE keys SET revoked_at = ?2, revoked_by = ?3, revoke_reason = ?4 WHERE id = ?1",
    )
    .map_err(map_err)?
    .execute(params![id.as_str(), rev.at.as_millis(), rev.by, rev.reason])
    .map_err(map_err)?;
    Ok(())
}

pub(super) fn revoke_key(
    c: &mut Connection,
    org: &OrgId,
    id: &KeyId,
    rev: &Revocation,
    event: &AuditEvent,
) -> Result<RevokeResult, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let Some(mut k) = get_key(&tx, org, id)? else {
        return Ok(RevokeResult::NotFound);
    };
    let mut descendants: Vec<KeyRecord> = descendants_of(&tx, org, id)?
        .into_iter()
        .filter(|d| crate::store::cascade_applies(d, rev))
        .collect();
    let applies = k.revocation_applies(rev);
    if !applies && descendants.is_empty() {
        return Ok(RevokeResult::AlreadyRevoked {
            key: k,
            descendants,
        });
    }
    if applies {
        set_revoked(&tx, id, rev)?;
    }
    for d in &mut descendants {
        set_revoked(&tx, &d.id, rev)?;
        d.apply_revocation(rev);
    }
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)?;
    if applies {
        k.apply_revocation(rev);
        Ok(RevokeResult::Revoked {
            key: k,
            descendants,
        })
    } else {
        Ok(RevokeResult::AlreadyRevoked {
            key: k,
            descendants,
        })
    }
}

pub(super) fn set_quarantine(
    c: &mut Connection,
    org: &OrgId,
    id: &KeyId,
    hold: Option<&model::wire::QuarantineView>,
    now: Timestamp,
    event: &AuditEvent,
) -> Result<Option<Vec<KeyRecord>>, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let Some(root) = get_key(&tx, org, id)? else {
        return Ok(None);
    };
    let descendants = descendants_of(&tx, org, id)?;
    let mut changed = Vec::new();
    for (k, q) in crate::store::quarantine::plan_hold(&root, &descendants, hold, now) {
        tx.prepare_cached("UPDATE keys SET quarantine = ?2 WHERE id = ?1")
            .map_err(map_err)?
            .execute(params![k.id.as_str(), quarantine_to_storage(q.as_ref())])
            .map_err(map_err)?;
        let mut k = k.clone();
        k.quarantine = q;
        changed.push(k);
    }
    if !changed.is_empty() {
        insert_event(&tx, event)?;
        tx.commit().map_err(map_err)?;
    }
    Ok(Some(changed))
}

/// Every key of `org` descending from `id` (children, their children, …),
/// walked through `keys_by_parent`: the cost follows the tree, not the org.
fn descendants_of(c: &Connection, org: &OrgId, id: &KeyId) -> Result<Vec<KeyRecord>, StoreError> {
    let mut st = c
        .prepare_cached(&format!(
            "WITH RECURSIVE tree(id) AS ( \
                 SELECT id FROM keys WHERE org = ?1 AND parent = ?2 \
                 UNION SELECT k.id FROM keys k JOIN tree t ON k.org = ?1 AND k.parent = t.id) \
             SELECT {KEY_COLS} FROM keys WHERE org = ?1 AND id IN tree"
        ))
        .map_err(map_err)?;
    let rows = st
        .query_map(params![org.as_str(), id.as_str()], key_from_row)
        .map_err(map_err)?;
    rows.map(|r| r.map_err(map_err)?).collect()
}

pub(super) fn rotate_key(
    c: &mut Connection,
    org: &OrgId,
    old: &KeyId,
    succ: &KeyRecord,
    rev: &Revocation,
    event: &AuditEvent,
) -> Result<KeyRecord, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let mut k = get_key(&tx, org, old)?.ok_or(StoreError::NotFound)?;
    if let Some(conflict) = k.rotation_conflict(succ) {
        return Err(StoreError::Conflict(conflict.into()));
    }
    insert_key(&tx, succ)?;
    tx.execute(
        "UPDATE keys SET rotated_to = ?2 WHERE id = ?1",
        params![old.as_str(), succ.id.as_str()],
    )
    .map_err(map_err)?;
    k.rotated_to = Some(succ.id.clone());
    if k.revocation_applies(rev) {
        set_revoked(&tx, old, rev)?;
        k.apply_revocation(rev);
    }
    insert_event(&tx, event)?;
    tx.commit().map_err(map_err)?;
    Ok(k)
}

pub(super) fn bulk_revoke(
    c: &mut Connection,
    org: &OrgId,
    selection: &BulkSelection,
    rev: &Revocation,
    event: &AuditEvent,
) -> Result<Vec<KeyRecord>, StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    let mut hit = crate::store::bulk_revoke_picks(list_keys(&tx, org)?, |k| k, selection, rev);
    for k in &mut hit {
        set_revoked(&tx, &k.id, rev)?;
        k.apply_revocation(rev);
    }
    if !hit.is_empty() {
        insert_event(&tx, event)?;
    }
    tx.commit().map_err(map_err)?;
    Ok(hit)
}

pub(super) fn touch_keys(
    c: &mut Connection,
    updates: &[(OrgId, KeyId, Timestamp)],
) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(map_err)?;
    {
        let mut st = tx
            .prepare_cached(
                "UPDATE keys SET last_used_at = ?3 WHERE id = ?1 AND org = ?2 \
                 AND (last_used_at IS NULL OR last_used_at < ?3)",
            )
            .map_err(map_err)?;
        for (org, id, at) in updates {
            st.execute(params![id.as_str(), org.as_str(), at.as_millis()])
                .map_err(map_err)?;
        }
    }
    tx.commit().map_err(map_err)
}
