//! The behaviour suite every [`Store`] backend must pass, unchanged.
//!
//! A backend provides a [`StoreFactory`] (fresh location + open) and
//! instantiates the suite with [`conformance_tests!`](crate::conformance_tests)
//! in its own `tests/` file, e.g.
//!
//! ```ignore
//! authority::conformance_tests!(MyFactory::new());
//! ```
//!
//! Each case panics on the first violated expectation. Cases cover every
//! trait method, tenant isolation at the storage layer, idempotent revoke,
//! rotation preconditions, atomic multi-event appends, cursor pagination,
//! timeline buckets, retention checkpoints, concurrent revokes and mints,
//! reopening after close, OAuth clients, grants and refresh rotation, and
//! the webhook outbox, fan-out and delivery claims.

mod audit;
mod guardrails;
mod keys;
mod limits;
mod oauth;
mod people;
mod revocation;
mod sessions;
mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;

use audit::verify_all;
pub use audit::{
    audit_append_and_queries, audit_filters_match_what_an_event_is_about, audit_pagination,
    audit_timeline, chain_seals, chains_and_prune,
    every_filter_combination_pages_and_counts_like_the_reference,
    hourly_timelines_count_what_the_events_say,
};
pub use guardrails::{
    key_terms_round_trip, org_settings_are_per_org_with_their_event,
    quarantine_holds_the_tree_and_release_lifts_it, revoking_a_parent_revokes_its_descendants,
};
pub use keys::{concurrent_revokes_and_mints, key_insert_get_and_isolation, touch_keys};
pub use limits::{allowances_never_exceed_their_cap, limits_are_replaced_with_their_event};
pub use oauth::{
    a_grant_starts_once_with_its_tokens, oauth_clients_are_registered_once,
    refresh_tokens_rotate_once, revoking_a_grant_revokes_its_live_tokens,
};
pub use people::{
    a_ticket_taken_concurrently_goes_to_one, members_live_in_the_store, tickets_are_taken_once,
};
pub use revocation::{
    bulk_revoke, bulk_revoke_within_a_ceiling, revoke_is_idempotent,
    revoked_since_is_bounded_and_ordered, rotation,
};
pub use sessions::sessions_live_in_the_store;
pub use webhooks::{
    a_delivery_is_claimed_by_one_caller_at_a_time, expiring_keys_are_found_across_orgs_by_expiry,
    webhook_messages_go_out_once_to_the_endpoints_that_take_them,
};

use super::{
    BulkSelection, CatalogEntry, KeyRecord, OrgRecord, Revocation, RevokeResult, Store, StoreError,
};
use crate::audit::chain::{ChainState, ChainVerifier};
use crate::audit::{AuditCursor, AuditEvent, AuditFilter, Decision, EventKind, NewEvent};
use crate::ids::{EventId, KeyId, OrgId};
use crate::keys::{generate, Env, Pepper};
use crate::scopes::{Scope, ScopeSet};
use crate::time::Timestamp;

/// How the suite gets stores.
#[async_trait]
pub trait StoreFactory: Send + Sync {
    /// A storage location (a temp dir, a Firestore namespace).
    type Location: Send + Sync;
    /// A new, empty location.
    async fn fresh(&self) -> Self::Location;
    /// Opens the backend at `loc`; called again after the previous handle
    /// was dropped to test reopening.
    async fn open(&self, loc: &Self::Location) -> Arc<dyn Store>;
}

/// Google's Firestore emulator at `FIRESTORE_EMULATOR_HOST`, a fresh project
/// per location; every case fails, saying why, when it is not running.
#[cfg(feature = "firestore")]
pub struct FirestoreEmulator;

#[cfg(feature = "firestore")]
#[async_trait]
impl StoreFactory for FirestoreEmulator {
    type Location = super::FirestoreLocation;

    async fn fresh(&self) -> Self::Location {
        super::firestore::emulator_test_location().unwrap_or_else(|why| panic!("{why}"))
    }

    async fn open(&self, loc: &Self::Location) -> Arc<dyn Store> {
        Arc::new(
            super::FirestoreStore::open(loc)
                .await
                .expect("open the Firestore store on the emulator"),
        )
    }
}

