//! The storage trait every backend implements, and the embedded SQLite
//! backend.
//!
//! Rules for the trait (so that SQLite and Firestore fit it alike):
//! - Every method addresses records by org and id, or the key-hash lookup
//!   (`key_hashes/{hash}` in Firestore terms); nothing needs a join across
//!   documents.
//! - Every state change takes its admin [`AuditEvent`] and writes both in one
//!   transaction: if the event is not written, the change did not happen.
//! - Nothing global is written per call: `last_used_at` arrives in coalesced
//!   batches ([`Store::touch_keys`]), audit chains are per (org, writer).
//! - Errors are [`StoreError`]; `Unavailable` means "could not ask", never
//!   "the answer is no", and callers fail closed on it.
//! - Usable as `Arc<dyn Store>` (object safe through `async_trait`).
//!
//! `conformance` (feature `testkit`) is the behaviour suite every backend
//! must pass; `fault` (same feature) injects outages into any backend.

#[cfg(feature = "testkit")]
pub mod conformance;
#[cfg(feature = "testkit")]
pub mod fault;
#[cfg(feature = "firestore")]
pub mod firestore;
pub(crate) mod lineage;
pub(crate) mod quarantine;
pub mod sqlite;

use async_trait::async_trait;

use crate::audit::{
    AuditCursor, AuditEvent, AuditFilter, ChainInfo, PruneStats, Seal, TimelineBucket,
};
use crate::error::AuthorityError;
use crate::ids::{EventId, GrantId, KeyId, MemberId, OrgId, WebhookId};
use crate::keys::{Env, KeyHash};
use crate::oauth::{ClientId, GrantRecord, OAuthClient, RefreshRecord};
use crate::people::{MemberRecord, TicketRecord};
use crate::revocation::RevocationEvent;
use crate::scopes::ScopeSet;
use crate::sessions::{SessionActor, SessionRecord, TokenHash};
use crate::time::Timestamp;
use crate::webhooks::{Delivery, WebhookMessage, WebhookRecord};

pub use crate::keys::record::{CatalogEntry, KeyRecord, OrgRecord, Revocation};
pub use crate::keys::KeyStatus;
pub use sqlite::SqliteStore;

#[cfg(feature = "firestore")]
pub use self::firestore::{FirestoreLocation, FirestoreStore};

/// The most seals one [`Store::seal_audit_chains`] call carries (within
/// Firestore's 500 writes per commit).
pub const MAX_SEALS_PER_CALL: usize = 400;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend could not be reached or failed; the answer is unknown.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A uniqueness or state precondition failed (duplicate id/hash, org
    /// exists, key already rotated or no longer active).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// Stored data could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

/// A store's failure as the facade reports it: unavailable stays
/// unavailable (fail closed), corrupt data is internal.
impl From<StoreError> for AuthorityError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => AuthorityError::Unavailable { cause },
            StoreError::Conflict(msg) => AuthorityError::Conflict(msg),
            StoreError::NotFound => AuthorityError::NotFound,
            StoreError::Corrupt(cause) => AuthorityError::Internal { cause },
        }
    }
}

/// The OAuth endpoints' errors, through the facade's mapping.
impl From<StoreError> for crate::oauth::OAuthError {
    fn from(e: StoreError) -> Self {
        AuthorityError::from(e).into()
    }
}

impl From<StoreError> for crate::oauth::AuthorizeError {
    fn from(e: StoreError) -> Self {
        AuthorityError::from(e).into()
    }
}

/// Which keys a [`Store::bulk_revoke`] may catch.
#[derive(Debug, Clone, Default)]
pub struct BulkSelection {
    /// Only keys bound to this agent; `None`: every key of the org.
    pub agent: Option<String>,
    /// Never this key (the caller's own, so the responder keeps control).
    pub except: Option<KeyId>,
    /// Only keys whose every scope this set allows (the caller's own:
    /// revoking is as sensitive as granting). `None`: no ceiling.
    pub within: Option<ScopeSet>,
    /// Only keys of this env (a `test` caller reaches `test` keys only).
    pub env: Option<Env>,
}

