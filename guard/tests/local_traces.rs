//! A local guard's traces of dead keys refused outside tool calls, seen
//! over HTTP: the guard layer in front of a stand-in MCP endpoint, served
//! by axum on loopback with the client's address, over a real SQLite
//! store. Each dead key is traced once a minute, and all the traces
//! together stay within the unauthenticated limit (429 beyond it, with
//! nothing recorded), so many dead keys cannot flood the trail either.

use std::net::SocketAddr;
use std::sync::Arc;

use authority::audit::{AuditFilter, AuditQuery};
use authority::{
    Authority, AuthorityConfig, BootstrapRequest, Env, ExpiryChoice, KeyContext, MintRequest,
    OrgId, Pepper, Scope, SqliteStore,
};
use axum::routing::any;
use guard::{Guard, ToolScopes, UnauthenticatedLimit};
use serde_json::json;
use tower_layer::Layer;

async fn mint(auth: &Authority, admin: &KeyContext, name: &str) -> (String, String) {
    let minted = auth
        .mint(
            admin,
            MintRequest {
                org_id: None,
                name: name.into(),
                scopes: vec!["svc:wiki:read".into()],
                expires_days: ExpiryChoice::Days(1),
                env: None,
                resources: Vec::new(),
                terms: Default::default(),
            },
        )
        .await
        .unwrap();
    (
        minted.key.expose_secret().to_owned(),
        minted.view.id.to_string(),
    )
}

/// A raw `initialize`; returns the status and `Retry-After`.
async fn initialize(url: &str, key: &str) -> (u16, Option<String>) {
    let response = reqwest::Client::new()
        .post(url)
        .bearer_auth(key)
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}))
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), retry_after)
}

#[tokio::test]
async fn dead_keys_are_traced_once_each_and_within_the_unauthenticated_limit() {
    let dir = tempfile::tempdir().unwrap();
    let auth = Authority::new(
        Arc::new(SqliteStore::open(dir.path()).unwrap()),
        Pepper::load_or_create(dir.path()).unwrap(),
        Env::Live,
        AuthorityConfig::default(),
    );
    let admin = auth.bootstrap(BootstrapRequest::new("acme")).await.unwrap();
    let admin = auth
        .authorize(admin.key.expose_secret(), &Scope::AdminOrg)
        .await
        .unwrap();
    let (valid, _) = mint(&auth, &admin, "valid").await;
    let mut dead = Vec::new();
    for n in 0..4 {
        let (key, id) = mint(&auth, &admin, &format!("dead-{n}")).await;
        auth.revoke(&admin, &id, None).await.unwrap();
        dead.push(key);
    }
    let tools = ToolScopes::new()
        .tool("read_page", "svc:wiki:read", "read wiki pages")
        .unwrap();
    let org = OrgId::parse("acme").unwrap();
    let guard = Guard::local(auth.clone(), org, tools, Some("test".into()))
        .await
        .unwrap();
    // Two traces from this client, and none refilled while the test runs.
    guard.set_unauthenticated_limit(UnauthenticatedLimit {
        per_client_burst: 2,
        per_client_per_sec: 0,
        ..UnauthenticatedLimit::default()
    });
    let app = axum::Router::new().route_service("/mcp", guard.layer().layer(any(async || "ok")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The first two dead keys are traced; retrying one costs no token.
    for key in &dead[..2] {
        assert_eq!(initialize(&url, key).await, (401, None));
        assert_eq!(initialize(&url, key).await, (401, None));
    }
    // The budget is spent: the other dead keys get 429, untraced.
    for key in &dead[2..] {
        let (status, retry_after) = initialize(&url, key).await;
        assert_eq!(status, 429);
        assert!(retry_after.is_some());
    }
    assert_eq!(guard.status().unauthenticated_throttled, 2);
    // A valid key is never limited.
    assert_eq!(initialize(&url, &valid).await, (200, None));

    let events = auth
        .audit_query(
            &admin,
            AuditQuery {
                filter: AuditFilter {
                    tool: Some("initialize".into()),
                    ..AuditFilter::default()
                },
                cursor: None,
                limit: Some(100),
            },
        )
        .await
        .unwrap()
        .events;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events
        .iter()
        .all(|e| e.body.reason.as_deref() == Some("revoked_key")
            && e.body.client_ip.as_deref() == Some("127.0.0.1")
            && e.body.actor_key_id.is_some()));
}
