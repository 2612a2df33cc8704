//! Seals against someone who writes the SQLite file behind the authority's
//! back: a cut tail, a deleted chain, a chain rewritten with recomputed
//! hashes, a forged seal — each reported by `verify`, and noticed live by
//! the next sealing round of the process that wrote the chain.

mod common;

use authority::audit::{ProblemKind, VerifyReport};
use authority::wire::ToolCall;
use authority::{BootstrapRequest, Env};
use common::{harness, Harness};
use rusqlite::{params, Connection};

fn call(org: &str, tool: &str) -> ToolCall {
    serde_json::from_value(serde_json::json!({
        "org": org, "tool": tool, "decision": "allowed", "agent": "bot"
    }))
    .unwrap()
}

/// Bootstraps `acme` (admin chain) and records `n` tool calls (recorder
/// chain), then seals both.
async fn sealed_trail(h: &Harness, n: usize) {
    h.auth
        .bootstrap(BootstrapRequest::new("acme"))
        .await
        .unwrap();
    for i in 0..n {
        h.auth
            .record_tool_call(call("acme", &format!("tool_{i}")))
            .await
            .unwrap();
    }
    assert!(h.auth.seal_chains().await.unwrap() >= 2);
}

fn db(h: &Harness) -> Connection {
    Connection::open(h.dir.path().join("acekeys.db")).unwrap()
}

