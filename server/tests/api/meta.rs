//! Health, metrics, the scope catalog, the OpenAPI document, the reference
//! page, unknown endpoints and security headers.

use serde_json::Value;

use crate::harness::{error_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_metrics_and_headers() {
    let app = spawn_app_with(&[("ACEKEYS_METRICS_ADDR", "127.0.0.1:0")]).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");
    assert_eq!(health.headers()["x-frame-options"], "DENY");

    // Some traffic, so the metrics have something to say.
    app.get(&app.admin, "/api/v1/keys").await;
    app.get("ace_live_bogus", "/api/v1/keys").await;
    // The whole server's metrics are for its operator: never on the public
    // listener, only on the one `--metrics-addr` names.
    let public = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);
    let stdout = app.stdout();
    let metrics_url = stdout
        .lines()
        .find_map(|l| l.strip_prefix("acekeys metrics on "))
        .expect("the metrics address is printed")
        .to_owned();
    let metrics = app
        .client
        .get(metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("acekeys_validation_duration_seconds"),
        "{metrics}"
    );
    assert!(metrics.contains("acekeys_denials_total"), "{metrics}");
    for name in [
        "acekeys_validator_cache_hit_ratio",
        "acekeys_audit_queue_depth",
        "acekeys_audit_commits_total",
        "acekeys_revocations_total",
    ] {
        assert!(metrics.contains(name), "{name} missing from /metrics");
    }
    assert!(!metrics.contains(&app.admin[9..]), "a key in the metrics");
}

#[tokio::test]
async fn scope_catalog_lists_services_with_descriptions() {
    let app = spawn_app().await;
    let response = app.get(&app.admin, "/api/v1/scopes").await;
    assert_eq!(response.status(), 200);
    let catalog: Value = response.json().await.unwrap();
    let services = catalog["services"].as_array().unwrap();
    let wiki = services
        .iter()
        .find(|s| s["service"] == "wiki")
        .expect("wiki in the catalog");
    assert!(wiki["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["scope"] == "svc:wiki:read" && !a["description"].as_str().unwrap().is_empty()));
    assert_eq!(
        app.client
            .get(app.url("/api/v1/scopes"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn tool_servers_add_their_scopes_to_the_catalog() {
    let app = spawn_app().await;
    let (tool_server, _) = app.mint("jira-server", &["svc:catalog:write"]).await;
    let body = serde_json::json!({ "scopes": [
        { "scope": "read:jira", "description": "Read Jira issues" },
        { "scope": "svc:jira:write", "description": "Create and edit Jira issues" },
    ]});
    let response = app.post(&tool_server, "/api/v1/scopes", body.clone()).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["scopes"],
        serde_json::json!(["svc:jira:read", "svc:jira:write"])
    );
    assert_eq!(answer["added"], 2);
    // Idempotent, and keys can now be minted for the new scopes.
    let again: Value = app
        .post(&tool_server, "/api/v1/scopes", body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["added"], 0);
    app.mint("jira-agent", &["svc:jira:read"]).await;
    let catalog: Value = app
        .get(&app.admin, "/api/v1/scopes")
        .await
        .json()
        .await
        .unwrap();
    assert!(catalog.to_string().contains("Read Jira issues"));

    let (plain, _) = app.mint("plain", &["svc:wiki:read"]).await;
    let body = serde_json::json!({ "scopes": [{ "scope": "svc:x:read", "description": "x" }] });
    assert_eq!(
        error_code(app.post(&plain, "/api/v1/scopes", body).await, 403).await,
        "insufficient_scope"
    );
    let bad = serde_json::json!({ "scopes": [{ "scope": "admin:org", "description": "x" }] });
    assert_eq!(
        error_code(app.post(&tool_server, "/api/v1/scopes", bad).await, 422).await,
        "invalid_field"
    );
    let empty = serde_json::json!({ "scopes": [] });
    assert_eq!(
        error_code(app.post(&tool_server, "/api/v1/scopes", empty).await, 422).await,
        "invalid_field"
    );
}

#[tokio::test]
async fn openapi_document_and_reference_page() {
    let app = spawn_app().await;
    let spec: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/keys/mint",
        "/keys",
        "/keys/{id}",
        "/keys/{id}/revoke",
        "/keys/{id}/rotate",
        "/keys/revoke",
        "/introspect",
        "/revocations/stream",
        "/audit",
        "/audit/export",
        "/audit/events",
        "/scopes",
    ] {
        assert!(
            spec["paths"].get(path).is_some(),
            "{path} missing from the spec"
        );
    }
    let page = app
        .client
        .get(app.url("/api/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("acekeys API reference") && page.contains("/api/v1/keys/mint"));
}

#[tokio::test]
async fn unknown_endpoints_and_methods_answer_in_the_envelope() {
    let app = spawn_app().await;
    assert_eq!(
        error_code(app.get(&app.admin, "/api/v1/nothing").await, 404).await,
        "not_found"
    );
    let response = app
        .client
        .delete(app.url("/api/v1/keys"))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 405).await, "method_not_allowed");
}

/// Pages and data answers are never kept in a cache: a shared or
/// back-button cache must not show an org's keys or trail after sign-out.
#[tokio::test]
async fn pages_and_data_answers_are_no_store() {
    let app = spawn_app().await;
    let sign_in = app.client.get(app.url("/sign-in")).send().await.unwrap();
    assert_eq!(sign_in.status(), 200);
    assert_eq!(sign_in.headers()["cache-control"], "no-store");
    for path in ["/api/v1/keys", "/api/v1/audit?limit=1", "/api/v1/nothing"] {
        let response = app.get(&app.admin, path).await;
        assert_eq!(
            response
                .headers()
                .get("cache-control")
                .map(|v| v.to_str().unwrap()),
            Some("no-store"),
            "{path}"
        );
    }
}
