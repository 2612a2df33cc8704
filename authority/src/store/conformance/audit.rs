//! Conformance cases for the audit trail: appends, queries, pagination,
//! the timeline, chains and retention.

use std::collections::BTreeMap;

use super::*;
use crate::audit::{ChainHash, SealKey};

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

/// "Everything about this key / agent": the key and agent filters match
/// what an event acted on (its subject keys and the subject's agent) as
/// well as who acted, alone, together, through pages and in the timeline.
pub async fn audit_filters_match_what_an_event_is_about<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let mut ev = Events::new();
    let (admin, bot_key, successor) = (KeyId::generate(), KeyId::generate(), KeyId::generate());
    let acting =
        |ev: &mut Events, action: &str, secs: i64, subject: String, agent: Option<&str>| {
            let mut body = NewEvent::new(
                T0.plus_secs(secs),
                org_id("acme"),
                EventKind::Admin,
                action,
                Decision::Allowed,
            );
            body.actor_key_id = Some(admin.clone());
            body.subject = Some(subject);
            body.subject_agent = agent.map(str::to_owned);
            ev.0.place(EventId::generate(), body)
        };
    let mint = acting(&mut ev, "mint", 1, bot_key.to_string(), Some("bot"));
    let call = ev.tool(
        "acme",
        "search",
        Decision::Allowed,
        T0.plus_secs(2),
        Some(&bot_key),
    );
    let denied = ev.tool(
        "acme",
        "delete",
        Decision::Denied,
        T0.plus_secs(3),
        Some(&bot_key),
    );
    let rotate = acting(
        &mut ev,
        "rotate",
        4,
        format!("{bot_key} {successor}"),
        Some("bot"),
    );
    let bulk = acting(&mut ev, "bulk_revoke", 5, "agent:bot".into(), Some("bot"));
    let other_agent = acting(
        &mut ev,
        "mint",
        6,
        KeyId::generate().to_string(),
        Some("ops"),
    );
    let elsewhere = {
        let mut e = NewEvent::new(
            T0.plus_secs(7),
            org_id("other"),
            EventKind::Admin,
            "revoke",
            Decision::Allowed,
        );
        e.subject = Some(bot_key.to_string());
        e.subject_agent = Some("bot".into());
        ev.0.place(EventId::generate(), e)
    };
    let all = [
        &mint,
        &call,
        &denied,
        &rotate,
        &bulk,
        &other_agent,
        &elsewhere,
    ];
    s.append_audit(&all.map(Clone::clone)).await.unwrap();

    let ids = |events: &[&AuditEvent]| -> Vec<EventId> {
        let mut v: Vec<&AuditEvent> = events.to_vec();
        v.sort_by(|a, b| (b.body.ts, &b.id).cmp(&(a.body.ts, &a.id)));
        v.iter().map(|e| e.id.clone()).collect()
    };
    let found = |filter: AuditFilter| {
        let s = s.clone();
        async move {
            events_of(&*s, "acme", filter)
                .await
                .into_iter()
                .map(|e| e.id)
                .collect::<Vec<_>>()
        }
    };
    let by_key = |k: &KeyId| AuditFilter {
        key_id: Some(k.clone()),
        ..Default::default()
    };
    let by_agent = |a: &str| AuditFilter {
        agent: Some(a.into()),
        ..Default::default()
    };
    // The key's whole life: minted, used, denied, rotated (never another
    // org's event naming the same id).
    assert_eq!(
        found(by_key(&bot_key)).await,
        ids(&[&mint, &call, &denied, &rotate])
    );
    assert_eq!(found(by_key(&successor)).await, ids(&[&rotate]));
    // The actor's view: everything the admin key did.
    assert_eq!(
        found(by_key(&admin)).await,
        ids(&[&mint, &rotate, &bulk, &other_agent])
    );
    // The agent: its calls and what was done to its keys.
    assert_eq!(
        found(by_agent("bot")).await,
        ids(&[&mint, &call, &denied, &rotate, &bulk])
    );
    assert_eq!(found(by_agent("ops")).await, ids(&[&other_agent]));
    // Both: one key's events about one agent.
    let both = AuditFilter {
        key_id: Some(admin.clone()),
        agent: Some("ops".into()),
        ..Default::default()
    };
    assert_eq!(found(both).await, ids(&[&other_agent]));
    let key_and_its_agent = AuditFilter {
        key_id: Some(bot_key.clone()),
        agent: Some("bot".into()),
        ..Default::default()
    };
    assert_eq!(
        found(key_and_its_agent).await,
        ids(&[&mint, &call, &denied, &rotate])
    );
    let key_and_another_agent = AuditFilter {
        key_id: Some(bot_key.clone()),
        agent: Some("ops".into()),
        ..Default::default()
    };
    assert_eq!(found(key_and_another_agent).await, ids(&[]));
    // With the other filters, a range and pages of one.
    let denied_only = AuditFilter {
        decision: Some(Decision::Denied),
        ..by_agent("bot")
    };
    assert_eq!(found(denied_only).await, ids(&[&denied]));
    let ranged = AuditFilter {
        since: Some(T0.plus_secs(2)),
        until: Some(T0.plus_secs(5)),
        kind: Some(EventKind::Admin),
        ..by_key(&bot_key)
    };
    assert_eq!(found(ranged).await, ids(&[&rotate]));
    let acme = org_id("acme");
    let mut paged = Vec::new();
    let mut cursor: Option<AuditCursor> = None;
    loop {
        let page = s
            .query_audit(&acme, &by_key(&bot_key), cursor.as_ref(), 1)
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        cursor = Some(AuditCursor::after(last));
        paged.extend(page.into_iter().map(|e| e.id));
    }
    assert_eq!(paged, ids(&[&mint, &call, &denied, &rotate]));
    let timeline = s
        .audit_timeline(&acme, &by_agent("bot"), 1_000_000)
        .await
        .unwrap();
    let (allowed, denials) = timeline
        .iter()
        .fold((0, 0), |(a, d), b| (a + b.allowed, d + b.denied));
    assert_eq!((allowed, denials), (4, 1));
    // Every backend agrees with the reference semantics.
    for filter in [by_key(&bot_key), by_agent("bot"), by_key(&successor)] {
        let want: Vec<EventId> = ids(&all)
            .into_iter()
            .filter(|id| {
                all.iter()
                    .any(|e| &e.id == id && e.body.org == acme && filter.matches(e))
            })
            .collect();
        assert_eq!(found(filter.clone()).await, want, "{filter:?}");
    }
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

