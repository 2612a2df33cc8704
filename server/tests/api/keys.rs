//! `/keys`: mint, list, get, revoke, rotate, bulk revoke — every status.

use serde_json::{json, Value};

use crate::harness::{error_code, spawn_app};

#[tokio::test]
async fn the_announcement_mint_call_works_verbatim() {
    let app = spawn_app().await;
    let body = r#"{"orgId": "acme", "name": "devops-agent-key",
       "scopes": ["org:acme", "agent:devops", "svc:mcp:write"],
       "expires_days": 90}"#;
    let response = app.post_raw(&app.admin, "/api/v1/keys/mint", body).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let key: Value = response.json().await.unwrap();
    let raw = key["key"].as_str().unwrap();
    assert!(raw.starts_with("ace_live_"), "{raw}");
    assert!(key["id"].as_str().unwrap().starts_with("key_"));
    assert_eq!(key["name"], "devops-agent-key");
    assert_eq!(key["org"], "acme");
    assert_eq!(key["env"], "live");
    assert_eq!(key["agent"], "devops");
    let scopes: Vec<&str> = key["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        scopes.contains(&"svc:mcp:write")
            && scopes.contains(&"org:acme")
            && scopes.contains(&"agent:devops")
    );
    let hint = key["hint"].as_str().unwrap();
    assert!(hint.starts_with("ace_live_") && hint.contains('…') && !hint.contains(&raw[9..20]));
    assert!(key["created_at"].is_string() && key["expires_at"].is_string());
    // Expiry is 90 days after creation.
    let created = key["created_at"].as_str().unwrap();
    let expires = key["expires_at"].as_str().unwrap();
    assert_ne!(created, expires);
    assert!(expires > created);

    // The new key works for what it was given.
    let introspector = app.mint("introspector", &["svc:keys:introspect"]).await.0;
    let check = app
        .post(&introspector, "/api/v1/introspect", json!({ "token": raw }))
        .await;
    let check: Value = check.json().await.unwrap();
    assert_eq!(check["active"], true);
}

#[tokio::test]
async fn mint_accepts_the_alternative_spellings_and_short_scopes() {
    let app = spawn_app().await;
    let response = app
        .post(
            &app.admin,
            "/api/v1/keys/mint",
            json!({ "org_id": "acme", "name": "wiki-reader", "scopes": ["read:wiki"], "expiresDays": 7, "env": "test" }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let key: Value = response.json().await.unwrap();
    assert_eq!(key["scopes"], json!(["svc:wiki:read"]));
    assert_eq!(key["env"], "test");
    assert!(key["key"].as_str().unwrap().starts_with("ace_test_"));
}

#[tokio::test]
async fn mint_refuses_what_it_must() {
    let app = spawn_app().await;
    let mint = |key: &str, body: Value| {
        let app = &app;
        let key = key.to_owned();
        async move { app.post(&key, "/api/v1/keys/mint", body).await }
    };
    let ok = json!({ "name": "n", "scopes": ["svc:wiki:read"] });

    // 401: no key, with the Bearer challenge.
    let response = app
        .client
        .post(app.url("/api/v1/keys/mint"))
        .json(&ok)
        .send()
        .await
        .unwrap();
    // RFC 6750 §3.1: a request without credentials gets no error code.
    assert_eq!(
        response.headers()["www-authenticate"].to_str().unwrap(),
        r#"Bearer realm="acekeys""#
    );
    assert_eq!(error_code(response, 401).await, "missing_key");

    // A bad credential gets `invalid_token`.
    let response = mint("ace_live_not-a-key", ok.clone()).await;
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.starts_with(r#"Bearer realm="acekeys", error="invalid_token""#),
        "{challenge}"
    );
    assert_eq!(error_code(response, 401).await, "malformed_key");

    // 403: a key that may only read keys, naming the scope it lacks.
    let (reader, _) = app.mint("reader", &["svc:keys:read"]).await;
    let response = mint(&reader, ok.clone()).await;
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_scope");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("svc:keys:write"),
        "{body}"
    );

    // 400: not JSON.
    let response = app
        .post_raw(&app.admin, "/api/v1/keys/mint", "{\"name\": ")
        .await;
    assert_eq!(error_code(response, 400).await, "malformed_request");

    // 422: unknown scope, named, with a close match suggested.
    let response = mint(
        &app.admin,
        json!({ "name": "n", "scopes": ["svc:wiki:raed"] }),
    )
    .await;
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("svc:wiki:raed") && message.contains("svc:wiki:read"),
        "{message}"
    );

    // 422: expiry out of range, wrong types, missing fields.
    for body in [
        json!({ "name": "n", "scopes": ["svc:wiki:read"], "expires_days": 0 }),
        json!({ "name": "n", "scopes": ["svc:wiki:read"], "expires_days": 367 }),
        json!({ "name": "n", "scopes": "svc:wiki:read" }),
        json!({ "scopes": ["svc:wiki:read"] }),
        json!({ "name": "n", "scopes": ["svc:wiki:read"], "env": "staging" }),
    ] {
        let response = mint(&app.admin, body.clone()).await;
        assert_eq!(response.status(), 422, "for {body}");
    }

    // 413: a body over the limit, from a signed-in caller.
    let (status, envelope) = app
        .post_declared_oversized(Some(&app.admin), "/api/v1/keys/mint")
        .await;
    assert_eq!(status, 413);
    assert_eq!(envelope["error"]["code"], "body_too_large");
}

