//! Bounded fuzzing of the HTTP surface: random JSON bodies to every
//! endpoint that takes one (REST and the dashboard's sign-in server
//! function), random query strings to every endpoint that reads one, and
//! random raw bytes, all with a valid admin key so they reach the parsers
//! and the authority behind the authentication.
//!
//! Each answer must be a 2xx or a 4xx in the error envelope — never a 5xx,
//! never a dropped connection — and the server must still answer a plain
//! request afterwards. The cases are generated from a fixed seed (the same
//! inputs every run; a failure names the input), 200 per target, which
//! keeps the whole file to a few seconds.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use serde_json::{json, Value};

use crate::harness::spawn_app;

const CASES: usize = 200;

fn runner() -> TestRunner {
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(proptest::test_runner::RngAlgorithm::ChaCha, &[7; 32]),
    )
}

/// Text an attacker might send: short, long, markup, controls, non-ASCII,
/// and pieces of the grammar the parsers look for.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-z:_*.-]{0,30}",
        Just("svc:wiki:read".to_owned()),
        Just("admin:org".to_owned()),
        Just("ace_live_".to_owned()),
        Just("\u{202E}\u{0}\u{FEFF}<script>".to_owned()),
        "\\PC{200,2000}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    text(),
                    Just("name".to_owned()),
                    Just("scopes".to_owned()),
                    Just("events".to_owned()),
                    Just("agent".to_owned()),
                    Just("expires_days".to_owned()),
                    Just("tool".to_owned()),
                    Just("decision".to_owned()),
                    Just("ts".to_owned()),
                    Just("key".to_owned()),
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn sample<S: Strategy>(runner: &mut TestRunner, strategy: &S) -> S::Value {
    strategy
        .new_tree(runner)
        .expect("a value can be generated")
        .current()
}

/// A 2xx, or a 4xx carrying the envelope.
async fn check(what: &str, input: &str, response: reqwest::Response) {
    let status = response.status();
    assert!(
        !status.is_server_error(),
        "{what} answered {status} for {input}"
    );
    if status.is_client_error() && status != reqwest::StatusCode::NOT_FOUND {
        let body = response.text().await.unwrap_or_default();
        let parsed: Result<Value, _> = serde_json::from_str(&body);
        assert!(
            parsed.is_ok_and(|v| v["error"]["code"].is_string()) || what.contains("sign_in"),
            "{what} answered {status} without the envelope for {input}: {body}"
        );
    }
}

#[tokio::test]
async fn random_bodies_and_queries_never_get_a_5xx() {
    let app = spawn_app().await;
    let mut runner = runner();
    let json_posts = [
        "/api/v1/keys/mint",
        "/api/v1/keys/revoke",
        "/api/v1/introspect",
        "/api/v1/audit/events",
        "/api/v1/scopes",
    ];
    let bodies = json_value();
    for i in 0..CASES {
        let path = json_posts[i % json_posts.len()];
        let body = sample(&mut runner, &bodies);
        let input = body.to_string();
        let response = app.post(&app.admin, path, body).await;
        check(path, &input, response).await;
    }

    let raw = prop::collection::vec(any::<u8>(), 0..4096);
    for i in 0..CASES {
        let path = json_posts[i % json_posts.len()];
        let bytes = sample(&mut runner, &raw);
        let input = format!("{} raw bytes", bytes.len());
        let response = app.post_raw(&app.admin, path, bytes).await;
        check(path, &input, response).await;
    }

    let gets = [
        "/api/v1/audit",
        "/api/v1/keys",
        "/api/v1/audit/timeline",
        "/api/v1/audit/export",
    ];
    let params = prop::collection::vec(
        (
            prop_oneof![
                Just("cursor"),
                Just("limit"),
                Just("since"),
                Just("until"),
                Just("range"),
                Just("agent"),
                Just("tool"),
                Just("decision"),
                Just("kind"),
                Just("key_id"),
                Just("status"),
                Just("env"),
                Just("bucket_secs"),
                Just("format"),
            ],
            text(),
        ),
        0..5,
    );
    for i in 0..CASES {
        let path = gets[i % gets.len()];
        let pairs = sample(&mut runner, &params);
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect();
        let url = format!("{path}?{}", query.join("&"));
        let response = app.get(&app.admin, &url).await;
        check(path, &url, response).await;
    }

    // The dashboard's sign-in server function, as a form and as JSON.
    let sign_in = format!(
        "/api/{}",
        <app::session::SignIn as leptos::server_fn::ServerFn>::PATH.trim_start_matches("/api/")
    );
    for _ in 0..CASES / 4 {
        let key = sample(&mut runner, &text());
        let response = app
            .client
            .post(app.url(&sign_in))
            .header("origin", app.url(""))
            .form(&[("key", key.as_str())])
            .send()
            .await
            .unwrap();
        assert_ne!(
            response.status(),
            404,
            "the sign-in function is not at {sign_in}"
        );
        check("sign_in", &key, response).await;
    }

    assert_eq!(
        app.get(&app.admin, "/api/v1/keys").await.status(),
        200,
        "the server survived"
    );
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
