//! Remote mode against the real `acekeys` binary: introspection, the
//! revocation stream, and the audit spool across an authority restart.

mod common;

use std::time::{Duration, Instant};

use common::authority_proc::{AcekeysProc, Api};
use common::{call, connect, wait_for, WikiProc};
use serde_json::json;

#[tokio::test]
async fn remote_guard_introspects_evicts_on_revocation_and_spools_through_an_outage() {
    let data = tempfile::tempdir().unwrap();
    let admin = AcekeysProc::bootstrap(data.path(), "acme");
    let mut acekeys = AcekeysProc::start(data.path(), "127.0.0.1:0");
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
    let (victim, victim_id) = api.mint("victim", &["svc:wiki:read"]).await;
    let (revoked, revoked_id) = api.mint("revoked", &["svc:wiki:read"]).await;
    api.revoke(&revoked_id).await;

    let wiki = WikiProc::spawn_remote(&acekeys.base, &service_key, data.path()).await;
    let mut calls = 0usize;

    // In remote mode the resource's metadata names the authority as its
    // authorization server.
    let metadata: serde_json::Value = reqwest::get(
        wiki.url
            .replace("/mcp", "/.well-known/oauth-protected-resource/mcp"),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(metadata["resource"], wiki.url.as_str());
    assert_eq!(
        metadata["authorization_servers"],
        json!([acekeys.base.trim_end_matches('/')])
    );

    // Allowed, denied by scope, 401s.
    let client = connect(&wiki.url, Some(&reader))
        .await
        .expect("reader connects");
    call(&client, "read_page", json!({"title": "Home"}))
        .await
        .expect("allowed");
    let err = call(&client, "write_kb", json!({"entry": "x"}))
        .await
        .expect_err("no kb scope");
    assert!(err.contains("svc:kb:write"), "{err}");
    calls += 2;
    let unknown = authority::keys::generate(authority::Env::Live);
    for key in [
        revoked.as_str(),
        "ace_live_garbage",
        unknown.raw.expose_secret(),
    ] {
        let err = connect(&wiki.url, Some(key)).await.expect_err("refused");
        assert!(err.contains("401") || err.contains("AuthRequired"), "{err}");
    }

    // Revocation reaches the warm cache through the stream.
    let v = connect(&wiki.url, Some(&victim)).await.unwrap();
    call(&v, "read_page", json!({"title": "Home"}))
        .await
        .expect("warm");
    calls += 1;
    let t0 = Instant::now();
    api.revoke(&victim_id).await;
    loop {
        calls += 1;
        if call(&v, "read_page", json!({"title": "Home"}))
            .await
            .is_err()
        {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "revocation took more than 1 s"
        );
    }
    eprintln!("revocation seen after {:?}", t0.elapsed());

    wait_for("the spool to drain", Duration::from_secs(10), async || {
        wiki.status().await["guard"]["spool_pending"] == 0
    })
    .await;
    assert_eq!(api.tool_events().await.len(), calls);

    // Outage: the authority stops; calls are refused (nothing can be
    // validated) but every decision is spooled, then shipped on return.
    let addr = acekeys.addr();
    acekeys.stop();
    // The guard notices the stream is gone and drops its cache.
    wait_for("the guard to notice", Duration::from_secs(10), async || {
        wiki.status().await["guard"]["stream_connected"] == false
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..3 {
        let _ = call(&client, "read_page", json!({"title": "Home"}))
            .await
            .expect_err("authority down");
        calls += 1;
    }
    assert!(
        wiki.status().await["guard"]["spool_pending"]
            .as_u64()
            .unwrap()
            >= 3
    );
    assert_eq!(wiki.status().await["guard"]["degraded"], true);
    let restarted = AcekeysProc::start(data.path(), &addr);
    wait_for(
        "the spool to drain after the restart",
        Duration::from_secs(15),
        async || wiki.status().await["guard"]["spool_pending"] == 0,
    )
    .await;
    let api = Api::new(&restarted.base, &admin);
    let events = api.tool_events().await;
    assert_eq!(events.len(), calls, "every decision reached the trail");
    assert_eq!(
        events
            .iter()
            .filter(|e| e["reason"] == "unavailable")
            .count(),
        3,
        "the outage's refusals are in the trail"
    );
    assert_eq!(api.verify().await["ok"], true);
}

/// The scopes a remote guard declares join the authority's catalog, and
/// join it again after the authority restarts (its catalog is in memory).
#[tokio::test]
async fn remote_guard_adds_its_tool_scopes_to_the_catalog_and_they_survive_a_restart() {
    use guard::{Guard, RemoteConfig, ToolScopes};

    let data = tempfile::tempdir().unwrap();
    let admin = AcekeysProc::bootstrap(data.path(), "acme");
    let mut acekeys = AcekeysProc::start(data.path(), "127.0.0.1:0");
    let addr = acekeys.addr();
    let api = Api::new(&acekeys.base, &admin);
    let (service_key, _) = api
        .mint(
            "jira-mcp",
            &[
                "svc:keys:introspect",
                "svc:audit:write",
                "svc:catalog:write",
            ],
        )
        .await;
    let tools = ToolScopes::new()
        .tool("create_issue", "write:jira", "Create and edit Jira issues")
        .unwrap();
    let config = RemoteConfig::new(&acekeys.base, &service_key, data.path().join("spool")).unwrap();
    let guard = Guard::remote(config, tools, Some("jira-mcp".into()))
        .await
        .unwrap();

    let http = reqwest::Client::new();
    let catalog_has_jira = async |base: &str| {
        let Ok(response) = http
            .get(format!("{base}/api/v1/scopes"))
            .bearer_auth(&admin)
            .send()
            .await
        else {
            return false;
        };
        response.text().await.is_ok_and(|text| {
            text.contains("svc:jira:write") && text.contains("Create and edit Jira issues")
        })
    };
    assert!(
        catalog_has_jira(&acekeys.base).await,
        "not registered at start"
    );
    // Keys can now be minted for the tool.
    api.mint("jira-agent", &["svc:jira:write"]).await;

    acekeys.stop();
    let restarted = AcekeysProc::start(data.path(), &addr);
    // Registrations are stored: the restarted authority still knows the
    // tool's scope (the guard registers again on reconnect, which adds
    // nothing), and it was recorded once.
    wait_for(
        "the restarted authority to list the stored registration",
        Duration::from_secs(15),
        async || catalog_has_jira(&restarted.base).await,
    )
    .await;
    Api::new(&restarted.base, &admin)
        .mint("jira-agent-2", &["svc:jira:write"])
        .await;
    let registrations = http
        .get(format!(
            "{}/api/v1/audit?tool=register_scopes",
            restarted.base
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(registrations["events"].as_array().map(Vec::len), Some(1));
    drop(guard);
}
