//! The spool and its shipper against a stand-in for the authority's ingest
//! endpoint on a real loopback socket (axum): it answers 413 above a body
//! size, as the authority does above `MAX_REQUEST_BYTES` and as a proxy in
//! front of it may do lower, a fault a real authority cannot be made to
//! show at will.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::routing::post;
use parking_lot::Mutex;

use super::*;
use crate::remote::client::AuthorityApi;
use authority::audit::Decision;
use authority::RawKey;
use model::wire::MAX_REQUEST_BYTES;

const ROOMY: SpoolLimits = SpoolLimits {
    max_events: 1_000_000,
    max_bytes: 1 << 30,
};

fn call(tool: &str) -> ToolCall {
    ToolCall {
        org: None,
        key_id: None,
        agent: None,
        tool: tool.to_owned(),
        required_scope: None,
        decision: Decision::Allowed,
        reason: None,
        server: None,
        request_id: None,
        client_ip: None,
        latency_us: None,
        ts: None,
    }
}

/// An event with every text field at its limit, in characters UTF-8
/// writes as four bytes: about 6 KB, the largest a bounded event gets.
fn largest(tool: &str) -> ToolCall {
    let fill = |n: usize| Some(WIDE.repeat(n));
    let mut tool = tool.to_owned();
    tool.push_str(&WIDE.repeat(ToolCall::MAX_TOOL - tool.chars().count()));
    ToolCall {
        agent: fill(ToolCall::MAX_AGENT),
        required_scope: fill(ToolCall::MAX_REQUIRED_SCOPE),
        reason: fill(ToolCall::MAX_REASON),
        server: fill(ToolCall::MAX_SERVER),
        request_id: fill(ToolCall::MAX_REQUEST_ID),
        client_ip: fill(ToolCall::MAX_CLIENT_IP),
        ..call(&tool)
    }
}

const WIDE: &str = "\u{1F600}";

/// What the stand-in authority saw.
#[derive(Default)]
struct Received {
    /// Tool names of the events it accepted, in order.
    tools: Mutex<Vec<String>>,
    /// Sizes of the bodies it accepted.
    bodies: Mutex<Vec<usize>>,
    too_large: Mutex<usize>,
}

struct Fake {
    max_body: usize,
    received: Arc<Received>,
}

async fn ingest(State(fake): State<Arc<Fake>>, body: Bytes) -> (StatusCode, String) {
    if body.len() > fake.max_body {
        *fake.received.too_large.lock() += 1;
        let error = r#"{"error":{"code":"body_too_large","message":"request body too large"}}"#;
        return (StatusCode::PAYLOAD_TOO_LARGE, error.into());
    }
    let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let events = parsed["events"].as_array().unwrap();
    let tools = events
        .iter()
        .map(|e| e["tool"].as_str().unwrap().to_owned());
    fake.received.tools.lock().extend(tools);
    fake.received.bodies.lock().push(body.len());
    (StatusCode::CREATED, "{}".into())
}

/// Serves `POST /api/v1/audit/events`, answering 413 above `max_body`.
async fn authority(max_body: usize) -> (AuthorityApi, Arc<Received>) {
    let received = Arc::new(Received::default());
    let fake = Arc::new(Fake {
        max_body,
        received: received.clone(),
    });
    let app = axum::Router::new()
        .route("/api/v1/audit/events", post(ingest))
        .layer(DefaultBodyLimit::disable())
        .with_state(fake);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let api = AuthorityApi::new(
        reqwest::Client::new(),
        base,
        Arc::new(RawKey::new_unchecked("ace_test_unused".into())),
    );
    (api, received)
}

/// Ships until the spool is empty.
async fn drain(spool: &Spool, api: &AuthorityApi) {
    while spool.ship_once(api).await.unwrap() > 0 {}
}

