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

/// RFC 7662 §2.1: the request is a form; generic OAuth libraries send it so.
#[tokio::test]
async fn introspection_accepts_the_rfc_7662_form() {
    let app = spawn_app().await;
    let (service, _) = app.mint("wiki-server", &["svc:keys:introspect"]).await;
    let (agent, agent_id) = app.mint("agent", &["svc:wiki:read"]).await;
    let form = |body: String| {
        app.client
            .post(app.url("/api/v1/introspect"))
            .bearer_auth(&service)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let encoded: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", &agent)
        .append_pair("token_type_hint", "access_token")
        .finish();
    let response = form(encoded).await.unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        (answer["active"].as_bool(), answer["key_id"].as_str()),
        (Some(true), Some(agent_id.as_str()))
    );

    for (body, says) in [
        (String::new(), "token is missing"),
        ("token=a&token=b".to_owned(), "send it once"),
        (format!("{agent}=x"), "unknown form field"),
    ] {
        let response = form(body).await.unwrap();
        assert_eq!(response.status(), 422);
        let text = response.text().await.unwrap();
        assert!(text.contains(says), "{text}");
        assert!(!text.contains(&agent), "a pasted key is never echoed");
    }
}