#[tokio::test]
async fn list_and_get_never_show_a_secret() {
    let app = spawn_app().await;
    let (raw, id) = app.mint("wiki", &["svc:wiki:read", "agent:wiki-bot"]).await;

    let response = app.get(&app.admin, "/api/v1/keys").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains(&raw), "a raw key leaked into the list");
    let list: Value = serde_json::from_str(&text).unwrap();
    let keys = list["keys"].as_array().unwrap();
    assert!(keys.iter().all(|key| key.get("key").is_none()));
    let listed = keys
        .iter()
        .find(|key| key["id"] == id.as_str())
        .expect("minted key listed");
    assert_eq!(listed["status"], "active");
    assert_eq!(listed["agent"], "wiki-bot");
    assert!(listed["created_by"].as_str().unwrap().starts_with("key_"));

    let filtered: Value = app
        .get(&app.admin, "/api/v1/keys?agent=wiki-bot")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(filtered["keys"].as_array().unwrap().len(), 1);
    let response = app.get(&app.admin, "/api/v1/keys?status=sleepy").await;
    assert_eq!(error_code(response, 400).await, "malformed_request");

    let response = app.get(&app.admin, &format!("/api/v1/keys/{id}")).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(!text.contains(&raw));

    assert_eq!(
        error_code(
            app.get(&app.admin, "/api/v1/keys/key_doesnotexist").await,
            404
        )
        .await,
        "not_found"
    );
    assert_eq!(
        error_code(app.get(&app.admin, "/api/v1/keys/not-an-id").await, 404).await,
        "not_found"
    );
    // A key without keys:read.
    let (wiki_only, _) = app.mint("wiki-only", &["svc:wiki:read"]).await;
    assert_eq!(
        error_code(app.get(&wiki_only, "/api/v1/keys").await, 403).await,
        "insufficient_scope"
    );
    // Too short to be a key: refused before any lookup.
    assert_eq!(
        error_code(app.get("ace_live_nope", "/api/v1/keys").await, 401).await,
        "malformed_key"
    );
}

#[tokio::test]
async fn revoke_is_immediate_and_idempotent() {
    let app = spawn_app().await;
    let (raw, id) = app.mint("doomed", &["svc:keys:read"]).await;
    assert_eq!(app.get(&raw, "/api/v1/keys").await.status(), 200);

    let path = format!("/api/v1/keys/{id}/revoke");
    let response = app
        .post(&app.admin, &path, json!({ "reason": "leaked in a log" }))
        .await;
    assert_eq!(response.status(), 200);
    let key: Value = response.json().await.unwrap();
    assert_eq!(key["status"], "revoked");
    assert_eq!(key["revoke_reason"], "leaked in a log");

    // The very next request with the revoked key fails.
    assert_eq!(
        error_code(app.get(&raw, "/api/v1/keys").await, 401).await,
        "invalid_key"
    );

    // Again, and with an empty body: still 200, still revoked, reason kept.
    let again = app
        .client
        .post(app.url(&path))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["status"], "revoked");
    assert_eq!(again["revoke_reason"], "leaked in a log");

    assert_eq!(
        error_code(
            app.post(&app.admin, "/api/v1/keys/key_nothere/revoke", json!({}))
                .await,
            404
        )
        .await,
        "not_found"
    );
    assert_eq!(
        error_code(app.post_raw(&app.admin, &path, "[").await, 400).await,
        "malformed_request"
    );
    assert_eq!(
        error_code(
            app.post(&app.admin, &path, json!({ "why": "x" })).await,
            422
        )
        .await,
        "invalid_field"
    );
    // serde would read `[]` as an empty struct; the API wants an object.
    assert_eq!(
        error_code(app.post_raw(&app.admin, &path, "[]").await, 422).await,
        "invalid_field"
    );
}

