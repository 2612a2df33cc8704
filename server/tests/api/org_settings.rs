//! An org's guardrail settings over the REST API: who may read and change
//! them, what is refused, and that each org's are its own.

use serde_json::{json, Value};

use crate::harness::{error_code, spawn_app, TestApp};

async fn put(app: &TestApp, key: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/org/settings"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn org_settings_are_set_by_admins_read_by_guards_and_checked() {
    let app = spawn_app().await;
    let unset: Value = app
        .get(&app.admin, "/api/v1/org/settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unset, json!({"leak_response": null, "rules": null}));

    let settings = json!({
        "leak_response": "quarantine",
        "rules": {"loop_calls": 10, "denial_burst": 5, "surge_factor": 4, "surge_floor": 50, "new_tool": true}
    });
    let r = put(&app, &app.admin, settings.clone()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), settings);

    // A guard's service key reads them; it cannot change them.
    let (guard, _) = app.mint("guard", &["svc:keys:introspect"]).await;
    let read: Value = app
        .get(&guard, "/api/v1/org/settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, settings);
    assert_eq!(
        error_code(put(&app, &guard, json!({})).await, 403).await,
        "insufficient_scope"
    );
    // Neither can a keys admin, nor an admin key of the test environment.
    let (keys_admin, _) = app.mint("keys-admin", &["svc:keys:admin"]).await;
    assert_eq!(put(&app, &keys_admin, json!({})).await.status(), 403);
    let r = app
        .post(
            &app.admin,
            "/api/v1/keys/mint",
            json!({"name": "test-admin", "scopes": ["admin:org"], "expires_days": 1, "env": "test"}),
        )
        .await;
    if r.status() == 201 {
        let test_admin = r.json::<Value>().await.unwrap()["key"]
            .as_str()
            .unwrap()
            .to_owned();
        let refused = put(&app, &test_admin, json!({})).await;
        assert!(
            matches!(refused.status().as_u16(), 401 | 403),
            "{}",
            refused.status()
        );
    }

    // Another org's are its own.
    let theirs: Value = app
        .get(&app.other_admin, "/api/v1/org/settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs, json!({"leak_response": null, "rules": null}));

    // Thresholds that would trip on ordinary use, missing and unknown
    // fields, unknown choices: all refused, naming the problem.
    for (body, status) in [
        (
            json!({"rules": {"loop_calls": 1, "denial_burst": 5, "surge_factor": 4, "surge_floor": 50, "new_tool": false}}),
            422,
        ),
        (
            json!({"rules": {"loop_calls": 10, "denial_burst": 5, "surge_factor": 1, "surge_floor": 50, "new_tool": false}}),
            422,
        ),
        (
            json!({"rules": {"loop_calls": 10, "denial_burst": 5, "surge_factor": 4, "surge_floor": 0, "new_tool": false}}),
            422,
        ),
        (json!({"rules": {"loop_calls": 10}}), 422),
        (json!({"leak_response": "delete"}), 422),
        (json!({"leak_response": "revoke", "extra": true}), 422),
    ] {
        let r = put(&app, &app.admin, body.clone()).await;
        assert_eq!(r.status().as_u16(), status, "{body}");
    }
    let unchanged: Value = app
        .get(&app.admin, "/api/v1/org/settings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(unchanged, settings, "a refused change changes nothing");

    // The change is in the trail, described.
    let trail: Value = app
        .get(&app.admin, "/api/v1/audit?kind=admin&limit=20")
        .await
        .json()
        .await
        .unwrap();
    let event = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "org_settings")
        .expect("the change is audited");
    assert!(event["reason"]
        .as_str()
        .unwrap()
        .contains("leaks: quarantine"));
}
