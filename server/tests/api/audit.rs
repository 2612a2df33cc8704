//! `/audit`: ingest, query with filters and cursors, one event, timeline,
//! verify, CSV and NDJSON export.

use serde_json::{json, Value};

use crate::harness::{error_code, spawn_app};

fn call(tool: &str, decision: &str, agent: &str) -> Value {
    json!({ "tool": tool, "decision": decision, "agent": agent, "required_scope": "svc:wiki:read",
            "reason": if decision == "denied" { "insufficient_scope" } else { "ok" }, "latency_us": 12 })
}

#[tokio::test]
async fn ingested_events_are_queryable_filterable_and_paginated() {
    let app = spawn_app().await;
    let (writer, _) = app.mint("wiki-server", &["svc:audit:write"]).await;
    let (reader, _) = app.mint("security", &["svc:audit:read"]).await;

    let mut events = Vec::new();
    for index in 0..25 {
        let decision = if index % 5 == 0 { "denied" } else { "allowed" };
        events.push(call(
            if index % 2 == 0 {
                "wiki.read"
            } else {
                "wiki.search"
            },
            decision,
            "devops",
        ));
    }
    let response = app
        .post(&writer, "/api/v1/audit/events", json!({ "events": events }))
        .await;
    assert_eq!(response.status(), 201);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["accepted"], 25);

    let denied: Value = app
        .get(&reader, "/api/v1/audit?decision=denied&kind=tool_call")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(denied["events"].as_array().unwrap().len(), 5);
    assert!(denied["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["decision"] == "denied" && e["org"] == "acme"));

    // Cursor pagination, newest first, no duplicates, no gaps.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/audit?kind=tool_call&limit=10&cursor={cursor}"),
            None => "/api/v1/audit?kind=tool_call&limit=10".to_owned(),
        };
        let page: Value = app.get(&reader, &path).await.json().await.unwrap();
        for event in page["events"].as_array().unwrap() {
            seen.push((
                event["ts"].as_str().unwrap().to_owned(),
                event["id"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "not newest first");
    sorted.dedup();
    assert_eq!(sorted.len(), 25);

    let one = &seen[0].1;
    let event: Value = app
        .get(&reader, &format!("/api/v1/audit/events/{one}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(event["id"], one.as_str());
    assert_eq!(
        error_code(
            app.get(&reader, "/api/v1/audit/events/evt_nothere").await,
            404
        )
        .await,
        "not_found"
    );
    // Another org cannot read it.
    assert_eq!(
        app.get(&app.other_admin, &format!("/api/v1/audit/events/{one}"))
            .await
            .status(),
        404
    );

    let timeline: Value = app
        .get(&reader, "/api/v1/audit/timeline?kind=tool_call")
        .await
        .json()
        .await
        .unwrap();
    let buckets = timeline["buckets"].as_array().unwrap();
    let allowed: u64 = buckets.iter().map(|b| b["allowed"].as_u64().unwrap()).sum();
    let denied: u64 = buckets.iter().map(|b| b["denied"].as_u64().unwrap()).sum();
    assert_eq!((allowed, denied), (20, 5));

    let report: Value = app
        .get(&reader, "/api/v1/audit/verify")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["ok"], true, "{report}");
}

#[tokio::test]
async fn audit_endpoints_refuse_bad_filters_and_missing_scopes() {
    let app = spawn_app().await;
    let (writer, _) = app.mint("writer", &["svc:audit:write"]).await;
    let (outsider, _) = app.mint("outsider", &["svc:wiki:read"]).await;
    assert_eq!(
        error_code(app.get(&outsider, "/api/v1/audit").await, 403).await,
        "insufficient_scope"
    );
    let (reader, _) = app.mint("reader", &["svc:audit:read"]).await;
    let response = app
        .post(&reader, "/api/v1/audit/events", json!({ "events": [] }))
        .await;
    assert_eq!(error_code(response, 403).await, "insufficient_scope");
    for bad in [
        "decision=maybe",
        "since=yesterday",
        "key_id=nope",
        "limit=0",
        "limit=5000",
        "cursor=xyz",
        "kind=other",
    ] {
        let response = app.get(&reader, &format!("/api/v1/audit?{bad}")).await;
        assert_eq!(response.status(), 422, "{bad}");
    }
    assert_eq!(
        app.get(&reader, "/api/v1/audit?limit=many").await.status(),
        400
    );
    assert_eq!(
        app.get(&reader, "/api/v1/audit?colour=red").await.status(),
        400
    );
    assert_eq!(
        app.get(&reader, "/api/v1/audit/export?format=xml")
            .await
            .status(),
        422
    );
    let response = app
        .post(
            &writer,
            "/api/v1/audit/events",
            json!({ "events": [{ "tool": "x", "decision": "perhaps" }] }),
        )
        .await;
    assert_eq!(response.status(), 422);
    // Ids in a body are validated like ids in a path: no `key_../x` lands in the trail.
    let response = app
        .post(
            &writer,
            "/api/v1/audit/events",
            json!({ "events": [{ "tool": "x", "decision": "allowed", "key_id": "key_../x" }] }),
        )
        .await;
    assert_eq!(response.status(), 422);
    let message = response.text().await.unwrap();
    assert!(message.contains("key id"), "{message}");
    // A latency no store keeps exactly (found by schemathesis): refused, not stored clamped
    // beside a chain hash over the unclamped value, which `audit verify` would call tampering.
    let response = app
        .post(
            &writer,
            "/api/v1/audit/events",
            json!({ "events": [{ "tool": "x", "decision": "allowed", "latency_us": 9_223_372_036_854_775_808_u64 }] }),
        )
        .await;
    assert_eq!(response.status(), 422);
    // An instant RFC 3339 cannot write (found by schemathesis: it came back as a bare number).
    let response = app
        .post(
            &writer,
            "/api/v1/audit/events",
            json!({ "events": [{ "tool": "x", "decision": "allowed", "ts": i64::MAX }] }),
        )
        .await;
    assert_eq!(response.status(), 422);
    let verify: Value = app
        .get(&app.admin, "/api/v1/audit/verify")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(verify["ok"], true, "{verify}");
    let many: Vec<Value> = (0..1001).map(|_| call("t", "allowed", "a")).collect();
    let response = app
        .post(&writer, "/api/v1/audit/events", json!({ "events": many }))
        .await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn export_streams_csv_and_ndjson_of_the_whole_query() {
    let app = spawn_app().await;
    let (writer, _) = app.mint("writer", &["svc:audit:write"]).await;
    // More than one export page (1000 rows), in two batches.
    for _ in 0..2 {
        let events: Vec<Value> = (0..700)
            .map(|i| {
                call(
                    if i % 2 == 0 {
                        "=cmd|' /C calc'!A0"
                    } else {
                        "wiki,read"
                    },
                    "allowed",
                    "bot",
                )
            })
            .collect();
        assert_eq!(
            app.post(&writer, "/api/v1/audit/events", json!({ "events": events }))
                .await
                .status(),
            201
        );
    }
    let response = app
        .get(&app.admin, "/api/v1/audit/export?kind=tool_call")
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,ts,org,kind"));
    assert_eq!(lines.len(), 1 + 1400);
    assert!(
        csv.contains("\"'=cmd|' /C calc'!A0\""),
        "formula not defused"
    );
    assert!(csv.contains("\"wiki,read\""));

    let response = app
        .get(
            &app.admin,
            "/api/v1/audit/export?kind=tool_call&format=ndjson",
        )
        .await;
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let text = response.text().await.unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(rows.len(), 1400);
    assert!(rows.iter().all(|row| row["org"] == "acme"));
}

#[tokio::test]
async fn timeline_bucket_width_must_be_positive() {
    let app = spawn_app().await;
    for bad in ["bucket_secs=0", "bucket_secs=-5"] {
        let response = app
            .get(&app.admin, &format!("/api/v1/audit/timeline?{bad}"))
            .await;
        assert_eq!(error_code(response, 422).await, "invalid_field", "{bad}");
    }
    assert_eq!(
        app.get(&app.admin, "/api/v1/audit/timeline?bucket_secs=99999999999")
            .await
            .status(),
        400
    );
    assert_eq!(
        app.get(&app.admin, "/api/v1/audit/timeline?bucket_secs=3600")
            .await
            .status(),
        200
    );
}

/// People read names: a page names the org's keys its events name (the
/// acting key, the key an admin event acted on), and never another org's
/// key, even one an ingested event claims.
#[tokio::test]
async fn a_page_names_the_keys_its_events_name() {
    let app = spawn_app().await;
    let (_, minted) = app.mint("devops-agent-key", &["svc:wiki:read"]).await;
    let (_, theirs) = app
        .mint_as(&app.other_admin, "globex-secret-name", &["svc:wiki:read"])
        .await;
    let (reporter, _) = app.mint("tool-server", &["svc:audit:write"]).await;
    let ingest = app
        .post(
            &reporter,
            "/api/v1/audit/events",
            json!({"events": [{"key_id": theirs, "tool": "t", "decision": "allowed"}]}),
        )
        .await;
    assert_eq!(ingest.status(), 201);
    let page: Value = app
        .get(&app.admin, "/api/v1/audit?limit=50")
        .await
        .json()
        .await
        .unwrap();
    let names = &page["key_names"];
    assert_eq!(names[&minted], "devops-agent-key", "{names}");
    assert!(names.as_object().unwrap().len() >= 2, "{names}");
    assert!(
        !page["key_names"].to_string().contains("globex-secret-name"),
        "another org's key name leaked: {names}"
    );
}
