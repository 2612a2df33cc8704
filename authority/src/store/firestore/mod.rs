//! The Firestore backend: the store several `acekeys` servers share.
//!
//! Layout (see `firestore.indexes.json` for the indexes its queries need):
//! - `orgs/{org}`: the org; `orgs/{org}/keys/{key id}`: its keys;
//!   `orgs/{org}/usage/{key id}`: each key's `last_used_at`, apart from the
//!   key so that usage marks never invalidate a revocation's precondition;
//! - `key_hashes/{hex hash}`: `{org, key_id}`, the validator's lookup, created
//!   with the key under a create-if-absent precondition (hash uniqueness);
//! - `orgs/{org}/audit/{writer}.{seq}`: events, named by chain position so
//!   the create-if-absent precondition enforces (org, writer, seq)
//!   uniqueness; `orgs/{org}/chains/{writer}`: one per chain (written with
//!   its first event and by retention, never per call);
//! - `revocations/{hex hash}`: a notice per revoked key that every server's
//!   listener evicts on ([`watch`]);
//! - `meta/pepper`: the fingerprint of the pepper the servers share;
//!   `orgs/{org}/scopes/{service}:{action}`: tool scopes an org's tool servers
//!   registered (top-level `scopes/…`: shared ones from before that).
//!
//! Rules:
//! - Every state change is ONE atomic `Commit` (no transaction round trips):
//!   the records, the admin event and the revocation notice together.
//!   Read-modify-write changes (revoke, rotate, bulk revoke) read, decide,
//!   and commit with an update-time precondition on every document they
//!   read, retrying from the read when another writer got there first.
//! - Nothing global is written per call: no counters, no chain heads.
//!   `last_used_at` goes through non-atomic `BatchWrite`s with a `maximum`
//!   transform on the usage documents (never lowers it, skips deleted keys).
//! - Instants are the authority's clock in integer milliseconds.
//! - Errors: a create that finds its document already there is `Conflict`;
//!   a lost race is retried (jittered backoff), then `Unavailable`, like
//!   everything else that means "could not ask" or "cannot say".

mod audit;
mod docs;
pub mod indexes;
mod keys;
mod limits;
mod location;
mod oauth;
mod org_settings;
mod people;
mod sessions;
mod watch;
mod webhooks;
mod writes;

pub use location::{emulator_test_location, FirestoreLocation};
pub(crate) use writes::{
    backoff, create, delete, merge, retrying, set, update_if_unchanged, CommitError, MAX_ATTEMPTS,
};

use std::time::Duration;

use async_trait::async_trait;
use firestore::gcloud_sdk::google::firestore::v1::{
    run_query_request, RunQueryRequest, StructuredQuery,
};
use firestore::gcloud_sdk::google::firestore::v1::{
    BatchWriteRequest, CommitRequest, Document, Write,
};
use firestore::gcloud_sdk::tonic::Code;
use firestore::{FirestoreDb, FirestoreDbOptions, FirestoreQueryParams};
use futures_util::TryStreamExt;

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

/// Every request gives up after this; the caller then sees `Unavailable`.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Writes per atomic commit (Firestore's documented batch size).
pub(crate) const MAX_COMMIT_WRITES: usize = 500;

#[derive(Clone)]
pub struct FirestoreStore {
    db: FirestoreDb,
    location: FirestoreLocation,
}

impl std::fmt::Debug for FirestoreStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirestoreStore")
            .field("location", &self.location.to_string())
            .finish()
    }
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("firestore: {e}"))
}

/// This machine's clock, for the revocation notices' `written_at` (the
/// listeners' window); records carry the authority's clock instead.
pub(crate) fn wall_clock_millis() -> i64 {
    use crate::time::Clock;
    crate::time::SystemClock.now().as_millis()
}

