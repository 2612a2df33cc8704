//! The secret scanning partner endpoint against the real binary: a report
//! signed with a configured ECDSA key revokes (or holds) the key and puts
//! the URL in the trail; a wrongly signed or unsigned report changes
//! nothing.

use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{json, Value};

use crate::harness::{spawn_app_with, TestApp};

fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).expect("a valid P-256 scalar")
}

/// GitHub's key list format, naming `key` as `id`.
fn key_list(id: &str, key: &SigningKey) -> String {
    let pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .expect("pem");
    json!({"public_keys": [{"key_identifier": id, "key": pem, "is_current": true}]}).to_string()
}

async fn report(app: &TestApp, id: &str, key: &SigningKey, body: &str) -> (u16, Value) {
    let signature: Signature = key.sign(body.as_bytes());
    let der = signature.to_der();
    let r = app
        .client
        .post(format!("{}/api/v1/leaks/github", app.base))
        .header("content-type", "application/json")
        .header("Github-Public-Key-Identifier", id)
        .header(
            "Github-Public-Key-Signature",
            base64::engine::general_purpose::STANDARD.encode(der.as_bytes()),
        )
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn app_with_keys(extra: &[(&str, &str)]) -> (TestApp, SigningKey, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let key = signing_key(7);
    let file = dir.path().join("keys.json");
    std::fs::write(&file, key_list("test-key-1", &key)).unwrap();
    let mut env = vec![("ACEKEYS_LEAK_REPORT_KEYS", file.to_str().unwrap())];
    env.extend_from_slice(extra);
    let app = spawn_app_with(&env).await;
    (app, key, dir)
}

#[tokio::test]
async fn a_signed_report_revokes_the_key_and_a_forged_one_changes_nothing() {
    let (app, github, _dir) = app_with_keys(&[]).await;
    let (leaked, leaked_id) = app.mint("ci-bot", &["svc:keys:read"]).await;
    let (bystander, _) = app.mint("other", &["svc:keys:read"]).await;
    let unknown = authority::keys::generate(authority::Env::Live);
    let body = json!([
        {"token": leaked, "type": "acekeys_api_key", "url": "https://github.com/acme/app/blob/main/.env", "source": "content"},
        {"token": unknown.raw.expose_secret(), "type": "acekeys_api_key", "url": "https://x", "source": "content"},
        {"token": "not-a-key", "type": "acekeys_api_key", "url": "https://y", "source": "commit"}
    ])
    .to_string();

    // Forged: another key, a tampered body, no signature at all.
    let impostor = signing_key(9);
    let (status, answer) = report(&app, "test-key-1", &impostor, &body).await;
    assert_eq!(status, 401, "{answer}");
    let (status, _) = report(&app, "another-id", &github, &body).await;
    assert_eq!(status, 401);
    let signed_other = json!([]).to_string();
    let signature: Signature = github.sign(signed_other.as_bytes());
    let r = app
        .client
        .post(format!("{}/api/v1/leaks/github", app.base))
        .header("Github-Public-Key-Identifier", "test-key-1")
        .header(
            "Github-Public-Key-Signature",
            base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes()),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "a signature of another body");
    let r = app
        .client
        .post(format!("{}/api/v1/leaks/github", app.base))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "unsigned");
    assert_eq!(
        app.get(&leaked, "/api/v1/keys").await.status(),
        200,
        "nothing changed"
    );

    let (status, answer) = report(&app, "test-key-1", &github, &body).await;
    assert_eq!(status, 200, "{answer}");
    let labels: Vec<&str> = answer
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        ["true_positive", "false_positive", "false_positive"]
    );
    assert!(
        !answer.to_string().contains(&leaked),
        "the token is never echoed"
    );
    assert_eq!(answer[0]["token_type"], "acekeys_api_key");
    assert_eq!(answer[0]["token_hash"].as_str().unwrap().len(), 64);

    assert_eq!(app.get(&leaked, "/api/v1/keys").await.status(), 401);
    assert_eq!(app.get(&bystander, "/api/v1/keys").await.status(), 200);
    let view: Value = app
        .get(&app.admin, &format!("/api/v1/keys/{leaked_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "revoked");
    assert!(
        view["revoke_reason"]
            .as_str()
            .unwrap()
            .contains("github.com/acme/app"),
        "{view}"
    );
    let page: Value = app
        .get(
            &app.admin,
            &format!("/api/v1/audit?key_id={leaked_id}&limit=50"),
        )
        .await
        .json()
        .await
        .unwrap();
    let leak = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "leak_reported")
        .expect("the leak is in the trail");
    assert!(leak["reason"].as_str().unwrap().contains(".env"), "{leak}");

    // Reported again: still ours, nothing left to revoke.
    let (status, answer) = report(&app, "test-key-1", &github, &body).await;
    assert_eq!(
        (status, answer[0]["label"].as_str()),
        (200, Some("true_positive"))
    );
}