/// Generates one `#[tokio::test]` per conformance case for a factory.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@cases $factory;
            orgs_and_emptiness, key_insert_get_and_isolation, revoke_is_idempotent, rotation,
            bulk_revoke, bulk_revoke_within_a_ceiling, touch_keys, audit_append_and_queries, audit_pagination, audit_timeline,
            audit_filters_match_what_an_event_is_about, every_filter_combination_pages_and_counts_like_the_reference, hourly_timelines_count_what_the_events_say, chains_and_prune, chain_seals, concurrent_revokes_and_mints, revoked_since_is_bounded_and_ordered,
            sessions_live_in_the_store, members_live_in_the_store, tickets_are_taken_once,
            a_ticket_taken_concurrently_goes_to_one, reopen_after_close,
            pepper_fingerprint_is_recorded_once, scope_registrations_are_add_only,
            oauth_clients_are_registered_once, a_grant_starts_once_with_its_tokens,
            refresh_tokens_rotate_once, revoking_a_grant_revokes_its_live_tokens,
            key_terms_round_trip, revoking_a_parent_revokes_its_descendants,
            quarantine_holds_the_tree_and_release_lifts_it, limits_are_replaced_with_their_event,
            allowances_never_exceed_their_cap,
            webhook_messages_go_out_once_to_the_endpoints_that_take_them,
            a_delivery_is_claimed_by_one_caller_at_a_time,
            expiring_keys_are_found_across_orgs_by_expiry,
            org_settings_are_per_org_with_their_event);
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::store::conformance::$case(&$factory).await;
            }
        )*
    };
}

const T0: Timestamp = Timestamp::from_millis(1_700_000_000_000);

fn org_id(s: &str) -> OrgId {
    OrgId::parse(s).expect("valid org id")
}

fn org(id: &str) -> OrgRecord {
    OrgRecord {
        id: org_id(id),
        name: id.to_uppercase(),
        created_at: T0,
        allow_never_expiry: true,
    }
}

fn key(org: &str, name: &str, agent: Option<&str>, created_at: Timestamp) -> KeyRecord {
    let g = generate(Env::Live);
    let mut scopes = vec![Scope::Org(org.into()), Scope::service("wiki", "read")];
    if let Some(a) = agent {
        scopes.push(Scope::Agent(a.into()));
    }
    KeyRecord {
        id: KeyId::generate(),
        org: org_id(org),
        name: name.into(),
        env: Env::Live,
        agent: agent.map(str::to_owned),
        scopes: scopes.into_iter().collect::<ScopeSet>(),
        hash: Pepper::random().hash(g.raw.expose_secret()),
        hint: g.hint,
        created_by: None,
        created_at,
        expires_at: Some(created_at.plus_days(90)),
        revoked_at: None,
        revoked_by: None,
        revoke_reason: None,
        last_used_at: None,
        rotated_from: None,
        rotated_to: None,
        resources: Vec::new(),
        oauth: None,
        terms: Default::default(),
        parent: None,
        quarantine: None,
    }
}

/// Makes chained events for one writer.
struct Events(ChainState);

impl Events {
    fn new() -> Self {
        Self(ChainState::new(format!("conf-{}", EventId::generate())))
    }

    fn admin(&mut self, org: &str, action: &str, ts: Timestamp) -> AuditEvent {
        self.0.place(
            EventId::generate(),
            NewEvent::new(ts, org_id(org), EventKind::Admin, action, Decision::Allowed),
        )
    }

    fn tool(
        &mut self,
        org: &str,
        tool: &str,
        d: Decision,
        ts: Timestamp,
        key: Option<&KeyId>,
    ) -> AuditEvent {
        let mut e = NewEvent::new(ts, org_id(org), EventKind::ToolCall, tool, d);
        e.actor_key_id = key.cloned();
        // Events that name a key also name a reporter, so every store's
        // round trip of `reported_by` (and its place in the hash) is checked.
        e.reported_by = key.cloned();
        e.agent = Some("bot".into());
        self.0.place(EventId::generate(), e)
    }
}

fn rev(at: Timestamp, reason: &str) -> Revocation {
    Revocation {
        at,
        by: "key_admin".into(),
        reason: Some(reason.into()),
    }
}

async fn events_of(s: &dyn Store, org: &str, filter: AuditFilter) -> Vec<AuditEvent> {
    s.query_audit(&org_id(org), &filter, None, 10_000)
        .await
        .expect("query")
}

async fn with_org<F: StoreFactory>(
    f: &F,
    ev: &mut Events,
) -> (F::Location, Arc<dyn Store>, KeyRecord) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let admin = key("acme", "admin", None, T0);
    s.create_org(&org("acme"), &admin, &ev.admin("acme", "bootstrap", T0))
        .await
        .expect("create org");
    (loc, s, admin)
}

