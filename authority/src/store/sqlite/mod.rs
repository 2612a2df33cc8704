//! The embedded SQLite backend.
//!
//! Rules:
//! - One database file, `<data dir>/acekeys.db`, WAL mode, migrations at open.
//! - `synchronous = FULL`: every commit fsyncs the WAL before it returns, so
//!   an acknowledged key change or audit event survives kill -9 and power
//!   loss. Group commit in the audit recorder is what keeps this affordable.
//! - rusqlite blocks, so every call runs on Tokio's blocking pool. One writer
//!   connection behind a mutex serialises writes (SQLite allows one writer
//!   anyway); readers come from a small pool of extra connections, which WAL
//!   lets run concurrently with the writer.

mod audit;
mod audit_hours;
mod audit_query;
mod keys;
mod limits;
mod oauth;
mod org_settings;
mod people;
mod private;
mod schema;
mod sessions;
mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags};

use super::{
    BulkSelection, CatalogEntry, GrantRevoked, KeyRecord, OrgRecord, Revocation, RevokeResult,
    Store, StoreError,
};
use crate::audit::{
    AuditCursor, AuditEvent, AuditFilter, ChainInfo, PruneStats, Seal, TimelineBucket,
};
use crate::ids::{EventId, GrantId, KeyId, MemberId, OrgId};
use crate::keys::KeyHash;
use crate::oauth::{ClientId, GrantRecord, OAuthClient, RefreshRecord};
use crate::people::{MemberRecord, TicketRecord};
use crate::sessions::{SessionActor, SessionRecord, TokenHash};
use crate::time::Timestamp;

pub const DB_FILE: &str = "acekeys.db";
const MAX_IDLE_READERS: usize = 8;

pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.inner.path)
            .finish()
    }
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Maps rusqlite errors: constraint violations are conflicts, the rest means
/// the store could not answer.
pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(e.to_string())
        }
        _ => unavailable(e),
    }
}

