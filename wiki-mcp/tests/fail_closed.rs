//! Fail closed: when the audit store refuses writes, a call is refused and
//! the tool body never runs. The fault (a store whose `append_audit` fails)
//! is injected through a wrapper around the real SQLite store; everything
//! else is real: the wiki router on a real socket and rmcp's client.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use authority::audit::{
    AuditCursor, AuditEvent, AuditFilter, ChainInfo, PruneStats, TimelineBucket,
};
use authority::keys::KeyHash;
use authority::store::{KeyRecord, OrgRecord, Revocation, RevokeResult};
use authority::time::Timestamp;
use authority::{
    Authority, AuthorityConfig, Env, EventId, KeyId, OrgId, Pepper, SqliteStore, Store, StoreError,
};
use common::{call, connect, Seed};
use serde_json::json;
use wiki_mcp::{router, startup, tool_scopes, Wiki};

/// Delegates to SQLite; `append_audit` fails while `broken` is set.
struct AuditFault {
    inner: SqliteStore,
    broken: AtomicBool,
}

#[async_trait]
impl Store for AuditFault {
    fn backend(&self) -> &'static str {
        "audit-fault"
    }
    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.inner.is_empty().await
    }
    async fn get_org(&self, org: &OrgId) -> Result<Option<OrgRecord>, StoreError> {
        self.inner.get_org(org).await
    }
    async fn create_org(
        &self,
        org: &OrgRecord,
        key: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.inner.create_org(org, key, event).await
    }
    async fn insert_key(&self, key: &KeyRecord, event: &AuditEvent) -> Result<(), StoreError> {
        self.inner.insert_key(key, event).await
    }
    async fn get_key(&self, org: &OrgId, id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        self.inner.get_key(org, id).await
    }
    async fn find_key_by_hash(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, StoreError> {
        self.inner.find_key_by_hash(hash).await
    }
    async fn list_keys(&self, org: &OrgId) -> Result<Vec<KeyRecord>, StoreError> {
        self.inner.list_keys(org).await
    }
    async fn revoke_key(
        &self,
        org: &OrgId,
        id: &KeyId,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<RevokeResult, StoreError> {
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
        self.inner.bulk_revoke(org, agent, except, rev, event).await
    }
    async fn touch_keys(&self, updates: &[(OrgId, KeyId, Timestamp)]) -> Result<(), StoreError> {
        self.inner.touch_keys(updates).await
    }
    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "audit store refuses writes (injected fault)".into(),
            ));
        }
        self.inner.append_audit(events).await
    }
    async fn get_audit_event(
        &self,
        org: &OrgId,
        id: &EventId,
    ) -> Result<Option<AuditEvent>, StoreError> {
        self.inner.get_audit_event(org, id).await
    }
    async fn query_audit(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        cursor: Option<&AuditCursor>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.inner.query_audit(org, filter, cursor, limit).await
    }
    async fn audit_timeline(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        bucket_ms: i64,
    ) -> Result<Vec<TimelineBucket>, StoreError> {
        self.inner.audit_timeline(org, filter, bucket_ms).await
    }
    async fn audit_chains(&self, org: Option<&OrgId>) -> Result<Vec<ChainInfo>, StoreError> {
        self.inner.audit_chains(org).await
    }
    async fn audit_chain_events(
        &self,
        org: &OrgId,
        writer: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.inner
            .audit_chain_events(org, writer, after_seq, limit)
            .await
    }
    async fn prune_audit(&self, before: Timestamp) -> Result<PruneStats, StoreError> {
        self.inner.prune_audit(before).await
    }
}

#[tokio::test]
async fn a_call_whose_event_cannot_be_recorded_is_refused_and_the_tool_never_runs() {
    let seed = Seed::new().await;
    let store = Arc::new(AuditFault {
        inner: SqliteStore::open(seed.path.as_path()).unwrap(),
        broken: AtomicBool::new(false),
    });
    let authority = Authority::new(
        store.clone(),
        Pepper::load_or_create(seed.path.as_path()).unwrap(),
        Env::Live,
        AuthorityConfig::default(),
    );
    let guard = startup::local_guard_with(authority, tool_scopes().unwrap()).unwrap();
    let wiki = Wiki::new();
    let app = router(guard.clone(), wiki.clone(), vec!["127.0.0.1".into()]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = connect(&url, Some(&seed.writer)).await.unwrap();
    call(&client, "write_page", json!({"title": "A", "body": "1"}))
        .await
        .expect("healthy store: allowed");
    assert_eq!(wiki.bodies_run(), 1);
    let pages_before = wiki.page_count();

    store.broken.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        let err = call(&client, "write_page", json!({"title": "B", "body": "2"}))
            .await
            .expect_err("no durable event, no call");
        assert!(err.contains("503") || err.contains("audit"), "{err}");
    }
    assert_eq!(wiki.bodies_run(), 1, "the tool body never ran");
    assert_eq!(wiki.page_count(), pages_before, "no page was written");
    assert_eq!(guard.status().audit_failures, 3);

    store.broken.store(false, Ordering::SeqCst);
    call(&client, "read_page", json!({"title": "A"}))
        .await
        .expect("store back: allowed again");
    assert_eq!(wiki.bodies_run(), 2);
    let events = seed.tool_events().await;
    assert_eq!(
        events.len(),
        2,
        "only the two recorded calls are in the trail"
    );
}