pub(super) async fn verify_all(s: &dyn Store) -> bool {
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

/// Chains are registered with their first event and keep their newest seal:
/// stored exactly (so the signature still verifies), replaced by a newer
/// one, and isolated per chain and per org.
pub async fn chain_seals<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let key = SealKey::from_pepper(&Pepper::random());
    let mut a = Events::new();
    let mut b = Events::new();
    let batch: Vec<AuditEvent> = (0..3)
        .flat_map(|i| {
            [
                a.tool("acme", "t", Decision::Allowed, T0.plus_secs(i), None),
                b.tool("beta", "t", Decision::Allowed, T0.plus_secs(i), None),
            ]
        })
        .collect();
    s.append_audit(&batch).await.unwrap();
    let chains = s.audit_chains(None).await.unwrap();
    assert_eq!(chains.len(), 2);
    assert!(chains.iter().all(|c| c.seal.is_none()));

    let head = &batch[4];
    let seal = |seq: u64, hash, writers: Vec<String>| {
        key.seal(
            org_id("acme"),
            head.chain.writer.clone(),
            seq,
            hash,
            writers,
            T0.plus_secs(10),
        )
    };
    let first = seal(3, head.chain.hash, vec!["another-writer".into()]);
    s.seal_audit_chains(std::slice::from_ref(&first))
        .await
        .unwrap();
    let acme = s.audit_chains(Some(&org_id("acme"))).await.unwrap();
    assert_eq!(acme.len(), 1);
    let stored = acme[0].seal.as_ref().expect("the seal is stored");
    assert_eq!(stored, &first);
    assert!(stored.is_signed_by(&key.trust()));
    let beta = s.audit_chains(Some(&org_id("beta"))).await.unwrap();
    assert!(beta[0].seal.is_none(), "a seal stays on its own chain");

    let newer = seal(4, ChainHash([4; 32]), vec![]);
    s.seal_audit_chains(std::slice::from_ref(&newer))
        .await
        .unwrap();
    let acme = s.audit_chains(Some(&org_id("acme"))).await.unwrap();
    assert_eq!(
        acme[0].seal.as_ref(),
        Some(&newer),
        "the newest seal replaces the one before"
    );

    // A seal for a chain the store has no event of registers the chain, so
    // verification finds it (and its missing events).
    let orphan = key.seal(
        org_id("acme"),
        "w-orphan".into(),
        1,
        ChainHash([1; 32]),
        vec![],
        T0,
    );
    s.seal_audit_chains(&[orphan]).await.unwrap();
    let writers: Vec<String> = s
        .audit_chains(Some(&org_id("acme")))
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.writer)
        .collect();
    assert!(writers.contains(&"w-orphan".to_owned()), "{writers:?}");
}

