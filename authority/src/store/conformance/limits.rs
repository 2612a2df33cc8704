//! Conformance cases for limits: a key's limits are replaced with their
//! event, and allowance counters never hand out more than their cap per
//! window, whoever asks and however concurrently.

use super::*;
use crate::guardrails::{KeyLimits, LimitError};
use model::wire::{KeyLimit, Refill};

fn budget(calls: u64) -> KeyLimit {
    KeyLimit::Budget {
        scope: None,
        calls,
        refill: Refill::Never,
    }
}

pub async fn limits_are_replaced_with_their_event<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let acme = org_id("acme");
    let k = key("acme", "limited", Some("bot"), T0);
    s.insert_key(&k, &ev.admin("acme", "mint", T0))
        .await
        .unwrap();
    let own: Result<_, LimitError> = KeyLimits::own(&k.id, &[budget(5)]);
    let limits = k.terms.limits.with_own(own.unwrap()).unwrap();
    let before = events_of(&*s, "acme", AuditFilter::default()).await.len();
    let changed = s
        .set_limits(
            &acme,
            &k.id,
            &limits,
            T0,
            &ev.admin("acme", "set_limits", T0),
        )
        .await
        .unwrap()
        .expect("the key exists");
    assert_eq!(changed.terms.limits, limits);
    let stored = s.find_key_by_hash(&k.hash).await.unwrap().unwrap();
    assert_eq!(stored.terms.limits, limits);
    assert_eq!(
        events_of(&*s, "acme", AuditFilter::default()).await.len(),
        before + 1
    );
    // Other orgs' ids are unknown; revoked keys keep their limits.
    assert!(s
        .set_limits(
            &org_id("beta"),
            &k.id,
            &limits,
            T0,
            &ev.admin("beta", "set_limits", T0)
        )
        .await
        .unwrap()
        .is_none());
    s.revoke_key(
        &acme,
        &k.id,
        &rev(T0.plus_secs(1), "x"),
        &ev.admin("acme", "revoke", T0),
    )
    .await
    .unwrap();
    let refused = s
        .set_limits(
            &acme,
            &k.id,
            &KeyLimits::default(),
            T0,
            &ev.admin("acme", "set_limits", T0),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        s.get_key(&acme, &k.id).await.unwrap().unwrap().terms.limits,
        limits
    );
}

pub async fn allowances_never_exceed_their_cap<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let acme = org_id("acme");
    let owner = KeyId::generate();
    let take = {
        let (s, acme, owner) = (s.clone(), acme.clone(), owner.clone());
        move |counter: &'static str, window: i64, cap: u64| {
            let (s, acme, owner) = (s.clone(), acme.clone(), owner.clone());
            async move {
                s.take_allowance(&acme, &owner, counter, window, cap)
                    .await
                    .unwrap()
            }
        }
    };
    // One taker drains a cap of 100 exactly, in shrinking grants.
    let mut grants = Vec::new();
    loop {
        let g = take("budget:*", 0, 100).await;
        if g == 0 {
            break;
        }
        grants.push(g);
    }
    assert_eq!(grants.iter().sum::<u64>(), 100, "{grants:?}");
    assert_eq!(grants[0], 13);
    assert_eq!(*grants.last().unwrap(), 1);
    // Counters are per owner, per counter and per org.
    assert_eq!(take("rate:*", 0, 100).await, 13);
    assert_eq!(
        s.take_allowance(&org_id("beta"), &owner, "budget:*", 0, 100)
            .await
            .unwrap(),
        13
    );
    // A new window starts over; a server whose clock is behind takes from
    // the newer window, never from a fresh count of its own.
    assert_eq!(take("rate:*", 60, 10).await, 2);
    assert_eq!(take("rate:*", 0, 10).await, 1);
    let mut left = 0;
    loop {
        let g = take("rate:*", 0, 10).await;
        if g == 0 {
            break;
        }
        left += g;
    }
    assert_eq!(left, 7, "10 in the window starting at 60, 3 already taken");
    // Concurrent takers (as several servers would be) share the cap.
    let takers: Vec<_> = (0..6)
        .map(|_| {
            let take = take.clone();
            tokio::spawn(async move {
                let mut mine = 0;
                loop {
                    let g = take("budget:svc:wiki:write", 0, 40).await;
                    if g == 0 {
                        return mine;
                    }
                    mine += g;
                }
            })
        })
        .collect();
    let mut total = 0;
    for t in takers {
        total += t.await.unwrap();
    }
    assert_eq!(total, 40, "concurrent grants add up to the cap exactly");
}