impl FirestoreStore {
    /// Connects to `location`: the emulator at `FIRESTORE_EMULATOR_HOST`
    /// when set, otherwise Google's Application Default Credentials.
    pub async fn open(location: &FirestoreLocation) -> Result<Self, StoreError> {
        let options = FirestoreDbOptions::new(location.project.clone())
            .with_database_id(location.database.clone())
            .with_request_timeout(REQUEST_TIMEOUT);
        let db = FirestoreDb::with_options(options)
            .await
            .map_err(unavailable)?;
        let store = Self {
            db,
            location: location.clone(),
        };
        // A wrong project or database, or missing credentials, would make
        // every later read look like "no such key": fail here instead.
        keys::is_empty(&store)
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot query {location}: {e}")))?;
        Ok(store)
    }

    pub fn location(&self) -> &FirestoreLocation {
        &self.location
    }

    fn root(&self) -> &str {
        self.db.get_documents_path()
    }

    pub(crate) fn org_path(&self, org: &OrgId) -> String {
        format!("{}/orgs/{}", self.root(), org.as_str())
    }

    pub(crate) fn key_path(&self, org: &OrgId, id: &KeyId) -> String {
        format!("{}/keys/{}", self.org_path(org), id.as_str())
    }

    pub(crate) fn usage_path(&self, org: &OrgId, id: &KeyId) -> String {
        format!("{}/usage/{}", self.org_path(org), id.as_str())
    }

    pub(crate) fn hash_path(&self, hash: &KeyHash) -> String {
        format!("{}/key_hashes/{}", self.root(), hash.to_hex())
    }

    /// `orgs/{org}/allowances/{owner}.{counter}`: one limit's counter.
    pub(crate) fn allowance_path(&self, org: &OrgId, owner: &KeyId, counter: &str) -> String {
        format!(
            "{}/allowances/{}.{counter}",
            self.org_path(org),
            owner.as_str()
        )
    }

    pub(crate) fn revocation_path(&self, hash: &KeyHash) -> String {
        format!("{}/revocations/{}", self.root(), hash.to_hex())
    }

    /// Reads one document; `None` if it does not exist.
    pub(crate) async fn get(&self, path: &str) -> Result<Option<Document>, StoreError> {
        let req = firestore::gcloud_sdk::google::firestore::v1::GetDocumentRequest {
            name: path.to_owned(),
            ..Default::default()
        };
        let mut client = self.db.client().get();
        match tokio::time::timeout(REQUEST_TIMEOUT, client.get_document(req)).await {
            Err(_) => Err(unavailable("read timed out")),
            Ok(Ok(resp)) => Ok(Some(resp.into_inner())),
            Ok(Err(status)) if status.code() == Code::NotFound => Ok(None),
            Ok(Err(status)) => Err(unavailable(status.message())),
        }
    }

    /// Runs a query (recording its shape for the index check) and collects
    /// every result.
    pub(crate) async fn query(&self, q: indexes::Query) -> Result<Vec<Document>, StoreError> {
        let params: FirestoreQueryParams = q.into_params(self.root());
        let parent = params
            .parent
            .clone()
            .unwrap_or_else(|| self.root().to_owned());
        let structured = StructuredQuery::try_from(params).map_err(unavailable)?;
        let req = RunQueryRequest {
            parent,
            query_type: Some(run_query_request::QueryType::StructuredQuery(structured)),
            ..Default::default()
        };
        let mut client = self.db.client().get();
        let run = async {
            let stream = client.run_query(req).await?.into_inner();
            stream
                .try_filter_map(|r| async move { Ok(r.document) })
                .try_collect::<Vec<Document>>()
                .await
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, run).await {
            Err(_) => Err(unavailable("query timed out")),
            Ok(Ok(docs)) => Ok(docs),
            Ok(Err(status)) => Err(unavailable(status.message())),
        }
    }

    /// Commits `writes` atomically: all of them or none.
    pub(crate) async fn commit(&self, writes: Vec<Write>) -> Result<(), CommitError> {
        // Production refuses bigger commits; the emulator does not, so the
        // limit is enforced here to keep the tests honest.
        if writes.len() > MAX_COMMIT_WRITES {
            return Err(CommitError::Other(StoreError::Unavailable(format!(
                "firestore: {} writes exceed one commit's {MAX_COMMIT_WRITES}",
                writes.len()
            ))));
        }
        let req = CommitRequest {
            database: self.db.get_database_path().to_string(),
            writes,
            ..Default::default()
        };
        let mut client = self.db.client().get();
        match tokio::time::timeout(REQUEST_TIMEOUT, client.commit(req)).await {
            Err(_) => Err(CommitError::Other(unavailable("commit timed out"))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(status)) => Err(match status.code() {
                Code::AlreadyExists => CommitError::Exists(status.message().to_owned()),
                Code::FailedPrecondition | Code::Aborted => CommitError::Stale,
                Code::NotFound => CommitError::Missing,
                _ => CommitError::Other(unavailable(status.message())),
            }),
        }
    }