fn open_conn(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // 64 MiB page cache: the audit indexes stay hot under sustained ingest.
    conn.pragma_update(None, "cache_size", -65_536)?;
    // Fewer, larger checkpoints: each one fsyncs the main file.
    conn.pragma_update(None, "wal_autocheckpoint", 8192)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) `<dir>/acekeys.db` and applies migrations.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        private::create_dir(dir).map_err(unavailable)?;
        Self::open_file(&dir.join(DB_FILE))
    }

    pub fn open_file(path: &Path) -> Result<Self, StoreError> {
        private::secure(path).map_err(unavailable)?;
        let mut writer = open_conn(path).map_err(unavailable)?;
        schema::migrate(&mut writer).map_err(unavailable)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock();
            f(&mut conn)
        })
        .await
        .map_err(unavailable)?
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = inner.readers.lock().pop();
            let conn = match pooled {
                Some(c) => c,
                None => open_conn(&inner.path).map_err(unavailable)?,
            };
            let out = f(&conn);
            let mut idle = inner.readers.lock();
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(unavailable)?
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn pepper_fingerprint(&self, fingerprint: &[u8; 32]) -> Result<[u8; 32], StoreError> {
        let fingerprint = *fingerprint;
        self.write(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('pepper_fingerprint', ?1)",
                [&fingerprint[..]],
            )
            .map_err(map_err)?;
            let held: Vec<u8> = c
                .query_row(
                    "SELECT value FROM meta WHERE name = 'pepper_fingerprint'",
                    [],
                    |r| r.get(0),
                )
                .map_err(map_err)?;
            <[u8; 32]>::try_from(held.as_slice())
                .map_err(|_| StoreError::Corrupt("pepper fingerprint length".into()))
        })
        .await
    }

    async fn list_scopes(&self, org: &OrgId) -> Result<Vec<CatalogEntry>, StoreError> {
        let org = org.clone();
        self.read(move |c| {
            let mut st = c
                .prepare_cached(
                    "SELECT org, service, action, description FROM org_scopes \
                     WHERE org = '' OR org = ?1 ORDER BY service, action, org",
                )
                .map_err(map_err)?;
            let rows = st
                .query_map([org.as_str()], |r| {
                    let owner: String = r.get(0)?;
                    Ok(CatalogEntry {
                        org: (!owner.is_empty()).then(|| OrgId::from_stored(owner)),
                        service: r.get(1)?,
                        action: r.get(2)?,
                        description: r.get(3)?,
                    })
                })
                .map_err(map_err)?;
            rows.collect::<rusqlite::Result<_>>().map_err(map_err)
        })
        .await
    }

    async fn add_scopes(
        &self,
        entries: &[CatalogEntry],
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let (entries, event) = (entries.to_vec(), event.clone());
        self.write(move |c| {
            let tx = c.transaction().map_err(map_err)?;
            for e in &entries {
                tx.execute(
                    "INSERT INTO org_scopes (org, service, action, description) VALUES (?1, ?2, ?3, ?4)",
                    [
                        e.org.as_ref().map_or("", OrgId::as_str),
                        &e.service,
                        &e.action,
                        &e.description,
                    ],
                )
                .map_err(map_err)?;
            }
            audit::insert_event(&tx, &event)?;
            tx.commit().map_err(map_err)
        })
        .await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.read(|c| {
            let n: i64 = c
                .query_row("SELECT COUNT(*) FROM orgs", [], |r| r.get(0))
                .map_err(map_err)?;
            Ok(n == 0)
        })
        .await
    }

    async fn get_org(&self, org: &OrgId) -> Result<Option<OrgRecord>, StoreError> {
        let org = org.clone();
        self.read(move |c| keys::get_org(c, &org)).await
    }

    async fn create_org(
        &self,
        org: &OrgRecord,
        key: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let (org, key, event) = (org.clone(), key.clone(), event.clone());
        self.write(move |c| keys::create_org(c, &org, &key, &event))
            .await
    }

    async fn insert_key(&self, key: &KeyRecord, event: &AuditEvent) -> Result<(), StoreError> {
        let (key, event) = (key.clone(), event.clone());
        self.write(move |c| keys::insert_key_tx(c, &key, &event))
            .await
    }

    async fn get_key(&self, org: &OrgId, id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        let (org, id) = (org.clone(), id.clone());
        self.read(move |c| keys::get_key(c, &org, &id)).await
    }

    async fn find_key_by_hash(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, StoreError> {
        let hash = *hash;
        self.read(move |c| keys::find_by_hash(c, &hash)).await
    }

    async fn list_keys(&self, org: &OrgId) -> Result<Vec<KeyRecord>, StoreError> {
        let org = org.clone();
        self.read(move |c| keys::list_keys(c, &org)).await
    }

    async fn revoked_since(
        &self,
        org: &OrgId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let org = org.clone();
        self.read(move |c| keys::revoked_since(c, &org, since, limit))
            .await
    }

    async fn revoke_key(
        &self,
        org: &OrgId,
        id: &KeyId,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<RevokeResult, StoreError> {
        let (org, id, rev, event) = (org.clone(), id.clone(), rev.clone(), event.clone());
        self.write(move |c| keys::revoke_key(c, &org, &id, &rev, &event))
            .await
    }

    async fn set_quarantine(
        &self,
        org: &OrgId,
        id: &KeyId,
        hold: Option<&model::wire::QuarantineView>,
        now: Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<Vec<KeyRecord>>, StoreError> {
        let (org, id, hold, event) = (org.clone(), id.clone(), hold.cloned(), event.clone());
        self.write(move |c| keys::set_quarantine(c, &org, &id, hold.as_ref(), now, &event))
            .await
    }

    async fn org_settings(&self, org: &OrgId) -> Result<model::wire::OrgSettings, StoreError> {
        let org = org.clone();
        self.read(move |c| org_settings::get(c, &org)).await
    }

    async fn set_org_settings(
        &self,
        org: &OrgId,
        settings: &model::wire::OrgSettings,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let (org, settings, event) = (org.clone(), *settings, event.clone());
        self.write(move |c| org_settings::set(c, &org, &settings, &event))
            .await
    }

    async fn put_webhook(
        &self,
        hook: &crate::webhooks::WebhookRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let (hook, event) = (hook.clone(), event.clone());
        self.write(move |c| webhooks::put_webhook(c, &hook, &event))
            .await
    }

    async fn list_webhooks(
        &self,
        org: &OrgId,
    ) -> Result<Vec<crate::webhooks::WebhookRecord>, StoreError> {
        let org = org.clone();
        self.read(move |c| webhooks::list_webhooks(c, &org)).await
    }

    async fn delete_webhook(
        &self,
        org: &OrgId,
        id: &crate::ids::WebhookId,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let (org, id, event) = (org.clone(), id.clone(), event.clone());
        self.write(move |c| webhooks::delete_webhook(c, &org, &id, &event))
            .await
    }

    async fn enqueue_webhook_messages(
        &self,
        messages: &[crate::webhooks::WebhookMessage],
    ) -> Result<(), StoreError> {
        let messages = messages.to_vec();
        self.write(move |c| webhooks::enqueue(c, &messages)).await
    }

    async fn fan_out_webhooks(&self, limit: u32) -> Result<u32, StoreError> {
        self.write(move |c| webhooks::fan_out(c, limit)).await
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        busy: &[crate::ids::WebhookId],
    ) -> Result<Vec<crate::webhooks::Delivery>, StoreError> {
        let busy = busy.to_vec();
        self.write(move |c| webhooks::claim(c, now, lease_until, limit, &busy))
            .await
    }

    async fn record_delivery(
        &self,
        delivery: &crate::webhooks::Delivery,
    ) -> Result<(), StoreError> {
        let delivery = delivery.clone();
        self.write(move |c| webhooks::record(c, &delivery)).await
    }

    async fn list_deliveries(
        &self,
        org: &OrgId,
        webhook: &crate::ids::WebhookId,
        limit: u32,
    ) -> Result<Vec<crate::webhooks::Delivery>, StoreError> {
        let (org, webhook) = (org.clone(), webhook.clone());
        self.read(move |c| webhooks::list_deliveries(c, &org, &webhook, limit))
            .await
    }

    async fn keys_expiring(
        &self,
        after: Timestamp,
        up_to: Timestamp,
        cursor: Option<&(Timestamp, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let cursor = cursor.cloned();
        self.read(move |c| webhooks::keys_expiring(c, after, up_to, cursor.as_ref(), limit))
            .await
    }

    async fn prune_webhook_history(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        self.write(move |c| webhooks::prune(c, before, limit)).await
    }

    async fn set_limits(
        &self,
        org: &OrgId,
        id: &KeyId,
        limits: &crate::guardrails::KeyLimits,
        _now: Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<KeyRecord>, StoreError> {
        let (org, id, limits, event) = (org.clone(), id.clone(), limits.clone(), event.clone());
        self.write(move |c| limits::set_limits(c, &org, &id, &limits, &event))
            .await
    }

    async fn take_allowance(
        &self,
        org: &OrgId,
        owner: &KeyId,
        counter: &str,
        window_start: i64,
        cap: u64,
    ) -> Result<u64, StoreError> {
        let (org, owner, counter) = (org.clone(), owner.clone(), counter.to_owned());
        self.write(move |c| limits::take_allowance(c, &org, &owner, &counter, window_start, cap))
            .await
    }

    async fn rotate_key(
        &self,
        org: &OrgId,
        old: &KeyId,
        successor: &KeyRecord,
        old_rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<KeyRecord, StoreError> {
        let (org, old, succ, rev, event) = (
            org.clone(),
            old.clone(),
            successor.clone(),
            old_rev.clone(),
            event.clone(),
        );
        self.write(move |c| keys::rotate_key(c, &org, &old, &succ, &rev, &event))
            .await
    }

    async fn bulk_revoke(
        &self,
        org: &OrgId,
        selection: &BulkSelection,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        let (org, selection, rev, event) =
            (org.clone(), selection.clone(), rev.clone(), event.clone());
        self.write(move |c| keys::bulk_revoke(c, &org, &selection, &rev, &event))
            .await
    }

    async fn touch_keys(&self, updates: &[(OrgId, KeyId, Timestamp)]) -> Result<(), StoreError> {
        let updates = updates.to_vec();
        self.write(move |c| keys::touch_keys(c, &updates)).await
    }

    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        let events = events.to_vec();
        self.write(move |c| audit::append(c, &events)).await
    }

    async fn get_audit_event(
        &self,
        org: &OrgId,
        id: &EventId,
    ) -> Result<Option<AuditEvent>, StoreError> {
        let (org, id) = (org.clone(), id.clone());
        self.read(move |c| audit::get(c, &org, &id)).await
    }

    async fn query_audit(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        cursor: Option<&AuditCursor>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let (org, filter, cursor) = (org.clone(), filter.clone(), cursor.cloned());
        self.read(move |c| audit_query::query(c, &org, &filter, cursor.as_ref(), limit))
            .await
    }

    async fn audit_timeline(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        bucket_ms: i64,
    ) -> Result<Vec<TimelineBucket>, StoreError> {
        let (org, filter) = (org.clone(), filter.clone());
        self.read(move |c| audit_query::timeline(c, &org, &filter, bucket_ms))
            .await
    }

    async fn audit_chains(&self, org: Option<&OrgId>) -> Result<Vec<ChainInfo>, StoreError> {
        let org = org.cloned();
        self.read(move |c| audit::chains(c, org.as_ref())).await
    }

    async fn seal_audit_chains(&self, seals: &[Seal]) -> Result<(), StoreError> {
        let seals = seals.to_vec();
        self.write(move |c| {
            let tx = c.transaction().map_err(map_err)?;
            for seal in &seals {
                audit::put_seal(&tx, seal)?;
            }
            tx.commit().map_err(map_err)
        })
        .await
    }

    async fn audit_chain_events(
        &self,
        org: &OrgId,
        writer: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let (org, writer) = (org.clone(), writer.to_owned());
        self.read(move |c| audit::chain_events(c, &org, &writer, after_seq, limit))
            .await
    }

    async fn prune_audit(&self, before: Timestamp) -> Result<PruneStats, StoreError> {
        self.write(move |c| audit::prune(c, before)).await
    }

    async fn create_session(
        &self,
        token: &TokenHash,
        session: &SessionRecord,
    ) -> Result<(), StoreError> {
        let (token, session) = (*token, session.clone());
        self.write(move |c| sessions::create(c, &token, &session))
            .await
    }

    async fn get_session(&self, token: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
        let token = *token;
        self.read(move |c| sessions::get(c, &token)).await
    }

    async fn touch_session(&self, token: &TokenHash, seen: Timestamp) -> Result<(), StoreError> {
        let token = *token;
        self.write(move |c| sessions::touch(c, &token, seen)).await
    }

    async fn delete_session(&self, token: &TokenHash) -> Result<(), StoreError> {
        let token = *token;
        self.write(move |c| sessions::delete(c, &token)).await
    }

    async fn delete_sessions_of(
        &self,
        org: &OrgId,
        actor: &SessionActor,
    ) -> Result<u64, StoreError> {
        let (org, actor) = (org.clone(), actor.clone());
        self.write(move |c| sessions::delete_of(c, &org, &actor))
            .await
    }

    async fn create_member(
        &self,
        member: &MemberRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let (member, event) = (member.clone(), event.clone());
        self.write(move |c| people::create_member(c, &member, &event))
            .await
    }

    async fn get_member(
        &self,
        org: &OrgId,
        id: &MemberId,
    ) -> Result<Option<MemberRecord>, StoreError> {
        let (org, id) = (org.clone(), id.clone());
        self.read(move |c| people::get_member(c, &org, &id)).await
    }

    async fn find_member_by_email(
        &self,
        org: &OrgId,
        email: &str,
    ) -> Result<Option<MemberRecord>, StoreError> {
        let (org, email) = (org.clone(), email.to_owned());
        self.read(move |c| people::find_member_by_email(c, &org, &email))
            .await
    }

    async fn list_members(&self, org: &OrgId) -> Result<Vec<MemberRecord>, StoreError> {
        let org = org.clone();
        self.read(move |c| people::list_members(c, &org)).await
    }

    async fn update_member(
        &self,
        member: &MemberRecord,
        event: Option<&AuditEvent>,
    ) -> Result<(), StoreError> {
        let (member, event) = (member.clone(), event.cloned());
        self.write(move |c| people::update_member(c, &member, event.as_ref()))
            .await
    }

    async fn delete_member(
        &self,
        org: &OrgId,
        id: &MemberId,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let (org, id, event) = (org.clone(), id.clone(), event.clone());
        self.write(move |c| people::delete_member(c, &org, &id, &event))
            .await
    }

    async fn put_ticket(&self, ticket: &TicketRecord) -> Result<(), StoreError> {
        let ticket = ticket.clone();
        self.write(move |c| people::put_ticket(c, &ticket)).await
    }

    async fn get_ticket(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<TicketRecord>, StoreError> {
        let hash = *hash;
        self.read(move |c| people::get_ticket(c, &hash, now)).await
    }

    async fn take_ticket(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<TicketRecord>, StoreError> {
        let hash = *hash;
        self.write(move |c| people::take_ticket(c, &hash, now))
            .await
    }

    async fn sweep_tickets(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.write(move |c| people::sweep_tickets(c, now)).await
    }

    async fn insert_oauth_client(
        &self,
        client: &OAuthClient,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let (client, event) = (client.clone(), event.clone());
        self.write(move |c| oauth::insert_client(c, &client, &event))
            .await
    }

    async fn get_oauth_client(&self, id: &ClientId) -> Result<Option<OAuthClient>, StoreError> {
        let id = id.clone();
        self.read(move |c| oauth::get_client(c, &id)).await
    }

    async fn start_grant(
        &self,
        grant: &GrantRecord,
        refresh: &RefreshRecord,
        access: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let (grant, refresh, access, event) = (
            grant.clone(),
            refresh.clone(),
            access.clone(),
            event.clone(),
        );
        self.write(move |c| oauth::start_grant(c, &grant, &refresh, &access, &event))
            .await
    }

    async fn get_grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, StoreError> {
        let id = id.clone();
        self.read(move |c| oauth::get_grant(c, &id)).await
    }

    async fn find_refresh(&self, hash: &KeyHash) -> Result<Option<RefreshRecord>, StoreError> {
        let hash = *hash;
        self.read(move |c| oauth::find_refresh(c, &hash)).await
    }

    async fn refresh_grant(
        &self,
        next: &RefreshRecord,
        access: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<GrantRecord, StoreError> {
        let (next, access, event) = (next.clone(), access.clone(), event.clone());
        self.write(move |c| oauth::refresh_grant(c, &next, &access, &event))
            .await
    }

    async fn revoke_grant(
        &self,
        org: &OrgId,
        id: &GrantId,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<Option<GrantRevoked>, StoreError> {
        let (org, id, rev, event) = (org.clone(), id.clone(), rev.clone(), event.clone());
        self.write(move |c| oauth::revoke_grant(c, &org, &id, &rev, &event))
            .await
    }

    async fn list_grants(&self, org: &OrgId) -> Result<Vec<GrantRecord>, StoreError> {
        let org = org.clone();
        self.read(move |c| oauth::list_grants(c, &org)).await
    }

    async fn sweep_sessions(
        &self,
        created_before: Timestamp,
        seen_before: Timestamp,
    ) -> Result<u64, StoreError> {
        self.write(move |c| sessions::sweep(c, created_before, seen_before))
            .await
    }
}
