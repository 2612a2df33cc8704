//! `GET /revocations/stream`: live revocations, resume with
//! `Last-Event-ID` without missing any, and the stream ends with its key.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};

use crate::harness::{error_code, spawn_app, TestApp};

#[derive(Debug, Clone)]
struct SseEvent {
    kind: String,
    id: String,
    data: String,
}

struct SseReader {
    stream: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl SseReader {
    async fn open(app: &TestApp, key: &str, last_event_id: Option<&str>) -> Self {
        let mut request = app
            .client
            .get(app.url("/api/v1/revocations/stream"))
            .bearer_auth(key);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Self {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event, or `None` when the stream ends or `wait` passes.
    async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent {
                    kind: String::new(),
                    id: String::new(),
                    data: String::new(),
                };
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        event.kind = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("id:") {
                        event.id = value.trim().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        event.data.push_str(value.trim());
                    }
                }
                if !event.kind.is_empty() {
                    return Some(event);
                }
            }
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// True once the server ends the stream; false if it is still open
    /// (sending checkpoints or anything else) when `wait` passes.
    async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(_))) => continue,
                Ok(None) | Ok(Some(Err(_))) => return true,
                Err(_) => return false,
            }
        }
    }

    async fn next_revocation(&mut self, wait: Duration) -> Option<(SseEvent, Value)> {
        while let Some(event) = self.next(wait).await {
            if event.kind == "revocation" {
                let data = serde_json::from_str(&event.data).unwrap();
                return Some((event, data));
            }
        }
        None
    }
}

#[tokio::test]
async fn revocations_arrive_live_and_survive_a_reconnect() {
    let app = spawn_app().await;
    let (service, _) = app.mint("tool-server", &["svc:keys:introspect"]).await;
    let (_, first_id) = app.mint("first", &["svc:wiki:read"]).await;
    let (_, second_id) = app.mint("second", &["svc:wiki:read"]).await;
    let (_, third_id) = app.mint("third", &["svc:wiki:read"]).await;
    let (_, theirs_id) = app
        .mint_as(&app.other_admin, "theirs", &["svc:wiki:read"])
        .await;

    let mut stream = SseReader::open(&app, &service, None).await;
    let hello = stream
        .next(Duration::from_secs(5))
        .await
        .expect("a first checkpoint");
    assert_eq!(hello.kind, "checkpoint");

    // Another org's revocation is not ours to see; our own arrives live.
    app.post(
        &app.other_admin,
        &format!("/api/v1/keys/{theirs_id}/revoke"),
        json!({}),
    )
    .await;
    app.post(
        &app.admin,
        &format!("/api/v1/keys/{first_id}/revoke"),
        json!({}),
    )
    .await;
    let (event, data) = stream
        .next_revocation(Duration::from_secs(5))
        .await
        .expect("live revocation");
    assert_eq!(data["key_id"], first_id.as_str());
    assert_eq!(data["org"], "acme");
    let last_id = event.id.clone();
    drop(stream);

    // Revoked while nobody listened: another org's key first, then ours.
    // The resumed stream replays from the resume point, so a replay that
    // ignored the org would deliver theirs before ours.
    let (_, theirs_after_id) = app
        .mint_as(&app.other_admin, "theirs-after", &["svc:wiki:read"])
        .await;
    let response = app
        .post(
            &app.other_admin,
            &format!("/api/v1/keys/{theirs_after_id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{second_id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let mut resumed = SseReader::open(&app, &service, Some(&last_id)).await;
    let mut delivered = Vec::new();
    while !delivered.contains(&second_id) {
        let (_, data) = resumed
            .next_revocation(Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("missed across the reconnect: {delivered:?}"));
        delivered.push(data["key_id"].as_str().unwrap().to_owned());
    }
    // And one more live, so anything queued behind ours has come out too.
    app.post(
        &app.admin,
        &format!("/api/v1/keys/{third_id}/revoke"),
        json!({}),
    )
    .await;
    while !delivered.contains(&third_id) {
        let (_, data) = resumed
            .next_revocation(Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("live revocation after the resume: {delivered:?}"));
        delivered.push(data["key_id"].as_str().unwrap().to_owned());
    }
    assert!(
        !delivered.contains(&theirs_id) && !delivered.contains(&theirs_after_id),
        "another org's revocation leaked: {delivered:?}"
    );
}

#[tokio::test]
async fn the_stream_ends_when_its_own_key_is_revoked() {
    let app = spawn_app().await;
    let (service, service_id) = app.mint("tool-server", &["svc:keys:introspect"]).await;
    let mut stream = SseReader::open(&app, &service, None).await;
    stream
        .next(Duration::from_secs(5))
        .await
        .expect("checkpoint");
    app.post(
        &app.admin,
        &format!("/api/v1/keys/{service_id}/revoke"),
        json!({}),
    )
    .await;
    let (_, data) = stream
        .next_revocation(Duration::from_secs(5))
        .await
        .expect("own revocation");
    assert_eq!(data["key_id"], service_id.as_str());
    // Ended, not merely quiet: a stream still running sends a checkpoint
    // every 10 s, so waiting well past that tells the two apart.
    assert!(
        stream.ends_within(Duration::from_secs(30)).await,
        "stream kept running after its own key was revoked"
    );
}

#[tokio::test]
async fn the_stream_checks_its_caller() {
    let app = spawn_app().await;
    let (plain, _) = app.mint("plain", &["svc:wiki:read"]).await;
    assert_eq!(
        error_code(app.get(&plain, "/api/v1/revocations/stream").await, 403).await,
        "insufficient_scope"
    );
    let response = app
        .client
        .get(app.url("/api/v1/revocations/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 401).await, "missing_key");
    let response = app
        .client
        .get(app.url("/api/v1/revocations/stream"))
        .bearer_auth(&app.admin)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 400).await, "malformed_request");
}

/// A resume replays at most 1,000 revocations (one bounded index read,
/// however large the org): past that the stream says `reset`, and the
/// client drops every cached decision instead of missing one.
#[tokio::test]
async fn a_resume_past_the_replay_bound_resets_the_client() {
    let app = spawn_app().await;
    let (service, _) = app.mint("tool-server", &["svc:keys:introspect"]).await;
    let mut stream = SseReader::open(&app, &service, None).await;
    let hello = stream.next(Duration::from_secs(5)).await.unwrap();
    drop(stream);
    let mints = (0..1001).map(|i| {
        app.post(
            &app.admin,
            "/api/v1/keys/mint",
            json!({"name": format!("bot-{i}"), "scopes": ["svc:wiki:read", "agent:swarm"]}),
        )
    });
    for response in futures::future::join_all(mints).await {
        assert_eq!(response.status(), 201);
    }
    let response = app
        .post(&app.admin, "/api/v1/keys/revoke", json!({"agent": "swarm"}))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["revoked"], 1001, "{body}");

    let mut resumed = SseReader::open(&app, &service, Some(&hello.id)).await;
    let mut kinds = Vec::new();
    while let Some(event) = resumed.next(Duration::from_secs(2)).await {
        kinds.push(event.kind);
        if kinds.len() == 3 {
            break;
        }
    }
    assert_eq!(kinds[..2], ["checkpoint", "reset"], "{kinds:?}");
}
