//! The Authority facade end to end on a real SQLite file.

mod common;

use authority::audit::{AuditFilter, AuditQuery, Decision, EventKind, TimelineQuery};
use authority::store::KeyStatus;
use authority::validator::Origin;
use authority::{
    AuthorityError, BootstrapRequest, BulkRevokeRequest, Env, KeyListFilter, MintRequest, Outcome,
    RotateRequest, Scope, ToolCall,
};
use common::{harness, Harness};

fn scope(s: &str) -> Scope {
    Scope::parse(s).unwrap()
}

fn mint_req(scopes: &[&str]) -> MintRequest {
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

async fn admin(h: &Harness) -> (String, std::sync::Arc<authority::KeyContext>) {
    let k = h
        .auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    let raw = k.key.expose_secret().to_owned();
    let ctx = h.auth.authorize(&raw, &Scope::AdminOrg).await.unwrap();
    (raw, ctx)
}

#[tokio::test]
async fn bootstrap_rules() {
    let h = harness(Env::Live);
    assert!(h.auth.is_empty().await.unwrap());
    let first = h
        .auth
        .ensure_default_org()
        .await
        .unwrap()
        .expect("first start bootstraps");
    assert_eq!(first.view.org.as_str(), "default");
    assert_eq!(first.view.scopes.to_strings(), ["admin:org", "org:default"]);
    assert_eq!(first.view.expires_at, None);
    assert!(
        h.auth.ensure_default_org().await.unwrap().is_none(),
        "second start does nothing"
    );
    let again = h.auth.bootstrap(BootstrapRequest::new("default")).await;
    assert!(matches!(again, Err(AuthorityError::Conflict(_))));
    assert!(h
        .auth
        .validate(first.key.expose_secret(), Some(&Scope::AdminOrg))
        .await
        .is_valid());
    let rec = h.auth.recover_admin("default", Some(7)).await.unwrap();
    assert!(h
        .auth
        .validate(rec.key.expose_secret(), Some(&Scope::AdminOrg))
        .await
        .is_valid());
    assert!(matches!(
        h.auth.recover_admin("nope", None).await,
        Err(AuthorityError::NotFound)
    ));
    assert!(h
        .auth
        .bootstrap(BootstrapRequest::new("Bad Org"))
        .await
        .is_err());
    // The one-time response serializes the key; the view never does.
    let json = serde_json::to_value(&first).unwrap();
    assert_eq!(json["key"].as_str(), Some(first.key.expose_secret()));
    assert!(!serde_json::to_string(&first.view)
        .unwrap()
        .contains(first.key.expose_secret()));
}

#[tokio::test]
async fn announcement_mint_then_validate() {
    let h = harness(Env::Live);
    let (_raw, p) = admin(&h).await;
    let body = r#"{"orgId": "acme", "name": "devops-agent-key",
        "scopes": ["org:acme", "agent:devops", "svc:mcp:write"], "expires_days": 90}"#;
    let minted = h
        .auth
        .mint(&p, serde_json::from_str(body).unwrap())
        .await
        .unwrap();
    let v = &minted.view;
    assert_eq!(
        v.scopes.to_strings(),
        ["org:acme", "agent:devops", "svc:mcp:write"]
    );
    assert_eq!(v.expires_at, Some(common::T0.plus_days(90)));
    assert_eq!(v.env, Env::Live);
    assert_eq!(v.created_by.as_ref(), Some(&p.key_id));
    assert!(v.hint.as_str().starts_with("ace_live_"));
    let raw = minted.key.expose_secret();
    match h.auth.authenticate(raw, &scope("read:mcp"), None).await {
        Outcome::Valid(c) => assert_eq!(c.agent.as_deref(), Some("devops")),
        o => panic!("{o:?}"),
    }
    match h
        .auth
        .authenticate(raw, &scope("svc:mcp:admin"), None)
        .await
    {
        Outcome::InsufficientScope { missing, .. } => {
            assert_eq!(missing.to_string(), "svc:mcp:admin")
        }
        o => panic!("{o:?}"),
    }
}

