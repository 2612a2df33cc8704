//! Two `acekeys serve` processes sharing one Firestore database (on the
//! emulator): a key warm in both validator caches, revoked through A, is
//! refused by B long before B's cache entry would expire (60 s), because
//! B's Firestore listener evicted it.
//!
//! `ACEKEYS_PROPAGATION_TRIALS=N` (default 10) sets the number of trials;
//! run with `--nocapture` to see the p50/p99 the README quotes.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::{emulator_project, spawn_app_on, spawn_second_server, TestApp};

/// Well under the 60 s cache TTL: only an eviction can explain a refusal.
const DEADLINE: Duration = Duration::from_secs(5);

async fn active_at(app: &TestApp, introspector: &str, key: &str) -> bool {
    let response = app
        .post(introspector, "/api/v1/introspect", json!({ "token": key }))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["active"].as_bool().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_through_one_server_is_enforced_by_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("firestore://{}", emulator_project(dir.path()));
    let a = spawn_app_on(dir, Some(store), &[]).await;
    let b = spawn_second_server(&a).await;
    let (introspector, _) = a.mint("tool-server", &["svc:keys:introspect"]).await;
    let trials: usize = std::env::var("ACEKEYS_PROPAGATION_TRIALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let mut took = Vec::with_capacity(trials);
    for i in 0..trials {
        let (key, id) = a.mint(&format!("agent-{i}"), &["svc:wiki:read"]).await;
        // Warm both caches (B twice: the second answer is a cache hit).
        assert!(active_at(&a, &introspector, &key).await);
        assert!(active_at(&b, &introspector, &key).await);
        assert!(active_at(&b, &introspector, &key).await);

        let response = a
            .post(&a.admin, &format!("/api/v1/keys/{id}/revoke"), json!({}))
            .await;
        assert_eq!(response.status(), 200);
        let revoked = Instant::now();
        assert!(
            !active_at(&a, &introspector, &key).await,
            "A evicts at once"
        );
        while active_at(&b, &introspector, &key).await {
            assert!(
                revoked.elapsed() < DEADLINE,
                "B still accepts a key revoked through A {DEADLINE:?} ago: \
                 its Firestore listener did not evict it\n{}",
                b.log()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        took.push(revoked.elapsed());
    }
    took.sort();
    let pct = |p: f64| took[((took.len() as f64 * p).ceil() as usize).clamp(1, took.len()) - 1];
    println!(
        "revocation A -> B over Firestore (emulator), {} trials: p50 {:?}, p99 {:?}, max {:?}",
        took.len(),
        pct(0.50),
        pct(0.99),
        took[took.len() - 1]
    );
}

/// Guards behind a balancer take allowances through both servers at once:
/// the grants of one budget, taken concurrently through A and B from the
/// one Firestore counter, add up to the budget exactly. A change of the
/// limits through A reaches B's answers at once (B reads the key's record,
/// not a cached copy).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowances_taken_through_two_servers_never_exceed_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("firestore://{}", emulator_project(dir.path()));
    let a = spawn_app_on(dir, Some(store), &[]).await;
    let b = spawn_second_server(&a).await;
    let (guard, _) = a.mint("tool-server", &["svc:keys:introspect"]).await;
    let minted: Value = a
        .post(
            &a.admin,
            "/api/v1/keys/mint",
            json!({"name": "budgeted", "scopes": ["svc:wiki:read"], "limits": [{"kind": "budget", "calls": 60}]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = minted["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/keys/{id}/allowance");
    let ask = json!({"owner": id, "kind": "budget"});
    let (through_a, through_b, through_a_again) = tokio::join!(
        drain(&a, &guard, &path, &ask),
        drain(&b, &guard, &path, &ask),
        drain(&a, &guard, &path, &ask)
    );
    assert_eq!(
        through_a + through_b + through_a_again,
        60,
        "A {through_a} + B {through_b} + A {through_a_again}"
    );
    let r = reqwest::Client::new()
        .put(a.url(&format!("/api/v1/keys/{id}/limits")))
        .bearer_auth(&a.admin)
        .json(&json!({"limits": [{"kind": "budget", "calls": 64}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        drain(&b, &guard, &path, &ask).await,
        4,
        "the raise, through the other server"
    );
}

/// Takes grants until the limit answers 0; returns how many calls.
async fn drain(app: &TestApp, guard: &str, path: &str, ask: &Value) -> u64 {
    let mut total = 0;
    loop {
        let r = app.post(guard, path, ask.clone()).await;
        assert_eq!(r.status(), 200, "{}", app.log());
        let grant: Value = r.json().await.unwrap();
        match grant["granted"].as_u64().unwrap() {
            0 => return total,
            n => total += n,
        }
    }
}
