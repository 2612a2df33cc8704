//! Conformance cases for keys: insert and lookup, tenant isolation, usage
//! marks, concurrency (revocation and rotation are in `revocation`).

use super::*;

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
        if matches!(t.await.unwrap(), RevokeResult::Revoked { .. }) {
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
