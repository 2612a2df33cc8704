//! Conformance cases for guardrails on keys: their terms (not-before,
//! networks, metadata, parent) round-trip, and a revoked parent takes its
//! descendants with it in one operation.

use super::*;
use crate::guardrails::{AddressRanges, KeyLimits, KeyMetadata, KeyTerms};
use model::wire::{KeyLimit, Refill};

fn with_parent(mut k: KeyRecord, parent: &KeyRecord) -> KeyRecord {
    k.parent = Some(parent.id.clone());
    k.created_by = Some(parent.id.clone());
    k
}

pub async fn key_terms_round_trip<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, admin) = with_org(f, &mut ev).await;
    let mut k = with_parent(key("acme", "termed", Some("bot"), T0), &admin);
    k.terms = KeyTerms {
        not_before: Some(T0.plus_secs(3600)),
        networks: AddressRanges::parse(["10.0.0.0/8", "2001:db8::/32", "203.0.113.7"], 20).unwrap(),
        metadata: KeyMetadata::parse(serde_json::json!({"team": "search", "n": 42})).unwrap(),
        limits: KeyLimits::minted_by(
            KeyLimits::own(
                &k.id,
                &[
                    KeyLimit::Rate {
                        scope: None,
                        max: 100,
                        per_seconds: 60,
                    },
                    KeyLimit::Budget {
                        scope: Some("svc:wiki:write".into()),
                        calls: 5,
                        refill: Refill::Monthly,
                    },
                ],
            )
            .unwrap(),
            &KeyLimits::default(),
        )
        .unwrap(),
    };
    s.insert_key(&k, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    let acme = org_id("acme");
    assert_eq!(s.get_key(&acme, &k.id).await.unwrap(), Some(k.clone()));
    let found = s.find_key_by_hash(&k.hash).await.unwrap().unwrap();
    assert_eq!(
        (found.terms, found.parent),
        (k.terms.clone(), k.parent.clone())
    );
    let listed = s.list_keys(&acme).await.unwrap();
    assert!(listed.contains(&k), "{listed:?}");
    // A key without terms stays without.
    let plain = s.get_key(&acme, &admin.id).await.unwrap().unwrap();
    assert_eq!((plain.terms, plain.parent), (KeyTerms::default(), None));
}

pub async fn revoking_a_parent_revokes_its_descendants<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let acme = org_id("acme");
    let root = key("acme", "root", Some("ops"), T0);
    let child = with_parent(
        key("acme", "child", Some("ops-search"), T0.plus_secs(1)),
        &root,
    );
    let grandchild = with_parent(
        key("acme", "gc", Some("ops-search"), T0.plus_secs(2)),
        &child,
    );
    let sibling = with_parent(key("acme", "sib", None, T0.plus_secs(2)), &root);
    let unrelated = key("acme", "other", Some("ops"), T0);
    for k in [&root, &child, &grandchild, &sibling, &unrelated] {
        s.insert_key(k, &ev.admin("acme", "mint", T0))
            .await
            .unwrap();
    }
    // A descendant revoked earlier keeps its own revocation.
    let early = T0.plus_secs(3);
    s.revoke_key(
        &acme,
        &sibling.id,
        &rev(early, "own"),
        &ev.admin("acme", "revoke", early),
    )
    .await
    .unwrap();

    let at = T0.plus_secs(10);
    let before = events_of(&*s, "acme", AuditFilter::default()).await.len();
    match s
        .revoke_key(
            &acme,
            &root.id,
            &rev(at, "loop"),
            &ev.admin("acme", "revoke", at),
        )
        .await
        .unwrap()
    {
        RevokeResult::Revoked { key, descendants } => {
            assert_eq!(key.id, root.id);
            let mut got: Vec<&KeyId> = descendants.iter().map(|d| &d.id).collect();
            got.sort();
            let mut want = vec![&child.id, &grandchild.id];
            want.sort();
            assert_eq!(
                got, want,
                "children and grandchildren, not the sibling revoked before"
            );
            assert!(descendants.iter().all(|d| d.revoked_at == Some(at)));
        }
        other => panic!("{other:?}"),
    }
    let after = events_of(&*s, "acme", AuditFilter::default()).await.len();
    assert_eq!(after, before + 1, "one operation, one event");
    for (k, revoked_at) in [
        (&child, Some(at)),
        (&grandchild, Some(at)),
        (&sibling, Some(early)),
        (&unrelated, None),
    ] {
        let stored = s.get_key(&acme, &k.id).await.unwrap().unwrap();
        assert_eq!(stored.revoked_at, revoked_at, "{}", k.name);
    }
    // Again: nothing left to change, no event.
    let again = T0.plus_secs(20);
    assert!(matches!(
        s.revoke_key(&acme, &root.id, &rev(again, "again"), &ev.admin("acme", "revoke", again))
            .await
            .unwrap(),
        RevokeResult::AlreadyRevoked { descendants, .. } if descendants.is_empty()
    ));
    assert_eq!(
        events_of(&*s, "acme", AuditFilter::default()).await.len(),
        after
    );

    // The incident switch for one agent takes the descendants too, whatever
    // agent they are bound to.
    let lead = key("acme", "lead", Some("crawler"), T0);
    let helper = with_parent(
        key("acme", "helper", Some("fetcher"), T0.plus_secs(1)),
        &lead,
    );
    for k in [&lead, &helper] {
        s.insert_key(k, &ev.admin("acme", "mint", T0))
            .await
            .unwrap();
    }
    let switch = T0.plus_secs(30);
    let hit = s
        .bulk_revoke(
            &acme,
            &BulkSelection {
                agent: Some("crawler".into()),
                ..Default::default()
            },
            &rev(switch, "incident"),
            &ev.admin("acme", "bulk_revoke", switch),
        )
        .await
        .unwrap();
    let mut ids: Vec<KeyId> = hit.into_iter().map(|k| k.id).collect();
    ids.sort();
    let mut want = vec![lead.id.clone(), helper.id.clone()];
    want.sort();
    assert_eq!(ids, want);
}

