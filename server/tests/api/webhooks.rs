//! Webhook endpoints over the REST API, tried as an attacker would: who may
//! add and read them, another org's ids, URLs that point the server at its
//! own network or carry credentials, the per-org cap, and a secret that is
//! answered once and never again. (Delivery itself is tested end to end by
//! `end2end/mcp/test_webhooks.py` with the Standard Webhooks library.)

use serde_json::{json, Value};

use crate::harness::{error_code, spawn_app, TestApp};

async fn delete(app: &TestApp, key: &str, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .delete(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .expect("request")
}

async fn add(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.post(key, "/api/v1/webhooks", body).await
}

#[tokio::test]
async fn endpoints_are_per_org_admin_only_and_their_secret_is_shown_once() {
    let app = spawn_app().await;
    let created = add(
        &app,
        &app.admin,
        json!({"url": "https://hooks.example.com/in/T0KEN-9f3", "events": ["key.revoked", "key.revoked", "leak.reported"]}),
    )
    .await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.headers()["cache-control"],
        "no-store",
        "a secret must not be cached"
    );
    let created: Value = created.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 6 + 44,
        "{secret}"
    );
    let id = created["webhook"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created["webhook"]["events"],
        json!(["key.revoked", "leak.reported"]),
        "sorted, without duplicates"
    );

    // Listed without the secret, to admins and security staff alike.
    let (auditor, _) = app.mint("security", &["svc:audit:read"]).await;
    for reader in [&app.admin, &auditor] {
        let list = app.get(reader, "/api/v1/webhooks").await;
        assert_eq!(list.status(), 200);
        let text = list.text().await.unwrap();
        assert!(text.contains(&id) && !text.contains("whsec_"), "{text}");
    }
    // Security staff read; they do not add, rotate or delete.
    assert_eq!(
        error_code(
            add(
                &app,
                &auditor,
                json!({"url": "https://hooks.example.com/x"})
            )
            .await,
            403
        )
        .await,
        "insufficient_scope"
    );
    let rotate = format!("/api/v1/webhooks/{id}/rotate");
    assert_eq!(app.post(&auditor, &rotate, json!({})).await.status(), 403);
    assert_eq!(
        delete(&app, &auditor, &format!("/api/v1/webhooks/{id}"))
            .await
            .status(),
        403
    );
    // A key admin is not an org admin.
    let (keys_admin, _) = app
        .mint("keys-admin", &["svc:keys:admin", "svc:keys:write"])
        .await;
    assert_eq!(
        add(
            &app,
            &keys_admin,
            json!({"url": "https://hooks.example.com/x"})
        )
        .await
        .status(),
        403
    );

    // Another org sees none of it, and its ids do not reach ours.
    let theirs = app.get(&app.other_admin, "/api/v1/webhooks").await;
    assert_eq!(theirs.json::<Value>().await.unwrap()["webhooks"], json!([]));
    for path in [rotate.clone(), format!("/api/v1/webhooks/{id}/deliveries")] {
        let r = if path.ends_with("rotate") {
            app.post(&app.other_admin, &path, json!({})).await
        } else {
            app.get(&app.other_admin, &path).await
        };
        assert_eq!(r.status(), 404, "{path}");
    }
    assert_eq!(
        delete(&app, &app.other_admin, &format!("/api/v1/webhooks/{id}"))
            .await
            .status(),
        404
    );

    // Rotation: a new secret, once; the old one honoured for a while.
    let rotated: Value = app
        .post(&app.admin, &rotate, json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(rotated["secret"].as_str().unwrap(), secret);
    assert!(rotated["webhook"]["previous_secret_until"].is_string());
    let log = app
        .get(
            &app.admin,
            &format!("/api/v1/webhooks/{id}/deliveries?limit=5"),
        )
        .await;
    assert_eq!(log.status(), 200);
    assert_eq!(
        error_code(
            app.get(
                &app.admin,
                &format!("/api/v1/webhooks/{id}/deliveries?limit=x")
            )
            .await,
            400
        )
        .await,
        "malformed_request"
    );

    // Every change is in the trail.
    let trail: Value = app
        .get(&app.admin, "/api/v1/audit?kind=admin&limit=50")
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"webhook_create") && actions.contains(&"webhook_rotate"));
    assert!(
        !trail.to_string().contains("whsec_"),
        "no secret in the trail"
    );
    // A receiver's own secret often sits in its URL: the trail keeps the host only.
    assert!(trail.to_string().contains("https://hooks.example.com/"));
    assert!(!trail.to_string().contains("T0KEN-9f3"), "{trail}");

    assert_eq!(
        delete(&app, &app.admin, &format!("/api/v1/webhooks/{id}"))
            .await
            .status(),
        204
    );
    assert_eq!(
        delete(&app, &app.admin, &format!("/api/v1/webhooks/{id}"))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn endpoint_urls_cannot_aim_the_server_at_its_own_network_or_carry_secrets() {
    let app = spawn_app().await;
    for (url, says) in [
        ("http://hooks.example.com/acekeys", "https"),
        ("https://127.0.0.1/hook", "public"),
        ("https://169.254.169.254/latest/meta-data", "public"),
        ("https://[::1]/hook", "public"),
        ("https://10.0.0.8/hook", "public"),
        ("https://user:pass@hooks.example.com/x", "password"),
        ("ftp://hooks.example.com/x", "URL"),
        ("hooks.example.com/x", "absolute"),
    ] {
        let r = add(&app, &app.admin, json!({ "url": url })).await;
        assert_eq!(r.status(), 422, "{url}");
        let body: Value = r.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{url}: {message}");
    }
    let long = format!("https://hooks.example.com/{}", "a".repeat(2_000));
    assert_eq!(
        add(&app, &app.admin, json!({ "url": long })).await.status(),
        422
    );
    let r = add(
        &app,
        &app.admin,
        json!({"url": format!("https://hooks.example.com/?k={}", app.admin)}),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(
        !r.text().await.unwrap().contains(&app.admin),
        "a pasted key is never echoed"
    );
    let r = add(
        &app,
        &app.admin,
        json!({"url": "https://hooks.example.com/x", "events": ["key.deleted"]}),
    )
    .await;
    assert!(
        matches!(r.status().as_u16(), 400 | 422),
        "unknown event type"
    );
    assert!(!app.log().contains(&app.admin), "no raw key in the log");
}

#[tokio::test]
async fn an_org_has_at_most_ten_endpoints() {
    let app = spawn_app().await;
    for n in 0..10 {
        let r = add(
            &app,
            &app.admin,
            json!({"url": format!("https://hooks.example.com/{n}")}),
        )
        .await;
        assert_eq!(r.status(), 201);
    }
    let r = add(
        &app,
        &app.admin,
        json!({"url": "https://hooks.example.com/11"}),
    )
    .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "conflict", "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("delete one first"));
    // The cap is per org.
    let r = add(
        &app,
        &app.other_admin,
        json!({"url": "https://hooks.example.com/globex"}),
    )
    .await;
    assert_eq!(r.status(), 201);
}