    /// Applies `writes` independently (`BatchWrite`, not atomic); returns the
    /// gRPC code of each.
    pub(crate) async fn batch_write(&self, writes: Vec<Write>) -> Result<Vec<i32>, StoreError> {
        let req = BatchWriteRequest {
            database: self.db.get_database_path().to_string(),
            writes,
            ..Default::default()
        };
        let mut client = self.db.client().get();
        match tokio::time::timeout(REQUEST_TIMEOUT, client.batch_write(req)).await {
            Err(_) => Err(unavailable("batch write timed out")),
            Ok(Ok(resp)) => Ok(resp
                .into_inner()
                .status
                .into_iter()
                .map(|s| s.code)
                .collect()),
            Ok(Err(status)) => Err(unavailable(status.message())),
        }
    }

    pub(crate) fn db(&self) -> &FirestoreDb {
        &self.db
    }
}

#[async_trait]
impl Store for FirestoreStore {
    fn backend(&self) -> &'static str {
        "firestore"
    }

    fn max_append_batch(&self) -> usize {
        // A batch's events plus, at most, one chain document and one
        // webhook message per event.
        MAX_COMMIT_WRITES / 3
    }

    async fn watch_revocations(
        &self,
        sink: tokio::sync::mpsc::Sender<super::SharedChange>,
    ) -> Result<bool, StoreError> {
        watch::start(self, sink).await.map(|()| true)
    }

    async fn pepper_fingerprint(&self, fingerprint: &[u8; 32]) -> Result<[u8; 32], StoreError> {
        keys::pepper_fingerprint(self, fingerprint).await
    }

    async fn revoked_since(
        &self,
        org: &OrgId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        keys::revoked_since(self, org, since, limit).await
    }

    async fn list_scopes(&self, org: &OrgId) -> Result<Vec<CatalogEntry>, StoreError> {
        keys::list_scopes(self, org).await
    }

    async fn add_scopes(
        &self,
        entries: &[CatalogEntry],
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        keys::add_scopes(self, entries, event).await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        keys::is_empty(self).await
    }

    async fn get_org(&self, org: &OrgId) -> Result<Option<OrgRecord>, StoreError> {
        keys::get_org(self, org).await
    }

    async fn create_org(
        &self,
        org: &OrgRecord,
        key: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        keys::create_org(self, org, key, event).await
    }

    async fn insert_key(&self, key: &KeyRecord, event: &AuditEvent) -> Result<(), StoreError> {
        keys::insert_key(self, key, event).await
    }

    async fn get_key(&self, org: &OrgId, id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        keys::get_key(self, org, id).await
    }

    async fn find_key_by_hash(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, StoreError> {
        keys::find_by_hash(self, hash).await
    }

    async fn list_keys(&self, org: &OrgId) -> Result<Vec<KeyRecord>, StoreError> {
        keys::list_keys(self, org).await
    }

    async fn revoke_key(
        &self,
        org: &OrgId,
        id: &KeyId,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<RevokeResult, StoreError> {
        keys::revoke_key(self, org, id, rev, event).await
    }

    async fn set_quarantine(
        &self,
        org: &OrgId,
        id: &KeyId,
        hold: Option<&model::wire::QuarantineView>,
        now: Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<Vec<KeyRecord>>, StoreError> {
        keys::set_quarantine(self, org, id, hold, now, event).await
    }

    async fn org_settings(&self, org: &OrgId) -> Result<model::wire::OrgSettings, StoreError> {
        org_settings::get(self, org).await
    }

    async fn set_org_settings(
        &self,
        org: &OrgId,
        settings: &model::wire::OrgSettings,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        org_settings::put(self, org, settings, event).await
    }

    async fn put_webhook(
        &self,
        hook: &crate::webhooks::WebhookRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        webhooks::put_webhook(self, hook, event).await
    }

    async fn list_webhooks(
        &self,
        org: &OrgId,
    ) -> Result<Vec<crate::webhooks::WebhookRecord>, StoreError> {
        webhooks::list_webhooks(self, org).await
    }

    async fn delete_webhook(
        &self,
        org: &OrgId,
        id: &crate::ids::WebhookId,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        webhooks::delete_webhook(self, org, id, event).await
    }

    async fn enqueue_webhook_messages(
        &self,
        messages: &[crate::webhooks::WebhookMessage],
    ) -> Result<(), StoreError> {
        webhooks::enqueue(self, messages).await
    }

    async fn fan_out_webhooks(&self, limit: u32) -> Result<u32, StoreError> {
        webhooks::fan_out(self, limit).await
    }

    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        busy: &[crate::ids::WebhookId],
    ) -> Result<Vec<crate::webhooks::Delivery>, StoreError> {
        webhooks::claim(self, now, lease_until, limit, busy).await
    }

    async fn record_delivery(
        &self,
        delivery: &crate::webhooks::Delivery,
    ) -> Result<(), StoreError> {
        webhooks::record(self, delivery).await
    }

    async fn list_deliveries(
        &self,
        org: &OrgId,
        webhook: &crate::ids::WebhookId,
        limit: u32,
    ) -> Result<Vec<crate::webhooks::Delivery>, StoreError> {
        webhooks::list_deliveries(self, org, webhook, limit).await
    }

    async fn keys_expiring(
        &self,
        after: Timestamp,
        up_to: Timestamp,
        cursor: Option<&(Timestamp, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        webhooks::keys_expiring(self, after, up_to, cursor, limit).await
    }

    async fn prune_webhook_history(
        &self,
        before: Timestamp,
        limit: u32,
    ) -> Result<u64, StoreError> {
        webhooks::prune(self, before, limit).await
    }

    async fn set_limits(
        &self,
        org: &OrgId,
        id: &KeyId,
        limits: &crate::guardrails::KeyLimits,
        now: Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<KeyRecord>, StoreError> {
        limits::set_limits(self, org, id, limits, now, event).await
    }

    async fn take_allowance(
        &self,
        org: &OrgId,
        owner: &KeyId,
        counter: &str,
        window_start: i64,
        cap: u64,
    ) -> Result<u64, StoreError> {
        limits::take_allowance(self, org, owner, counter, window_start, cap).await
    }

    async fn rotate_key(
        &self,
        org: &OrgId,
        old: &KeyId,
        successor: &KeyRecord,
        old_rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<KeyRecord, StoreError> {
        keys::rotate_key(self, org, old, successor, old_rev, event).await
    }

    async fn bulk_revoke(
        &self,
        org: &OrgId,
        selection: &BulkSelection,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        keys::bulk_revoke(self, org, selection, rev, event).await
    }

    async fn touch_keys(&self, updates: &[(OrgId, KeyId, Timestamp)]) -> Result<(), StoreError> {
        keys::touch_keys(self, updates).await
    }

    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        audit::append(self, events).await
    }

    async fn get_audit_event(
        &self,
        org: &OrgId,
        id: &EventId,
    ) -> Result<Option<AuditEvent>, StoreError> {
        audit::get(self, org, id).await
    }

    async fn query_audit(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        cursor: Option<&AuditCursor>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        audit::query(self, org, filter, cursor, limit).await
    }

    async fn audit_timeline(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        bucket_ms: i64,
    ) -> Result<Vec<TimelineBucket>, StoreError> {
        audit::timeline(self, org, filter, bucket_ms).await
    }

    async fn audit_chains(&self, org: Option<&OrgId>) -> Result<Vec<ChainInfo>, StoreError> {
        audit::chains(self, org).await
    }

    async fn seal_audit_chains(&self, seals: &[Seal]) -> Result<(), StoreError> {
        audit::seal(self, seals).await
    }

    async fn audit_chain_events(
        &self,
        org: &OrgId,
        writer: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        audit::chain_events(self, org, writer, after_seq, limit).await
    }

    async fn prune_audit(&self, before: Timestamp) -> Result<PruneStats, StoreError> {
        audit::prune(self, before).await
    }

    async fn create_session(
        &self,
        token: &TokenHash,
        session: &SessionRecord,
    ) -> Result<(), StoreError> {
        sessions::create_session(self, token, session).await
    }

    async fn get_session(&self, token: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
        sessions::get_session(self, token).await
    }

    async fn touch_session(&self, token: &TokenHash, seen: Timestamp) -> Result<(), StoreError> {
        sessions::touch_session(self, token, seen).await
    }

    async fn delete_session(&self, token: &TokenHash) -> Result<(), StoreError> {
        sessions::delete_session(self, token).await
    }

    async fn delete_sessions_of(
        &self,
        org: &OrgId,
        actor: &SessionActor,
    ) -> Result<u64, StoreError> {
        sessions::delete_sessions_of(self, org, actor).await
    }

    async fn create_member(
        &self,
        member: &MemberRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        people::create_member(self, member, event).await
    }

    async fn get_member(
        &self,
        org: &OrgId,
        id: &MemberId,
    ) -> Result<Option<MemberRecord>, StoreError> {
        people::get_member(self, org, id).await
    }

    async fn find_member_by_email(
        &self,
        org: &OrgId,
        email: &str,
    ) -> Result<Option<MemberRecord>, StoreError> {
        people::find_member_by_email(self, org, email).await
    }

    async fn list_members(&self, org: &OrgId) -> Result<Vec<MemberRecord>, StoreError> {
        people::list_members(self, org).await
    }

    async fn update_member(
        &self,
        member: &MemberRecord,
        event: Option<&AuditEvent>,
    ) -> Result<(), StoreError> {
        people::update_member(self, member, event).await
    }

    async fn delete_member(
        &self,
        org: &OrgId,
        id: &MemberId,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        people::delete_member(self, org, id, event).await
    }

    async fn put_ticket(&self, ticket: &TicketRecord) -> Result<(), StoreError> {
        people::put_ticket(self, ticket).await
    }

    async fn get_ticket(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<TicketRecord>, StoreError> {
        people::get_ticket(self, hash, now).await
    }

    async fn take_ticket(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<TicketRecord>, StoreError> {
        people::take_ticket(self, hash, now).await
    }

    async fn sweep_tickets(&self, now: Timestamp) -> Result<u64, StoreError> {
        people::sweep_tickets(self, now).await
    }

    async fn insert_oauth_client(
        &self,
        client: &OAuthClient,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        oauth::insert_client(self, client, event).await
    }

    async fn get_oauth_client(&self, id: &ClientId) -> Result<Option<OAuthClient>, StoreError> {
        oauth::get_client(self, id).await
    }

    async fn start_grant(
        &self,
        grant: &GrantRecord,
        refresh: &RefreshRecord,
        access: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        oauth::start_grant(self, grant, refresh, access, event).await
    }

    async fn get_grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, StoreError> {
        oauth::get_grant(self, id).await
    }

    async fn find_refresh(&self, hash: &KeyHash) -> Result<Option<RefreshRecord>, StoreError> {
        oauth::find_refresh(self, hash).await
    }

    async fn refresh_grant(
        &self,
        next: &RefreshRecord,
        access: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<GrantRecord, StoreError> {
        oauth::refresh_grant(self, next, access, event).await
    }

    async fn revoke_grant(
        &self,
        org: &OrgId,
        id: &GrantId,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<Option<GrantRevoked>, StoreError> {
        oauth::revoke_grant(self, org, id, rev, event).await
    }

    async fn list_grants(&self, org: &OrgId) -> Result<Vec<GrantRecord>, StoreError> {
        oauth::list_grants(self, org).await
    }

    async fn sweep_sessions(
        &self,
        created_before: Timestamp,
        seen_before: Timestamp,
    ) -> Result<u64, StoreError> {
        sessions::sweep_sessions(self, created_before, seen_before).await
    }
}
