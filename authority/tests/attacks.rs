//! Attacks: cross-org access by id, escalation by mint and by rotate, a
//! revoked key on the very next validation, a key differing in one character,
//! and no key material in errors, events or debug output.

mod common;

use authority::audit::{AuditFilter, AuditQuery};
use authority::keys::ParseError;
use authority::{
    AuthorityError, BootstrapRequest, BulkRevokeRequest, Env, MintRequest, Outcome, RotateRequest,
    Scope,
};
use common::harness;

fn req(scopes: &[&str]) -> MintRequest {
    MintRequest {
        org_id: None,
        name: "k".into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        expires_days: Default::default(),
        env: None,
        resources: Vec::new(),
        terms: Default::default(),
    }
}

fn scope(s: &str) -> Scope {
    Scope::parse(s).unwrap()
}

/// Bootstraps `org` and returns its admin key's principal.
async fn admin_of(h: &common::Harness, org: &str) -> std::sync::Arc<authority::KeyContext> {
    let minted = h.auth.bootstrap(BootstrapRequest::new(org)).await.unwrap();
    h.auth
        .authorize(minted.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap()
}

#[tokio::test]
async fn cross_org_access_by_id_looks_like_a_missing_key() {
    let h = harness(Env::Live);
    let acme = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let evil = h
        .auth
        .bootstrap(BootstrapRequest::new("evil"))
        .await
        .unwrap();
    let acme_p = h
        .auth
        .authorize(acme.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let evil_p = h
        .auth
        .authorize(evil.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let victim = h.auth.mint(&acme_p, req(&["svc:wiki:read"])).await.unwrap();
    let id = victim.view.id.as_str();
    let missing = "key_doesNotExist0000000";

    let get_other = h.auth.get_key(&evil_p, id).await.unwrap_err();
    let get_missing = h.auth.get_key(&evil_p, missing).await.unwrap_err();
    assert_eq!(get_other, AuthorityError::NotFound);
    assert_eq!(get_other.to_string(), get_missing.to_string());
    assert_eq!(
        h.auth.revoke(&evil_p, id, None).await.unwrap_err(),
        AuthorityError::NotFound
    );
    assert_eq!(
        h.auth
            .rotate(&evil_p, id, RotateRequest::default())
            .await
            .unwrap_err(),
        AuthorityError::NotFound
    );
    assert!(h
        .auth
        .list_keys(&evil_p, Default::default())
        .await
        .unwrap()
        .iter()
        .all(|k| k.org.as_str() == "evil"));
    assert!(
        h.auth
            .validate(victim.key.expose_secret(), None)
            .await
            .is_valid(),
        "victim untouched"
    );

    // Minting into another org, or binding another org.
    let mut into_acme = req(&["svc:wiki:read"]);
    into_acme.org_id = Some("acme".into());
    assert!(matches!(
        h.auth.mint(&evil_p, into_acme).await,
        Err(AuthorityError::Forbidden { .. })
    ));
    assert!(h.auth.mint(&evil_p, req(&["org:acme"])).await.is_err());

    // Audit: evil sees none of acme's events, not even by id.
    let acme_events = h
        .auth
        .audit_query(&acme_p, AuditQuery::default())
        .await
        .unwrap()
        .events;
    let evil_events = h
        .auth
        .audit_query(&evil_p, AuditQuery::default())
        .await
        .unwrap()
        .events;
    assert!(evil_events.iter().all(|e| e.body.org.as_str() == "evil"));
    assert_eq!(
        h.auth
            .audit_event(&evil_p, acme_events[0].id.as_str())
            .await
            .unwrap_err(),
        AuthorityError::NotFound
    );
    // Bulk revoke of evil's org leaves acme alone.
    h.auth
        .bulk_revoke(&evil_p, BulkRevokeRequest::whole_org())
        .await
        .unwrap();
    assert!(h
        .auth
        .validate(victim.key.expose_secret(), None)
        .await
        .is_valid());
    // Introspection across orgs says inactive.
    let i = h
        .auth
        .introspect(&evil_p, victim.key.expose_secret())
        .await
        .unwrap();
    assert!(!i.active);
}

#[tokio::test]
async fn escalation_by_mint_is_refused() {
    let h = harness(Env::Live);
    let admin = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let p = h
        .auth
        .authorize(admin.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let minter = h
        .auth
        .mint(&p, req(&["svc:keys:write", "svc:wiki:read"]))
        .await
        .unwrap();
    let m = h
        .auth
        .authorize(minter.key.expose_secret(), &scope("svc:keys:write"))
        .await
        .unwrap();
    for wanted in [
        &["admin:org"][..],
        &["svc:wiki:write"],
        &["svc:keys:admin"],
        &["svc:mcp:read"],
        &["agent:x"],
    ] {
        let e = h.auth.mint(&m, req(wanted)).await.unwrap_err();
        assert!(
            matches!(e, authority::AuthorityError::Forbidden { .. }),
            "{wanted:?}: {e}"
        );
    }
    // A minted child can not outlive its parent.
    let short = h
        .auth
        .mint(
            &p,
            MintRequest {
                expires_days: authority::ExpiryChoice::Days(2),
                ..req(&["svc:keys:write", "read:wiki"])
            },
        )
        .await
        .unwrap();
    let s = h
        .auth
        .authorize(short.key.expose_secret(), &scope("svc:keys:write"))
        .await
        .unwrap();
    assert!(h
        .auth
        .mint(
            &s,
            MintRequest {
                expires_days: authority::ExpiryChoice::Days(3),
                ..req(&["read:wiki"])
            }
        )
        .await
        .is_err());
    assert!(h
        .auth
        .mint(
            &s,
            MintRequest {
                expires_days: authority::ExpiryChoice::Never,
                ..req(&["read:wiki"])
            }
        )
        .await
        .is_err());
    assert!(h
        .auth
        .mint(
            &s,
            MintRequest {
                expires_days: authority::ExpiryChoice::Days(2),
                ..req(&["read:wiki"])
            }
        )
        .await
        .is_ok());
}

#[tokio::test]
async fn escalation_by_rotate_is_refused() {
    let h = harness(Env::Live);
    let admin = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let p = h
        .auth
        .authorize(admin.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let minter = h
        .auth
        .mint(&p, req(&["svc:keys:write", "svc:wiki:read"]))
        .await
        .unwrap();
    let m = h
        .auth
        .authorize(minter.key.expose_secret(), &scope("svc:keys:write"))
        .await
        .unwrap();
    // Rotating the admin key would hand the weaker key a fresh admin secret.
    let e = h
        .auth
        .rotate(&m, p.key_id.as_str(), RotateRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(e, authority::AuthorityError::Forbidden { .. }),
        "{e}"
    );
    assert!(
        h.auth
            .validate(admin.key.expose_secret(), None)
            .await
            .is_valid(),
        "admin key untouched"
    );
    // Rotation never drops an expiry.
    let k = h.auth.mint(&p, req(&["svc:wiki:read"])).await.unwrap();
    let r = h
        .auth
        .rotate(&p, k.view.id.as_str(), RotateRequest::default())
        .await
        .unwrap();
    assert!(r.successor.view.expires_at.is_some());
    assert_eq!(r.successor.view.scopes, k.view.scopes);
}

#[tokio::test]
async fn revoked_key_fails_on_the_very_next_validation() {
    let h = harness(Env::Live);
    let admin = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let p = h
        .auth
        .authorize(admin.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    for _ in 0..20 {
        let k = h.auth.mint(&p, req(&["svc:wiki:read"])).await.unwrap();
        let raw = k.key.expose_secret();
        for _ in 0..3 {
            assert!(h
                .auth
                .authenticate(raw, &scope("read:wiki"), None)
                .await
                .is_valid());
        }
        h.auth.revoke(&p, k.view.id.as_str(), None).await.unwrap();
        assert!(matches!(
            h.auth.authenticate(raw, &scope("read:wiki"), None).await,
            Outcome::Revoked { .. }
        ));
    }
}

#[tokio::test]
async fn concurrent_validations_never_resurrect_a_revoked_key() {
    let h = harness(Env::Live);
    let admin = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let p = h
        .auth
        .authorize(admin.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    for _ in 0..10 {
        let k = h.auth.mint(&p, req(&["svc:wiki:read"])).await.unwrap();
        let raw = k.key.expose_secret().to_owned();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (a, raw) = (h.auth.clone(), raw.clone());
            tasks.push(tokio::spawn(async move { a.validate(&raw, None).await }));
        }
        h.auth.revoke(&p, k.view.id.as_str(), None).await.unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(matches!(
            h.auth.validate(&raw, None).await,
            Outcome::Revoked { .. }
        ));
    }
}

#[tokio::test]
async fn a_key_differing_in_one_character_is_rejected_before_lookup() {
    let h = harness(Env::Live);
    let admin = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let raw = admin.key.expose_secret().to_owned();
    h.flaky.set_down(true); // proves no lookup happens: an outage would say Unavailable
    for pos in 9..raw.len() {
        let mut b = raw.clone().into_bytes();
        b[pos] = if b[pos] == b'a' { b'b' } else { b'a' };
        let changed = String::from_utf8(b).unwrap();
        let o = h.auth.validate(&changed, None).await;
        assert_eq!(
            o,
            Outcome::Malformed(ParseError::BadChecksum),
            "position {pos}"
        );
    }
    let o = h.auth.validate(&raw[..raw.len() - 1], None).await;
    assert_eq!(o, Outcome::Malformed(ParseError::BadLength));
}

#[tokio::test]
async fn raw_keys_never_leak_into_errors_events_or_debug() {
    let h = harness(Env::Live);
    let admin = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let raw = admin.key.expose_secret().to_owned();
    let secret = &raw[9..];
    let p = h.auth.authorize(&raw, &Scope::AdminOrg).await.unwrap();
    let k = h.auth.mint(&p, req(&["svc:wiki:read"])).await.unwrap();
    let k_secret = k.key.expose_secret()[9..].to_owned();
    let weak = h
        .auth
        .authorize(k.key.expose_secret(), &scope("read:wiki"))
        .await
        .unwrap();
    let outcomes = [
        h.auth.validate(&raw, Some(&scope("svc:nope:read"))).await,
        h.auth.validate(&raw[..20], None).await,
        h.auth
            .validate(k.key.expose_secret(), Some(&scope("svc:wiki:admin")))
            .await,
    ];
    for o in &outcomes {
        h.auth
            .record_tool_call(o.tool_call("t", &scope("read:wiki")))
            .await
            .unwrap();
        let text = format!("{o:?} {} {}", o.message(), o.code());
        assert!(
            !text.contains(secret) && !text.contains(&k_secret),
            "{text}"
        );
    }
    let errs = [
        h.auth.mint(&weak, req(&["admin:org"])).await.unwrap_err(),
        h.auth
            .authorize(&raw[..30], &Scope::AdminOrg)
            .await
            .unwrap_err(),
    ];
    for e in &errs {
        let text = format!("{e:?} {e}");
        assert!(!text.contains(secret), "{text}");
    }
    let all = h
        .auth
        .audit_query(
            &p,
            AuditQuery {
                filter: AuditFilter::default(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let dump = serde_json::to_string(&all).unwrap();
    assert!(!dump.contains(secret) && !dump.contains(&k_secret));
    let dbg = format!("{admin:?} {k:?} {:?}", h.auth);
    assert!(!dbg.contains(secret) && !dbg.contains(&k_secret), "{dbg}");
    // The SQLite file holds neither raw key.
    let db = std::fs::read(h.sqlite.path()).unwrap();
    let wal = std::fs::read(h.sqlite.path().with_extension("db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(secret) && !text.contains(&k_secret));
    }
}

#[tokio::test]
async fn insufficient_scope_names_the_missing_scope() {
    let h = harness(Env::Live);
    let admin = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let p = h
        .auth
        .authorize(admin.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let k = h.auth.mint(&p, req(&["svc:wiki:read"])).await.unwrap();
    let e = h
        .auth
        .authorize(k.key.expose_secret(), &scope("write:wiki"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, authority::AuthorityError::Forbidden { .. }),
        "{e}"
    );
    assert_eq!(e.code(), "insufficient_scope");
    assert!(e.to_string().contains("svc:wiki:write"));
}

/// Asking about another org's key answers "inactive" and leaves no trace on
/// that key: its `last_used_at` stays unset. Its own org's introspection
/// does mark it (the tool server is acting on the key's call).
#[tokio::test]
async fn introspecting_another_orgs_key_does_not_mark_it_used() {
    let h = harness(Env::Live);
    let acme = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let evil = h
        .auth
        .bootstrap(BootstrapRequest::new("evil"))
        .await
        .unwrap();
    let acme_p = h
        .auth
        .authorize(acme.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let evil_p = h
        .auth
        .authorize(evil.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let victim = h.auth.mint(&acme_p, req(&["svc:wiki:read"])).await.unwrap();

    let answer = h
        .auth
        .introspect(&evil_p, victim.key.expose_secret())
        .await
        .unwrap();
    assert!(!answer.active);
    h.auth.flush_usage().await.unwrap();
    let view = h
        .auth
        .get_key(&acme_p, victim.view.id.as_str())
        .await
        .unwrap();
    assert_eq!(
        view.last_used_at, None,
        "a foreign introspection marked the key used"
    );

    let own = h
        .auth
        .introspect(&acme_p, victim.key.expose_secret())
        .await
        .unwrap();
    assert!(own.active);
    h.auth.flush_usage().await.unwrap();
    let view = h
        .auth
        .get_key(&acme_p, victim.view.id.as_str())
        .await
        .unwrap();
    assert!(view.last_used_at.is_some());
}

/// A `test` key is a sandbox credential, even on a server whose store also
/// holds the org's `live` keys: it cannot mint, rotate or revoke a live key,
/// and the incident switch spares live keys (and says so).
#[tokio::test]
async fn a_test_key_cannot_reach_live_keys() {
    let h = harness(Env::Test);
    let live = h
        .auth
        .bootstrap(BootstrapRequest {
            env: Some(Env::Live),
            ..BootstrapRequest::new("acme")
        })
        .await
        .unwrap();
    let test_admin = h.auth.recover_admin("acme", None).await.unwrap();
    let t = h
        .auth
        .authorize(test_admin.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();

    let to_live = MintRequest {
        env: Some(Env::Live),
        ..req(&["svc:wiki:read"])
    };
    let refused = h.auth.mint(&t, to_live).await.unwrap_err();
    assert!(
        matches!(refused, AuthorityError::Forbidden { .. }),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("test key"), "{refused}");
    let sandbox = h.auth.mint(&t, req(&["svc:wiki:read"])).await.unwrap();
    assert_eq!(sandbox.view.env, Env::Test);

    let live_id = live.view.id.as_str();
    assert!(matches!(
        h.auth.rotate(&t, live_id, RotateRequest::default()).await,
        Err(AuthorityError::Forbidden { .. })
    ));
    assert!(matches!(
        h.auth.revoke(&t, live_id, None).await,
        Err(AuthorityError::Forbidden { .. })
    ));
    let switched = h
        .auth
        .bulk_revoke(&t, BulkRevokeRequest::whole_org())
        .await
        .unwrap();
    assert_eq!(switched.key_ids, vec![sandbox.view.id.clone()]);
    assert_eq!(switched.spared, vec![live.view.id.clone()]);
}

/// One org re-verifying its trail in a loop cannot pile up work: while one
/// verification of the org runs, another is refused at once (a conflict),
/// and once it finishes the next one runs.
#[tokio::test]
async fn one_verification_per_org_at_a_time() {
    let h = harness(Env::Live);
    let acme = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let p = h
        .auth
        .authorize(acme.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    h.flaky.hold_chain_reads(true);
    let first = {
        let (auth, p) = (h.auth.clone(), p.clone());
        tokio::spawn(async move { auth.verify_audit(&p).await })
    };
    for _ in 0..500 {
        if h.flaky.chain_reads_waiting() > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(
        h.flaky.chain_reads_waiting(),
        1,
        "the first verification never reached the store"
    );
    assert!(matches!(
        h.auth.verify_audit(&p).await,
        Err(AuthorityError::Conflict(_))
    ));
    h.flaky.hold_chain_reads(false);
    assert!(first.await.unwrap().unwrap().ok);
    assert!(h.auth.verify_audit(&p).await.unwrap().ok);
}

/// An org's registrations have a ceiling: a registration that would take
/// it past `MAX_ORG_SCOPES` is refused as a whole, so one org cannot grow
/// its picker and its mints' suggestions without bound — and what it did
/// register never reaches another org's catalog.
#[tokio::test]
async fn an_orgs_scope_registrations_are_capped_and_its_own() {
    use authority::ScopeRegistration;
    let h = harness(Env::Live);
    let acme = admin_of(&h, "acme").await;
    let beta = admin_of(&h, "beta").await;
    let cap = authority::MAX_ORG_SCOPES;
    let mut refused = None;
    for batch in 0..(cap / 200 + 2) {
        let scopes: Vec<ScopeRegistration> = (0..200)
            .map(|i| ScopeRegistration {
                scope: format!("svc:bulk{batch}:act{i}"),
                description: "filler".into(),
            })
            .collect();
        if let Err(e) = h.auth.register_tool_scopes(&beta, &scopes).await {
            refused = Some(e);
            break;
        }
    }
    let refused = refused.expect("the org's registrations never filled up");
    assert!(
        matches!(refused, AuthorityError::Conflict(_)),
        "{refused:?}"
    );
    let count = |services: Vec<authority::scopes::ServiceInfo>| -> usize {
        services
            .iter()
            .filter(|s| s.service.starts_with("bulk"))
            .map(|s| s.actions.len())
            .sum()
    };
    assert_eq!(count(h.auth.scope_catalog(&beta.org).await.unwrap()), cap);
    assert_eq!(count(h.auth.scope_catalog(&acme.org).await.unwrap()), 0);
}

/// The review's attack: org beta registers `svc:wiki:delete` described as a
/// "read-only preview". Acme's picker never shows it and acme cannot mint
/// it; beta's description cannot relabel anything acme sees.
#[tokio::test]
async fn a_registration_never_reaches_another_orgs_catalog() {
    use authority::ScopeRegistration;
    let h = harness(Env::Live);
    let acme = admin_of(&h, "acme").await;
    let beta = admin_of(&h, "beta").await;
    let squat = ScopeRegistration {
        scope: "svc:wiki:delete".into(),
        description: "read-only preview".into(),
    };
    h.auth
        .register_tool_scopes(&beta, std::slice::from_ref(&squat))
        .await
        .unwrap();
    let shown = h.auth.scope_catalog(&acme.org).await.unwrap();
    assert!(!format!("{shown:?}").contains("read-only preview"));
    let wiki = shown.iter().find(|s| s.service == "wiki").unwrap();
    assert!(wiki.actions.iter().all(|a| a.action != "delete"));
    let refused = h
        .auth
        .mint(&acme, req(&["svc:wiki:delete"]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "unknown_scope");
    // Acme may register the same scope for itself, with its own words.
    let own = ScopeRegistration {
        description: "Delete pages".into(),
        ..squat
    };
    assert_eq!(
        h.auth
            .register_tool_scopes(&acme, &[own])
            .await
            .unwrap()
            .added,
        1
    );
    let shown = h.auth.scope_catalog(&acme.org).await.unwrap();
    assert!(format!("{shown:?}").contains("Delete pages"));
    assert!(!format!("{shown:?}").contains("read-only preview"));
}

/// A lookup that read the key before its revocation and answers after it
/// must not put the pre-revocation record in the cache: the next check of
/// the key sees it revoked (the cache fills only if no eviction happened
/// since the read began).
#[tokio::test]
async fn a_lookup_in_flight_during_a_revocation_does_not_cache_the_old_record() {
    let h = harness(Env::Live);
    let acme = admin_of(&h, "acme").await;
    let minted = h.auth.mint(&acme, req(&["svc:wiki:read"])).await.unwrap();
    let raw = minted.key.expose_secret().to_owned();
    h.auth.invalidate_cache();
    h.flaky.hold_key_lookups(true);
    let in_flight = {
        let (auth, raw) = (h.auth.clone(), raw.clone());
        tokio::spawn(async move { auth.validate(&raw, None).await })
    };
    while h.flaky.lookups_waiting() == 0 {
        tokio::task::yield_now().await;
    }
    h.auth
        .revoke(&acme, minted.view.id.as_str(), None)
        .await
        .unwrap();
    h.flaky.hold_key_lookups(false);
    // It read the key before the revocation, so it may answer valid...
    assert!(matches!(in_flight.await.unwrap(), Outcome::Valid(_)));
    // ...but it must not have cached that answer.
    assert!(
        matches!(h.auth.validate(&raw, None).await, Outcome::Revoked { .. }),
        "the revoked key came back from the cache"
    );
}