/// Which keys [`Store::bulk_revoke`] revokes: those `selection` picks, not
/// already revoked at or before `rev.at`, and not minted after it (a store
/// that revokes in several commits re-reads the keys between them and must
/// not catch keys minted meanwhile). Shared by every backend so that they
/// agree.
pub(crate) fn bulk_revoke_hits(k: &KeyRecord, selection: &BulkSelection, rev: &Revocation) -> bool {
    selection
        .agent
        .as_deref()
        .is_none_or(|a| k.agent.as_deref() == Some(a))
        && selection.except.as_ref() != Some(&k.id)
        && selection
            .within
            .as_ref()
            .is_none_or(|ceiling| ceiling.missing(k.org.as_str(), &k.scopes).is_empty())
        && selection.env.is_none_or(|env| k.env == env)
        && k.revocation_applies(rev)
        && k.created_at <= rev.at
}

/// What [`Store::bulk_revoke`] revokes out of an org's keys (`items`, each
/// holding a key): the keys [`bulk_revoke_hits`] picks and their
/// descendants ([`lineage`]: a derived key dies with its parent), never the excepted key, and only keys the revocation
/// changes. Shared by every backend so that they agree.
pub(crate) fn bulk_revoke_picks<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &KeyRecord,
    selection: &BulkSelection,
    rev: &Revocation,
) -> Vec<T> {
    let hits: Vec<&KeyId> = items
        .iter()
        .map(&key)
        .filter(|k| bulk_revoke_hits(k, selection, rev))
        .map(|k| &k.id)
        .collect();
    let mut picked = lineage::descendants(items.iter().map(&key), &hits);
    picked.extend(hits.into_iter().cloned());
    items
        .into_iter()
        .filter(|item| {
            let k = key(item);
            picked.contains(&k.id)
                && selection.except.as_ref() != Some(&k.id)
                && k.revocation_applies(rev)
                && k.created_at <= rev.at
        })
        .collect()
}

/// Which of a revoked key's descendants ([`Store::revoke_key`]) the
/// revocation changes: not those revoked at or before it, nor those minted
/// after it.
pub(crate) fn cascade_applies(descendant: &KeyRecord, rev: &Revocation) -> bool {
    descendant.revocation_applies(rev) && descendant.created_at <= rev.at
}

/// What [`Store::watch_revocations`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedChange {
    /// A process sharing the store revoked a key.
    Revoked(RevocationEvent),
    /// The watch lost track (its target was dropped by the store):
    /// revocations may have been missed, so every cached decision is stale.
    Resync,
}

/// Result of [`Store::revoke_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeResult {
    /// The key was active (or only scheduled for revocation later) and is
    /// now revoked, with `descendants` (its derived keys this call revoked);
    /// the event was written.
    Revoked {
        key: KeyRecord,
        descendants: Vec<KeyRecord>,
    },
    /// It was already revoked at or before the requested time. `descendants`
    /// lists derived keys still revoked now (left over by an interrupted
    /// cascade); the event was written only if there were any.
    AlreadyRevoked {
        key: KeyRecord,
        descendants: Vec<KeyRecord>,
    },
    NotFound,
}