pub async fn orgs_and_emptiness<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let mut ev = Events::new();
    assert!(s.is_empty().await.unwrap());
    assert_eq!(s.get_org(&org_id("acme")).await.unwrap(), None);
    let k = key("acme", "admin", None, T0);
    s.create_org(&org("acme"), &k, &ev.admin("acme", "bootstrap", T0))
        .await
        .unwrap();
    assert!(!s.is_empty().await.unwrap());
    assert_eq!(s.get_org(&org_id("acme")).await.unwrap(), Some(org("acme")));
    let again = s
        .create_org(
            &org("acme"),
            &key("acme", "x", None, T0),
            &ev.admin("acme", "bootstrap", T0),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let evs = events_of(&*s, "acme", AuditFilter::default()).await;
    assert_eq!(evs.len(), 1, "the failed bootstrap wrote nothing");
    assert_eq!(s.find_key_by_hash(&k.hash).await.unwrap(), Some(k));
}

pub async fn pepper_fingerprint_is_recorded_once<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let first = *Pepper::random().hash("x").as_bytes();
    let other = *Pepper::random().hash("x").as_bytes();
    assert_eq!(s.pepper_fingerprint(&first).await.unwrap(), first);
    assert_eq!(
        s.pepper_fingerprint(&other).await.unwrap(),
        first,
        "a second pepper does not replace the first"
    );
    drop(s);
    let s = f.open(&loc).await;
    assert_eq!(s.pepper_fingerprint(&other).await.unwrap(), first);
}

pub async fn scope_registrations_are_add_only<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let mut ev = Events::new();
    let entry = |org: Option<&str>, service: &str, action: &str| CatalogEntry {
        org: org.map(org_id),
        service: service.into(),
        action: action.into(),
        description: format!("{action} {service}"),
    };
    let acme = |service: &str, action: &str| entry(Some("acme"), service, action);
    assert_eq!(s.list_scopes(&org_id("acme")).await.unwrap(), []);
    s.add_scopes(
        &[acme("jira", "write"), acme("jira", "read")],
        &ev.admin("acme", "register_scopes", T0),
    )
    .await
    .unwrap();
    // All or none: one known scope refuses the set and its event.
    let refused = s
        .add_scopes(
            &[acme("crm", "read"), acme("jira", "read")],
            &ev.admin("acme", "register_scopes", T0),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    // Per org: another org registers the same scope for itself, sees only
    // its own and the shared ones, and acme never sees beta's.
    s.add_scopes(
        &[
            entry(Some("beta"), "jira", "read"),
            entry(None, "crm", "read"),
        ],
        &ev.admin("beta", "register_scopes", T0),
    )
    .await
    .unwrap();
    drop(s);
    let s = f.open(&loc).await;
    assert_eq!(
        s.list_scopes(&org_id("acme")).await.unwrap(),
        [
            entry(None, "crm", "read"),
            acme("jira", "read"),
            acme("jira", "write")
        ],
        "by service, then action; nothing of the refused set or of beta's"
    );
    assert_eq!(
        s.list_scopes(&org_id("beta")).await.unwrap(),
        [
            entry(None, "crm", "read"),
            entry(Some("beta"), "jira", "read")
        ]
    );
    let registrations = events_of(
        &*s,
        "acme",
        AuditFilter {
            tool: Some("register_scopes".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(registrations.len(), 1);
}

pub async fn reopen_after_close<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (loc, s, admin) = with_org(f, &mut ev).await;
    let k = key("acme", "k", None, T0);
    s.insert_key(&k, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    s.revoke_key(
        &org_id("acme"),
        &k.id,
        &rev(T0, "x"),
        &ev.admin("acme", "revoke", T0),
    )
    .await
    .unwrap();
    s.append_audit(&[ev.tool("acme", "t", Decision::Denied, T0, Some(&k.id))])
        .await
        .unwrap();
    drop(s);
    let s = f.open(&loc).await;
    assert!(!s.is_empty().await.unwrap());
    assert_eq!(s.find_key_by_hash(&admin.hash).await.unwrap(), Some(admin));
    assert_eq!(
        s.get_key(&org_id("acme"), &k.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(T0)
    );
    assert_eq!(
        events_of(&*s, "acme", AuditFilter::default()).await.len(),
        4
    );
    assert!(verify_all(&*s).await);
    // And it still writes.
    s.insert_key(
        &key("acme", "after", None, T0),
        &ev.admin("acme", "mint", T0),
    )
    .await
    .unwrap();
}
