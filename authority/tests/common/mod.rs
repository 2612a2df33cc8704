//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use authority::audit::{
    AuditCursor, AuditEvent, AuditFilter, ChainInfo, PruneStats, TimelineBucket,
};
use authority::keys::KeyHash;
use authority::store::{KeyRecord, OrgRecord, Revocation, RevokeResult};
use authority::time::{ManualClock, Timestamp};
use authority::{
    Authority, AuthorityConfig, Env, EventId, KeyId, OrgId, Pepper, SqliteStore, Store, StoreError,
};
use tempfile::TempDir;

pub const T0: Timestamp = Timestamp::from_millis(1_750_000_000_000);

pub struct Harness {
    pub dir: TempDir,
    pub auth: Authority,
    pub clock: Arc<ManualClock>,
    pub flaky: Arc<Flaky>,
    pub sqlite: Arc<SqliteStore>,
}

pub fn harness(env: Env) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let flaky = Arc::new(Flaky {
        inner: sqlite.clone(),
        fail: AtomicBool::new(false),
    });
    let clock = ManualClock::new(T0);
    let mut cfg = AuthorityConfig {
        clock: clock.clone(),
        ..Default::default()
    };
    cfg.usage_flush_interval = Duration::from_secs(3600);
    cfg.validator.store_timeout = Duration::from_secs(5);
    let auth = Authority::new(flaky.clone(), Pepper::random(), env, cfg);
    Harness {
        dir,
        auth,
        clock,
        flaky,
        sqlite,
    }
}

/// A store that can be switched to fail every call, as an outage would.
pub struct Flaky {
    pub inner: Arc<SqliteStore>,
    pub fail: AtomicBool,
}

impl Flaky {
    pub fn set_down(&self, down: bool) {
        self.fail.store(down, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.fail.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("simulated outage".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for Flaky {
    fn backend(&self) -> &'static str {
        "flaky"
    }
    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.is_empty().await
    }
    async fn get_org(&self, org: &OrgId) -> Result<Option<OrgRecord>, StoreError> {
        self.check()?;
        self.inner.get_org(org).await
    }
    async fn create_org(
        &self,
        org: &OrgRecord,
        key: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.create_org(org, key, event).await
    }
    async fn insert_key(&self, key: &KeyRecord, event: &AuditEvent) -> Result<(), StoreError> {
        self.check()?;
        self.inner.insert_key(key, event).await
    }
    async fn get_key(&self, org: &OrgId, id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        self.check()?;
        self.inner.get_key(org, id).await
    }
    async fn find_key_by_hash(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, StoreError> {
        self.check()?;
        self.inner.find_key_by_hash(hash).await
    }
    async fn list_keys(&self, org: &OrgId) -> Result<Vec<KeyRecord>, StoreError> {
        self.check()?;
        self.inner.list_keys(org).await
    }
    async fn revoke_key(
        &self,
        org: &OrgId,
        id: &KeyId,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<RevokeResult, StoreError> {
        self.check()?;
        self.inner.revoke_key(org, id, rev, event).await
    }
    async fn rotate_key(
        &self,
        org: &OrgId,
        old: &KeyId,
        successor: &KeyRecord,
        old_rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<KeyRecord, StoreError> {
        self.check()?;
        self.inner
            .rotate_key(org, old, successor, old_rev, event)
            .await
    }
    async fn bulk_revoke(
        &self,
        org: &OrgId,
        agent: Option<&str>,
        except: Option<&KeyId>,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        self.check()?;
        self.inner.bulk_revoke(org, agent, except, rev, event).await
    }
    async fn touch_keys(&self, updates: &[(OrgId, KeyId, Timestamp)]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.touch_keys(updates).await
    }
    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.append_audit(events).await
    }
    async fn get_audit_event(
        &self,
        org: &OrgId,
        id: &EventId,
    ) -> Result<Option<AuditEvent>, StoreError> {
        self.check()?;
        self.inner.get_audit_event(org, id).await
    }
    async fn query_audit(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        cursor: Option<&AuditCursor>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.check()?;
        self.inner.query_audit(org, filter, cursor, limit).await
    }
    async fn audit_timeline(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        bucket_ms: i64,
    ) -> Result<Vec<TimelineBucket>, StoreError> {
        self.check()?;
        self.inner.audit_timeline(org, filter, bucket_ms).await
    }
    async fn audit_chains(&self, org: Option<&OrgId>) -> Result<Vec<ChainInfo>, StoreError> {
        self.check()?;
        self.inner.audit_chains(org).await
    }
    async fn audit_chain_events(
        &self,
        org: &OrgId,
        writer: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.check()?;
        self.inner
            .audit_chain_events(org, writer, after_seq, limit)
            .await
    }
    async fn prune_audit(&self, before: Timestamp) -> Result<PruneStats, StoreError> {
        self.check()?;
        self.inner.prune_audit(before).await
    }
}
