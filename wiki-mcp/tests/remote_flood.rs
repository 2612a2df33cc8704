//! A remote guard flooded with hostile keyless calls whose tool names are
//! 1.5 MB each (under the guard's 4 MiB body limit, over the authority's
//! 1 MiB request limit) while honest callers work: every allowed call must
//! still reach the authority's audit trail. Real `acekeys` binary, real
//! `wiki-mcp` process, rmcp's client for the honest calls, raw HTTP for the
//! hostile ones; bounded (30 allowed, 40 hostile) and loopback only.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::authority_proc::{AcekeysProc, Api};
use common::{call, connect, wait_for, WikiProc};
use serde_json::{json, Value};
use tokio::task::JoinSet;

const CLIENTS: usize = 5;
const CALLS_PER_CLIENT: usize = 6;
const HOSTILE: usize = 40;
const HUGE_NAME: usize = 1_500_000;

/// A keyless `tools/call` whose tool name is `HUGE_NAME` bytes.
async fn hostile_call(http: reqwest::Client, url: String, i: usize) -> u16 {
    let name = format!("hostile-{i}-{}", "x".repeat(HUGE_NAME));
    let body = json!({
        "jsonrpc": "2.0",
        "id": i,
        "method": "tools/call",
        "params": { "name": name, "arguments": {} },
    });
    let response = http
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .json(&body)
        .send()
        .await
        .expect("hostile call answered");
    response.status().as_u16()
}

#[tokio::test]
async fn hostile_keyless_calls_with_huge_tool_names_never_cost_an_allowed_call_its_event() {
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
    let (reader, _) = api.mint("reader", &["agent:reader", "svc:wiki:read"]).await;
    let wiki = WikiProc::spawn_remote(&acekeys.base, &service_key, data.path()).await;

    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(Arc::new(
            connect(&wiki.url, Some(&reader))
                .await
                .expect("reader connects"),
        ));
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut hostile = JoinSet::new();
    let mut honest = JoinSet::new();
    for i in 0..HOSTILE {
        hostile.spawn(hostile_call(http.clone(), wiki.url.clone(), i));
    }
    for client in &clients {
        for n in 0..CALLS_PER_CLIENT {
            let client = client.clone();
            honest.spawn(async move {
                call(&client, "read_page", json!({"title": "Home"}))
                    .await
                    .map_err(|e| format!("allowed call {n}: {e}"))
            });
        }
    }
    let mut unauthorized = 0;
    while let Some(status) = hostile.join_next().await {
        match status.unwrap() {
            401 => unauthorized += 1,
            // Throttled: answered without an audit event.
            429 => {}
            other => panic!("a hostile call was answered {other}"),
        }
    }
    while let Some(result) = honest.join_next().await {
        result.unwrap().expect("the honest call is allowed");
    }

    wait_for("the spool to drain", Duration::from_secs(30), async || {
        wiki.status().await["guard"]["spool_pending"] == 0
    })
    .await;
    let status = wiki.status().await;
    let events = api.tool_events().await;
    let allowed = events.iter().filter(|e| e["decision"] == "allowed").count();
    assert_eq!(
        allowed,
        CLIENTS * CALLS_PER_CLIENT,
        "every allowed call is in the trail (guard status: {status})"
    );
    let refused: Vec<&Value> = events
        .iter()
        .filter(|e| e["reason"] == "missing_key")
        .collect();
    assert_eq!(
        refused.len(),
        unauthorized,
        "every hostile call answered 401 is audited"
    );
    for event in refused {
        let action = event["action"].as_str().unwrap();
        assert!(action.starts_with("hostile-"), "{action:.40}");
        assert!(action.chars().count() <= 200, "the tool name is bounded");
    }
    assert_eq!(status["guard"]["spool_rejected"], 0, "{status}");
    assert_eq!(api.verify().await["ok"], true);
}
