//! Rate limits and budgets against the real `acekeys` binary and three
//! remote-mode `wiki-mcp` guards, called concurrently by real MCP clients:
//! a budget of 100 lets exactly 100 calls through across the guards, a
//! raised budget is heard at every guard, a reached rate limit answers 429
//! with `Retry-After`, and every refusal is in the trail with its reason.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::authority_proc::{AcekeysProc, Api};
use common::{call, connect, wait_for, WikiProc};
use serde_json::{json, Value};

const SERVICE_SCOPES: [&str; 2] = ["svc:keys:introspect", "svc:audit:write"];
const WORKERS_PER_GUARD: usize = 4;

/// Calls `search_pages` from `WORKERS_PER_GUARD` clients per guard at once,
/// each until its guard refuses it for a reached limit; returns how many
/// calls were allowed and refused in all.
async fn spend_until_refused(urls: &[String], key: &str) -> (u64, u64) {
    let allowed = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for url in urls {
        for w in 0..WORKERS_PER_GUARD {
            let (url, key) = (url.clone(), key.to_owned());
            let (allowed, refused) = (allowed.clone(), refused.clone());
            workers.push(tokio::spawn(async move {
                let client = connect(&url, Some(&key)).await.expect("connects");
                // Every call asks something new: the loop rule stays out of it.
                for i in 0.. {
                    let query = json!({"query": format!("w{w}-{i}")});
                    match call(&client, "search_pages", query).await {
                        Ok(_) => {
                            allowed.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) if e.contains("429") => {
                            refused.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        Err(e) => panic!("neither allowed nor refused for a limit: {e}"),
                    }
                }
            }));
        }
    }
    for w in workers {
        w.await.expect("worker");
    }
    (
        allowed.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    )
}

async fn trail_of(api: &Api, admin: &str, key_id: &str) -> Vec<Value> {
    let (_, page) = api
        .get_as(
            admin,
            &format!("/api/v1/audit?key_id={key_id}&kind=tool_call&limit=500"),
        )
        .await;
    page["events"].as_array().cloned().unwrap_or_default()
}

/// The real `acekeys` with three remote guards, and a key minted with
/// `body` (which carries its limits).
struct Cluster {
    _data: tempfile::TempDir,
    _acekeys: AcekeysProc,
    _guards: Vec<WikiProc>,
    api: Api,
    admin: String,
    urls: Vec<String>,
    key: String,
    key_id: String,
}

async fn three_guards_and_a_key(body: Value) -> Cluster {
    let data = tempfile::tempdir().unwrap();
    let admin = AcekeysProc::bootstrap(data.path(), "acme");
    let acekeys = AcekeysProc::start(data.path(), "127.0.0.1:0");
    let api = Api::new(&acekeys.base, &admin);
    let (service_key, _) = api.mint("wiki-mcp", &SERVICE_SCOPES).await;
    let mut guards = Vec::new();
    for g in ["g1", "g2", "g3"] {
        let dir = data.path().join(g);
        std::fs::create_dir_all(&dir).unwrap();
        guards.push(WikiProc::spawn_remote(&acekeys.base, &service_key, &dir).await);
    }
    let (status, minted) = api.mint_as(&admin, body).await;
    assert_eq!(status, 201, "{minted}");
    Cluster {
        urls: guards.iter().map(|g| g.url.clone()).collect(),
        key: minted["key"].as_str().unwrap().to_owned(),
        key_id: minted["id"].as_str().unwrap().to_owned(),
        _data: data,
        _acekeys: acekeys,
        _guards: guards,
        api,
        admin,
    }
}

#[tokio::test]
async fn a_budget_of_100_allows_exactly_100_calls_across_three_guards() {
    let Cluster {
        api,
        admin,
        urls,
        key,
        key_id,
        ..
    } = &three_guards_and_a_key(json!({"name": "budgeted", "scopes": ["svc:wiki:read"],
        "expires_days": 1, "limits": [{"kind": "budget", "calls": 100}]}))
    .await;

    let started = Instant::now();
    let (allowed, refused) = spend_until_refused(urls, key).await;
    println!(
        "budget 100 across 3 guards x {WORKERS_PER_GUARD} clients: {allowed} allowed, {refused} refused in {:?} (overshoot {})",
        started.elapsed(),
        allowed as i64 - 100
    );
    assert_eq!(
        allowed, 100,
        "exactly the budget, no overshoot, no undershoot"
    );
    assert_eq!(refused, (urls.len() * WORKERS_PER_GUARD) as u64);

    // Every call is in the trail: 100 allowed, each refusal as budget_exhausted.
    wait_for(
        "the calls in the trail",
        Duration::from_secs(15),
        async || {
            let events = trail_of(api, admin, key_id).await;
            let allowed = events.iter().filter(|e| e["decision"] == "allowed").count();
            let exhausted = events
                .iter()
                .filter(|e| e["decision"] == "denied" && e["reason"] == "budget_exhausted")
                .count();
            allowed == 100 && exhausted as u64 == refused
        },
    )
    .await;

    // A raised budget is heard at every guard (the stream's change event
    // drops what they remembered): exactly 10 more.
    let r = reqwest::Client::new()
        .put(format!("{}/api/v1/keys/{key_id}/limits", api.base))
        .bearer_auth(admin)
        .json(&json!({"limits": [{"kind": "budget", "calls": 110}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (more, _) = spend_until_refused(urls, key).await;
    assert_eq!(more, 10, "the count carried on from 100");
}

#[tokio::test]
async fn a_reached_rate_limit_answers_429_with_retry_after() {
    // A day-long window: the test cannot straddle two of them in practice.
    let Cluster {
        api,
        admin,
        urls,
        key,
        key_id,
        ..
    } = &three_guards_and_a_key(json!({"name": "rated", "scopes": ["svc:wiki:read", "svc:wiki:write"],
        "expires_days": 1, "limits": [{"kind": "rate", "max": 12, "per_seconds": 86400, "scope": "svc:wiki:read"}]}))
    .await;
    let (allowed, _) = spend_until_refused(urls, key).await;
    assert_eq!(allowed, 12);

    // The guard's own answer, as any HTTP client sees it.
    let r = reqwest::Client::new()
        .post(&urls[1])
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                      "params": {"name": "read_page", "arguments": {"title": "Home"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let retry_after: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry_after), "{retry_after}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["id"], 7, "{body}");
    assert_eq!(body["error"]["data"]["code"], "rate_limited", "{body}");

    // The limit counts read calls only: writes go on.
    let client = connect(&urls[2], Some(key)).await.unwrap();
    call(
        &client,
        "write_page",
        json!({"title": "Notes", "body": "still allowed"}),
    )
    .await
    .expect("another scope is not limited");

    wait_for(
        "the refusals in the trail",
        Duration::from_secs(15),
        async || {
            let events = trail_of(api, admin, key_id).await;
            events
                .iter()
                .filter(|e| e["reason"] == "rate_limited")
                .count()
                >= 2
        },
    )
    .await;
}
