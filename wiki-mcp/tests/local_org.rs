//! A local wiki-mcp serves one org (`--org`): the keys of every other org
//! in the same store are refused exactly like unknown keys, whether they
//! are valid, revoked or expired there. The real binary on loopback,
//! rmcp's client and raw HTTP.

mod common;

use authority::audit::{Decision, EventKind};
use authority::OrgId;
use common::{call, connect, Seed, WikiProc};
use serde_json::{json, Value};

fn spawn(seed: &Seed) -> WikiProc {
    let dir = seed.path.to_str().unwrap().to_owned();
    WikiProc::spawn(
        &["--data-dir", &dir, "--org", "acme"],
        &seed.path.join("wiki.log"),
    )
}

/// A raw `tools/call` of `read_page`: status, challenge and body.
async fn raw_call(url: &str, key: &str) -> (u16, String, Value) {
    let response = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .bearer_auth(key)
        .json(&json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
            "params":{"name":"read_page","arguments":{"title":"Home"}}}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, challenge, response.json().await.unwrap())
}

#[tokio::test]
async fn a_valid_key_of_another_org_is_refused_like_an_unknown_key() {
    let seed = Seed::new().await;
    let (beta_reader, beta_revoked) = seed.other_org("beta").await;
    let wiki = spawn(&seed);

    // acme's own reader works; beta's reader, with the same scopes, does not.
    let acme = connect(&wiki.url, Some(&seed.reader)).await.unwrap();
    call(&acme, "read_page", json!({"title": "Home"}))
        .await
        .expect("acme's key is served");
    let err = connect(&wiki.url, Some(&beta_reader))
        .await
        .expect_err("beta's key must not open a session on acme's wiki");
    assert!(err.contains("401") || err.contains("AuthRequired"), "{err}");

    // Answered exactly like a key that exists nowhere: nothing tells the
    // caller the key is valid (or revoked) in another org.
    let unknown = authority::keys::generate(authority::Env::Live);
    let unknown_answer = raw_call(&wiki.url, unknown.raw.expose_secret()).await;
    assert_eq!(unknown_answer.0, 401);
    assert!(
        unknown_answer.1.contains(r#"error="invalid_token""#),
        "{}",
        unknown_answer.1
    );
    for (what, key) in [("valid", &beta_reader), ("revoked", &beta_revoked)] {
        assert_eq!(
            raw_call(&wiki.url, key).await,
            unknown_answer,
            "beta's {what} key"
        );
    }

    // Audited like unknown keys: unattributed, naming no key and no org.
    let unattributed: Vec<_> = seed
        .events_of(&OrgId::unattributed())
        .await
        .into_iter()
        .filter(|e| e.body.kind == EventKind::ToolCall)
        .collect();
    assert_eq!(unattributed.len(), 3, "{unattributed:?}");
    for event in &unattributed {
        assert_eq!(event.body.decision, Decision::Denied);
        assert_eq!(event.body.reason.as_deref(), Some("unknown_key"));
        assert_eq!(event.body.actor_key_id, None);
    }
    let beta = seed.events_of(&OrgId::parse("beta").unwrap()).await;
    assert!(
        beta.iter().all(|e| e.body.kind != EventKind::ToolCall),
        "nothing in beta's trail: {beta:?}"
    );
    let acme = seed.tool_events().await;
    assert_eq!(acme.len(), 1, "only acme's own call: {acme:?}");
}