#[tokio::test]
async fn list_get_status_and_last_used() {
    let h = harness(Env::Live);
    let (_raw, p) = admin(&h).await;
    let a = h
        .auth
        .mint(&p, mint_req(&["svc:wiki:read", "agent:a"]))
        .await
        .unwrap();
    let b = h
        .auth
        .mint(
            &p,
            MintRequest {
                expires_days: authority::ExpiryChoice::Days(1),
                ..mint_req(&["read:kb"])
            },
        )
        .await
        .unwrap();
    h.auth
        .revoke(&p, a.view.id.as_str(), Some("test".into()))
        .await
        .unwrap();
    assert!(h
        .auth
        .validate(b.key.expose_secret(), None)
        .await
        .is_valid());
    h.auth.flush_usage().await.unwrap();
    h.clock.advance_secs(2 * 86_400);
    let all = h
        .auth
        .list_keys(&p, KeyListFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    let status = |id: &authority::KeyId| all.iter().find(|v| &v.id == id).unwrap().status;
    assert_eq!(status(&a.view.id), KeyStatus::Revoked);
    assert_eq!(status(&b.view.id), KeyStatus::Expired);
    assert_eq!(status(&p.key_id), KeyStatus::Active);
    let got = h.auth.get_key(&p, b.view.id.as_str()).await.unwrap();
    assert_eq!(got.last_used_at, Some(common::T0));
    let revoked = h.auth.get_key(&p, a.view.id.as_str()).await.unwrap();
    assert_eq!(revoked.revoke_reason.as_deref(), Some("test"));
    let only = h
        .auth
        .list_keys(
            &p,
            KeyListFilter {
                agent: Some("a".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    let expired = KeyListFilter {
        status: Some(KeyStatus::Expired),
        ..Default::default()
    };
    assert_eq!(h.auth.list_keys(&p, expired).await.unwrap().len(), 1);
    assert!(matches!(
        h.auth.validate(b.key.expose_secret(), None).await,
        Outcome::Expired { .. }
    ));
}

#[tokio::test]
async fn revocation_is_immediate_idempotent_and_streamed() {
    let h = harness(Env::Live);
    let (_raw, p) = admin(&h).await;
    let mut rx = h.auth.subscribe_revocations();
    let k = h.auth.mint(&p, mint_req(&["svc:wiki:read"])).await.unwrap();
    let raw = k.key.expose_secret();
    assert!(
        h.auth
            .authenticate(raw, &scope("svc:wiki:read"), None)
            .await
            .is_valid(),
        "now cached"
    );
    let v = h.auth.revoke(&p, k.view.id.as_str(), None).await.unwrap();
    assert_eq!(v.status, KeyStatus::Revoked);
    assert!(matches!(
        h.auth
            .authenticate(raw, &scope("svc:wiki:read"), None)
            .await,
        Outcome::Revoked { .. }
    ));
    let ev = rx.try_recv().unwrap();
    assert_eq!(
        (ev.key_id.clone(), ev.origin),
        (k.view.id.clone(), Origin::Local)
    );
    assert!(!ev.key_hash.is_empty());
    let again = h
        .auth
        .revoke(&p, k.view.id.as_str(), Some("again".into()))
        .await
        .unwrap();
    assert_eq!(again.revoked_at, v.revoked_at, "idempotent");
    assert!(rx.try_recv().is_err(), "no second event");
}

#[tokio::test]
async fn remote_revocation_evicts_the_cache() {
    let h = harness(Env::Live);
    let (_raw, p) = admin(&h).await;
    let k = h.auth.mint(&p, mint_req(&["svc:wiki:read"])).await.unwrap();
    let raw = k.key.expose_secret();
    assert!(h.auth.validate(raw, None).await.is_valid());
    // Another node revoked it in the shared store and told us.
    let mut rx = h.auth.subscribe_revocations();
    let rec = h.sqlite.get_key(&p.org, &k.view.id).await.unwrap().unwrap();
    let other_node = authority::store::Revocation {
        at: common::T0,
        by: "elsewhere".into(),
        reason: None,
    };
    let mut chain_ev = h
        .auth
        .store()
        .query_audit(&p.org, &AuditFilter::default(), None, 1)
        .await
        .unwrap();
    let mut e = chain_ev.remove(0);
    e.id = authority::EventId::parse("evt_remote1").unwrap();
    e.chain.writer = "remote".into();
    use authority::store::Store;
    h.sqlite
        .revoke_key(&p.org, &k.view.id, &other_node, &e)
        .await
        .unwrap();
    assert!(
        h.auth.validate(raw, None).await.is_valid(),
        "still cached until told"
    );
    h.auth.apply_remote_revocation(authority::RevocationEvent {
        key_id: rec.id.clone(),
        org: rec.org.clone(),
        key_hash: rec.hash.to_hex(),
        revoked_at: common::T0,
        origin: Origin::Local,
        change: authority::revocation::KeyChange::Revoked,
    });
    assert!(matches!(
        h.auth.validate(raw, None).await,
        Outcome::Revoked { .. }
    ));
    assert_eq!(rx.try_recv().unwrap().origin, Origin::Remote);
}

#[tokio::test]
async fn rotation_with_and_without_grace() {
    let h = harness(Env::Live);
    let (_raw, p) = admin(&h).await;
    let k = h
        .auth
        .mint(
            &p,
            MintRequest {
                name: "bot".into(),
                ..mint_req(&["svc:wiki:read", "agent:bot"])
            },
        )
        .await
        .unwrap();
    let old_raw = k.key.expose_secret();
    assert!(h.auth.validate(old_raw, None).await.is_valid());
    let r = h
        .auth
        .rotate(
            &p,
            k.view.id.as_str(),
            RotateRequest {
                grace_secs: Some(600),
            },
        )
        .await
        .unwrap();
    assert_eq!(r.successor.view.name, "bot");
    assert_eq!(r.successor.view.scopes, k.view.scopes);
    assert_eq!(r.successor.view.agent.as_deref(), Some("bot"));
    assert_eq!(r.successor.view.rotated_from.as_ref(), Some(&k.view.id));
    assert_eq!(r.previous.revokes_at, Some(common::T0.plus_secs(600)));
    assert_eq!(r.previous.status, KeyStatus::Active);
    assert!(
        h.auth.validate(old_raw, None).await.is_valid(),
        "grace period"
    );
    assert!(h
        .auth
        .validate(r.successor.key.expose_secret(), None)
        .await
        .is_valid());
    h.clock.advance_secs(601);
    assert!(
        matches!(
            h.auth.validate(old_raw, None).await,
            Outcome::Revoked { .. }
        ),
        "grace over"
    );
    let again = h
        .auth
        .rotate(&p, k.view.id.as_str(), RotateRequest::default())
        .await;
    assert!(matches!(again, Err(AuthorityError::Conflict(_))));

    let succ_id = r.successor.view.id.clone();
    let r2 = h
        .auth
        .rotate(
            &p,
            succ_id.as_str(),
            RotateRequest {
                grace_secs: Some(0),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        h.auth.validate(r.successor.key.expose_secret(), None).await,
        Outcome::Revoked { .. }
    ));
    assert!(h
        .auth
        .validate(r2.successor.key.expose_secret(), None)
        .await
        .is_valid());
}

#[tokio::test]
async fn bulk_revoke_by_agent_and_org() {
    let h = harness(Env::Live);
    let (_raw, p) = admin(&h).await;
    let mut bots = Vec::new();
    for _ in 0..3 {
        bots.push(
            h.auth
                .mint(&p, mint_req(&["svc:wiki:read", "agent:bot"]))
                .await
                .unwrap(),
        );
    }
    let human = h
        .auth
        .mint(&p, mint_req(&["svc:wiki:read", "agent:human"]))
        .await
        .unwrap();
    for b in &bots {
        assert!(h
            .auth
            .validate(b.key.expose_secret(), None)
            .await
            .is_valid());
    }
    let r = h
        .auth
        .bulk_revoke(&p, BulkRevokeRequest::agent("bot"))
        .await
        .unwrap();
    assert_eq!(r.revoked, 3);
    for b in &bots {
        assert!(matches!(
            h.auth.validate(b.key.expose_secret(), None).await,
            Outcome::Revoked { .. }
        ));
    }
    assert!(h
        .auth
        .validate(human.key.expose_secret(), None)
        .await
        .is_valid());
    let r = h
        .auth
        .bulk_revoke(&p, BulkRevokeRequest::whole_org())
        .await
        .unwrap();
    assert_eq!(r.revoked, 1, "only the human key: the caller is spared");
    assert!(h.auth.get_key(&p, p.key_id.as_str()).await.is_ok());
    let bad = h
        .auth
        .bulk_revoke(&p, BulkRevokeRequest::agent("Bad Agent"))
        .await;
    assert!(matches!(bad, Err(AuthorityError::InvalidField { .. })));
    let r = h
        .auth
        .bulk_revoke(
            &p,
            BulkRevokeRequest {
                include_caller: true,
                ..BulkRevokeRequest::whole_org()
            },
        )
        .await
        .unwrap();
    assert_eq!(r.revoked, 1);
}

#[tokio::test]
async fn store_outage_is_unavailable_never_invalid() {
    let h = harness(Env::Live);
    let (raw, p) = admin(&h).await;
    let k = h.auth.mint(&p, mint_req(&["svc:wiki:read"])).await.unwrap();
    h.flaky.set_down(true);
    // A cached key keeps working; an uncached one is Unavailable, not Unknown.
    assert!(h.auth.validate(&raw, None).await.is_valid());
    assert_eq!(
        h.auth.validate(k.key.expose_secret(), None).await,
        Outcome::Unavailable
    );
    let e = h
        .auth
        .mint(&p, mint_req(&["svc:wiki:read"]))
        .await
        .unwrap_err();
    assert!(
        matches!(e, authority::AuthorityError::Unavailable { .. }),
        "{e}"
    );
    assert!(
        !e.to_string().contains("simulated"),
        "internal cause stays internal"
    );
    let call = Outcome::Valid(p.clone()).tool_call("search", &scope("read:wiki"));
    assert!(
        h.auth.record_tool_call(call.clone()).await.is_err(),
        "fail closed"
    );
    h.flaky.set_down(false);
    assert!(h
        .auth
        .validate(k.key.expose_secret(), None)
        .await
        .is_valid());
    h.auth.record_tool_call(call).await.unwrap();
    assert!(
        h.auth.verify_audit(&p).await.unwrap().ok,
        "a failed batch leaves no gap"
    );
}

#[tokio::test]
async fn wrong_env_and_malformed() {
    let h = harness(Env::Test);
    let live = authority::keys::generate(Env::Live);
    assert_eq!(
        h.auth.validate(live.raw.expose_secret(), None).await,
        Outcome::WrongEnv {
            expected: Env::Test,
            got: Env::Live
        }
    );
    assert!(matches!(
        h.auth.validate("Bearer nonsense", None).await,
        Outcome::Malformed(_)
    ));
    assert_eq!(
        h.auth
            .validate(
                authority::keys::generate(Env::Test).raw.expose_secret(),
                None
            )
            .await,
        Outcome::Unknown
    );
}

#[tokio::test]
async fn audit_trail_of_admin_and_tool_calls() {
    let h = harness(Env::Live);
    let (raw, p) = admin(&h).await;
    let k = h
        .auth
        .mint(&p, mint_req(&["svc:wiki:read", "agent:bot"]))
        .await
        .unwrap();
    h.auth
        .revoke(&p, k.view.id.as_str(), Some("done".into()))
        .await
        .unwrap();
    let k2 = h.auth.mint(&p, mint_req(&["svc:wiki:read"])).await.unwrap();
    h.auth
        .rotate(&p, k2.view.id.as_str(), RotateRequest::default())
        .await
        .unwrap();
    h.auth
        .bulk_revoke(&p, BulkRevokeRequest::whole_org())
        .await
        .unwrap();
    h.auth
        .sign_in(&raw, Some("127.0.0.1".into()))
        .await
        .unwrap();
    h.auth.sign_out(&p, None).await.unwrap();
    let tool_key = h.auth.mint(&p, mint_req(&["svc:wiki:read"])).await.unwrap();
    let raw = tool_key.key.expose_secret();
    for i in 0..30 {
        h.clock.advance_secs(1);
        let required = scope(if i % 3 == 0 {
            "svc:wiki:admin"
        } else {
            "svc:wiki:read"
        });
        let o = h.auth.authenticate(raw, &required, None).await;
        let mut call = o.tool_call("edit_page", &required);
        call.latency_us = Some(42);
        h.auth.record_tool_call(call).await.unwrap();
    }
    let admin_only = AuditQuery {
        filter: AuditFilter {
            kind: Some(EventKind::Admin),
            ..Default::default()
        },
        limit: Some(100),
        ..Default::default()
    };
    let page = h.auth.audit_query(&p, admin_only).await.unwrap();
    let mut actions: Vec<&str> = page.events.iter().map(|e| e.body.action.as_str()).collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            "bootstrap",
            "bulk_revoke",
            "mint",
            "mint",
            "mint",
            "revoke",
            "rotate",
            "sign_in",
            "sign_out"
        ]
    );
    assert!(page.events.iter().all(|e| !e
        .body
        .reason
        .as_deref()
        .unwrap_or("")
        .contains("ace_live_")));

    // Pagination over tool calls, newest first.
    let mut cursor = None;
    let mut n = 0;
    loop {
        let q = AuditQuery {
            filter: AuditFilter {
                kind: Some(EventKind::ToolCall),
                ..Default::default()
            },
            cursor,
            limit: Some(7),
        };
        let page = h.auth.audit_query(&p, q).await.unwrap();
        n += page.events.len();
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(n, 30);
    let denied = AuditQuery {
        filter: AuditFilter {
            decision: Some(Decision::Denied),
            ..Default::default()
        },
        ..Default::default()
    };
    let d = h.auth.audit_query(&p, denied).await.unwrap();
    assert_eq!(d.events.len(), 10);
    assert!(d
        .events
        .iter()
        .all(|e| e.body.reason.as_deref() == Some("insufficient_scope")));
    let tl = h
        .auth
        .audit_timeline(
            &p,
            TimelineQuery {
                bucket_secs: Some(600),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (allowed, denied): (u64, u64) = tl
        .iter()
        .fold((0, 0), |(a, d), b| (a + b.allowed, d + b.denied));
    assert_eq!(
        (allowed, denied),
        (20 + 9, 10),
        "9 admin events count as allowed"
    );
    let report = h.auth.verify_audit(&p).await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.events, 39);
    let e = h
        .auth
        .audit_event(&p, page.events[0].id.as_str())
        .await
        .unwrap();
    assert_eq!(e, page.events[0]);
}

/// "Everything about this key / agent" through the real admin actions: a
/// mint, a rotation and a revocation of an agent's key name the key and the
/// agent as their subject, so the key and agent filters find them beside the
/// calls the key made; the chain still verifies.
#[tokio::test]
async fn key_and_agent_filters_find_what_was_done_to_them() {
    let h = harness(Env::Live);
    let (_, p) = admin(&h).await;
    let about = |key: Option<&str>, agent: Option<&str>| AuditQuery {
        filter: AuditFilter {
            key_id: key.map(|k| authority::KeyId::parse(k).unwrap()),
            agent: agent.map(str::to_owned),
            ..Default::default()
        },
        limit: Some(100),
        ..Default::default()
    };
    let bot = h
        .auth
        .mint(&p, mint_req(&["svc:wiki:read", "agent:bot"]))
        .await
        .unwrap();
    let bot_id = bot.view.id.to_string();
    h.clock.advance_secs(1);
    let required = scope("svc:wiki:read");
    let o = h
        .auth
        .authenticate(bot.key.expose_secret(), &required, None)
        .await;
    h.auth
        .record_tool_call(o.tool_call("search", &required))
        .await
        .unwrap();
    h.clock.advance_secs(1);
    let rotated = h
        .auth
        .rotate(
            &p,
            &bot_id,
            RotateRequest {
                grace_secs: Some(0),
            },
        )
        .await
        .unwrap();
    let successor_id = rotated.successor.view.id.to_string();
    h.clock.advance_secs(1);
    h.auth
        .revoke(&p, &successor_id, Some("agent retired".into()))
        .await
        .unwrap();
    h.auth.mint(&p, mint_req(&["svc:wiki:read"])).await.unwrap();

    let actions = |q: AuditQuery| {
        let (h, p) = (&h, &p);
        async move {
            let page = h.auth.audit_query(p, q).await.unwrap();
            page.events
                .iter()
                .map(|e| e.body.action.clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        actions(about(Some(&bot_id), None)).await,
        ["rotate", "search", "mint"],
        "the key's life: minted, used, rotated"
    );
    assert_eq!(
        actions(about(Some(&successor_id), None)).await,
        ["revoke", "rotate"],
        "the successor's: born of the rotation, revoked"
    );
    assert_eq!(
        actions(about(None, Some("bot"))).await,
        ["revoke", "rotate", "search", "mint"],
        "the agent: its call and everything done to its keys, not the unbound mint"
    );
    let revoke = h
        .auth
        .audit_query(&p, about(Some(&successor_id), None))
        .await
        .unwrap()
        .events
        .remove(0);
    assert_eq!(revoke.body.subject.as_deref(), Some(successor_id.as_str()));
    assert_eq!(revoke.body.subject_agent.as_deref(), Some("bot"));
    assert_eq!(revoke.body.actor_key_id.as_ref(), Some(&p.key_id));
    let life = h.auth.key_life(&p, &successor_id, 25).await.unwrap();
    assert_eq!(life.key.status, KeyStatus::Revoked);
    assert_eq!(
        life.key.rotated_from.as_ref().map(ToString::to_string),
        Some(bot_id.clone())
    );
    assert_eq!(life.trail.events.len(), 2);
    assert_eq!(
        life.trail.key_names.get(&bot_id).map(String::as_str),
        Some("k"),
        "the key it was rotated from is named"
    );
    assert!(matches!(
        h.auth.key_life(&p, "key_nope", 25).await,
        Err(AuthorityError::NotFound)
    ));
    let report = h.auth.verify_audit(&p).await.unwrap();
    assert!(report.ok, "{report:?}");
}

#[tokio::test]
async fn tampering_is_detected_and_pruning_keeps_chains_verifiable() {
    let h = harness(Env::Live);
    let (raw, p) = admin(&h).await;
    for _ in 0..20 {
        h.clock.advance_secs(10);
        let o = h.auth.authenticate(&raw, &scope("read:wiki"), None).await;
        h.auth
            .record_tool_call(o.tool_call("t", &scope("read:wiki")))
            .await
            .unwrap();
    }
    assert!(h.auth.verify_all_audit().await.unwrap().ok);
    let stats = h.auth.prune_audit(common::T0.plus_secs(100)).await.unwrap();
    assert_eq!(
        stats.deleted,
        1 + 9,
        "bootstrap event and the first nine calls"
    );
    assert!(h.auth.verify_audit(&p).await.unwrap().ok);

    let conn = rusqlite::Connection::open(h.sqlite.path()).unwrap();
    conn.execute(
        "UPDATE audit_events SET decision = 'denied' WHERE seq = 15",
        [],
    )
    .unwrap();
    let r = h.auth.verify_audit(&p).await.unwrap();
    assert!(!r.ok);
    conn.execute(
        "UPDATE audit_events SET decision = 'allowed' WHERE seq = 15",
        [],
    )
    .unwrap();
    assert!(h.auth.verify_audit(&p).await.unwrap().ok);
    conn.execute("DELETE FROM audit_events WHERE seq = 12", [])
        .unwrap();
    assert!(!h.auth.verify_audit(&p).await.unwrap().ok);
}

#[tokio::test]
async fn introspection_and_ingest() {
    let h = harness(Env::Live);
    let (_raw, p) = admin(&h).await;
    let svc = h
        .auth
        .mint(&p, mint_req(&["svc:keys:introspect", "svc:audit:write"]))
        .await
        .unwrap();
    let svc_ctx = h
        .auth
        .authorize(svc.key.expose_secret(), &scope("svc:keys:introspect"))
        .await
        .unwrap();
    let k = h.auth.mint(&p, mint_req(&["svc:wiki:read"])).await.unwrap();
    let i = h
        .auth
        .introspect(&svc_ctx, k.key.expose_secret())
        .await
        .unwrap();
    assert!(i.active);
    assert_eq!(i.key_id.as_ref(), Some(&k.view.id));
    let i = h
        .auth
        .introspect(&svc_ctx, "ace_live_garbage")
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&i).unwrap(),
        serde_json::json!({"active": false})
    );
    assert!(
        h.auth.introspect(&p, k.key.expose_secret()).await.is_ok(),
        "admin:org implies introspect"
    );
    let weak = h
        .auth
        .authorize(k.key.expose_secret(), &scope("read:wiki"))
        .await
        .unwrap();
    assert!(matches!(
        h.auth.introspect(&weak, "x").await,
        Err(AuthorityError::Forbidden { .. })
    ));

    let mut call = Outcome::Unknown.tool_call("remote_tool", &scope("read:wiki"));
    call.org = Some(authority::OrgId::parse("evil").unwrap());
    let ids = h.auth.ingest_audit(&svc_ctx, vec![call]).await.unwrap();
    let e = h.auth.audit_event(&p, ids[0].as_str()).await.unwrap();
    assert_eq!(
        e.body.org.as_str(),
        "acme",
        "ingest is pinned to the caller's org"
    );
    assert!(h.auth.ingest_audit(&weak, vec![]).await.is_err());
}

#[tokio::test]
async fn scope_catalog_is_served_and_extensible() {
    let h = harness(Env::Live);
    let (_raw, p) = admin(&h).await;
    assert!(h
        .auth
        .scope_catalog(&p.org)
        .await
        .unwrap()
        .iter()
        .any(|s| s.service == "mcp"));
    let e = h
        .auth
        .mint(&p, mint_req(&["svc:tickets:close"]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unknown_scope");
    let added = h
        .auth
        .register_local_tool_scopes(
            &p.org,
            &[authority::ScopeRegistration {
                scope: "svc:tickets:close".into(),
                description: "Close tickets".into(),
            }],
        )
        .await
        .unwrap();
    assert_eq!(added.added, 1);
    // Stored and audited in the guard's org like a key's registration,
    // naming no key.
    let events = h
        .auth
        .store()
        .query_audit(&p.org, &Default::default(), None, 10)
        .await
        .unwrap();
    assert!(events
        .iter()
        .any(|e| e.body.action == "register_scopes" && e.body.actor_key_id.is_none()));
    assert!(h
        .auth
        .mint(&p, mint_req(&["svc:tickets:close"]))
        .await
        .is_ok());
}

#[tokio::test]
async fn stats_count_cache_hits_lookups_and_audit_commits() {
    let h = harness(Env::Live);
    let (raw, _) = admin(&h).await;
    let before = h.auth.stats();
    h.auth.invalidate_cache();
    // One miss that goes to the store, then a hit.
    h.auth.validate(&raw, None).await;
    h.auth.validate(&raw, None).await;
    let outcome = h.auth.validate(&raw, Some(&scope("svc:wiki:read"))).await;
    h.auth
        .record_tool_call(outcome.tool_call("wiki.read", &scope("svc:wiki:read")))
        .await
        .unwrap();
    let after = h.auth.stats();
    assert_eq!(after.store_lookups - before.store_lookups, 1);
    assert_eq!(after.cache_hits - before.cache_hits, 2);
    assert!(after.audit_commits > before.audit_commits);
    assert_eq!(after.audit_events - before.audit_events, 1);
    assert_eq!(after.audit_commit_failures, 0);
    assert!(after.audit_commit_seconds > 0.0);
}

#[tokio::test]
async fn tool_scopes_join_the_catalog_add_only() {
    use authority::ScopeRegistration;
    let h = harness(Env::Live);
    let (_, admin_ctx) = admin(&h).await;
    let reg = |scope: &str, description: &str| ScopeRegistration {
        scope: scope.into(),
        description: description.into(),
    };
    // A key without svc:catalog:write may not.
    let plain = h
        .auth
        .mint(&admin_ctx, mint_req(&["svc:wiki:read"]))
        .await
        .unwrap();
    let plain = h
        .auth
        .authorize(plain.key.expose_secret(), &scope("svc:wiki:read"))
        .await
        .unwrap();
    let refused = h
        .auth
        .register_tool_scopes(&plain, &[reg("svc:jira:read", "Read issues")])
        .await;
    assert!(
        matches!(refused, Err(AuthorityError::Forbidden { .. })),
        "{refused:?}"
    );

    // New scopes join; short forms are canonicalised; built-ins are never relabelled.
    let done = h
        .auth
        .register_tool_scopes(
            &admin_ctx,
            &[
                reg("read:jira", "Read issues"),
                reg("svc:keys:write", "harmless, honest"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(done.scopes, ["svc:jira:read", "svc:keys:write"]);
    assert_eq!(done.added, 1);
    let catalog = h.auth.scope_catalog(&admin_ctx.org).await.unwrap();
    let jira = catalog
        .iter()
        .find(|s| s.service == "jira")
        .expect("jira joined");
    assert_eq!(jira.actions[0].description, "Read issues");
    let keys = catalog.iter().find(|s| s.service == "keys").unwrap();
    assert!(keys
        .actions
        .iter()
        .all(|a| a.description != "harmless, honest"));
    // And keys can now be minted for it.
    h.auth
        .mint(&admin_ctx, mint_req(&["svc:jira:read"]))
        .await
        .unwrap();

    // Only tool scopes, with a one-line description.
    for bad in [
        reg("org:acme", "x"),
        reg("admin:org", "x"),
        reg("agent:bot", "x"),
        reg("svc:jira:write", "two\nlines"),
        reg("svc:jira:write", ""),
    ] {
        let result = h
            .auth
            .register_tool_scopes(&admin_ctx, std::slice::from_ref(&bad))
            .await;
        assert!(result.is_err(), "{bad:?} was accepted");
    }
    // The addition is in the audit trail.
    let page = h
        .auth
        .audit_query(
            &admin_ctx,
            AuditQuery {
                filter: AuditFilter {
                    tool: Some("register_scopes".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(page.events.len(), 1);
}

#[tokio::test]
async fn revoking_is_limited_like_granting() {
    let h = harness(Env::Live);
    let (_, admin_ctx) = admin(&h).await;
    let ctx_of = |raw: String| {
        let auth = h.auth.clone();
        async move {
            auth.authorize(&raw, &scope("svc:keys:write"))
                .await
                .unwrap()
        }
    };
    let writer = h
        .auth
        .mint(&admin_ctx, mint_req(&["svc:keys:write", "svc:wiki:read"]))
        .await
        .unwrap();
    let writer = ctx_of(writer.key.expose_secret().to_owned()).await;
    // A lesser key cannot kill the admin key or a key with scopes it lacks…
    let err = h
        .auth
        .revoke(&writer, admin_ctx.key_id.as_str(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthorityError::Forbidden { .. }), "{err:?}");
    let billing = h
        .auth
        .mint(&admin_ctx, mint_req(&["svc:kb:write"]))
        .await
        .unwrap();
    let err = h
        .auth
        .revoke(&writer, billing.view.id.as_str(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthorityError::Forbidden { .. }), "{err:?}");
    // …but can revoke one within its own scopes.
    let wiki = h
        .auth
        .mint(&admin_ctx, mint_req(&["svc:wiki:read"]))
        .await
        .unwrap();
    h.auth
        .revoke(&writer, wiki.view.id.as_str(), None)
        .await
        .unwrap();

    // An agent-bound key only touches its own agent's keys.
    let bot = h
        .auth
        .mint(
            &admin_ctx,
            mint_req(&["svc:keys:admin", "svc:wiki:read", "agent:bot"]),
        )
        .await
        .unwrap();
    let bot = ctx_of(bot.key.expose_secret().to_owned()).await;
    let other = h
        .auth
        .mint(&admin_ctx, mint_req(&["svc:wiki:read", "agent:other"]))
        .await
        .unwrap();
    let err = h
        .auth
        .revoke(&bot, other.view.id.as_str(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, AuthorityError::Forbidden { .. }), "{err:?}");
    for req in [
        BulkRevokeRequest::agent("other"),
        BulkRevokeRequest::whole_org(),
    ] {
        let err = h.auth.bulk_revoke(&bot, req).await.unwrap_err();
        assert!(matches!(err, AuthorityError::Forbidden { .. }), "{err:?}");
    }
    // The whole-org switch is the org admin's.
    let keys_admin = h
        .auth
        .mint(&admin_ctx, mint_req(&["svc:keys:admin"]))
        .await
        .unwrap();
    let keys_admin = ctx_of(keys_admin.key.expose_secret().to_owned()).await;
    let whole = BulkRevokeRequest::whole_org();
    assert!(matches!(
        h.auth.bulk_revoke(&keys_admin, whole.clone()).await,
        Err(AuthorityError::Forbidden { .. })
    ));
    assert!(h.auth.bulk_revoke(&admin_ctx, whole).await.unwrap().revoked >= 1);
}

#[tokio::test]
async fn an_ingest_larger_than_one_store_commit_is_split_and_stays_chained() {
    // Firestore commits at most a few hundred writes atomically; a store
    // with a 10-event limit stands in for it.
    let dir = tempfile::tempdir().unwrap();
    let sqlite = std::sync::Arc::new(authority::SqliteStore::open(dir.path()).unwrap());
    let limited = std::sync::Arc::new(authority::store::fault::FaultyStore::with_append_limit(
        sqlite, 10,
    ));
    let auth = authority::Authority::new(
        limited,
        authority::Pepper::random(),
        Env::Live,
        authority::AuthorityConfig::default(),
    );
    let k = auth.bootstrap(BootstrapRequest::new("acme")).await.unwrap();
    let p = auth
        .authorize(k.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let calls: Vec<ToolCall> = (0..25)
        .map(|_| Outcome::Unknown.tool_call("t", &scope("read:wiki")))
        .collect();
    let commits_before = auth.stats().audit_commits;
    let ids = auth
        .ingest_audit(&p, calls)
        .await
        .expect("split, not refused");
    assert_eq!(ids.len(), 25);
    assert_eq!(
        auth.stats().audit_commits - commits_before,
        3,
        "10 + 10 + 5"
    );
    for id in &ids {
        auth.audit_event(&p, id.as_str()).await.expect("recorded");
    }
    assert!(auth.verify_all_audit().await.unwrap().ok, "chains intact");
}

#[tokio::test]
async fn a_write_whose_acknowledgement_was_lost_does_not_wedge_the_audit_chains() {
    // A remote store can commit a write and still time out. The next event
    // must not reuse the sequence number already stored (a conflict that
    // would refuse every later call).
    let h = harness(Env::Live);
    let (raw, p) = admin(&h).await;
    let call = || Outcome::Unknown.tool_call("t", &scope("read:wiki"));

    h.flaky.lose_write_acks(true);
    assert!(h.auth.record_tool_call(call()).await.is_err());
    assert!(h.auth.mint(&p, mint_req(&["read:wiki"])).await.is_err());
    h.flaky.lose_write_acks(false);

    h.auth
        .record_tool_call(call())
        .await
        .expect("tool-call chain continues");
    h.auth
        .mint(&p, mint_req(&["read:wiki"]))
        .await
        .expect("admin chain continues");
    let report = h.auth.verify_all_audit().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(
        report.events, 5,
        "bootstrap, both lost-ack writes, and the two after"
    );
    assert!(h.auth.validate(&raw, None).await.is_valid());
}

#[tokio::test]
async fn scopes_registered_through_one_server_are_mintable_through_another() {
    // Two servers sharing one store: a tool server registers its scopes with
    // whichever one the load balancer picked.
    let dir = tempfile::tempdir().unwrap();
    let store: std::sync::Arc<dyn authority::store::Store> =
        std::sync::Arc::new(authority::SqliteStore::open(dir.path()).unwrap());
    let pepper = authority::Pepper::random();
    let a = authority::Authority::new(
        store.clone(),
        pepper.clone(),
        Env::Live,
        authority::AuthorityConfig::default(),
    );
    let b = authority::Authority::new(
        store,
        pepper,
        Env::Live,
        authority::AuthorityConfig::default(),
    );
    let k = a.bootstrap(BootstrapRequest::new("acme")).await.unwrap();
    let pa = a
        .authorize(k.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let pb = b
        .authorize(k.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let reg = |scope: &str| authority::ScopeRegistration {
        scope: scope.into(),
        description: "Read issues".into(),
    };
    assert_eq!(
        a.register_tool_scopes(&pa, &[reg("svc:jira:read")])
            .await
            .unwrap()
            .added,
        1
    );
    b.mint(&pb, mint_req(&["svc:jira:read"]))
        .await
        .expect("B knows A's registration");
    assert!(b
        .scope_catalog(&pb.org)
        .await
        .unwrap()
        .iter()
        .any(|s| s.service == "jira"));
    let again = b
        .register_tool_scopes(&pb, &[reg("svc:jira:read"), reg("svc:jira:read")])
        .await
        .unwrap();
    assert_eq!(again.added, 0, "add-only, and no second event");
    let events = a
        .audit_query(
            &pa,
            AuditQuery {
                filter: AuditFilter {
                    tool: Some("register_scopes".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(events.events.len(), 1);
}
