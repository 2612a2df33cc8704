//! rmcp's own client against the real wiki-mcp binary in local mode (same
//! SQLite store as the authority, bootstrapped through the authority crate).

mod common;

use std::time::{Duration, Instant};

use authority::audit::Decision;
use common::{call, connect, text, wait_for, Seed, WikiProc};
use serde_json::json;

fn spawn(seed: &Seed) -> WikiProc {
    let dir = seed.path.as_path().to_str().unwrap().to_owned();
    WikiProc::spawn(
        &["--data-dir", &dir, "--org", "acme"],
        &seed.path.as_path().join("wiki.log"),
    )
}

#[tokio::test]
async fn allowed_denied_and_unauthenticated_calls_are_decided_and_audited() {
    let seed = Seed::new().await;
    let wiki = spawn(&seed);

    let reader = connect(&wiki.url, Some(&seed.reader))
        .await
        .expect("reader connects");
    let tools = reader.list_all_tools().await.expect("list tools");
    assert_eq!(tools.len(), 5);

    let ok = call(&reader, "read_page", json!({"title": "Home"}))
        .await
        .expect("allowed");
    assert!(text(&ok).contains("Welcome"), "{ok:?}");

    let denied = call(&reader, "write_page", json!({"title": "X", "body": "y"}))
        .await
        .expect_err("reader may not write");
    assert!(
        denied.contains("svc:wiki:write"),
        "names the scope: {denied}"
    );
    let admin_only = call(&reader, "org_report", json!({}))
        .await
        .expect_err("admin only");
    assert!(admin_only.contains("admin:org"), "{admin_only}");

    let writer = connect(&wiki.url, Some(&seed.writer))
        .await
        .expect("writer connects");
    let saved = call(
        &writer,
        "write_page",
        json!({"title": "Plan", "body": "ship it"}),
    )
    .await
    .expect("writer writes");
    assert!(
        text(&saved).contains("author writer"),
        "the tool sees the caller: {saved:?}"
    );

    for (what, key) in [
        (
            "unknown",
            authority::keys::generate(authority::Env::Live)
                .raw
                .expose_secret()
                .to_owned(),
        ),
        ("expired", seed.expired.clone()),
        ("revoked", seed.revoked.clone()),
        ("wrong env", seed.test_env.clone()),
        ("malformed", "ace_live_nope".to_owned()),
    ] {
        let err = connect(&wiki.url, Some(&key))
            .await
            .err()
            .unwrap_or_else(|| panic!("{what} key connected"));
        assert!(
            err.contains("401") || err.contains("Unauthorized") || err.contains("AuthRequired"),
            "{what}: {err}"
        );
    }
    let err = connect(&wiki.url, None)
        .await
        .expect_err("no key, no session");
    assert!(err.contains("401") || err.contains("AuthRequired"), "{err}");

    // Raw HTTP: the 401 carries the challenge.
    let response = reqwest::Client::new()
        .post(&wiki.url)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_page","arguments":{"title":"Home"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // RFC 6750 §3.1: no credentials, no error code; RFC 9728 §5.1: where
    // the resource's metadata is.
    let metadata_url = wiki
        .url
        .replace("/mcp", "/.well-known/oauth-protected-resource/mcp");
    assert_eq!(
        response.headers()["www-authenticate"].to_str().unwrap(),
        format!(r#"Bearer realm="acekeys", resource_metadata="{metadata_url}""#)
    );
    // A bad credential: `invalid_token`.
    let response = reqwest::Client::new()
        .post(&wiki.url)
        .header("accept", "application/json, text/event-stream")
        .bearer_auth("ace_live_not-a-key")
        .json(&json!({"jsonrpc":"2.0","id":2,"method":"tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.starts_with(&format!(
            r#"Bearer realm="acekeys", resource_metadata="{metadata_url}", error="invalid_token""#
        )),
        "{challenge}"
    );

    // A valid key without the tool's scope: 403 and the scope to step up
    // to (MCP authorization), the JSON-RPC error still in the body.
    let response = reqwest::Client::new()
        .post(&wiki.url)
        .header("accept", "application/json, text/event-stream")
        .bearer_auth(&seed.reader)
        .json(&json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"write_page","arguments":{"title":"X","body":"y"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.headers()["www-authenticate"].to_str().unwrap(),
        format!(
            r#"Bearer realm="acekeys", resource_metadata="{metadata_url}", error="insufficient_scope", scope="svc:wiki:write""#
        )
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["id"], 3);
    assert_eq!(body["error"]["code"], -32003);
    assert_eq!(body["error"]["data"]["required_scope"], "svc:wiki:write");

    // The metadata document (RFC 9728 §2/§3), with no key, at the
    // path-suffixed and the root well-known URI.
    for url in [
        metadata_url.clone(),
        wiki.url
            .replace("/mcp", "/.well-known/oauth-protected-resource"),
    ] {
        let response = reqwest::get(&url).await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let doc: serde_json::Value = response.json().await.unwrap();
        assert_eq!(doc["resource"], wiki.url.as_str(), "required: resource");
        assert_eq!(
            doc["scopes_supported"],
            json!([
                "admin:org",
                "svc:kb:write",
                "svc:wiki:read",
                "svc:wiki:write"
            ])
        );
        assert_eq!(doc["bearer_methods_supported"], json!(["header"]));
        assert!(
            doc.get("authorization_servers").is_none(),
            "local mode names no issuer: {doc}"
        );
    }

    let events = seed.tool_events().await;
    let find = |tool: &str, decision: Decision| {
        events
            .iter()
            .filter(|e| e.body.action == tool && e.body.decision == decision)
            .count()
    };
    assert_eq!(find("read_page", Decision::Allowed), 1);
    // Through rmcp's client, then the raw 403 above.
    assert_eq!(find("write_page", Decision::Denied), 2);
    assert_eq!(find("write_page", Decision::Allowed), 1);
    assert_eq!(find("org_report", Decision::Denied), 1);
    let denied = events
        .iter()
        .find(|e| e.body.action == "write_page" && e.body.decision == Decision::Denied)
        .unwrap();
    assert_eq!(denied.body.reason.as_deref(), Some("insufficient_scope"));
    assert_eq!(
        denied.body.required_scope.as_deref(),
        Some("svc:wiki:write")
    );
    assert_eq!(denied.body.server.as_deref(), Some("wiki-mcp"));
    assert!(denied.body.latency_us.is_some());
    // The raw tools/call without a key is a denied tool call too: not in
    // acme's trail (it names no org), but in `_unattributed`, exactly once.
    assert_eq!(
        events
            .iter()
            .filter(|e| e.body.reason.as_deref() == Some("missing_key"))
            .count(),
        0,
        "missing-key calls are unattributable: recorded under `_unattributed`, not acme"
    );
    let unattributed = seed
        .auth
        .store()
        .query_audit(
            &authority::OrgId::unattributed(),
            &Default::default(),
            None,
            100,
        )
        .await
        .unwrap();
    let keyless: Vec<_> = unattributed
        .iter()
        .filter(|e| e.body.reason.as_deref() == Some("missing_key"))
        .collect();
    assert_eq!(keyless.len(), 1, "{unattributed:?}");
    assert_eq!(keyless[0].body.action, "read_page");
    assert_eq!(keyless[0].body.decision, Decision::Denied);
    let report = seed.auth.verify_all_audit().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert!(seed.auth.store().backend() == "sqlite");
}

#[tokio::test]
async fn a_key_revoked_mid_session_is_refused_with_401_and_audited() {
    let seed = Seed::new().await;
    let wiki = spawn(&seed);
    let (key, id) = seed.mint("victim", &["svc:wiki:read"]).await;
    let client = connect(&wiki.url, Some(&key)).await.unwrap();
    call(&client, "search_pages", json!({"query": "wiki"}))
        .await
        .expect("works before");
    seed.auth.revoke(&seed.admin_ctx, &id, None).await.unwrap();
    // Another process revoked it: local mode sees it within its 1 s cache TTL.
    let started = Instant::now();
    let err = loop {
        match call(&client, "search_pages", json!({"query": "wiki"})).await {
            Ok(_) if started.elapsed() < Duration::from_secs(5) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(_) => panic!("revoked key still works after 5 s"),
            Err(e) => break e,
        }
    };
    assert!(
        err.contains("401") || err.contains("AuthRequired") || err.contains("revoked"),
        "{err}"
    );
    let events = seed.tool_events().await;
    assert!(events
        .iter()
        .any(|e| e.body.reason.as_deref() == Some("revoked_key")
            && e.body.actor_key_id.as_ref().map(|k| k.to_string()) == Some(id.clone())));
}

#[tokio::test]
async fn every_call_from_concurrent_clients_is_audited_exactly_once() {
    let seed = Seed::new().await;
    // The reader key is refused 45 times here on purpose (each round asks
    // for tools it lacks): the denial-burst guardrail would hold it after
    // 20, which is its job, not this test's subject (tests/guardrails.rs).
    let dir = seed.path.as_path().to_str().unwrap().to_owned();
    let wiki = WikiProc::spawn(
        &["--data-dir", &dir, "--org", "acme", "--denial-burst", "0"],
        &seed.path.as_path().join("wiki.log"),
    );
    let (clients, per_client) = (6usize, 20usize);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let key = if c % 2 == 0 {
            seed.reader.clone()
        } else {
            seed.writer.clone()
        };
        let url = wiki.url.clone();
        tasks.push(tokio::spawn(async move {
            let client = connect(&url, Some(&key)).await.unwrap();
            let mut outcomes = (0, 0);
            for i in 0..per_client {
                let (tool, args) = match i % 4 {
                    0 => ("read_page", json!({"title": "Home"})),
                    1 => (
                        "write_page",
                        json!({"title": format!("p{c}-{i}"), "body": "x"}),
                    ),
                    2 => ("write_kb", json!({"entry": "e"})),
                    _ => ("org_report", json!({})),
                };
                match call(&client, tool, args).await {
                    Ok(r) if r.is_error != Some(true) => outcomes.0 += 1,
                    _ => outcomes.1 += 1,
                }
            }
            outcomes
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        let (a, d) = t.await.unwrap();
        ok += a;
        refused += d;
    }
    let n = clients * per_client;
    // Readers hold svc:wiki:read only: their reads run. Writers hold
    // svc:wiki:write (which includes read) and svc:kb:write: all but
    // org_report (admin:org) run. Everything else is refused.
    let rounds = per_client / 4;
    let expected_ok = (clients / 2) * rounds + (clients / 2) * 3 * rounds;
    assert_eq!((ok, refused), (expected_ok, n - expected_ok));
    let events = seed.tool_events().await;
    assert_eq!(events.len(), n, "exactly one event per call");
    let allowed = events
        .iter()
        .filter(|e| e.body.decision == Decision::Allowed)
        .count();
    assert_eq!(allowed, ok, "allowed events = calls that ran");
    let report = seed.auth.verify_all_audit().await.unwrap();
    assert!(report.ok, "{report:?}");
}

/// A local guard's guardrail: a burst of refused calls holds the key at
/// once, the in-process authority stores the hold (rule, evidence, the
/// guard's name), and its release lets the key through again.
#[tokio::test]
async fn a_denial_burst_holds_the_key_in_local_mode_until_released() {
    let seed = Seed::new().await;
    let dir = seed.path.as_path().to_str().unwrap().to_owned();
    let wiki = WikiProc::spawn(
        &["--data-dir", &dir, "--org", "acme", "--denial-burst", "3"],
        &seed.path.as_path().join("wiki.log"),
    );
    let reader = connect(&wiki.url, Some(&seed.reader)).await.unwrap();
    for _ in 0..3 {
        let r = call(&reader, "write_kb", json!({"entry": "x"})).await;
        assert!(
            r.is_err() || r.unwrap().is_error == Some(true),
            "refused: no kb scope"
        );
    }
    let err = call(&reader, "read_page", json!({"title": "Home"}))
        .await
        .expect_err("held after the third refusal");
    assert!(err.contains("401") || err.contains("AuthRequired"), "{err}");
    // The guard reports the hold in the background: the authority holds
    // it moments later (read afresh each time, not from this process's
    // cache).
    wait_for("the authority's hold", Duration::from_secs(5), async || {
        seed.auth.invalidate_cache();
        seed.auth
            .validate(&seed.reader, None)
            .await
            .context()
            .is_none()
    })
    .await;
    let keys = seed
        .auth
        .list_keys(&seed.admin_ctx, Default::default())
        .await
        .unwrap();
    let held = keys
        .iter()
        .find(|k| k.quarantine.is_some())
        .expect("the reader key is held");
    let q = held.quarantine.as_ref().unwrap();
    assert_eq!(q.rule, authority::wire::QuarantineRule::DenialBurst);
    assert!(
        q.by.contains("wiki-mcp") && q.evidence.contains("3 refused"),
        "{q:?}"
    );
    seed.auth
        .release(&seed.admin_ctx, held.id.as_str(), None)
        .await
        .unwrap();
    let again = connect(&wiki.url, Some(&seed.reader)).await.unwrap();
    // The guard's in-process authority caches keys for 1 s (local mode).
    wait_for(
        "the release at the guard",
        Duration::from_secs(5),
        async || {
            call(&again, "read_page", json!({"title": "Home"}))
                .await
                .is_ok()
        },
    )
    .await;
}

/// A local guard spends budgets from the counter in the shared store: a
/// budget of 3 lets 3 calls through, the 4th is refused with 429 and
/// audited; raised from another process (no stream between them), the
/// guard asks again within seconds and lets exactly the new calls through.
#[tokio::test]
async fn a_budget_holds_in_local_mode_and_a_raise_is_heard() {
    let seed = Seed::new().await;
    let minted = seed
        .auth
        .mint(
            &seed.admin_ctx,
            authority::MintRequest {
                org_id: None,
                name: "budgeted".into(),
                scopes: vec!["svc:wiki:read".into()],
                expires_days: authority::ExpiryChoice::Days(1),
                env: None,
                resources: Vec::new(),
                terms: authority::wire::KeyTermsRequest {
                    limits: vec![authority::wire::KeyLimit::Budget {
                        scope: None,
                        calls: 3,
                        refill: authority::wire::Refill::Never,
                    }],
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap();
    let key = minted.key.expose_secret().to_owned();
    let dir = seed.path.as_path().to_str().unwrap().to_owned();
    let wiki = WikiProc::spawn(
        &["--data-dir", &dir, "--org", "acme"],
        &seed.path.as_path().join("wiki.log"),
    );
    let client = connect(&wiki.url, Some(&key)).await.unwrap();
    for i in 0..3 {
        call(&client, "read_page", json!({"title": "Home"}))
            .await
            .unwrap_or_else(|e| panic!("call {} of 3: {e}", i + 1));
    }
    let err = call(&client, "read_page", json!({"title": "Home"}))
        .await
        .expect_err("the budget is spent");
    assert!(err.contains("429"), "{err}");
    let events = seed.tool_events().await;
    let of_key = |reason: Option<&str>| {
        events
            .iter()
            .filter(|e| e.body.actor_key_id.as_ref() == Some(&minted.view.id))
            .filter(|e| e.body.reason.as_deref() == reason)
            .count()
    };
    assert_eq!((of_key(None), of_key(Some("budget_exhausted"))), (3, 1));
    seed.auth
        .set_limits(
            &seed.admin_ctx,
            minted.view.id.as_str(),
            authority::wire::LimitsRequest {
                limits: vec![authority::wire::KeyLimit::Budget {
                    scope: None,
                    calls: 5,
                    refill: authority::wire::Refill::Never,
                }],
            },
        )
        .await
        .unwrap();
    let mut allowed = 0;
    wait_for(
        "the raise at the guard",
        Duration::from_secs(10),
        async || {
            let Ok(client) = connect(&wiki.url, Some(&key)).await else {
                return false;
            };
            while call(&client, "read_page", json!({"title": "Home"}))
                .await
                .is_ok()
            {
                allowed += 1;
            }
            allowed > 0
        },
    )
    .await;
    assert_eq!(allowed, 2, "5 in all, 3 spent before the raise");
}
