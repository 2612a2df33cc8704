//! Conformance cases for ending keys: revocation (idempotent, with its
//! notice), rotation with and without grace, bulk revocation.

use super::*;

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
        RevokeResult::Revoked { key: r, .. } => {
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
        RevokeResult::AlreadyRevoked { key: r, .. } => assert_eq!(
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
        RevokeResult::Revoked { .. }
    ));
    assert!(matches!(
        s.revoke_key(&acme, &g.id, &rev(at, "now"), &ev.admin("acme", "revoke", at)).await.unwrap(),
        RevokeResult::Revoked { key: r, .. } if r.revoked_at == Some(at)
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
            &BulkSelection {
                agent: Some("bot".into()),
                ..Default::default()
            },
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
            &BulkSelection {
                agent: Some("bot".into()),
                ..Default::default()
            },
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
            &BulkSelection {
                except: Some(admin.id.clone()),
                ..Default::default()
            },
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

/// A ceiling spares every key holding a scope beyond it, in the same
/// commit that revokes the rest.
pub async fn bulk_revoke_within_a_ceiling<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let acme = org_id("acme");
    let plain = key("acme", "plain", Some("bot"), T0);
    let mut powerful = key("acme", "powerful", Some("bot"), T0);
    powerful.scopes = powerful
        .scopes
        .iter()
        .cloned()
        .chain([Scope::service("wiki", "write")])
        .collect();
    for k in [&plain, &powerful] {
        s.insert_key(k, &ev.admin("acme", "mint", T0))
            .await
            .unwrap();
    }
    let at = T0.plus_secs(1);
    let hit = s
        .bulk_revoke(
            &acme,
            &BulkSelection {
                agent: Some("bot".into()),
                except: None,
                within: Some(plain.scopes.clone()),
                env: None,
            },
            &rev(at, "incident"),
            &ev.admin("acme", "bulk_revoke", at),
        )
        .await
        .unwrap();
    assert_eq!(
        hit.into_iter().map(|k| k.id).collect::<Vec<_>>(),
        vec![plain.id.clone()]
    );
    let spared = s.get_key(&acme, &powerful.id).await.unwrap().unwrap();
    assert_eq!(
        spared.revoked_at, None,
        "a key beyond the ceiling is spared"
    );
}

/// What a resumed revocation stream reads: the org's keys revoked at or
/// after an instant (scheduled ones too), oldest first, bounded, and never
/// another org's or an unrevoked key.
pub async fn revoked_since_is_bounded_and_ordered<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    s.create_org(
        &org("beta"),
        &key("beta", "admin", None, T0),
        &ev.admin("beta", "bootstrap", T0),
    )
    .await
    .unwrap();
    let acme = org_id("acme");
    let mut revoked = Vec::new();
    // Revoked at T0+40 s, +30 s, +20 s, +10 s: stored out of order.
    for i in (1..=4).rev() {
        let k = key("acme", &format!("k{i}"), None, T0);
        s.insert_key(&k, &ev.admin("acme", "mint", T0))
            .await
            .unwrap();
        let at = T0.plus_secs(10 * i);
        s.revoke_key(&acme, &k.id, &rev(at, "x"), &ev.admin("acme", "revoke", at))
            .await
            .unwrap();
        revoked.push((at, k.id));
    }
    let untouched = key("acme", "live", None, T0);
    s.insert_key(&untouched, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    let theirs = key("beta", "theirs", None, T0);
    s.insert_key(&theirs, &ev.admin("beta", "mint", T0))
        .await
        .unwrap();
    s.revoke_key(
        &org_id("beta"),
        &theirs.id,
        &rev(T0.plus_secs(25), "x"),
        &ev.admin("beta", "revoke", T0),
    )
    .await
    .unwrap();
    revoked.sort();
    let ids = |keys: Vec<KeyRecord>| -> Vec<KeyId> { keys.into_iter().map(|k| k.id).collect() };
    let since_20 = s.revoked_since(&acme, T0.plus_secs(20), 10).await.unwrap();
    assert_eq!(
        ids(since_20),
        revoked[1..]
            .iter()
            .map(|(_, id)| id.clone())
            .collect::<Vec<_>>(),
        "at or after the instant, oldest first, acme's only"
    );
    let first_two = s.revoked_since(&acme, T0, 2).await.unwrap();
    assert_eq!(
        ids(first_two),
        revoked[..2]
            .iter()
            .map(|(_, id)| id.clone())
            .collect::<Vec<_>>()
    );
    assert!(s
        .revoked_since(&acme, T0.plus_secs(41), 10)
        .await
        .unwrap()
        .is_empty());
}
