//! `POST /introspect`: RFC 7662-style answers for tool servers.

use serde_json::{json, Value};

use crate::harness::{error_code, spawn_app};

#[tokio::test]
async fn introspection_answers_active_with_facts_or_inactive_with_nothing() {
    let app = spawn_app().await;
    let (service, _) = app.mint("wiki-server", &["svc:keys:introspect"]).await;
    let (agent, agent_id) = app.mint("agent", &["svc:wiki:read", "agent:devops"]).await;

    let response = app
        .post(&service, "/api/v1/introspect", json!({ "token": agent }))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["active"], true);
    assert_eq!(answer["key_id"], agent_id.as_str());
    assert_eq!(answer["org"], "acme");
    assert_eq!(answer["env"], "live");
    assert_eq!(answer["agent"], "devops");
    assert!(answer["scope"].as_str().unwrap().contains("svc:wiki:read"));
    assert!(answer["exp"].as_i64().unwrap() > 1_700_000_000);
    assert!(
        !answer.to_string().contains(&agent),
        "the raw key was echoed"
    );

    // Revoked, unknown, malformed, another org's: `active: false` and nothing else.
    app.post(
        &app.admin,
        &format!("/api/v1/keys/{agent_id}/revoke"),
        json!({}),
    )
    .await;
    let (theirs, _) = app
        .mint_as(&app.other_admin, "theirs", &["svc:wiki:read"])
        .await;
    for token in [
        agent.as_str(),
        "ace_live_notakeyatall",
        "hello",
        theirs.as_str(),
    ] {
        let answer: Value = app
            .post(&service, "/api/v1/introspect", json!({ "token": token }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer, json!({ "active": false }), "for {token}");
    }
}

#[tokio::test]
async fn introspection_needs_its_own_scope_and_a_token() {
    let app = spawn_app().await;
    let (plain, _) = app.mint("plain", &["svc:wiki:read"]).await;
    let response = app
        .post(&plain, "/api/v1/introspect", json!({ "token": plain }))
        .await;
    assert_eq!(error_code(response, 403).await, "insufficient_scope");
    let response = app
        .client
        .post(app.url("/api/v1/introspect"))
        .json(&json!({ "token": plain }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 401).await, "missing_key");
    let response = app.post(&app.admin, "/api/v1/introspect", json!({})).await;
    assert_eq!(error_code(response, 422).await, "invalid_field");
    let response = app
        .post_raw(&app.admin, "/api/v1/introspect", "token=abc")
        .await;
    assert_eq!(error_code(response, 400).await, "malformed_request");
}