#[tokio::test]
async fn rotate_hands_over_to_a_successor() {
    let app = spawn_app().await;
    let (old_raw, old_id) = app.mint("rotating", &["svc:keys:read", "agent:ops"]).await;

    // Grace period: the old key keeps working until it ends.
    let response = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{old_id}/rotate"),
            json!({ "grace_secs": 3600 }),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let rotated: Value = response.json().await.unwrap();
    let new_raw = rotated["successor"]["key"].as_str().unwrap().to_owned();
    let new_id = rotated["successor"]["id"].as_str().unwrap().to_owned();
    assert_eq!(rotated["successor"]["name"], "rotating");
    assert_eq!(rotated["successor"]["agent"], "ops");
    assert_eq!(rotated["successor"]["rotated_from"], old_id.as_str());
    assert_eq!(rotated["previous"]["rotated_to"], new_id.as_str());
    assert!(rotated["previous"]["revokes_at"].is_string());
    assert_eq!(app.get(&old_raw, "/api/v1/keys").await.status(), 200);
    assert_eq!(app.get(&new_raw, "/api/v1/keys").await.status(), 200);

    // Rotating the same key again conflicts.
    let response = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{old_id}/rotate"),
            json!({}),
        )
        .await;
    assert_eq!(error_code(response, 409).await, "conflict");

    // Grace 0: the old key dies at once.
    let response = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{new_id}/rotate"),
            json!({ "grace_secs": 0 }),
        )
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(
        error_code(app.get(&new_raw, "/api/v1/keys").await, 401).await,
        "invalid_key"
    );

    assert_eq!(
        error_code(
            app.post(&app.admin, "/api/v1/keys/key_nothere/rotate", json!({}))
                .await,
            404
        )
        .await,
        "not_found"
    );
    let response = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{old_id}/rotate"),
            json!({ "grace_secs": "soon" }),
        )
        .await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn bulk_revoke_by_agent_and_for_the_whole_org() {
    let app = spawn_app().await;
    let (a1, _) = app.mint("a1", &["svc:keys:read", "agent:devops"]).await;
    let (a2, _) = app.mint("a2", &["svc:keys:read", "agent:devops"]).await;
    let (b1, _) = app.mint("b1", &["svc:keys:read", "agent:billing"]).await;

    let response = app.post(&app.admin, "/api/v1/keys/revoke", json!({})).await;
    assert_eq!(error_code(response, 422).await, "invalid_field");
    let response = app
        .post(
            &app.admin,
            "/api/v1/keys/revoke",
            json!({ "agent": "x", "all": true }),
        )
        .await;
    assert_eq!(error_code(response, 422).await, "invalid_field");

    let response = app
        .post(
            &app.admin,
            "/api/v1/keys/revoke",
            json!({ "agent": "devops", "reason": "incident 42" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let result: Value = response.json().await.unwrap();
    assert_eq!(result["revoked"], 2);
    assert_eq!(app.get(&a1, "/api/v1/keys").await.status(), 401);
    assert_eq!(app.get(&a2, "/api/v1/keys").await.status(), 401);
    assert_eq!(app.get(&b1, "/api/v1/keys").await.status(), 200);

    let response = app
        .post(&app.admin, "/api/v1/keys/revoke", json!({ "all": true }))
        .await;
    let result: Value = response.json().await.unwrap();
    assert_eq!(
        result["revoked"], 1,
        "only b1 was left; the caller is spared: {result}"
    );
    assert_eq!(app.get(&b1, "/api/v1/keys").await.status(), 401);
    assert_eq!(app.get(&app.admin, "/api/v1/keys").await.status(), 200);
    // The other org is untouched.
    assert_eq!(
        app.get(&app.other_admin, "/api/v1/keys").await.status(),
        200
    );
}

/// A key limited to named tool servers: shown and introspected with them,
/// refused by the authority's own API, and never minted from bad URLs.
#[tokio::test]
async fn keys_limited_to_tool_servers() {
    let app = spawn_app().await;
    let wiki = "https://wiki.example.com/mcp";
    let response = app
        .post(
            &app.admin,
            "/api/v1/keys/mint",
            json!({ "name": "wiki only", "scopes": ["svc:wiki:read", "svc:keys:read"], "resources": [wiki] }),
        )
        .await;
    assert_eq!(response.status(), 201);
    let minted: Value = response.json().await.unwrap();
    assert_eq!(minted["resources"], json!([wiki]), "{minted}");
    let key = minted["key"].as_str().unwrap();

    let (service, _) = app.mint("wiki-server", &["svc:keys:introspect"]).await;
    let answer: Value = app
        .post(&service, "/api/v1/introspect", json!({ "token": key }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (answer["active"].as_bool(), &answer["aud"]),
        (Some(true), &json!([wiki]))
    );
    assert_eq!(
        app.get(key, "/api/v1/keys").await.status(),
        401,
        "a key for tool servers is not a key for the authority's API"
    );

    for (resources, says) in [
        (json!(["wiki.example.com"]), "resources"),
        (json!(["http://wiki.example.com/mcp"]), "https"),
        (
            json!((0..11)
                .map(|i| format!("https://t{i}.example.com/"))
                .collect::<Vec<_>>()),
            "at most 10",
        ),
    ] {
        let response = app
            .post(
                &app.admin,
                "/api/v1/keys/mint",
                json!({ "name": "x", "scopes": ["svc:wiki:read"], "resources": resources }),
            )
            .await;
        assert_eq!(response.status(), 422);
        let text = response.text().await.unwrap();
        assert!(text.contains(says), "{text}");
    }

    // A key pasted into the wrong field is refused without being echoed.
    for body in [
        json!({ "name": "x", "scopes": ["svc:wiki:read"], "resources": [key] }),
        json!({ "name": "x", "scopes": [key] }),
        json!({ "name": key, "scopes": ["svc:wiki:read"] }),
    ] {
        let response = app.post(&app.admin, "/api/v1/keys/mint", body).await;
        assert_eq!(response.status(), 422);
        let text = response.text().await.unwrap();
        assert!(text.contains("credential") && !text.contains(key), "{text}");
    }
    assert!(!app.log().contains(key), "nor logged");
}

/// Quarantine as an attacker holding a guard's key would try it: it may hold
/// the org's agent keys (that is its job) but not its admin key, not another
/// org's keys, and it may never release one; release needs `svc:keys:admin`
/// and the key's scopes; bad bodies get a 422 naming the field.
#[tokio::test]
async fn quarantine_and_release_are_confined() {
    let app = spawn_app().await;
    let (guard, _) = app
        .mint("guard", &["svc:keys:introspect", "svc:keys:quarantine"])
        .await;
    let (agent, agent_id) = app.mint("agent", &["svc:keys:read", "agent:bot"]).await;
    let admin_id = {
        let v: Value = app
            .get(&app.admin, "/api/v1/keys")
            .await
            .json()
            .await
            .unwrap();
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| {
                k["scopes"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("admin:org"))
            })
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let hold = |id: &str| format!("/api/v1/keys/{id}/quarantine");
    let release = |id: &str| format!("/api/v1/keys/{id}/release");

    let r = app
        .post(
            &guard,
            &hold(&admin_id),
            json!({"rule": "loop", "reason": "x"}),
        )
        .await;
    assert_eq!(r.status(), 403, "a guard key cannot lock the admin out");
    let (_, globex_id) = {
        let r = app
            .post(
                &app.other_admin,
                "/api/v1/keys/mint",
                json!({"name": "g", "scopes": ["svc:keys:read"]}),
            )
            .await;
        let v: Value = r.json().await.unwrap();
        (
            v["key"].as_str().unwrap().to_owned(),
            v["id"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        app.post(&guard, &hold(&globex_id), json!({}))
            .await
            .status(),
        404
    );

    for (body, field) in [
        (json!({"rule": "parent"}), "rule"),
        (json!({"rule": "meltdown"}), ""),
        (json!({"reason": "x".repeat(600)}), "reason"),
        (json!({"evidence": "x"}), ""),
    ] {
        let r = app.post(&guard, &hold(&agent_id), body.clone()).await;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert!(status == 422 || status == 400, "{body}: {status} {text}");
        assert!(text.contains(field), "{body}: {text}");
    }

    let r = app
        .post(
            &guard,
            &hold(&agent_id),
            json!({"rule": "denial_burst", "reason": "20 refused calls"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["status"].as_str(), v["quarantine"]["rule"].as_str()),
        (Some("quarantined"), Some("denial_burst"))
    );
    assert_eq!(app.get(&agent, "/api/v1/keys").await.status(), 401);
    // Holding it again is idempotent.
    assert_eq!(
        app.post(&guard, &hold(&agent_id), json!({})).await.status(),
        200
    );

    assert_eq!(
        app.post(&guard, &release(&agent_id), json!({}))
            .await
            .status(),
        403
    );
    let (keys_admin, _) = app.mint("keys-admin", &["svc:keys:admin"]).await;
    let r = app.post(&keys_admin, &release(&agent_id), json!({})).await;
    assert_eq!(
        r.status(),
        403,
        "releasing needs the key's own scopes: {}",
        r.text().await.unwrap()
    );
    assert_eq!(
        app.post(&app.other_admin, &release(&agent_id), json!({}))
            .await
            .status(),
        404
    );
    let r = app
        .post(
            &app.admin,
            &release(&agent_id),
            json!({"reason": "checked"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.get(&agent, "/api/v1/keys").await.status(), 200);
}