fn hold(at: Timestamp) -> model::wire::QuarantineView {
    model::wire::QuarantineView {
        at,
        rule: model::wire::QuarantineRule::Loop,
        evidence: "`write_page` 50 times".into(),
        by: "key_guard".into(),
        source: None,
    }
}

pub async fn quarantine_holds_the_tree_and_release_lifts_it<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let acme = org_id("acme");
    let root = key("acme", "root", Some("ops"), T0);
    let child = with_parent(key("acme", "child", Some("ops"), T0.plus_secs(1)), &root);
    let gone = with_parent(key("acme", "gone", Some("ops"), T0.plus_secs(1)), &root);
    let other = key("acme", "other", Some("ops"), T0);
    for k in [&root, &child, &gone, &other] {
        s.insert_key(k, &ev.admin("acme", "mint", T0))
            .await
            .unwrap();
    }
    s.revoke_key(
        &acme,
        &gone.id,
        &rev(T0.plus_secs(2), "x"),
        &ev.admin("acme", "revoke", T0),
    )
    .await
    .unwrap();
    let at = T0.plus_secs(10);
    let events = |s: Arc<dyn Store>| async move {
        events_of(&*s, "acme", AuditFilter::default()).await.len()
    };
    let before = events(s.clone()).await;
    let changed = s
        .set_quarantine(
            &acme,
            &root.id,
            Some(&hold(at)),
            at,
            &ev.admin("acme", "quarantine", at),
        )
        .await
        .unwrap()
        .expect("the key exists");
    let ids: Vec<&KeyId> = changed.iter().map(|k| &k.id).collect();
    assert_eq!(
        ids,
        [&root.id, &child.id],
        "the key first, then its active descendants"
    );
    assert_eq!(events(s.clone()).await, before + 1);
    let stored = s.get_key(&acme, &root.id).await.unwrap().unwrap();
    assert_eq!(stored.quarantine, Some(hold(at)));
    assert_eq!(stored.status(at), crate::keys::KeyStatus::Quarantined);
    let held_child = s.find_key_by_hash(&child.hash).await.unwrap().unwrap();
    let q = held_child.quarantine.expect("held with its parent");
    assert_eq!(
        (q.rule, q.source.as_ref()),
        (model::wire::QuarantineRule::Parent, Some(&root.id))
    );
    assert_eq!(
        s.get_key(&acme, &gone.id)
            .await
            .unwrap()
            .unwrap()
            .quarantine,
        None,
        "a revoked key is not held"
    );
    assert_eq!(
        s.get_key(&acme, &other.id)
            .await
            .unwrap()
            .unwrap()
            .quarantine,
        None
    );
    // Holding again changes nothing and writes no event.
    let again = s
        .set_quarantine(
            &acme,
            &root.id,
            Some(&hold(at.plus_secs(1))),
            at,
            &ev.admin("acme", "quarantine", at),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(again.is_empty());
    assert_eq!(events(s.clone()).await, before + 1);

    // Release: the key and what its hold held.
    let later = at.plus_secs(5);
    let released = s
        .set_quarantine(
            &acme,
            &root.id,
            None,
            later,
            &ev.admin("acme", "release", later),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(released.len(), 2);
    for k in [&root, &child] {
        let now = s.get_key(&acme, &k.id).await.unwrap().unwrap();
        assert_eq!(now.quarantine, None, "{}", k.name);
        assert_eq!(now.status(later), crate::keys::KeyStatus::Active);
    }
    assert_eq!(events(s.clone()).await, before + 2);
    assert_eq!(
        s.set_quarantine(
            &acme,
            &KeyId::generate(),
            None,
            later,
            &ev.admin("acme", "release", later)
        )
        .await
        .unwrap(),
        None
    );
}

pub async fn org_settings_are_per_org_with_their_event<F: StoreFactory>(f: &F) {
    use model::wire::{LeakResponseSetting, OrgSettings, RuleSettings};
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let acme = org_id("acme");
    assert_eq!(s.org_settings(&acme).await.unwrap(), OrgSettings::default());
    let before = events_of(&*s, "acme", AuditFilter::default()).await.len();
    let settings = OrgSettings {
        leak_response: Some(LeakResponseSetting::Quarantine),
        rules: Some(RuleSettings {
            loop_calls: 5,
            denial_burst: 0,
            surge_factor: 3,
            surge_floor: 10,
            new_tool: true,
        }),
    };
    s.set_org_settings(&acme, &settings, &ev.admin("acme", "org_settings", T0))
        .await
        .unwrap();
    assert_eq!(s.org_settings(&acme).await.unwrap(), settings);
    assert_eq!(
        s.org_settings(&org_id("beta")).await.unwrap(),
        OrgSettings::default(),
        "another org's settings are its own"
    );
    assert_eq!(
        events_of(&*s, "acme", AuditFilter::default()).await.len(),
        before + 1
    );
    s.set_org_settings(
        &acme,
        &OrgSettings::default(),
        &ev.admin("acme", "org_settings", T0),
    )
    .await
    .unwrap();
    assert_eq!(s.org_settings(&acme).await.unwrap(), OrgSettings::default());
}