/// Every filter combination the explorer offers pages (a small page, so
/// results cross pages, with ties in time) and counts exactly like the
/// reference semantics, `AuditFilter::matches`: the SQLite store reads
/// some combinations through one index per facet and merges them.
pub async fn every_filter_combination_pages_and_counts_like_the_reference<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let mut ev = Events::new();
    let (k1, k2) = (KeyId::generate(), KeyId::generate());
    let mut batch = Vec::new();
    for i in 0..36_i64 {
        let tool = ["search", "read", "write"][(i % 3) as usize];
        let d = if i % 4 == 0 {
            Decision::Denied
        } else {
            Decision::Allowed
        };
        let key = [Some(&k1), Some(&k2), None][(i % 5 % 3) as usize];
        // Three events per instant: the id breaks ties, across facets too.
        let mut e = ev.tool("acme", tool, d, T0.plus_secs(i / 3), key);
        e.body.agent = Some(if key == Some(&k2) { "a2" } else { "a1" }.into());
        batch.push(e);
    }
    batch.push(ev.admin("acme", "mint", T0.plus_secs(5)));
    // Re-chain after editing agents: the chain hash covers them.
    let mut chain = Events::new();
    let batch: Vec<AuditEvent> = batch
        .into_iter()
        .map(|e| chain.0.place(e.id, e.body))
        .collect();
    s.append_audit(&batch).await.unwrap();
    let acme = org_id("acme");
    let all = events_of(&*s, "acme", AuditFilter::default()).await;
    assert_eq!(all.len(), batch.len());
    let whos: [(Option<KeyId>, Option<&str>); 4] = [
        (None, None),
        (Some(k1.clone()), None),
        (None, Some("a2")),
        (Some(k1.clone()), Some("a1")),
    ];
    for (key_id, agent) in &whos {
        for tool in [None, Some("search"), Some("absent")] {
            for decision in [None, Some(Decision::Denied)] {
                for kind in [None, Some(EventKind::ToolCall)] {
                    for range in [None, Some((T0.plus_secs(2), T0.plus_secs(9)))] {
                        let filter = AuditFilter {
                            key_id: key_id.clone(),
                            agent: agent.map(str::to_owned),
                            tool: tool.map(str::to_owned),
                            decision,
                            kind,
                            since: range.map(|r| r.0),
                            until: range.map(|r| r.1),
                        };
                        let want: Vec<&AuditEvent> =
                            all.iter().filter(|e| filter.matches(e)).collect();
                        let mut got = Vec::new();
                        let mut cursor: Option<AuditCursor> = None;
                        loop {
                            let page = s
                                .query_audit(&acme, &filter, cursor.as_ref(), 4)
                                .await
                                .unwrap();
                            assert!(page.len() <= 4, "{filter:?}");
                            let Some(last) = page.last() else { break };
                            cursor = Some(AuditCursor::after(last));
                            got.extend(page);
                        }
                        let got: Vec<&AuditEvent> = got.iter().collect();
                        assert_eq!(got, want, "pages of {filter:?}");
                        let mut filter = filter;
                        filter.since = filter.since.or(Some(T0));
                        filter.until = filter.until.or(Some(T0.plus_secs(60)));
                        let counts = s.audit_timeline(&acme, &filter, 4_000).await.unwrap();
                        let count = |d: Decision| -> u64 {
                            all.iter()
                                .filter(|e| filter.matches(e) && e.body.decision == d)
                                .count() as u64
                        };
                        assert_eq!(
                            (
                                counts.iter().map(|b| b.allowed).sum::<u64>(),
                                counts.iter().map(|b| b.denied).sum::<u64>()
                            ),
                            (count(Decision::Allowed), count(Decision::Denied)),
                            "timeline of {filter:?}"
                        );
                    }
                }
            }
        }
    }
}

