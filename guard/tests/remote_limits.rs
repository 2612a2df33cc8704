//! A remote guard's limits, seen by callers over HTTP: the guard layer in
//! front of a stand-in tool, served by axum on loopback with the client's
//! address (`ConnectInfo`), against a stand-in authority on loopback that
//! answers introspection for one valid key and can refuse to take events
//! (the outage that fills a spool, which a real authority cannot be made
//! to have for a bounded time at will).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{any, post};
use axum::Json;
use guard::{Guard, RemoteConfig, ToolScopes, UnauthenticatedLimit};
use parking_lot::Mutex;
use serde_json::{json, Value};
use tower_layer::Layer;

/// The stand-in authority.
struct Authority {
    valid_key: String,
    take_events: AtomicBool,
    events: Mutex<Vec<Value>>,
}

async fn introspect(State(a): State<Arc<Authority>>, Json(body): Json<Value>) -> Json<Value> {
    Json(if body["token"] == a.valid_key.as_str() {
        json!({
            "active": true, "key_id": "key_AAAAAAAAAAAAAAAAAAAA", "org": "acme",
            "env": "live", "scopes": ["svc:wiki:read"],
        })
    } else {
        json!({ "active": false })
    })
}

async fn ingest(State(a): State<Arc<Authority>>, Json(body): Json<Value>) -> StatusCode {
    if !a.take_events.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let events = body["events"].as_array().cloned().unwrap_or_default();
    a.events.lock().extend(events);
    StatusCode::CREATED
}

struct Harness {
    guard: Guard,
    authority: Arc<Authority>,
    mcp: String,
    valid_key: String,
    tool_runs: Arc<AtomicUsize>,
    http: reqwest::Client,
    _spool: tempfile::TempDir,
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

async fn harness(spool_max_events: u64) -> Harness {
    let valid_key = authority::keys::generate(authority::Env::Live).raw;
    let authority = Arc::new(Authority {
        valid_key: valid_key.expose_secret().to_owned(),
        take_events: AtomicBool::new(true),
        events: Mutex::new(Vec::new()),
    });
    let base = serve(
        axum::Router::new()
            .route("/api/v1/introspect", post(introspect))
            .route("/api/v1/audit/events", post(ingest))
            .route("/api/v1/scopes", post(async || StatusCode::OK))
            .with_state(authority.clone()),
    )
    .await;
    let spool = tempfile::tempdir().unwrap();
    let service_key = authority::keys::generate(authority::Env::Live).raw;
    let mut config = RemoteConfig::new(&base, service_key.expose_secret(), spool.path()).unwrap();
    config.revocation_stream = false;
    config.spool_max_events = spool_max_events;
    let tools = ToolScopes::new()
        .tool("read_page", "svc:wiki:read", "read wiki pages")
        .unwrap();
    let guard = Guard::remote(config, tools, Some("test".into()))
        .await
        .unwrap();
    let tool_runs = Arc::new(AtomicUsize::new(0));
    let runs = tool_runs.clone();
    let tool = any(async move || {
        runs.fetch_add(1, Ordering::SeqCst);
        "ran"
    });
    let mcp = serve(axum::Router::new().route_service("/mcp", guard.layer().layer(tool))).await;
    Harness {
        guard,
        authority,
        mcp: format!("{mcp}/mcp"),
        valid_key: valid_key.expose_secret().to_owned(),
        tool_runs,
        http: reqwest::Client::new(),
        _spool: spool,
    }
}

impl Harness {
    /// A `tools/call` of `read_page`; returns the status, `Retry-After` and body.
    async fn call(&self, key: Option<&str>) -> (u16, Option<String>, Value) {
        self.call_tool(key, "read_page").await
    }

    async fn call_tool(&self, key: Option<&str>, tool: &str) -> (u16, Option<String>, Value) {
        let mut request = self.http.post(&self.mcp).json(&json!({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": { "name": tool, "arguments": {} },
        }));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.json().await.unwrap_or(Value::Null);
        (status, retry_after, body)
    }