/// Result of [`Store::revoke_grant`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRevoked {
    /// The grant as it is now.
    pub grant: GrantRecord,
    /// Its access tokens this call revoked (those still unexpired and not
    /// revoked before); each must be published like a revoked key.
    pub tokens: Vec<KeyRecord>,
    /// Whether anything changed (and the event was written).
    pub changed: bool,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A short name for logs and metrics (`sqlite`, `firestore`).
    fn backend(&self) -> &'static str;

    /// The most events one [`append_audit`](Store::append_audit) call may
    /// carry (one atomic commit); the audit recorder batches no more.
    fn max_append_batch(&self) -> usize {
        usize::MAX
    }

    /// For stores several processes share: sends every revocation any of
    /// them commits (its own included) to `sink` until `sink` closes.
    /// `Ok(false)`: this store has one owner process (SQLite), whose
    /// revocations the facade already publishes.
    async fn watch_revocations(
        &self,
        _sink: tokio::sync::mpsc::Sender<SharedChange>,
    ) -> Result<bool, StoreError> {
        Ok(false)
    }

    /// Records `fingerprint` (of the pepper) unless the store already holds
    /// one, and returns the one it holds: every process sharing a store must
    /// hash keys with the same pepper, or none finds the others' keys.
    async fn pepper_fingerprint(&self, fingerprint: &[u8; 32]) -> Result<[u8; 32], StoreError>;

    /// The tool scopes tool servers registered, by service then action.
    /// The tool scopes `org` may mint for: its own registrations and the
    /// shared ones (`org: None`), by service, then action.
    async fn list_scopes(&self, org: &OrgId) -> Result<Vec<CatalogEntry>, StoreError>;

    /// Registers `entries` with their admin event, all or none. `Conflict`
    /// if any of them is registered already for its org (the catalog is
    /// add-only).
    async fn add_scopes(
        &self,
        entries: &[CatalogEntry],
        event: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// True when no org exists (first start).
    async fn is_empty(&self) -> Result<bool, StoreError>;

    async fn get_org(&self, org: &OrgId) -> Result<Option<OrgRecord>, StoreError>;

    /// Creates the org with its first key and the bootstrap event.
    /// `Conflict` if the org exists.
    async fn create_org(
        &self,
        org: &OrgRecord,
        key: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError>;

    /// Inserts a key (and its hash lookup) with its event. `Conflict` on a
    /// duplicate id or hash; `NotFound` if the org does not exist.
    async fn insert_key(&self, key: &KeyRecord, event: &AuditEvent) -> Result<(), StoreError>;

    /// A key of `org`; a key of another org is `None`, like a missing one.
    async fn get_key(&self, org: &OrgId, id: &KeyId) -> Result<Option<KeyRecord>, StoreError>;

    /// The validator's lookup. `last_used_at` may be left out: nothing on
    /// this path reads it, and Firestore keeps it in another document.
    async fn find_key_by_hash(&self, hash: &KeyHash) -> Result<Option<KeyRecord>, StoreError>;

    /// All keys of `org`, newest first.
    async fn list_keys(&self, org: &OrgId) -> Result<Vec<KeyRecord>, StoreError>;

    /// Keys of `org` whose `revoked_at` is at or after `since` (scheduled
    /// ones included), oldest revocation first, at most `limit`; read
    /// through an index, so the cost follows the answer, not the org's size.
    /// `last_used_at` may be left out.
    async fn revoked_since(
        &self,
        org: &OrgId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError>;

    /// Sets `revoked_at = rev.at` (and by/reason) unless the key is already
    /// revoked at or before `rev.at`, and does the same to every descendant
    /// of the key ([`cascade_applies`]), in the same commit where one
    /// commit holds them. The event is written only on change.
    async fn revoke_key(
        &self,
        org: &OrgId,
        id: &KeyId,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<RevokeResult, StoreError>;

    /// Puts a key of `org` in quarantine (`hold`) with its active
    /// descendants, or releases it (`None`) with the descendants its
    /// quarantine held ([`quarantine::plan_hold`] at `now`), with the event,
    /// all in one commit. Returns the keys changed, as they are now; empty
    /// when nothing changed (no event written); `None` when `org` has no
    /// such key.
    async fn set_quarantine(
        &self,
        org: &OrgId,
        id: &KeyId,
        hold: Option<&model::wire::QuarantineView>,
        now: Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<Vec<KeyRecord>>, StoreError>;

    /// Replaces the limits of a key of `org` that is not revoked, with the
    /// event, in one commit (with a change notice for other servers where
    /// the store has them). Returns the key as it is now; `None` when `org`
    /// has no such key; `Conflict` when it is revoked.
    async fn set_limits(
        &self,
        org: &OrgId,
        id: &KeyId,
        limits: &crate::guardrails::KeyLimits,
        now: Timestamp,
        event: &AuditEvent,
    ) -> Result<Option<KeyRecord>, StoreError>;

    /// Takes calls from `owner`'s `counter` for the window that starts at
    /// `window_start` (seconds), in one atomic step: at most
    /// [`lease_size`](crate::guardrails::limits::lease_size) of what is
    /// left of `cap`, so grants never add up to more than `cap` per window.
    /// A counter last used in an earlier window starts over; one already
    /// in a later window (another server's clock is ahead) is taken from
    /// as it is. Returns how many calls were taken (0: none left).
    async fn take_allowance(
        &self,
        org: &OrgId,
        owner: &KeyId,
        counter: &str,
        window_start: i64,
        cap: u64,
    ) -> Result<u64, StoreError>;

    /// Inserts `successor`, sets `old.rotated_to`, and schedules the old
    /// key's revocation at `old_rev.at` (never later than an existing one).
    /// `NotFound` if `old` is not a key of `org`; `Conflict` if it is
    /// revoked or already rotated. Returns the updated old record.
    async fn rotate_key(
        &self,
        org: &OrgId,
        old: &KeyId,
        successor: &KeyRecord,
        old_rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<KeyRecord, StoreError>;

    /// Revokes every key of `org` that `selection` picks and that is not
    /// revoked at or before `rev.at`, with their descendants
    /// ([`bulk_revoke_picks`]). Returns the keys it revoked (with the event
    /// written if there was at least one).
    async fn bulk_revoke(
        &self,
        org: &OrgId,
        selection: &BulkSelection,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<Vec<KeyRecord>, StoreError>;

    /// Raises `last_used_at` to the given instants (never lowers it). Missing
    /// keys are ignored.
    async fn touch_keys(&self, updates: &[(OrgId, KeyId, Timestamp)]) -> Result<(), StoreError>;

    /// Appends events durably and atomically (all or none), at most
    /// [`max_append_batch`](Store::max_append_batch) of them. `Conflict` on
    /// a duplicate (org, writer, seq); SQLite also refuses a duplicate id
    /// (Firestore names events by chain position, and ids are random, so
    /// only a replay repeats one, which repeats the position too).
    async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError>;

    async fn get_audit_event(
        &self,
        org: &OrgId,
        id: &EventId,
    ) -> Result<Option<AuditEvent>, StoreError>;

    /// Events of `org` matching `filter`, newest first (`ts` desc, then `id`
    /// desc), strictly after `cursor`, at most `limit`.
    async fn query_audit(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        cursor: Option<&AuditCursor>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// Allowed/denied counts of matching events in buckets of `bucket_ms`
    /// aligned to the epoch, ascending, empty buckets omitted.
    async fn audit_timeline(
        &self,
        org: &OrgId,
        filter: &AuditFilter,
        bucket_ms: i64,
    ) -> Result<Vec<TimelineBucket>, StoreError>;

    /// Chains of one org or all: every chain registered by its first event
    /// (in the same commit) or holding a checkpoint, with its stored seal.
    async fn audit_chains(&self, org: Option<&OrgId>) -> Result<Vec<ChainInfo>, StoreError>;

    /// Stores each seal as the newest seal of its chain (replacing the one
    /// before), registering the chain if it is not; at most
    /// [`MAX_SEALS_PER_CALL`] per call, in one commit.
    async fn seal_audit_chains(&self, seals: &[Seal]) -> Result<(), StoreError>;

    /// Events of one chain with `seq > after_seq`, ascending, at most `limit`.
    async fn audit_chain_events(
        &self,
        org: &OrgId,
        writer: &str,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// Starts a dashboard session (see [`crate::sessions`]), keyed by its
    /// token's hash.
    async fn create_session(
        &self,
        token: &TokenHash,
        session: &SessionRecord,
    ) -> Result<(), StoreError>;

    async fn get_session(&self, token: &TokenHash) -> Result<Option<SessionRecord>, StoreError>;

    /// Raises the session's last-seen mark to `seen` (never lowers it, never
    /// brings back a deleted session).
    async fn touch_session(&self, token: &TokenHash, seen: Timestamp) -> Result<(), StoreError>;

    /// Ends one session; a missing one is not an error.
    async fn delete_session(&self, token: &TokenHash) -> Result<(), StoreError>;

    /// Ends every session of a member or a key; returns how many.
    async fn delete_sessions_of(
        &self,
        org: &OrgId,
        actor: &SessionActor,
    ) -> Result<u64, StoreError>;

    /// Deletes sessions created before `created_before` or last seen before
    /// `seen_before` (expired by the timeouts); returns how many.
    async fn sweep_sessions(
        &self,
        created_before: Timestamp,
        seen_before: Timestamp,
    ) -> Result<u64, StoreError>;

    /// Adds a member (see [`crate::people`]) with its admin event, in one
    /// transaction. `Conflict` when the org has a member with that email,
    /// `NotFound` when the org does not exist.
    async fn create_member(
        &self,
        member: &MemberRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError>;

    async fn get_member(
        &self,
        org: &OrgId,
        id: &MemberId,
    ) -> Result<Option<MemberRecord>, StoreError>;

    /// The member with this (lower-cased) email in the org.
    async fn find_member_by_email(
        &self,
        org: &OrgId,
        email: &str,
    ) -> Result<Option<MemberRecord>, StoreError>;

    /// The org's members, by email.
    async fn list_members(&self, org: &OrgId) -> Result<Vec<MemberRecord>, StoreError>;

    /// Replaces a member whose stored revision is `member.revision - 1`,
    /// with its admin event when the change has one (a passkey's counter
    /// moving at sign-in has none). `Conflict` when another change came
    /// first (read again and retry), `NotFound` when the member is gone.
    async fn update_member(
        &self,
        member: &MemberRecord,
        event: Option<&AuditEvent>,
    ) -> Result<(), StoreError>;

    /// Removes a member with its admin event; `false` when there was none
    /// (and then no event is written).
    async fn delete_member(
        &self,
        org: &OrgId,
        id: &MemberId,
        event: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Stores a single-use ticket under its token's hash.
    async fn put_ticket(&self, ticket: &TicketRecord) -> Result<(), StoreError>;

    /// Reads a ticket without spending it; `None` when missing or expired.
    async fn get_ticket(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<TicketRecord>, StoreError>;

    /// Reads and deletes a ticket in one step: of two concurrent takes,
    /// exactly one gets it. An expired ticket is deleted and answers `None`.
    async fn take_ticket(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> Result<Option<TicketRecord>, StoreError>;

    /// Deletes tickets expired at `now`; returns how many.
    async fn sweep_tickets(&self, now: Timestamp) -> Result<u64, StoreError>;

    /// Registers an OAuth client (dynamic registration) with its event.
    /// `Conflict` on a duplicate id.
    async fn insert_oauth_client(
        &self,
        client: &OAuthClient,
        event: &AuditEvent,
    ) -> Result<(), StoreError>;

    async fn get_oauth_client(&self, id: &ClientId) -> Result<Option<OAuthClient>, StoreError>;

    /// Starts a grant from an exchanged code: the grant, its first refresh
    /// token and its first access token (a key record, with its hash
    /// lookup), and the event, all or none. `Conflict` when the grant
    /// exists already (its code was exchanged before).
    async fn start_grant(
        &self,
        grant: &GrantRecord,
        refresh: &RefreshRecord,
        access: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<(), StoreError>;

    async fn get_grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, StoreError>;

    /// The refresh token with this keyed hash, of any generation.
    async fn find_refresh(&self, hash: &KeyHash) -> Result<Option<RefreshRecord>, StoreError>;

    /// Rotates a grant's refresh token: when the grant's generation is
    /// `next.generation - 1` and the grant is active at `access.created_at`,
    /// stores `next` as the one valid refresh token, the new access token
    /// and the event, all or none, and returns the updated grant.
    /// `Conflict` when another refresh came first or the grant ended;
    /// `NotFound` when there is no such grant.
    async fn refresh_grant(
        &self,
        next: &RefreshRecord,
        access: &KeyRecord,
        event: &AuditEvent,
    ) -> Result<GrantRecord, StoreError>;

    /// Revokes a grant of `org` and, in the same commit, its access tokens
    /// that are neither expired nor revoked at `rev.at`, with the event
    /// (only when something changed). `None` when `org` has no such grant.
    async fn revoke_grant(
        &self,
        org: &OrgId,
        id: &GrantId,
        rev: &Revocation,
        event: &AuditEvent,
    ) -> Result<Option<GrantRevoked>, StoreError>;

    /// Every grant of `org`, newest first.
    async fn list_grants(&self, org: &OrgId) -> Result<Vec<GrantRecord>, StoreError>;

    /// Retention: for each chain, deletes the longest prefix whose events are
    /// all older than `before` and records a checkpoint (seq and hash of the
    /// last deleted event) in the same transaction.
    async fn prune_audit(&self, before: Timestamp) -> Result<PruneStats, StoreError>;

    /// An org's guardrail settings (default when never set).
    async fn org_settings(&self, org: &OrgId) -> Result<model::wire::OrgSettings, StoreError>;

    /// Replaces an org's guardrail settings, with the event.
    async fn set_org_settings(
        &self,
        org: &OrgId,
        settings: &model::wire::OrgSettings,
        event: &AuditEvent,
    ) -> Result<(), StoreError>;

    // Webhooks (`crate::webhooks`). Every write of an admin event also
    // writes its message ([`crate::webhooks::message_for`]) to the outbox
    // in the same commit; these methods do the rest.

    /// Creates or replaces an endpoint (a rotation replaces it), with the event.
    async fn put_webhook(&self, hook: &WebhookRecord, event: &AuditEvent)
        -> Result<(), StoreError>;

    /// The endpoints of `org`, oldest first.
    async fn list_webhooks(&self, org: &OrgId) -> Result<Vec<WebhookRecord>, StoreError>;

    /// Deletes an endpoint with the event; `false` if `org` has no such
    /// endpoint. Its pending deliveries fail when next claimed.
    async fn delete_webhook(
        &self,
        org: &OrgId,
        id: &WebhookId,
        event: &AuditEvent,
    ) -> Result<bool, StoreError>;

    /// Adds messages to the outbox, each unless one with its id is there.
    async fn enqueue_webhook_messages(&self, messages: &[WebhookMessage])
        -> Result<(), StoreError>;

    /// Turns up to `limit` outbox messages into one pending delivery for
    /// each endpoint of their org that receives their type and existed when
    /// they were made; returns how many messages it handled. Each message
    /// is fanned out once, however many servers call this at once.
    async fn fan_out_webhooks(&self, limit: u32) -> Result<u32, StoreError>;

    /// Claims up to `limit` pending deliveries due at `now`, at most one
    /// per endpoint and none of `busy` endpoints, by pushing their next
    /// attempt to `lease_until`; a delivery is claimed by one caller at a
    /// time until its lease ends.
    async fn claim_deliveries(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        busy: &[WebhookId],
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Stores a delivery as it stands after an attempt.
    async fn record_delivery(&self, delivery: &Delivery) -> Result<(), StoreError>;

    /// The `limit` newest deliveries to an endpoint of `org`.
    async fn list_deliveries(
        &self,
        org: &OrgId,
        webhook: &WebhookId,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// Keys of every org (revoked ones too) that expire in `(after,
    /// up_to]`, by expiry then id, at most `limit` after the
    /// `(expires_at, id)` cursor.
    async fn keys_expiring(
        &self,
        after: Timestamp,
        up_to: Timestamp,
        cursor: Option<&(Timestamp, KeyId)>,
        limit: u32,
    ) -> Result<Vec<KeyRecord>, StoreError>;

    /// Deletes up to `limit` fanned-out messages and finished deliveries
    /// made before `before`; returns how many it deleted.
    async fn prune_webhook_history(&self, before: Timestamp, limit: u32)
        -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_message_hides_cause() {
        let e = AuthorityError::from(StoreError::Unavailable("disk I/O error at /var/x".into()));
        assert_eq!(
            e.to_string(),
            "the key authority is temporarily unavailable"
        );
        assert_eq!(e.internal_cause(), Some("disk I/O error at /var/x"));
        assert_eq!(e.code(), "unavailable");
    }
}