fn count(spool: &Spool, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    spool.db.lock().query_row(&sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn events_too_large_for_one_request_are_shipped_in_byte_sized_batches() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), ROOMY).unwrap();
    let names: Vec<String> = (0..500).map(|i| format!("e{i:03}")).collect();
    for name in &names {
        spool.append(largest(name)).await.unwrap();
    }
    let stats = &spool.stats;
    assert!(stats.pending_bytes.load(Ordering::Relaxed) > 2 * MAX_REQUEST_BYTES as u64);

    let (api, received) = authority(MAX_REQUEST_BYTES).await;
    drain(&spool, &api).await;

    let bodies = received.bodies.lock().clone();
    assert!(bodies.len() >= 3, "{bodies:?}");
    assert!(bodies.iter().all(|&b| b <= MAX_REQUEST_BYTES), "{bodies:?}");
    assert_eq!(*received.too_large.lock(), 0, "no batch was too large");
    let shipped: Vec<String> = received
        .tools
        .lock()
        .iter()
        .map(|t| t.trim_end_matches(WIDE).to_owned())
        .collect();
    assert_eq!(shipped, names, "every event, once, in order");
    assert_eq!(stats.shipped.load(Ordering::Relaxed), 500);
    assert_eq!(stats.rejected.load(Ordering::Relaxed), 0);
    assert_eq!(stats.pending.load(Ordering::Relaxed), 0);
    assert_eq!(stats.pending_bytes.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn a_row_spooled_unbounded_by_an_older_guard_is_shipped_bounded_with_its_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), ROOMY).unwrap();
    spool.append(call("before")).await.unwrap();
    // What a guard that did not bound its events spooled for a keyless
    // call with a 1.5 MB tool name: over the authority's limit on its own.
    let huge = serde_json::to_string(&call(&"h".repeat(1_500_000))).unwrap();
    spool
        .db
        .lock()
        .execute("INSERT INTO events (body) VALUES (?1)", [&huge])
        .unwrap();
    spool.stats.pending.fetch_add(1, Ordering::Relaxed);
    spool.append(call("after")).await.unwrap();

    let (api, received) = authority(MAX_REQUEST_BYTES).await;
    drain(&spool, &api).await;

    let tools = received.tools.lock().clone();
    assert_eq!(tools.len(), 3);
    assert_eq!((tools[0].as_str(), tools[2].as_str()), ("before", "after"));
    assert_eq!(tools[1].chars().count(), ToolCall::MAX_TOOL);
    assert!(tools[1].ends_with('…'));
    assert_eq!(spool.stats.rejected.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn a_413_halves_the_batch_and_only_an_event_refused_on_its_own_is_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), ROOMY).unwrap();
    let mut honest = Vec::new();
    for i in 0..60 {
        if i == 37 {
            // Bounded, but over the 4 KiB this proxy lets through.
            spool.append(largest("too-big")).await.unwrap();
        }
        let name = format!("honest-{i}");
        spool.append(call(&name)).await.unwrap();
        honest.push(name);
    }

    let (api, received) = authority(4 * 1024).await;
    drain(&spool, &api).await;

    assert!(*received.too_large.lock() > 0, "the proxy limit was hit");
    assert_eq!(*received.tools.lock(), honest, "every honest event shipped");
    let stats = &spool.stats;
    assert_eq!(stats.shipped.load(Ordering::Relaxed), 60);
    assert_eq!(stats.rejected.load(Ordering::Relaxed), 1);
    let (body, error): (String, String) = spool
        .db
        .lock()
        .query_row("SELECT body, error FROM rejected", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(body.contains("too-big"), "{body:.60}");
    assert!(error.starts_with("413"), "{error}");
    assert_eq!(count(&spool, "events"), 0);
}