    async fn wait_until_shipped(&self) {
        let started = Instant::now();
        while self.guard.status().spool_pending > 0 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "spool not drained"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn a_full_spool_refuses_allowed_calls_with_503_and_counts_them() {
    let h = harness(2).await;
    h.authority.take_events.store(false, Ordering::SeqCst);
    let key = h.valid_key.clone();
    for _ in 0..2 {
        assert_eq!(h.call(Some(&key)).await.0, 200);
    }

    let (status, retry_after, body) = h.call(Some(&key)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry_after.as_deref(), Some("1"));
    assert_eq!(body["error"]["data"]["code"], "audit_unavailable", "{body}");
    assert_eq!(
        h.tool_runs.load(Ordering::SeqCst),
        2,
        "the tool did not run"
    );
    // A refused call keeps its own answer; its event did not fit either.
    assert_eq!(h.call(None).await.0, 401);
    let status = h.guard.status();
    assert_eq!(status.spool_full_refusals, 2);
    assert_eq!(status.audit_failures, 2);
    assert_eq!(status.spool_pending, 2, "nothing dropped to make room");
    assert!(status.degraded);

    // The authority takes events again: the spool drains and calls pass.
    h.authority.take_events.store(true, Ordering::SeqCst);
    h.wait_until_shipped().await;
    assert_eq!(h.call(Some(&key)).await.0, 200);
    h.wait_until_shipped().await;
    assert_eq!(h.authority.events.lock().len(), 3);
}

#[tokio::test]
async fn unauthenticated_calls_beyond_the_limit_get_429_unaudited_and_valid_keys_never_do() {
    let h = harness(1000).await;
    // No refill: the outcome does not depend on timing.
    h.guard.set_unauthenticated_limit(UnauthenticatedLimit {
        per_client_burst: 3,
        per_client_per_sec: 0,
        global_burst: 100,
        global_per_sec: 0,
    });
    let unknown = authority::keys::generate(authority::Env::Live).raw;
    let unknown = unknown.expose_secret().to_owned();
    let mut answers = Vec::new();
    let mut allowed = 0;
    // Hostile calls (no key, an unknown key) interleaved with a valid key's.
    for i in 0..12 {
        let hostile = if i % 2 == 0 {
            None
        } else {
            Some(unknown.as_str())
        };
        answers.push(h.call(hostile).await);
        if h.call(Some(&h.valid_key)).await.0 == 200 {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 12, "a valid key is never throttled");
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses[..3], [401, 401, 401], "{statuses:?}");
    assert!(statuses[3..].iter().all(|&s| s == 429), "{statuses:?}");
    for (_, retry_after, body) in &answers[3..] {
        let secs: u64 = retry_after.as_deref().unwrap().parse().unwrap();
        assert!(secs >= 1);
        assert_eq!(body["error"]["data"]["code"], "throttled", "{body}");
    }

    let status = h.guard.status();
    assert_eq!(status.unauthenticated_throttled, 9);
    assert_eq!(status.denied, 3);
    assert_eq!(status.allowed, 12);
    h.wait_until_shipped().await;
    let events = h.authority.events.lock().clone();
    assert_eq!(events.len(), 15, "12 allowed + 3 refused, none throttled");
    assert_eq!(
        events.iter().filter(|e| e["decision"] == "denied").count(),
        3
    );
    assert!(events.iter().all(|e| e["client_ip"] == "127.0.0.1"));
}

#[tokio::test]
async fn a_huge_tool_name_is_spooled_bounded_and_never_echoed_whole() {
    let h = harness(1000).await;
    h.authority.take_events.store(false, Ordering::SeqCst);
    let huge = "x".repeat(1_500_000);
    assert_eq!(h.call_tool(None, &huge).await.0, 401);
    let (status, _, body) = h.call_tool(Some(&h.valid_key), &huge).await;
    assert_eq!(status, 200);
    assert_eq!(body["error"]["data"]["code"], "unknown_tool", "{body:.200}");
    assert!(body.to_string().len() < 1000, "{body:.200}");

    // Both events wait in the spool, each a few hundred bytes, not 1.5 MB.
    let status = h.guard.status();
    assert_eq!(status.spool_pending, 2);
    assert!(status.spool_pending_bytes < 2000, "{status:?}");
    h.authority.take_events.store(true, Ordering::SeqCst);
    h.wait_until_shipped().await;
    for event in h.authority.events.lock().iter() {
        let tool = event["tool"].as_str().unwrap();
        assert_eq!(tool.chars().count(), 200);
        assert!(tool.ends_with('…'));
    }
}
