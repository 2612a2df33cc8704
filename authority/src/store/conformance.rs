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
//! and reopening after close.

use std::sync::Arc;

use async_trait::async_trait;

use super::{CatalogEntry, KeyRecord, OrgRecord, Revocation, RevokeResult, Store, StoreError};
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
            bulk_revoke, touch_keys, audit_append_and_queries, audit_pagination, audit_timeline,
            chains_and_prune, concurrent_revokes_and_mints, reopen_after_close,
            pepper_fingerprint_is_recorded_once, scope_registrations_are_add_only);
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

pub async fn key_insert_get_and_isolation<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, admin) = with_org(f, &mut ev).await;
    s.create_org(
        &org("other"),
        &key("other", "admin", None, T0),
        &ev.admin("other", "bootstrap", T0),
    )
    .await
    .unwrap();
    let k1 = key("acme", "one", Some("bot"), T0.plus_secs(1));
    let k2 = key("acme", "two", None, T0.plus_secs(2));
    s.insert_key(&k1, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    s.insert_key(&k2, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    assert_eq!(
        s.get_key(&org_id("acme"), &k1.id).await.unwrap(),
        Some(k1.clone())
    );
    assert_eq!(
        s.get_key(&org_id("other"), &k1.id).await.unwrap(),
        None,
        "other org sees nothing"
    );
    assert_eq!(
        s.get_key(&org_id("acme"), &KeyId::generate())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.find_key_by_hash(&k2.hash).await.unwrap(),
        Some(k2.clone())
    );
    assert_eq!(
        s.find_key_by_hash(&Pepper::random().hash("nope"))
            .await
            .unwrap(),
        None
    );
    let ids: Vec<KeyId> = s
        .list_keys(&org_id("acme"))
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(
        ids,
        vec![k2.id.clone(), k1.id.clone(), admin.id.clone()],
        "newest first"
    );
    assert_eq!(s.list_keys(&org_id("other")).await.unwrap().len(), 1);

    let mut dup_id = key("acme", "dup", None, T0);
    dup_id.id = k1.id.clone();
    assert!(matches!(
        s.insert_key(&dup_id, &ev.admin("acme", "mint", T0)).await,
        Err(StoreError::Conflict(_))
    ));
    let mut dup_hash = key("acme", "dup", None, T0);
    dup_hash.hash = k1.hash;
    assert!(matches!(
        s.insert_key(&dup_hash, &ev.admin("acme", "mint", T0)).await,
        Err(StoreError::Conflict(_))
    ));
    let nowhere = key("ghost", "x", None, T0);
    assert_eq!(
        s.insert_key(&nowhere, &ev.admin("ghost", "mint", T0)).await,
        Err(StoreError::NotFound)
    );
    let mints = events_of(
        &*s,
        "acme",
        AuditFilter {
            tool: Some("mint".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(mints.len(), 2, "failed inserts wrote no event");
}

pub async fn revoke_is_idempotent<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let k = key("acme", "k", None, T0);
    s.insert_key(&k, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    let acme = org_id("acme");
    let at = T0.plus_secs(10);
    match s
        .revoke_key(
            &acme,
            &k.id,
            &rev(at, "leak"),
            &ev.admin("acme", "revoke", at),
        )
        .await
        .unwrap()
    {
        RevokeResult::Revoked(r) => {
            assert_eq!(r.revoked_at, Some(at));
            assert_eq!(r.revoke_reason.as_deref(), Some("leak"));
            assert_eq!(r.revoked_by.as_deref(), Some("key_admin"));
        }
        other => panic!("{other:?}"),
    }
    let later = T0.plus_secs(20);
    let again = s
        .revoke_key(
            &acme,
            &k.id,
            &rev(later, "again"),
            &ev.admin("acme", "revoke", later),
        )
        .await
        .unwrap();
    match again {
        RevokeResult::AlreadyRevoked(r) => assert_eq!(
            (r.revoked_at, r.revoke_reason.as_deref()),
            (Some(at), Some("leak"))
        ),
        other => panic!("{other:?}"),
    }
    let revokes = events_of(
        &*s,
        "acme",
        AuditFilter {
            tool: Some("revoke".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        revokes.len(),
        1,
        "an idempotent revoke writes no second event"
    );
    let other = s
        .revoke_key(
            &org_id("other"),
            &k.id,
            &rev(later, "x"),
            &ev.admin("other", "revoke", later),
        )
        .await;
    assert_eq!(other.unwrap(), RevokeResult::NotFound);
    let stored = s.get_key(&acme, &k.id).await.unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(at));

    // A scheduled (future) revocation is brought forward by a revoke now.
    let g = key("acme", "grace", None, T0);
    s.insert_key(&g, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    let future = T0.plus_secs(3600);
    assert!(matches!(
        s.revoke_key(
            &acme,
            &g.id,
            &rev(future, "rotated"),
            &ev.admin("acme", "revoke", T0)
        )
        .await
        .unwrap(),
        RevokeResult::Revoked(_)
    ));
    assert!(matches!(
        s.revoke_key(&acme, &g.id, &rev(at, "now"), &ev.admin("acme", "revoke", at)).await.unwrap(),
        RevokeResult::Revoked(r) if r.revoked_at == Some(at)
    ));
}

pub async fn rotation<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let acme = org_id("acme");
    let old = key("acme", "old", Some("bot"), T0);
    s.insert_key(&old, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    let now = T0.plus_secs(60);
    let mut succ = key("acme", "old", Some("bot"), now);
    succ.rotated_from = Some(old.id.clone());
    let grace_end = now.plus_secs(3600);
    let updated = s
        .rotate_key(
            &acme,
            &old.id,
            &succ,
            &rev(grace_end, "rotated"),
            &ev.admin("acme", "rotate", now),
        )
        .await
        .unwrap();
    assert_eq!(updated.rotated_to, Some(succ.id.clone()));
    assert_eq!(updated.revoked_at, Some(grace_end));
    assert_eq!(s.get_key(&acme, &old.id).await.unwrap(), Some(updated));
    assert_eq!(
        s.find_key_by_hash(&succ.hash).await.unwrap(),
        Some(succ.clone())
    );

    let succ2 = key("acme", "old", None, now);
    let twice = s
        .rotate_key(
            &acme,
            &old.id,
            &succ2,
            &rev(now, "r"),
            &ev.admin("acme", "rotate", now),
        )
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    assert_eq!(
        s.find_key_by_hash(&succ2.hash).await.unwrap(),
        None,
        "failed rotation inserted nothing"
    );

    let dead = key("acme", "dead", None, T0);
    s.insert_key(&dead, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    s.revoke_key(
        &acme,
        &dead.id,
        &rev(T0, "x"),
        &ev.admin("acme", "revoke", T0),
    )
    .await
    .unwrap();
    let succ3 = key("acme", "dead", None, now);
    let r = s
        .rotate_key(
            &acme,
            &dead.id,
            &succ3,
            &rev(now, "r"),
            &ev.admin("acme", "rotate", now),
        )
        .await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    let r = s
        .rotate_key(
            &org_id("other"),
            &succ.id,
            &succ3,
            &rev(now, "r"),
            &ev.admin("other", "rotate", now),
        )
        .await;
    assert_eq!(r, Err(StoreError::NotFound));
    let rotates = events_of(
        &*s,
        "acme",
        AuditFilter {
            tool: Some("rotate".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(rotates.len(), 1);

    // Rotation never postpones an earlier scheduled revocation.
    let k = key("acme", "k", None, T0);
    s.insert_key(&k, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    let soon = now.plus_secs(10);
    s.revoke_key(
        &acme,
        &k.id,
        &rev(soon, "scheduled"),
        &ev.admin("acme", "revoke", now),
    )
    .await
    .unwrap();
    let succ4 = key("acme", "k", None, now);
    let u = s
        .rotate_key(
            &acme,
            &k.id,
            &succ4,
            &rev(now.plus_secs(999), "r"),
            &ev.admin("acme", "rotate", now),
        )
        .await;
    assert_eq!(u.unwrap().revoked_at, Some(soon));
}

pub async fn bulk_revoke<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, admin) = with_org(f, &mut ev).await;
    let acme = org_id("acme");
    s.create_org(
        &org("other"),
        &key("other", "a", Some("bot"), T0),
        &ev.admin("other", "bootstrap", T0),
    )
    .await
    .unwrap();
    let bots: Vec<KeyRecord> = (0..3)
        .map(|i| key("acme", &format!("b{i}"), Some("bot"), T0))
        .collect();
    for k in &bots {
        s.insert_key(k, &ev.admin("acme", "mint", T0))
            .await
            .unwrap();
    }
    let human = key("acme", "h", Some("human"), T0);
    s.insert_key(&human, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    s.revoke_key(
        &acme,
        &bots[0].id,
        &rev(T0, "x"),
        &ev.admin("acme", "revoke", T0),
    )
    .await
    .unwrap();

    let at = T0.plus_secs(5);
    let hit = s
        .bulk_revoke(
            &acme,
            Some("bot"),
            None,
            &rev(at, "incident"),
            &ev.admin("acme", "bulk_revoke", at),
        )
        .await;
    let mut ids: Vec<KeyId> = hit.unwrap().into_iter().map(|k| k.id).collect();
    ids.sort();
    let mut want = vec![bots[1].id.clone(), bots[2].id.clone()];
    want.sort();
    assert_eq!(ids, want, "already revoked keys are not counted");
    let none = s
        .bulk_revoke(
            &acme,
            Some("bot"),
            None,
            &rev(at, "again"),
            &ev.admin("acme", "bulk_revoke", at),
        )
        .await;
    assert!(none.unwrap().is_empty());
    assert_eq!(
        events_of(
            &*s,
            "acme",
            AuditFilter {
                tool: Some("bulk_revoke".into()),
                ..Default::default()
            }
        )
        .await
        .len(),
        1,
        "no event for an empty bulk revoke"
    );
    let other_bot = s.list_keys(&org_id("other")).await.unwrap();
    assert!(
        other_bot.iter().all(|k| k.revoked_at.is_none()),
        "other org untouched"
    );

    let all = s
        .bulk_revoke(
            &acme,
            None,
            Some(&admin.id),
            &rev(at, "org"),
            &ev.admin("acme", "bulk_revoke", at),
        )
        .await;
    assert_eq!(
        all.unwrap().into_iter().map(|k| k.id).collect::<Vec<_>>(),
        vec![human.id.clone()]
    );
    assert_eq!(
        s.get_key(&acme, &admin.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None,
        "except is spared"
    );
}

pub async fn touch_keys<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, admin) = with_org(f, &mut ev).await;
    let acme = org_id("acme");
    let t1 = T0.plus_secs(100);
    s.touch_keys(&[
        (acme.clone(), admin.id.clone(), t1),
        (acme.clone(), KeyId::generate(), t1),
    ])
    .await
    .unwrap();
    assert_eq!(
        s.get_key(&acme, &admin.id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(t1)
    );
    s.touch_keys(&[(acme.clone(), admin.id.clone(), T0)])
        .await
        .unwrap();
    assert_eq!(
        s.get_key(&acme, &admin.id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(t1),
        "never lowered"
    );
    s.touch_keys(&[(org_id("other"), admin.id.clone(), t1.plus_secs(1))])
        .await
        .unwrap();
    assert_eq!(
        s.get_key(&acme, &admin.id)
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(t1),
        "org must match"
    );
    s.touch_keys(&[]).await.unwrap();
}

pub async fn audit_append_and_queries<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let mut ev = Events::new();
    let k = KeyId::generate();
    let batch: Vec<AuditEvent> = (0..10)
        .map(|i| {
            let d = if i % 3 == 0 {
                Decision::Denied
            } else {
                Decision::Allowed
            };
            let tool = if i % 2 == 0 { "search" } else { "write_page" };
            ev.tool("acme", tool, d, T0.plus_secs(i), (i < 5).then_some(&k))
        })
        .collect();
    s.append_audit(&batch).await.unwrap();
    s.append_audit(&[ev.tool("other", "search", Decision::Allowed, T0, None)])
        .await
        .unwrap();
    assert_eq!(
        s.get_audit_event(&org_id("acme"), &batch[3].id)
            .await
            .unwrap(),
        Some(batch[3].clone())
    );
    assert_eq!(
        s.get_audit_event(&org_id("other"), &batch[3].id)
            .await
            .unwrap(),
        None
    );

    let all = events_of(&*s, "acme", AuditFilter::default()).await;
    assert_eq!(all.len(), 10);
    assert!(
        all.windows(2).all(|w| w[0].body.ts >= w[1].body.ts),
        "newest first"
    );
    let filters = [
        AuditFilter {
            key_id: Some(k.clone()),
            ..Default::default()
        },
        AuditFilter {
            agent: Some("bot".into()),
            ..Default::default()
        },
        AuditFilter {
            tool: Some("search".into()),
            ..Default::default()
        },
        AuditFilter {
            decision: Some(Decision::Denied),
            ..Default::default()
        },
        AuditFilter {
            kind: Some(EventKind::Admin),
            ..Default::default()
        },
        AuditFilter {
            since: Some(T0.plus_secs(3)),
            until: Some(T0.plus_secs(7)),
            ..Default::default()
        },
        AuditFilter {
            tool: Some("search".into()),
            decision: Some(Decision::Allowed),
            since: Some(T0.plus_secs(1)),
            ..Default::default()
        },
    ];
    for fl in filters {
        let got: Vec<EventId> = events_of(&*s, "acme", fl.clone())
            .await
            .into_iter()
            .map(|e| e.id)
            .collect();
        let want: Vec<EventId> = all
            .iter()
            .filter(|e| fl.matches(e))
            .map(|e| e.id.clone())
            .collect();
        assert_eq!(got, want, "filter {fl:?}");
    }

    // All-or-nothing: a batch with one duplicate writes none.
    let good = ev.tool("acme", "x", Decision::Allowed, T0, None);
    let r = s.append_audit(&[good.clone(), batch[0].clone()]).await;
    assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
    assert_eq!(
        s.get_audit_event(&org_id("acme"), &good.id).await.unwrap(),
        None
    );
}

pub async fn audit_pagination<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let mut ev = Events::new();
    // Several events share a timestamp: the id breaks ties.
    let batch: Vec<AuditEvent> = (0..25)
        .map(|i| ev.tool("acme", "t", Decision::Allowed, T0.plus_secs(i / 4), None))
        .collect();
    s.append_audit(&batch).await.unwrap();
    let acme = org_id("acme");
    let mut seen = Vec::new();
    let mut cursor: Option<AuditCursor> = None;
    loop {
        let page = s
            .query_audit(&acme, &AuditFilter::default(), cursor.as_ref(), 7)
            .await
            .unwrap();
        assert!(page.len() <= 7);
        if page.is_empty() {
            break;
        }
        cursor = page.last().map(AuditCursor::after);
        seen.extend(page);
    }
    assert_eq!(seen.len(), 25, "every event exactly once");
    let mut ids: Vec<&EventId> = seen.iter().map(|e| &e.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 25);
    assert!(seen
        .windows(2)
        .all(|w| (w[0].body.ts, &w[0].id) > (w[1].body.ts, &w[1].id)));
}

pub async fn audit_timeline<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let mut ev = Events::new();
    let base = Timestamp::from_millis(1_700_000_040_000); // a multiple of 60 s
    let mut batch = Vec::new();
    for i in 0..6 {
        batch.push(ev.tool("acme", "t", Decision::Allowed, base.plus_secs(i * 20), None));
    }
    batch.push(ev.tool("acme", "t", Decision::Denied, base.plus_secs(61), None));
    batch.push(ev.tool("acme", "u", Decision::Denied, base.plus_secs(200), None));
    s.append_audit(&batch).await.unwrap();
    let b = s
        .audit_timeline(&org_id("acme"), &AuditFilter::default(), 60_000)
        .await
        .unwrap();
    let got: Vec<(i64, u64, u64)> = b
        .iter()
        .map(|x| (x.start.as_millis() - base.as_millis(), x.allowed, x.denied))
        .collect();
    assert_eq!(got, vec![(0, 3, 0), (60_000, 3, 1), (180_000, 0, 1)]);
    let only_t = AuditFilter {
        tool: Some("t".into()),
        ..Default::default()
    };
    let b = s
        .audit_timeline(&org_id("acme"), &only_t, 60_000)
        .await
        .unwrap();
    assert_eq!(b.len(), 2);
    assert!(s
        .audit_timeline(&org_id("nobody"), &AuditFilter::default(), 60_000)
        .await
        .unwrap()
        .is_empty());
}

async fn verify_all(s: &dyn Store) -> bool {
    let mut ok = true;
    for c in s.audit_chains(None).await.unwrap() {
        let mut v = ChainVerifier::new(c.org.clone(), c.writer.clone(), c.checkpoint.as_ref());
        let after = c.checkpoint.as_ref().map_or(0, |c| c.seq);
        for e in s
            .audit_chain_events(&c.org, &c.writer, after, 100_000)
            .await
            .unwrap()
        {
            v.feed(&e);
        }
        ok &= v.finish().ok();
    }
    ok
}

pub async fn chains_and_prune<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let mut a = Events::new();
    let mut b = Events::new();
    let mut batch = Vec::new();
    for i in 0..10 {
        batch.push(a.tool("acme", "t", Decision::Allowed, T0.plus_secs(i), None));
        batch.push(b.tool("acme", "t", Decision::Allowed, T0.plus_secs(i), None));
        batch.push(a.tool("other", "t", Decision::Allowed, T0.plus_secs(i), None));
    }
    s.append_audit(&batch).await.unwrap();
    let chains = s.audit_chains(None).await.unwrap();
    assert_eq!(chains.len(), 3);
    assert_eq!(
        s.audit_chains(Some(&org_id("acme"))).await.unwrap().len(),
        2
    );
    let writer = batch[0].chain.writer.clone();
    let page = s
        .audit_chain_events(&org_id("acme"), &writer, 3, 4)
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|e| e.chain.seq).collect::<Vec<_>>(),
        vec![4, 5, 6, 7]
    );
    assert!(verify_all(&*s).await);

    let stats = s.prune_audit(T0.plus_secs(4)).await.unwrap();
    assert_eq!(stats.deleted, 12);
    assert_eq!(stats.checkpoints, 3);
    let left = events_of(&*s, "acme", AuditFilter::default()).await;
    assert!(left.iter().all(|e| e.body.ts >= T0.plus_secs(4)));
    let chains = s.audit_chains(Some(&org_id("acme"))).await.unwrap();
    assert!(chains
        .iter()
        .all(|c| c.checkpoint.as_ref().is_some_and(|cp| cp.seq == 4)));
    assert!(
        verify_all(&*s).await,
        "the suffix verifies from its checkpoint"
    );

    // The chain continues after pruning, and pruning again moves the checkpoint.
    s.append_audit(&[a.tool("acme", "t", Decision::Allowed, T0.plus_secs(50), None)])
        .await
        .unwrap();
    let stats = s.prune_audit(T0.plus_secs(100)).await.unwrap();
    assert_eq!(stats.deleted, 6 + 6 + 6 + 1);
    assert!(verify_all(&*s).await);
    assert_eq!(
        s.audit_chains(None).await.unwrap().len(),
        3,
        "checkpoints keep chains known"
    );
    assert_eq!(s.prune_audit(T0.plus_secs(100)).await.unwrap().deleted, 0);

    // An event older than the cut-off after a newer one stays (prefix only).
    let mut c = Events::new();
    let e1 = c.tool("acme", "t", Decision::Allowed, T0.plus_secs(500), None);
    let e2 = c.tool("acme", "t", Decision::Allowed, T0.plus_secs(1), None);
    s.append_audit(&[e1.clone(), e2.clone()]).await.unwrap();
    s.prune_audit(T0.plus_secs(200)).await.unwrap();
    assert!(s
        .get_audit_event(&org_id("acme"), &e2.id)
        .await
        .unwrap()
        .is_some());
    assert!(verify_all(&*s).await);
}

pub async fn concurrent_revokes_and_mints<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let acme = org_id("acme");
    let target = key("acme", "target", None, T0);
    s.insert_key(&target, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = s.clone();
        let (acme, id) = (acme.clone(), target.id.clone());
        // Each task has its own writer so events never collide.
        let mut own = Events::new();
        let e = own.admin("acme", "revoke", T0);
        tasks.push(tokio::spawn(async move {
            let at = T0.plus_secs(1);
            s.revoke_key(
                &acme,
                &id,
                &Revocation {
                    at,
                    by: format!("t{i}"),
                    reason: None,
                },
                &e,
            )
            .await
            .unwrap()
        }));
    }
    let mut minted = Vec::new();
    for i in 0..16 {
        let s = s.clone();
        let k = key("acme", &format!("m{i}"), None, T0);
        minted.push(k.id.clone());
        let mut own = Events::new();
        let e = own.admin("acme", "mint", T0);
        tasks.push(tokio::spawn(async move {
            s.insert_key(&k, &e).await.unwrap();
            RevokeResult::NotFound
        }));
    }
    let mut revoked = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), RevokeResult::Revoked(_)) {
            revoked += 1;
        }
    }
    assert_eq!(revoked, 1, "exactly one concurrent revoke wins");
    let list = s.list_keys(&acme).await.unwrap();
    assert!(
        minted.iter().all(|id| list.iter().any(|k| &k.id == id)),
        "every concurrent mint landed"
    );
    let revokes = events_of(
        &*s,
        "acme",
        AuditFilter {
            tool: Some("revoke".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(revokes.len(), 1);
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
    let entry = |service: &str, action: &str| CatalogEntry {
        service: service.into(),
        action: action.into(),
        description: format!("{action} {service}"),
    };
    assert_eq!(s.list_scopes().await.unwrap(), []);
    s.add_scopes(
        &[entry("jira", "write"), entry("jira", "read")],
        &ev.admin("acme", "register_scopes", T0),
    )
    .await
    .unwrap();
    // All or none: one known scope refuses the set and its event.
    let refused = s
        .add_scopes(
            &[entry("crm", "read"), entry("jira", "read")],
            &ev.admin("acme", "register_scopes", T0),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    drop(s);
    let s = f.open(&loc).await;
    assert_eq!(
        s.list_scopes().await.unwrap(),
        [entry("jira", "read"), entry("jira", "write")],
        "by service, then action; nothing of the refused set"
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