/// The writer of the tool-call chain (the recorder's, `…-t`).
fn tool_writer(c: &Connection) -> String {
    c.query_row(
        "SELECT writer FROM audit_events WHERE kind = 'tool_call' LIMIT 1",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn problems(report: &VerifyReport) -> Vec<(String, ProblemKind)> {
    report
        .chains
        .iter()
        .flat_map(|c| c.problems.iter().map(|p| (c.writer.clone(), p.kind)))
        .collect()
}

#[tokio::test]
async fn a_sealed_trail_verifies_and_says_what_is_sealed() {
    let h = harness(Env::Live);
    sealed_trail(&h, 5).await;
    let report = h.auth.verify_all_audit().await.unwrap();
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.unsealed_events, 0);
    assert_eq!(report.seal_key, h.auth.seal_trust().to_hex());
    let tools = report
        .chains
        .iter()
        .find(|c| c.writer.ends_with("-t"))
        .unwrap();
    assert_eq!((tools.sealed_seq, tools.events), (Some(5), 5));
    // Events after the newest seal are counted, not hidden.
    h.auth
        .record_tool_call(call("acme", "later"))
        .await
        .unwrap();
    let report = h.auth.verify_all_audit().await.unwrap();
    assert!(report.ok);
    assert_eq!(report.unsealed_events, 1);
}

#[tokio::test]
async fn a_cut_tail_is_reported_and_noticed_by_the_next_round() {
    let h = harness(Env::Live);
    sealed_trail(&h, 6).await;
    let c = db(&h);
    let writer = tool_writer(&c);
    let cut = c
        .execute(
            "DELETE FROM audit_events WHERE writer = ?1 AND seq > 3",
            params![writer],
        )
        .unwrap();
    assert_eq!(cut, 3);
    let report = h.auth.verify_all_audit().await.unwrap();
    assert!(!report.ok);
    assert_eq!(
        problems(&report),
        [(writer.clone(), ProblemKind::Truncated)]
    );

    // The attacker also rolls the seal back to seq 3 — which they cannot
    // sign, so copying the seal of seq 6 with a smaller seq is a bad seal...
    c.execute(
        "UPDATE audit_chains SET seal_seq = 3 WHERE writer = ?1",
        params![writer],
    )
    .unwrap();
    let report = h.auth.verify_all_audit().await.unwrap();
    assert_eq!(problems(&report), [(writer.clone(), ProblemKind::BadSeal)]);
    // ...and deleting the seal leaves the process that wrote the chain to
    // notice on its next round: counted, logged and put in the trail.
    c.execute(
        "UPDATE audit_chains SET seal_seq = NULL WHERE writer = ?1",
        params![writer],
    )
    .unwrap();
    h.auth
        .record_tool_call(call("acme", "after"))
        .await
        .unwrap();
    h.auth.seal_chains().await.unwrap();
    assert_eq!(h.auth.stats().audit_tamper_detected, 1);
    let flagged: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'audit_tamper_detected' AND subject = ?1",
            params![writer],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(flagged, 1);
    // The re-sealed chain (head 7 in memory) still shows the cut.
    let report = h.auth.verify_all_audit().await.unwrap();
    assert!(problems(&report).contains(&(writer, ProblemKind::Missing)));
}

#[tokio::test]
async fn a_deleted_chain_is_missed_through_the_other_chains_seals() {
    let h = harness(Env::Live);
    sealed_trail(&h, 4).await;
    // Make the admin chain's seal name the tool chain: seal again after
    // both chains exist in the store.
    h.auth.record_tool_call(call("acme", "x")).await.unwrap();
    h.auth
        .bootstrap(BootstrapRequest::new("other"))
        .await
        .unwrap();
    h.auth.seal_chains().await.unwrap();
    let c = db(&h);
    let writer = tool_writer(&c);
    c.execute(
        "DELETE FROM audit_events WHERE writer = ?1",
        params![writer],
    )
    .unwrap();
    c.execute(
        "DELETE FROM audit_chains WHERE writer = ?1",
        params![writer],
    )
    .unwrap();
    let report = h.auth.verify_all_audit().await.unwrap();
    assert!(!report.ok);
    assert_eq!(problems(&report), [(writer, ProblemKind::ChainDeleted)]);
}

#[tokio::test]
async fn a_chain_rewritten_with_fresh_hashes_does_not_match_its_seal() {
    let h = harness(Env::Live);
    sealed_trail(&h, 3).await;
    let c = db(&h);
    let writer = tool_writer(&c);
    // A consistent rewrite: without a seal no check could tell.
    let events: Vec<authority::audit::AuditEvent> = {
        let store = authority::SqliteStore::open(h.dir.path()).unwrap();
        use authority::store::Store;
        store
            .audit_chain_events(&authority::OrgId::parse("acme").unwrap(), &writer, 0, 100)
            .await
            .unwrap()
    };
    let mut prev = authority::audit::ChainHash::GENESIS;
    for e in events {
        let mut body = e.body.clone();
        if e.chain.seq == 2 {
            body.decision = authority::audit::Decision::Denied;
        }
        let hash = authority::audit::chain::event_hash(&e.id, &body, &writer, e.chain.seq, &prev);
        c.execute(
            "UPDATE audit_events SET decision = ?1, prev_hash = ?2, hash = ?3 WHERE id = ?4",
            params![
                body.decision.as_str(),
                &prev.0[..],
                &hash.0[..],
                e.id.as_str()
            ],
        )
        .unwrap();
        prev = hash;
    }
    let report = h.auth.verify_all_audit().await.unwrap();
    assert_eq!(problems(&report), [(writer, ProblemKind::SealMismatch)]);
}

#[tokio::test]
async fn a_seal_by_another_key_is_refused_and_a_pinned_key_is_honoured() {
    let h = harness(Env::Live);
    sealed_trail(&h, 2).await;
    // Another deployment (another pepper) verifying this trail trusts none
    // of its seals.
    let other = harness(Env::Live);
    let report = h
        .auth
        .verify_all_audit_pinned(other.auth.seal_trust())
        .await
        .unwrap();
    assert!(!report.ok);
    assert!(problems(&report)
        .iter()
        .all(|(_, k)| *k == ProblemKind::BadSeal));
    assert!(
        h.auth
            .verify_all_audit_pinned(h.auth.seal_trust())
            .await
            .unwrap()
            .ok
    );
}