#[tokio::test]
async fn leak_reports_can_hold_keys_and_are_off_without_keys() {
    let (app, github, _dir) = app_with_keys(&[("ACEKEYS_LEAK_RESPONSE", "quarantine")]).await;
    let (leaked, leaked_id) = app.mint("ci-bot", &["svc:keys:read"]).await;
    let body = json!([{"token": leaked, "type": "acekeys_api_key", "url": "https://gist.github.com/x", "source": "gist"}]).to_string();
    let (status, _) = report(&app, "test-key-1", &github, &body).await;
    assert_eq!(status, 200);
    let view: Value = app
        .get(&app.admin, &format!("/api/v1/keys/{leaked_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["status"], "quarantined", "{view}");
    assert_eq!(view["quarantine"]["rule"], "leaked");
    for bad in ["{}", "[{\"type\": 1}]"] {
        let (status, v) = report(&app, "test-key-1", &github, bad).await;
        assert_eq!(status, 422, "{bad}: {v}");
    }

    let plain = crate::harness::spawn_app().await;
    let (status, v) = report(&plain, "test-key-1", &github, &body).await;
    assert_eq!(status, 404, "{v}");
    // Unsigned is refused as unsigned, configured or not.
    let r = plain
        .client
        .post(format!("{}/api/v1/leaks/github", plain.base))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// A leaked OAuth refresh token ends its whole grant: the refresh token and
/// the grant's access tokens stop working.
#[tokio::test]
async fn a_leaked_refresh_token_ends_its_grant() {
    let dir = tempfile::tempdir().unwrap();
    let github = signing_key(7);
    let file = dir.path().join("keys.json");
    std::fs::write(&file, key_list("test-key-1", &github)).unwrap();
    let app = spawn_app_with(&[("ACEKEYS_LEAK_REPORT_KEYS", file.to_str().unwrap())]).await;
    let flow = crate::oauth::Flow::start_on(app).await;
    let (verifier, challenge) = crate::oauth::pkce();
    let code = flow.code(&challenge).await;
    let (status, tokens) = flow.exchange(&code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(flow.active(&access).await["active"], true);
    let body = json!([{"token": refresh, "type": "acekeys_refresh_token", "url": "https://x/y", "source": "content"}]).to_string();
    let (status, answer) = report(&flow.app, "test-key-1", &github, &body).await;
    assert_eq!(
        (status, answer[0]["label"].as_str()),
        (200, Some("true_positive")),
        "{answer}"
    );
    assert_eq!(
        flow.active(&access).await["active"],
        false,
        "the grant's access token died with it"
    );
}

/// The response is each org's choice: an org that asked for quarantine gets
/// its leaked key held, while another org's key in the same report is
/// revoked under the server's default.
#[tokio::test]
async fn each_org_chooses_what_a_leak_does_to_its_keys() {
    let (app, github, _dir) = app_with_keys(&[]).await;
    let r = app
        .client
        .put(app.url("/api/v1/org/settings"))
        .bearer_auth(&app.other_admin)
        .json(&json!({"leak_response": "quarantine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (acme_key, acme_id) = app.mint("acme-bot", &["svc:keys:read"]).await;
    let (globex_key, globex_id) = app
        .mint_as(&app.other_admin, "globex-bot", &["svc:keys:read"])
        .await;
    let body = json!([
        {"token": acme_key, "type": "acekeys_api_key", "url": "https://github.com/acme/a", "source": "content"},
        {"token": globex_key, "type": "acekeys_api_key", "url": "https://github.com/globex/b", "source": "content"}
    ])
    .to_string();
    let (status, answer) = report(&app, "test-key-1", &github, &body).await;
    assert_eq!(status, 200, "{answer}");
    let acme: Value = app
        .get(&app.admin, &format!("/api/v1/keys/{acme_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(acme["status"], "revoked", "{acme}");
    let globex: Value = app
        .get(&app.other_admin, &format!("/api/v1/keys/{globex_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(globex["status"], "quarantined", "{globex}");
    assert_eq!(globex["quarantine"]["rule"], "leaked", "{globex}");
}