/// Timelines in whole-hour buckets (which SQLite sums from its hourly
/// counts) over ranges that start and end inside an hour count exactly the
/// events the reference does, for the whole org, a key, an agent and both,
/// with and without a tool; and still do after retention deleted the older
/// half.
pub async fn hourly_timelines_count_what_the_events_say<F: StoreFactory>(f: &F) {
    let loc = f.fresh().await;
    let s = f.open(&loc).await;
    let mut ev = Events::new();
    const HOUR: i64 = 3_600_000;
    let base = Timestamp::from_millis(1_700_000_000_000 / HOUR * HOUR);
    let (k1, k2) = (KeyId::generate(), KeyId::generate());
    let mut batch = Vec::new();
    for i in 0..60_i64 {
        let tool = ["search", "write"][(i % 2) as usize];
        let d = if i % 7 == 0 {
            Decision::Denied
        } else {
            Decision::Allowed
        };
        let key = [Some(&k1), Some(&k2), None][(i % 3) as usize];
        // Six hours, unevenly: 17 min apart, some on the hour exactly.
        batch.push(ev.tool(
            "acme",
            tool,
            d,
            Timestamp::from_millis(base.as_millis() + i * 17 * 60_000),
            key,
        ));
    }
    s.append_audit(&batch).await.unwrap();
    let all = events_of(&*s, "acme", AuditFilter::default()).await;
    timelines_match(&*s, &all, [&k1, &k2], base).await;
    let cut = Timestamp::from_millis(base.as_millis() + 3 * HOUR + 10 * 60_000);
    assert!(s.prune_audit(cut).await.unwrap().deleted > 0);
    let left = events_of(&*s, "acme", AuditFilter::default()).await;
    assert!(left.iter().all(|e| e.body.ts >= cut) && !left.is_empty());
    timelines_match(&*s, &left, [&k1, &k2], base).await;
}

/// Timelines of `s` in whole-hour buckets against the reference over `all`.
async fn timelines_match(
    s: &dyn Store,
    all: &[AuditEvent],
    [k1, k2]: [&KeyId; 2],
    base: Timestamp,
) {
    const HOUR: i64 = 3_600_000;
    let whos: [(Option<KeyId>, Option<&str>); 4] = [
        (None, None),
        (Some(k1.clone()), None),
        (None, Some("bot")),
        (Some(k2.clone()), Some("bot")),
    ];
    for (key_id, agent) in &whos {
        for tool in [None, Some("write")] {
            for (since, until, bucket) in [
                (
                    base.as_millis() + 25 * 60_000,
                    base.as_millis() + 17 * HOUR + 5,
                    HOUR,
                ),
                (base.as_millis(), base.as_millis() + 18 * HOUR, 2 * HOUR),
                (
                    base.as_millis() + 90 * 60_000,
                    base.as_millis() + 150 * 60_000,
                    HOUR,
                ),
            ] {
                let filter = AuditFilter {
                    key_id: key_id.clone(),
                    agent: agent.map(str::to_owned),
                    tool: tool.map(str::to_owned),
                    since: Some(Timestamp::from_millis(since)),
                    until: Some(Timestamp::from_millis(until)),
                    ..Default::default()
                };
                let mut want: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
                for e in all.iter().filter(|e| filter.matches(e)) {
                    let start = e.body.ts.as_millis() / bucket * bucket;
                    let slot = want.entry(start).or_default();
                    match e.body.decision {
                        Decision::Allowed => slot.0 += 1,
                        Decision::Denied => slot.1 += 1,
                    }
                }
                let got: BTreeMap<i64, (u64, u64)> = s
                    .audit_timeline(&org_id("acme"), &filter, bucket)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|b| (b.start.as_millis(), (b.allowed, b.denied)))
                    .collect();
                assert_eq!(got, want, "{filter:?} in buckets of {bucket} ms");
            }
        }
    }
}
