//! The validator's rules through the authority that owns it, on a real
//! SQLite file and a manual clock: boundaries of expiry and scheduled
//! revocation, scope checks, the caches and their eviction, usage marks.

use std::sync::Arc;
use std::time::Duration;

use super::usage::UsageTracker;
use super::*;
use crate::ids::{KeyId, OrgId};
use crate::store::SqliteStore;
use crate::time::ManualClock;
use crate::{Authority, AuthorityConfig, BootstrapRequest, MintRequest, RotateRequest};
use model::audit::Decision;
use model::wire::ExpiryChoice;

const T0: Timestamp = Timestamp::from_millis(1_750_000_000_000);

struct Node {
    auth: Authority,
    clock: Arc<ManualClock>,
}

/// An authority on `dir`'s store; nodes on one dir share the store and
/// the pepper, like two servers of one deployment.
fn node(dir: &std::path::Path) -> Node {
    let store = Arc::new(SqliteStore::open(dir).unwrap());
    let clock = ManualClock::new(T0);
    let mut cfg = AuthorityConfig {
        clock: clock.clone(),
        ..Default::default()
    };
    cfg.usage_flush_interval = Duration::from_secs(3600);
    let pepper = Pepper::from_bytes(&[7u8; 32]).unwrap();
    Node {
        auth: Authority::new(store, pepper, Env::Live, cfg),
        clock,
    }
}

fn scope(s: &str) -> Scope {
    Scope::parse(s).unwrap()
}

async fn admin(n: &Node) -> Arc<KeyContext> {
    let k = n
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    n.auth
        .authorize(k.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap()
}

async fn mint(n: &Node, p: &KeyContext, scopes: &[&str], days: ExpiryChoice) -> (String, KeyId) {
    let m = n
        .auth
        .mint(
            p,
            MintRequest {
                org_id: None,
                name: "k".into(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
                expires_days: days,
                env: None,
                resources: Vec::new(),
                terms: Default::default(),
            },
        )
        .await
        .unwrap();
    (m.key.expose_secret().to_owned(), m.view.id)
}

/// An expiry takes effect at its instant: valid one millisecond before,
/// expired at it.
#[tokio::test]
async fn expiry_is_checked_against_the_clock_on_every_hit() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let p = admin(&n).await;
    let (raw, id) = mint(&n, &p, &["svc:wiki:read"], ExpiryChoice::Days(1)).await;
    let read = scope("svc:wiki:read");
    assert!(n.auth.validate(&raw, Some(&read)).await.is_valid());
    n.clock
        .set(Timestamp::from_millis(T0.plus_days(1).as_millis() - 1));
    assert!(n.auth.validate(&raw, Some(&read)).await.is_valid());
    n.clock.set(T0.plus_days(1));
    let o = n.auth.validate(&raw, Some(&read)).await;
    assert_eq!(
        o,
        Outcome::Expired {
            key_id: id,
            org: OrgId::parse("acme").unwrap()
        }
    );
}

/// A rotated key works until the end of its grace period and is revoked
/// from that instant, even when it is cached.
#[tokio::test]
async fn scheduled_revocation_takes_effect_at_its_instant() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let p = admin(&n).await;
    let (raw, id) = mint(&n, &p, &["svc:wiki:read"], ExpiryChoice::Default).await;
    assert!(n.auth.validate(&raw, None).await.is_valid());
    n.auth
        .rotate(
            &p,
            id.as_str(),
            RotateRequest {
                grace_secs: Some(60),
            },
        )
        .await
        .unwrap();
    n.clock.advance_secs(59);
    assert!(n.auth.validate(&raw, None).await.is_valid());
    n.clock.advance_secs(1);
    assert!(matches!(
        n.auth.validate(&raw, None).await,
        Outcome::Revoked { .. }
    ));
}

/// A valid key without the required scope is `InsufficientScope` (with its
/// context, so the refusal can be attributed); with it, `Valid`.
#[tokio::test]
async fn the_required_scope_decides() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let p = admin(&n).await;
    let (raw, _) = mint(&n, &p, &["svc:wiki:read"], ExpiryChoice::Default).await;
    let o = n.auth.validate(&raw, Some(&scope("svc:wiki:write"))).await;
    assert!(!o.is_valid());
    assert_eq!(o.code(), "insufficient_scope");
    assert_eq!(o.context().unwrap().name, "k");
    assert!(n
        .auth
        .validate(&raw, Some(&scope("svc:wiki:read")))
        .await
        .is_valid());
    assert!(n.auth.validate(&raw, None).await.is_valid());
}

