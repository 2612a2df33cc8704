//! A store wrapper that injects the faults tests cannot cause for real on a
//! healthy SQLite file: a whole-store outage, an audit trail that refuses
//! writes, a small atomic-commit limit like Firestore's, or a chain read
//! held mid-flight (to catch a long operation in the act). Shared by the authority's and the tool servers' tests
//! (fail closed, `Unavailable` is never "invalid key"); not for production.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

use async_trait::async_trait;

use super::{BulkSelection, KeyRecord, OrgRecord, Revocation, RevokeResult, Store, StoreError};
use crate::audit::{
    AuditCursor, AuditEvent, AuditFilter, ChainInfo, PruneStats, Seal, TimelineBucket,
};
use crate::ids::{EventId, KeyId, MemberId, OrgId};
use crate::keys::KeyHash;
use crate::people::{MemberRecord, TicketRecord};
use crate::sessions::{SessionActor, SessionRecord, TokenHash};
use crate::time::Timestamp;

/// Delegates to `inner` unless a fault is switched on.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    down: AtomicBool,
    audit_writes_refused: AtomicBool,
    acks_lost: AtomicBool,
    append_limit: usize,
    chain_reads_held: watch::Sender<bool>,
    chain_reads_waiting: AtomicUsize,
    lookups_held: watch::Sender<bool>,
    lookups_waiting: AtomicUsize,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            down: AtomicBool::new(false),
            audit_writes_refused: AtomicBool::new(false),
            acks_lost: AtomicBool::new(false),
            append_limit: usize::MAX,
            chain_reads_held: watch::Sender::new(false),
            chain_reads_waiting: AtomicUsize::new(0),
            lookups_held: watch::Sender::new(false),
            lookups_waiting: AtomicUsize::new(0),
        }
    }

    /// While held, `find_key_by_hash` reads the store and then waits
    /// (counted in [`lookups_waiting`](Self::lookups_waiting)) before
    /// answering with what it read: a lookup in flight while the key
    /// changes.
    pub fn hold_key_lookups(&self, hold: bool) {
        self.lookups_held.send_replace(hold);
    }

    /// Lookups waiting on [`hold_key_lookups`](Self::hold_key_lookups).
    pub fn lookups_waiting(&self) -> usize {
        self.lookups_waiting.load(Ordering::SeqCst)
    }

    /// While held, `audit_chain_events` waits (counted in
    /// [`chain_reads_waiting`](Self::chain_reads_waiting)) until released.
    pub fn hold_chain_reads(&self, hold: bool) {
        self.chain_reads_held.send_replace(hold);
    }

    /// Chain reads waiting on [`hold_chain_reads`](Self::hold_chain_reads).
    pub fn chain_reads_waiting(&self) -> usize {
        self.chain_reads_waiting.load(Ordering::SeqCst)
    }

    /// Appends of more than `limit` events are refused, as a store with a
    /// per-commit write limit (Firestore) refuses them.
    pub fn with_append_limit(inner: Arc<dyn Store>, limit: usize) -> Self {
        Self {
            append_limit: limit,
            ..Self::new(inner)
        }
    }

    /// Every call fails with `Unavailable`, as in an outage.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Only `append_audit` fails: the audit trail cannot record.
    pub fn refuse_audit_writes(&self, refuse: bool) {
        self.audit_writes_refused.store(refuse, Ordering::SeqCst);
    }

    /// Writes (`append_audit`, `insert_key`) commit but report
    /// `Unavailable`, as when a remote store's answer is lost in a timeout.
    pub fn lose_write_acks(&self, lose: bool) {
        self.acks_lost.store(lose, Ordering::SeqCst);
    }

    fn ack<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        match r {
            Ok(_) if self.acks_lost.load(Ordering::SeqCst) => Err(StoreError::Unavailable(
                "committed, but the acknowledgement was lost (injected fault)".into(),
            )),
            other => other,
        }
    }

    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("simulated outage".into()))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl Store for FaultyStore {
    fn backend(&self) -> &'static str {
        "faulty"
    }
    fn max_append_batch(&self) -> usize {
        self.inner.max_append_batch().min(self.append_limit)
    }
    async fn watch_revocations(
        &self,
        sink: tokio::sync::mpsc::Sender<super::SharedChange>,
    ) -> Result<bool, StoreError> {
        self.inner.watch_revocations(sink).await
    }
    async fn pepper_fingerprint(&self, fingerprint: &[u8; 32]) -> Result<[u8; 32], StoreError> {
        self.check()?;
        self.inner.pepper_fingerprint(fingerprint).await
    }
    async fn list_scopes(&self, org: &OrgId) -> Result<Vec<super::CatalogEntry>, StoreError> {
        self.check()?;
        self.inner.list_scopes(org).await
    }
    async fn add_scopes(
        &self,
        entries: &[super::CatalogEntry],
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.add_scopes(entries, event).await
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
        let r = self.inner.insert_key(key, event).await;
        self.ack(r)
    }
    async fn get_key(&self, org: &OrgId, id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        self.check()?;
        self.inner.get_key(org, id).await
    }
    async fn find_key_by_hash(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, StoreError> {
        self.check()?;
        let found = self.inner.find_key_by_hash(hash).await;
        let mut held = self.lookups_held.subscribe();
        if *held.borrow() {
            self.lookups_waiting.fetch_add(1, Ordering::SeqCst);
            let _ = held.wait_for(|h| !*h).await;
            self.lookups_waiting.fetch_sub(1, Ordering::SeqCst);
        }
        found
    }
    async fn revoked_since(
        &self,
        org: &OrgId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<super::KeyRecord>, StoreError> {
        self.check()?;
        self.inner.revoked_since(org, since, limit).await
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
    async fn set_quarantine(
        &self,
        org: &OrgId,
        id: &KeyId,
        hold: Option<&model::wire::QuarantineView>,
        now: crate::time::Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<Vec<KeyRecord>>, StoreError> {
        self.check()?;
        self.inner.set_quarantine(org, id, hold, now, event).await
    }
    async fn org_settings(&self, org: &OrgId) -> Result<model::wire::OrgSettings, StoreError> {
        self.check()?;
        self.inner.org_settings(org).await
    }
    async fn set_org_settings(
        &self,
        org: &OrgId,
        settings: &model::wire::OrgSettings,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.set_org_settings(org, settings, event).await
    }
    async fn put_webhook(
        &self,
        hook: &crate::webhooks::WebhookRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.put_webhook(hook, event).await
    }
    async fn list_webhooks(
        &self,
        org: &OrgId,
    ) -> Result<Vec<crate::webhooks::WebhookRecord>, StoreError> {
        self.check()?;
        self.inner.list_webhooks(org).await
    }
    async fn delete_webhook(
        &self,
        org: &OrgId,
        id: &crate::ids::WebhookId,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.delete_webhook(org, id, event).await
    }
    async fn enqueue_webhook_messages(
        &self,
        messages: &[crate::webhooks::WebhookMessage],
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.enqueue_webhook_messages(messages).await
    }
    async fn fan_out_webhooks(&self, limit: u32) -> Result<u32, StoreError> {
        self.check()?;
        self.inner.fan_out_webhooks(limit).await
    }
    async fn claim_deliveries(
        &self,
        now: crate::time::Timestamp,
        lease_until: crate::time::Timestamp,
        limit: u32,
        busy: &[crate::ids::WebhookId],
    ) -> Result<Vec<crate::webhooks::Delivery>, StoreError> {
        self.check()?;
        self.inner
            .claim_deliveries(now, lease_until, limit, busy)
            .await
    }
    async fn record_delivery(
        &self,
        delivery: &crate::webhooks::Delivery,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.record_delivery(delivery).await
    }
    async fn list_deliveries(
        &self,
        org: &OrgId,
        webhook: &crate::ids::WebhookId,
        limit: u32,
    ) -> Result<Vec<crate::webhooks::Delivery>, StoreError> {
        self.check()?;
        self.inner.list_deliveries(org, webhook, limit).await
    }
    async fn keys_expiring(
        &self,
        after: crate::time::Timestamp,
        up_to: crate::time::Timestamp,
        cursor: Option<&(crate::time::Timestamp, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        self.check()?;
        self.inner.keys_expiring(after, up_to, cursor, limit).await
    }
    async fn prune_webhook_history(
        &self,
        before: crate::time::Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.prune_webhook_history(before, limit).await
    }
    async fn set_limits(
        &self,
        org: &OrgId,
        id: &KeyId,
        limits: &crate::guardrails::KeyLimits,
        now: crate::time::Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<KeyRecord>, StoreError> {
        self.check()?;
        self.inner.set_limits(org, id, limits, now, event).await
    }
    async fn take_allowance(
        &self,
        org: &OrgId,
        owner: &KeyId,
        counter: &str,
        window_start: i64,
        cap: u64,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.inner
            .take_allowance(org, owner, counter, window_start, cap)
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
        self.check()?;
        self.inner
            .rotate_key(org, old, successor, old_rev, event)
            .await
    }
    async fn bulk_revoke(
        &self,
        org: &OrgId,
        selection: &BulkSelection,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        self.check()?;
        self.inner.bulk_revoke(org, selection, rev, event).await
    }
    async fn touch_keys(&self, updates: &[(OrgId, KeyId, Timestamp)]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.touch_keys(updates).await
    }
    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        self.check()?;
        if self.audit_writes_refused.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "audit store refuses writes (injected fault)".into(),
            ));
        }
        if events.len() > self.append_limit {
            return Err(StoreError::Conflict(format!(
                "{} events exceed the {}-event commit limit",
                events.len(),
                self.append_limit
            )));
        }
        let r = self.inner.append_audit(events).await;
        self.ack(r)
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
    async fn seal_audit_chains(&self, seals: &[Seal]) -> Result<(), StoreError> {
        self.check()?;
        self.inner.seal_audit_chains(seals).await
    }
    async fn audit_chain_events(
        &self,
        org: &OrgId,
        writer: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        self.check()?;
        let mut held = self.chain_reads_held.subscribe();
        if *held.borrow() {
            self.chain_reads_waiting.fetch_add(1, Ordering::SeqCst);
            let _ = held.wait_for(|h| !*h).await;
            self.chain_reads_waiting.fetch_sub(1, Ordering::SeqCst);
        }
        self.inner
            .audit_chain_events(org, writer, after_seq, limit)
            .await
    }
    async fn insert_oauth_client(
        &self,
        client: &crate::oauth::OAuthClient,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.check()?;
        let r = self.inner.insert_oauth_client(client, event).await;
        self.ack(r)
    }
    async fn get_oauth_client(
        &self,
        id: &crate::oauth::ClientId,
    ) -> Result<Option<crate::oauth::OAuthClient>, StoreError> {
        self.check()?;
        self.inner.get_oauth_client(id).await
    }
    async fn start_grant(
        &self,
        grant: &crate::oauth::GrantRecord,
        refresh: &crate::oauth::RefreshRecord,
        access: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.check()?;
        let r = self.inner.start_grant(grant, refresh, access, event).await;
        self.ack(r)
    }
    async fn get_grant(
        &self,
        id: &crate::ids::GrantId,
    ) -> Result<Option<crate::oauth::GrantRecord>, StoreError> {
        self.check()?;
        self.inner.get_grant(id).await
    }
    async fn find_refresh(
        &self,
        hash: &KeyHash,
    ) -> Result<Option<crate::oauth::RefreshRecord>, StoreError> {
        self.check()?;
        self.inner.find_refresh(hash).await
    }
    async fn refresh_grant(
        &self,
        next: &crate::oauth::RefreshRecord,
        access: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<crate::oauth::GrantRecord, StoreError> {
        self.check()?;
        let r = self.inner.refresh_grant(next, access, event).await;
        self.ack(r)
    }
    async fn revoke_grant(
        &self,
        org: &OrgId,
        id: &crate::ids::GrantId,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<Option<super::GrantRevoked>, StoreError> {
        self.check()?;
        let r = self.inner.revoke_grant(org, id, rev, event).await;
        self.ack(r)
    }
    async fn list_grants(&self, org: &OrgId) -> Result<Vec<crate::oauth::GrantRecord>, StoreError> {
        self.check()?;
        self.inner.list_grants(org).await
    }
    async fn prune_audit(&self, before: Timestamp) -> Result<PruneStats, StoreError> {
        self.check()?;
        self.inner.prune_audit(before).await
    }
    async fn create_session(
        &self,
        token: &TokenHash,
        session: &SessionRecord,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.create_session(token, session).await
    }
    async fn get_session(&self, token: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
        self.check()?;
        self.inner.get_session(token).await
    }
    async fn touch_session(&self, token: &TokenHash, seen: Timestamp) -> Result<(), StoreError> {
        self.check()?;
        self.inner.touch_session(token, seen).await
    }
    async fn delete_session(&self, token: &TokenHash) -> Result<(), StoreError> {
        self.check()?;
        self.inner.delete_session(token).await
    }
    async fn delete_sessions_of(
        &self,
        org: &OrgId,
        actor: &SessionActor,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.delete_sessions_of(org, actor).await
    }
    async fn create_member(
        &self,
        member: &MemberRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.create_member(member, event).await
    }
    async fn get_member(
        &self,
        org: &OrgId,
        id: &MemberId,
    ) -> Result<Option<MemberRecord>, StoreError> {
        self.check()?;
        self.inner.get_member(org, id).await
    }
    async fn find_member_by_email(
        &self,
        org: &OrgId,
        email: &str,
    ) -> Result<Option<MemberRecord>, StoreError> {
        self.check()?;
        self.inner.find_member_by_email(org, email).await
    }
    async fn list_members(&self, org: &OrgId) -> Result<Vec<MemberRecord>, StoreError> {
        self.check()?;
        self.inner.list_members(org).await
    }
    async fn update_member(
        &self,
        member: &MemberRecord,
        event: Option<&AuditEvent>,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.update_member(member, event).await
    }
    async fn delete_member(
        &self,
        org: &OrgId,
        id: &MemberId,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.delete_member(org, id, event).await
    }
    async fn put_ticket(&self, ticket: &TicketRecord) -> Result<(), StoreError> {
        self.check()?;
        self.inner.put_ticket(ticket).await
    }
    async fn get_ticket(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<TicketRecord>, StoreError> {
        self.check()?;
        self.inner.get_ticket(hash, now).await
    }
    async fn take_ticket(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<TicketRecord>, StoreError> {
        self.check()?;
        self.inner.take_ticket(hash, now).await
    }
    async fn sweep_tickets(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.sweep_tickets(now).await
    }
    async fn sweep_sessions(
        &self,
        created_before: Timestamp,
        seen_before: Timestamp,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.sweep_sessions(created_before, seen_before).await
    }
}
