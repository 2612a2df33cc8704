//! A revoked or expired key refused before any tool call (its client's
//! `initialize`) leaves a trace attributed to the key, at most one a
//! minute per key however often it is retried. Local mode (the guard
//! records it) and remote mode against the real `acekeys` binary (the
//! guard records it when its cache knows the key is dead; the authority
//! records an `authenticate` denial when introspection finds it dead).

mod common;

use std::time::{Duration, Instant};

use authority::audit::{AuditEvent, Decision};
use common::authority_proc::{AcekeysProc, Api};
use common::{call, connect, wait_for, Seed, WikiProc};
use serde_json::{json, Value};

const RETRIES: usize = 20;

/// A raw `initialize` with `key`; returns the HTTP status.
async fn initialize(url: &str, key: &str) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .bearer_auth(key)
        .json(
            &json!({"jsonrpc":"2.0","id":"init-1","method":"initialize","params":{
            "protocolVersion":"2025-06-18","capabilities":{},
            "clientInfo":{"name":"retry-loop","version":"1"}}}),
        )
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// One trace per key per started minute of the retry loop, at least one.
fn assert_rate_limited(traces: usize, started: Instant, what: &str) {
    let minutes = usize::try_from(started.elapsed().as_secs() / 60).unwrap();
    assert!(
        (1..=1 + minutes).contains(&traces),
        "{what}: {traces} traces for {RETRIES} refusals"
    );
}

#[tokio::test]
async fn a_local_guard_traces_dead_keys_refused_before_any_tool_call() {
    let seed = Seed::new().await;
    let dir = seed.path.to_str().unwrap().to_owned();
    let wiki = WikiProc::spawn(
        &["--data-dir", &dir, "--org", "acme"],
        &seed.path.join("wiki.log"),
    );
    let started = Instant::now();
    for (key, id, reason) in [
        (&seed.revoked, &seed.revoked_id, "revoked_key"),
        (&seed.expired, &seed.expired_id, "expired_key"),
    ] {
        let err = connect(&wiki.url, Some(key)).await.expect_err("no session");
        assert!(err.contains("401") || err.contains("AuthRequired"), "{err}");
        for _ in 0..RETRIES {
            assert_eq!(initialize(&wiki.url, key).await, 401);
        }
        let events = seed.tool_events().await;
        let traces: Vec<&AuditEvent> = events
            .iter()
            .filter(|e| e.body.actor_key_id.as_ref().map(ToString::to_string) == Some(id.clone()))
            .collect();
        assert_rate_limited(traces.len(), started, reason);
        let trace = traces[0];
        assert_eq!(trace.body.decision, Decision::Denied);
        assert_eq!(trace.body.reason.as_deref(), Some(reason));
        assert_eq!(trace.body.action, "initialize");
        assert_eq!(trace.body.server.as_deref(), Some("wiki-mcp"));
        assert_eq!(trace.body.client_ip.as_deref(), Some("127.0.0.1"));
    }
    let report = seed.auth.verify_all_audit().await.unwrap();
    assert!(report.ok, "{report:?}");
}

#[tokio::test]
async fn a_remote_guard_and_its_authority_trace_dead_keys_refused_before_any_tool_call() {
    let data = tempfile::tempdir().unwrap();
    let admin = AcekeysProc::bootstrap(data.path(), "acme");
    let acekeys = AcekeysProc::start(data.path(), "127.0.0.1:0");
    let api = Api::new(&acekeys.base, &admin);
    let (service_key, _) = api
        .mint(
            "wiki-mcp",
            &[
                "svc:keys:introspect",
                "svc:audit:write",
                "svc:catalog:write",
            ],
        )
        .await;
    let (victim, victim_id) = api.mint("victim", &["svc:wiki:read"]).await;
    let (unseen, unseen_id) = api.mint("unseen", &["svc:wiki:read"]).await;
    api.revoke(&unseen_id).await;
    let wiki = WikiProc::spawn_remote(&acekeys.base, &service_key, data.path()).await;

    // The guard learns from the stream that `victim` is revoked: it no
    // longer asks the authority, so it must leave the trace itself.
    let client = connect(&wiki.url, Some(&victim)).await.unwrap();
    call(&client, "read_page", json!({"title": "Home"}))
        .await
        .expect("allowed");
    api.revoke(&victim_id).await;
    wait_for("the revocation", Duration::from_secs(10), async || {
        call(&client, "read_page", json!({"title": "Home"}))
            .await
            .is_err()
    })
    .await;
    let started = Instant::now();
    for key in [&victim, &unseen] {
        for _ in 0..RETRIES {
            assert_eq!(initialize(&wiki.url, key).await, 401);
        }
    }
    wait_for("the spool to drain", Duration::from_secs(10), async || {
        wiki.status().await["guard"]["spool_pending"] == 0
    })
    .await;
    let traces: Vec<Value> = api
        .tool_events()
        .await
        .into_iter()
        .filter(|e| e["action"] == "initialize")
        .collect();
    assert_rate_limited(traces.len(), started, "victim, traced by the guard");
    assert!(
        traces
            .iter()
            .all(|e| e["actor_key_id"] == victim_id.as_str()
                && e["reason"] == "revoked_key"
                && e["decision"] == "denied"),
        "{traces:?}"
    );
    // `unseen` was revoked before the guard ever saw it: the guard only
    // knows it as inactive, and the authority, asked about a dead key of
    // the guard's own org, records the denial.
    // Written off the request path: wait for it, then count.
    let unseen_traces = async || {
        let events: Value = reqwest::Client::new()
            .get(format!("{}/api/v1/audit?tool=authenticate", acekeys.base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        events["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["actor_key_id"] == unseen_id.as_str() && e["reason"] == "revoked_key")
            .count()
    };
    wait_for(
        "the authority's trace",
        Duration::from_secs(10),
        async || unseen_traces().await > 0,
    )
    .await;
    let unseen_traces = unseen_traces().await;
    assert_rate_limited(unseen_traces, started, "unseen, traced by the authority");
    assert_eq!(api.verify().await["ok"], true);
}