/// Known keys are cached after one lookup, unknown ones in the negative
/// cache: a second presentation does not reach the store.
#[tokio::test]
async fn both_caches_answer_repeat_presentations() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let p = admin(&n).await;
    let (raw, _) = mint(&n, &p, &["svc:wiki:read"], ExpiryChoice::Default).await;
    let unknown = crate::keys::generate(Env::Live);
    let before = n.auth.stats();
    assert!(n.auth.validate(&raw, None).await.is_valid());
    assert!(n.auth.validate(&raw, None).await.is_valid());
    assert_eq!(
        n.auth.validate(unknown.raw.expose_secret(), None).await,
        Outcome::Unknown
    );
    assert_eq!(
        n.auth.validate(unknown.raw.expose_secret(), None).await,
        Outcome::Unknown
    );
    let after = n.auth.stats();
    assert_eq!(after.cache_hits - before.cache_hits, 1);
    assert_eq!(after.negative_cache_hits - before.negative_cache_hits, 1);
}

/// A revocation evicts the cached key here at once; a revocation made by
/// another node reaches this one's cache through `apply_remote_revocation`
/// (one key) or `invalidate_cache` (everything).
#[tokio::test]
async fn revocations_evict_cached_keys() {
    let dir = tempfile::tempdir().unwrap();
    let a = node(dir.path());
    let b = node(dir.path());
    let p = admin(&a).await;
    let (local, local_id) = mint(&a, &p, &["svc:wiki:read"], ExpiryChoice::Default).await;
    let (one, one_id) = mint(&a, &p, &["svc:wiki:read"], ExpiryChoice::Default).await;
    let (all, all_id) = mint(&a, &p, &["svc:wiki:read"], ExpiryChoice::Default).await;
    for raw in [&local, &one, &all] {
        assert!(a.auth.validate(raw, None).await.is_valid());
    }

    a.auth.revoke(&p, local_id.as_str(), None).await.unwrap();
    assert!(matches!(
        a.auth.validate(&local, None).await,
        Outcome::Revoked { .. }
    ));

    // b's own admin key for the same org.
    let (b_admin, _) = mint(&a, &p, &["admin:org", "org:acme"], ExpiryChoice::Default).await;
    let pb = b.auth.authorize(&b_admin, &Scope::AdminOrg).await.unwrap();
    let mut stream = b.auth.subscribe_revocations();
    b.auth.revoke(&pb, one_id.as_str(), None).await.unwrap();
    // `revoke` publishes before it returns: no waiting (a revocation that
    // never happens fails here instead of hanging).
    let ev = stream
        .try_recv()
        .expect("a revocation is published by revoke");
    assert_eq!(ev.key_id, one_id);
    a.auth.apply_remote_revocation(ev);
    assert!(matches!(
        a.auth.validate(&one, None).await,
        Outcome::Revoked { .. }
    ));

    b.auth.revoke(&pb, all_id.as_str(), None).await.unwrap();
    a.auth.invalidate_cache();
    assert!(matches!(
        a.auth.validate(&all, None).await,
        Outcome::Revoked { .. }
    ));
}

/// `validate` is the key's own use and is marked; `check` (introspection
/// of someone else's key) is not.
#[tokio::test]
async fn validate_marks_use_and_check_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let n = node(dir.path());
    let p = admin(&n).await;
    let (checked, checked_id) = mint(&n, &p, &["svc:wiki:read"], ExpiryChoice::Default).await;
    let (used, used_id) = mint(&n, &p, &["svc:wiki:read"], ExpiryChoice::Default).await;
    n.auth.flush_usage().await.unwrap();
    assert!(n.auth.check(&checked, None).await.is_valid());
    assert!(n.auth.validate(&used, None).await.is_valid());
    n.auth.flush_usage().await.unwrap();
    let used = n.auth.get_key(&p, used_id.as_str()).await.unwrap();
    assert_eq!(used.last_used_at, Some(T0));
    let checked = n.auth.get_key(&p, checked_id.as_str()).await.unwrap();
    assert_eq!(checked.last_used_at, None);
}

fn ctx(id: &str) -> KeyContext {
    KeyContext {
        key_id: KeyId::from_stored(id.into()),
        org: OrgId::parse("acme").unwrap(),
        name: "k".into(),
        env: Env::Live,
        agent: None,
        scopes: crate::scopes::ScopeSet::default(),
        expires_at: None,
        created_by: None,
        person: None,
        resources: Vec::new(),
        oauth: None,
        networks: Default::default(),
        limits: Default::default(),
        metadata: None,
    }
}

/// One mark per key per second: a second mark within 1000 ms keeps the
/// first instant, one at 1000 ms or later replaces it.
#[test]
fn usage_marks_are_coalesced_per_second() {
    let u = UsageTracker::default();
    let k = ctx("key_a");
    u.mark(&k, T0);
    u.mark(&k, T0.plus_secs(0));
    u.mark(&k, Timestamp::from_millis(T0.as_millis() + 999));
    assert_eq!(u.drain(), [(k.org.clone(), k.key_id.clone(), T0)]);
    assert!(u.drain().is_empty(), "drain empties the tracker");
    u.mark(&k, T0);
    u.mark(&k, Timestamp::from_millis(T0.as_millis() + 1000));
    assert_eq!(
        u.drain(),
        [(
            k.org.clone(),
            k.key_id.clone(),
            Timestamp::from_millis(T0.as_millis() + 1000)
        )]
    );
}