#[tokio::test]
async fn a_full_spool_refuses_new_events_keeps_the_old_ones_and_takes_more_once_shipped() {
    let dir = tempfile::tempdir().unwrap();
    let limits = SpoolLimits {
        max_events: 3,
        max_bytes: 1 << 20,
    };
    let spool = Spool::open(dir.path(), limits).unwrap();
    for i in 0..3 {
        spool.append(call(&format!("kept-{i}"))).await.unwrap();
    }
    let refused = spool.append(call("refused")).await;
    assert!(
        matches!(refused, Err(SpoolError::Full { events: 3, .. })),
        "{refused:?}"
    );
    assert!(spool.stats.full.load(Ordering::Relaxed));
    assert_eq!(count(&spool, "events"), 3, "nothing dropped to make room");

    // What a previous run left counts after a restart, in events and bytes.
    let bytes = spool.stats.pending_bytes.load(Ordering::Relaxed);
    drop(spool);
    // Its writer task closes the file once it sees the queue closed.
    tokio::task::yield_now().await;
    let spool = Spool::open(dir.path(), limits).unwrap();
    assert_eq!(spool.stats.pending.load(Ordering::Relaxed), 3);
    assert_eq!(spool.stats.pending_bytes.load(Ordering::Relaxed), bytes);
    assert!(spool.append(call("still-refused")).await.is_err());

    let (api, received) = authority(MAX_REQUEST_BYTES).await;
    drain(&spool, &api).await;
    assert_eq!(*received.tools.lock(), ["kept-0", "kept-1", "kept-2"]);
    spool.append(call("room-again")).await.unwrap();
    assert!(!spool.stats.full.load(Ordering::Relaxed));
}

#[tokio::test]
async fn the_byte_cap_refuses_an_event_that_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let small = serde_json::to_string(&call("s")).unwrap().len() as u64;
    let limits = SpoolLimits {
        max_events: 100,
        max_bytes: 2 * small,
    };
    let spool = Spool::open(dir.path(), limits).unwrap();
    spool.append(call("s")).await.unwrap();
    assert!(matches!(
        spool.append(call("longer")).await,
        Err(SpoolError::Full { .. })
    ));
    spool.append(call("t")).await.unwrap();
    assert_eq!(spool.stats.pending_bytes.load(Ordering::Relaxed), 2 * small);
}

#[tokio::test]
async fn an_undecodable_row_is_kept_as_rejected_not_shipped_as_nothing_or_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), ROOMY).unwrap();
    spool.append(call("first")).await.unwrap();
    // A row no guard wrote: damaged on disk, or written by another version.
    spool
        .db
        .lock()
        .execute("INSERT INTO events (body) VALUES ('{\"tool\": 42')", [])
        .unwrap();
    spool.stats.pending.fetch_add(1, Ordering::Relaxed);
    spool.append(call("second")).await.unwrap();

    let (api, received) = authority(MAX_REQUEST_BYTES).await;
    assert_eq!(spool.ship_once(&api).await.unwrap(), 3);
    assert_eq!(
        *received.tools.lock(),
        ["first", "second"],
        "only decodable events are shipped"
    );

    let (body, error): (String, String) = spool
        .db
        .lock()
        .query_row("SELECT body, error FROM rejected", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(body, "{\"tool\": 42");
    assert!(error.contains("undecodable"), "{error}");
    assert_eq!(count(&spool, "events"), 0);
    let stats = &spool.stats;
    assert_eq!(stats.rejected.load(Ordering::Relaxed), 1);
    assert_eq!(stats.shipped.load(Ordering::Relaxed), 2);
    assert_eq!(stats.pending.load(Ordering::Relaxed), 0);
}

#[test]
fn a_second_process_cannot_open_the_same_spool() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path()).unwrap();
    let second = open(dir.path());
    assert!(matches!(second, Err(SpoolError::Open { .. })), "{second:?}");
}

#[test]
fn the_envelope_is_the_ingest_body() {
    let body = ship::envelope(&[
        r#"{"tool":"a","decision":"allowed"}"#,
        r#"{"tool":"b","decision":"denied"}"#,
    ]);
    let parsed: model::wire::IngestBody = serde_json::from_str(&body).unwrap();
    assert_eq!(parsed.events.len(), 2);
    assert_eq!(ship::envelope(&[]), r#"{"events":[]}"#);
}
