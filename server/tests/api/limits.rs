//! Rate limits and budgets over the REST API: set at mint time and changed
//! later only by who may, inherited by the keys a limited key mints, and
//! the allowance endpoint confined to the guard's own org.

use serde_json::{json, Value};

use crate::harness::{error_code, spawn_app, TestApp};

async fn put(app: &TestApp, key: &str, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(app.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn mint_with(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let r = app.post(key, "/api/v1/keys/mint", body).await;
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn limits_are_set_by_who_may_and_inherited_by_minted_keys() {
    let app = spawn_app().await;
    let budget = json!({"kind": "budget", "calls": 100});
    let (status, agent) = mint_with(
        &app,
        &app.admin,
        json!({"name": "lead", "scopes": ["agent:ops", "svc:keys:write", "svc:keys:admin", "svc:wiki:read"], "expires_days": 5,
               "limits": [budget, {"kind": "rate", "max": 10, "per_seconds": 60, "scope": "svc:wiki:read"}]}),
    )
    .await;
    assert_eq!(status, 201, "{agent}");
    let agent_key = agent["key"].as_str().unwrap().to_owned();
    let agent_id = agent["id"].as_str().unwrap().to_owned();
    assert_eq!(
        agent["limits"],
        json!([
            {"owner": agent_id, "limit": {"kind": "budget", "calls": 100, "refill": "never"}},
            {"owner": agent_id, "limit": {"kind": "rate", "scope": "svc:wiki:read", "max": 10, "per_seconds": 60}},
        ])
    );

    // A key it mints carries its limits (spending its counters) besides
    // its own: minting cannot escape a budget.
    let (status, child) = mint_with(
        &app,
        &agent_key,
        json!({"name": "helper", "scopes": ["agent:ops", "svc:wiki:read"], "expires_days": 1,
               "limits": [{"kind": "budget", "calls": 5, "refill": "daily"}]}),
    )
    .await;
    assert_eq!(status, 201, "{child}");
    let child_id = child["id"].as_str().unwrap().to_owned();
    let limits = child["limits"].as_array().unwrap();
    assert_eq!(limits.len(), 3, "{child}");
    assert_eq!(limits[0]["owner"], json!(child_id));
    assert!(limits[1..]
        .iter()
        .all(|l| l["owner"] == json!(agent_id) && l["inherited"] == json!(true)));

    // A key under limits cannot change limits, not even a child's.
    let r = put(
        &app,
        &agent_key,
        &format!("/api/v1/keys/{child_id}/limits"),
        json!({"limits": []}),
    )
    .await;
    assert_eq!(error_code(r, 403).await, "forbidden");

    // An admin replaces the child's own limits; the inherited ones stay.
    let r = put(
        &app,
        &app.admin,
        &format!("/api/v1/keys/{child_id}/limits"),
        json!({"limits": [{"kind": "rate", "max": 3, "per_seconds": 1}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let view: Value = r.json().await.unwrap();
    let limits = view["limits"].as_array().unwrap();
    assert_eq!(limits.len(), 3, "{view}");
    assert_eq!(
        limits[0]["limit"],
        json!({"kind": "rate", "max": 3, "per_seconds": 1})
    );
    let trail: Value = app
        .get(&app.admin, "/api/v1/audit?kind=admin&limit=50")
        .await
        .json()
        .await
        .unwrap();
    let event = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "set_limits")
        .unwrap_or_else(|| panic!("no set_limits event: {trail}"));
    assert_eq!(event["subject"], json!(child_id), "{trail}");
    assert_eq!(event["reason"], "3 calls per 1 s on all tools");

    // Bad limits say what is wrong.
    for (limits, says) in [
        (
            json!([{"kind": "rate", "max": 0, "per_seconds": 60}]),
            "max",
        ),
        (
            json!([{"kind": "rate", "max": 5, "per_seconds": 90000}]),
            "per_seconds",
        ),
        (
            json!([{"kind": "budget", "calls": 5, "scope": "svc:keys:admin"}]),
            "does not hold",
        ),
        (
            json!([{"kind": "budget", "calls": 5}, {"kind": "budget", "calls": 6}]),
            "keep one",
        ),
        (json!([{"kind": "credits", "calls": 5}]), "credits"),
        (
            Value::Array(vec![
                json!({"kind": "rate", "max": 1, "per_seconds": 1});
                11
            ]),
            "at most 10",
        ),
    ] {
        let r = put(
            &app,
            &app.admin,
            &format!("/api/v1/keys/{child_id}/limits"),
            json!({ "limits": limits }),
        )
        .await;
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert!(status == 422 || status == 400, "{limits}: {status} {text}");
        assert!(text.contains(says), "{limits}: {text}");
    }

    // Another org's key is not found; a revoked key is a conflict.
    let (_, globex_id) = {
        let (status, v) = mint_with(
            &app,
            &app.other_admin,
            json!({"name": "g", "scopes": ["svc:keys:read"]}),
        )
        .await;
        assert_eq!(status, 201);
        ((), v["id"].as_str().unwrap().to_owned())
    };
    let r = put(
        &app,
        &app.admin,
        &format!("/api/v1/keys/{globex_id}/limits"),
        json!({"limits": []}),
    )
    .await;
    assert_eq!(r.status(), 404);
    let r = app
        .post(
            &app.admin,
            &format!("/api/v1/keys/{child_id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = put(
        &app,
        &app.admin,
        &format!("/api/v1/keys/{child_id}/limits"),
        json!({"limits": []}),
    )
    .await;
    assert_eq!(error_code(r, 409).await, "conflict");
}

#[tokio::test]
async fn allowances_are_confined_to_the_guards_org_and_never_exceed_the_limit() {
    let app = spawn_app().await;
    let (guard, _) = app.mint("guard", &["svc:keys:introspect"]).await;
    let (reader, _) = app.mint("reader", &["svc:keys:read"]).await;
    let (status, limited) = mint_with(
        &app,
        &app.admin,
        json!({"name": "limited", "scopes": ["svc:wiki:read"], "limits": [{"kind": "budget", "calls": 20}]}),
    )
    .await;
    assert_eq!(status, 201);
    let id = limited["id"].as_str().unwrap().to_owned();
    let ask = json!({"owner": id, "kind": "budget"});
    let path = format!("/api/v1/keys/{id}/allowance");

    // Only a guard's scope takes calls.
    let r = app.post(&reader, &path, ask.clone()).await;
    assert_eq!(error_code(r, 403).await, "insufficient_scope");
    // Another org's guard does not find the key.
    let (other_guard, _) = app
        .mint_as(&app.other_admin, "guard", &["svc:keys:introspect"])
        .await;
    let r = app.post(&other_guard, &path, ask.clone()).await;
    assert_eq!(r.status(), 404);

    let mut total = 0;
    let mut grants = Vec::new();
    loop {
        let r = app.post(&guard, &path, ask.clone()).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let grant: Value = r.json().await.unwrap();
        let granted = grant["granted"].as_u64().unwrap();
        assert!(
            grant.get("valid_for_ms").is_none(),
            "never refills: {grant}"
        );
        if granted == 0 {
            break;
        }
        total += granted;
        grants.push(granted);
    }
    assert_eq!(total, 20, "{grants:?}");

    // A limit the key does not have answers unlimited; a bad scope 422.
    let r = app
        .post(&guard, &path, json!({"owner": id, "kind": "rate"}))
        .await;
    let grant: Value = r.json().await.unwrap();
    assert_eq!(grant["unlimited"], true, "{grant}");
    let r = app
        .post(
            &guard,
            &path,
            json!({"owner": id, "kind": "rate", "scope": "not a scope"}),
        )
        .await;
    assert_eq!(r.status(), 422);

    // Raising the budget lets more through; the count carries on.
    let r = put(
        &app,
        &app.admin,
        &format!("/api/v1/keys/{id}/limits"),
        json!({"limits": [{"kind": "budget", "calls": 23}]}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let mut more = 0;
    loop {
        let grant: Value = app
            .post(&guard, &path, ask.clone())
            .await
            .json()
            .await
            .unwrap();
        match grant["granted"].as_u64().unwrap() {
            0 => break,
            n => more += n,
        }
    }
    assert_eq!(more, 3);
}
