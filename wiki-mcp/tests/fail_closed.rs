//! Fail closed: when the audit store refuses writes, a call is refused and
//! the tool body never runs. The fault (a store whose `append_audit` fails)
//! is injected by `authority::store::fault::FaultyStore` around the real
//! SQLite store; everything else is real: the wiki router on a real socket
//! and rmcp's client.

mod common;

use std::sync::Arc;

use authority::store::fault::FaultyStore;
use authority::{Authority, AuthorityConfig, Env, Pepper, SqliteStore};
use common::{call, connect, Seed};
use serde_json::json;
use wiki_mcp::{router, startup, tool_scopes, Wiki};

#[tokio::test]
async fn a_call_whose_event_cannot_be_recorded_is_refused_and_the_tool_never_runs() {
    let seed = Seed::new().await;
    let store = Arc::new(FaultyStore::new(Arc::new(
        SqliteStore::open(seed.path.as_path()).unwrap(),
    )));
    let authority = Authority::new(
        store.clone(),
        Pepper::load_or_create(seed.path.as_path()).unwrap(),
        Env::Live,
        AuthorityConfig::default(),
    );
    let org = authority::OrgId::parse("acme").unwrap();
    let guard = startup::local_guard_with(authority, org, tool_scopes().unwrap())
        .await
        .unwrap();
    let wiki = Wiki::new();
    let app = router(guard.clone(), wiki.clone(), vec!["127.0.0.1".into()]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = connect(&url, Some(&seed.writer)).await.unwrap();
    call(&client, "write_page", json!({"title": "A", "body": "1"}))
        .await
        .expect("healthy store: allowed");
    assert_eq!(wiki.bodies_run(), 1);
    let pages_before = wiki.page_count();

    store.refuse_audit_writes(true);
    for _ in 0..3 {
        let err = call(&client, "write_page", json!({"title": "B", "body": "2"}))
            .await
            .expect_err("no durable event, no call");
        assert!(err.contains("503") || err.contains("audit"), "{err}");
    }
    assert_eq!(wiki.bodies_run(), 1, "the tool body never ran");
    assert_eq!(wiki.page_count(), pages_before, "no page was written");
    assert_eq!(guard.status().audit_failures, 3);

    store.refuse_audit_writes(false);
    call(&client, "read_page", json!({"title": "A"}))
        .await
        .expect("store back: allowed again");
    assert_eq!(wiki.bodies_run(), 2);
    let events = seed.tool_events().await;
    assert_eq!(
        events.len(),
        2,
        "only the two recorded calls are in the trail"
    );
}