/// A batch the store refused is put back, but a newer mark made meanwhile
/// wins over the restored one.
#[test]
fn restore_keeps_newer_marks() {
    let u = UsageTracker::default();
    let a = ctx("key_a");
    let b = ctx("key_b");
    u.mark(&a, T0);
    u.mark(&b, T0);
    let batch = u.drain();
    u.mark(&a, T0.plus_secs(5));
    u.restore(batch);
    let mut back = u.drain();
    back.sort_by(|x, y| x.1.as_str().cmp(y.1.as_str()));
    assert_eq!(
        back,
        [
            (a.org.clone(), a.key_id.clone(), T0.plus_secs(5)),
            (b.org.clone(), b.key_id.clone(), T0),
        ]
    );
}

/// Every outcome's stable code, whether it authenticates, and its audit
/// decision: only `Valid` is allowed; a denial carries the code as reason
/// and names the key when the key is known.
#[test]
fn outcomes_codes_and_audit_events() {
    let c = Arc::new(ctx("key_a"));
    let acme = OrgId::parse("acme").unwrap();
    let id = KeyId::from_stored("key_a".into());
    let wiki = scope("svc:wiki:read");
    let cases: Vec<(Outcome, &str, bool, bool)> = vec![
        // (outcome, code, authenticates, has a context)
        (Outcome::Valid(c.clone()), "valid", true, true),
        (
            Outcome::Malformed(crate::keys::ParseError::BadChecksum),
            "bad_checksum",
            false,
            false,
        ),
        (Outcome::Unknown, "unknown_key", false, false),
        (
            Outcome::Expired {
                key_id: id.clone(),
                org: acme.clone(),
            },
            "expired_key",
            false,
            false,
        ),
        (
            Outcome::Revoked {
                key_id: id.clone(),
                org: acme.clone(),
            },
            "revoked_key",
            false,
            false,
        ),
        (
            Outcome::WrongEnv {
                expected: Env::Live,
                got: Env::Test,
            },
            "wrong_env",
            false,
            false,
        ),
        (
            Outcome::InsufficientScope {
                context: c.clone(),
                missing: wiki.clone(),
            },
            "insufficient_scope",
            true,
            true,
        ),
        (Outcome::Unavailable, "unavailable", true, false),
    ];
    for (o, code, authenticates, has_context) in cases {
        assert_eq!(o.code(), code);
        assert_eq!(o.is_valid(), code == "valid", "{code}");
        // "authenticates" here: not an authentication failure (401).
        assert_eq!(o.unauthenticated().is_none(), authenticates, "{code}");
        assert_eq!(o.context().is_some(), has_context, "{code}");
        let ev = o.tool_call("search", &wiki);
        assert_eq!(ev.tool, "search");
        assert_eq!(ev.required_scope.as_deref(), Some("svc:wiki:read"));
        if o.is_valid() {
            assert_eq!(ev.decision, Decision::Allowed);
            assert_eq!(ev.reason, None);
        } else {
            assert_eq!(ev.decision, Decision::Denied);
            assert_eq!(ev.reason.as_deref(), Some(code));
        }
        let names_key = matches!(
            o,
            Outcome::Valid(_)
                | Outcome::InsufficientScope { .. }
                | Outcome::Expired { .. }
                | Outcome::Revoked { .. }
        );
        assert_eq!(ev.key_id.is_some(), names_key, "{code}");
        assert_eq!(ev.org.is_some(), names_key, "{code}");
    }
    assert_eq!(
        Outcome::WrongEnv {
            expected: Env::Live,
            got: Env::Test
        }
        .message(),
        "this server accepts `live` keys; this is a `test` key"
    );
    assert_eq!(Outcome::Unknown.message(), "invalid API key");
    assert_eq!(
        Outcome::InsufficientScope {
            context: c,
            missing: wiki
        }
        .message(),
        "missing scope `svc:wiki:read`"
    );
}

/// The environment is checked before any lookup.
#[test]
fn parse_for_env_refuses_the_other_env() {
    let test_key = crate::keys::generate(Env::Test);
    assert_eq!(
        parse_for_env(test_key.raw.expose_secret(), Env::Live).unwrap_err(),
        Outcome::WrongEnv {
            expected: Env::Live,
            got: Env::Test
        }
    );
    assert!(parse_for_env(test_key.raw.expose_secret(), Env::Test).is_ok());
    assert_eq!(
        parse_for_env("nope", Env::Live).unwrap_err(),
        Outcome::Malformed(crate::keys::ParseError::WrongPrefix)
    );
}
