//! Bounded fuzzing of the guard's JSON-RPC surface: a few hundred random
//! POST bodies to a real local-mode `wiki-mcp`'s `/mcp`, each with a valid
//! key so they get past authentication into the guard's JSON-RPC reading,
//! its tool check and rmcp behind it: random bytes, random JSON, and
//! JSON-RPC-shaped messages with random methods, ids and params (tool calls
//! with random, huge and wrongly typed tool names and arguments, deep
//! nesting, batches, duplicate keys, truncated messages). About half are
//! sent inside an initialized MCP session, so tool calls reach the tools.
//!
//! Every request must get an answer (no dropped connection) that is not a
//! 5xx; afterwards the guard still answers a valid `tools/call`, the
//! process is alive and logged no panic, and nothing got past the guard:
//! the key holds only `svc:wiki:read`, so no page was written, and no tool
//! body ran without its allowed event in the trail. The cases come from a
//! fixed seed (the same inputs every run; a failure names the input).

mod common;

use std::time::{Duration, Instant};

use authority::audit::Decision;
use common::{call, connect, text, Seed, WikiProc};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Map, Value};

const CASES: usize = 500;
const TOOLS: [&str; 5] = [
    "read_page",
    "search_pages",
    "write_page",
    "write_kb",
    "org_report",
];
const METHODS: [&str; 10] = [
    "tools/call",
    "tools/call",
    "tools/call",
    "tools/list",
    "initialize",
    "ping",
    "notifications/initialized",
    "notifications/cancelled",
    "resources/list",
    "completion/complete",
];

/// One request of the run.
#[derive(Debug)]
struct Case {
    /// What it is, for a failure message.
    what: String,
    body: Vec<u8>,
    /// Sent inside the initialized session.
    in_session: bool,
    content_type: Option<&'static str>,
    accept: Option<&'static str>,
}

/// Text an attacker might send: short, long, markup, controls, non-ASCII,
/// and pieces of the names the guard looks for.
fn text_value() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[a-z/_]{0,20}",
        Just("tools/call".to_owned()),
        Just("read_page\u{0}".to_owned()),
        Just(" read_page".to_owned()),
        Just("READ_PAGE".to_owned()),
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
        text_value().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    text_value(),
                    Just("jsonrpc".to_owned()),
                    Just("method".to_owned()),
                    Just("params".to_owned()),
                    Just("id".to_owned()),
                    Just("name".to_owned()),
                    Just("arguments".to_owned()),
                    Just("title".to_owned()),
                    Just("query".to_owned()),
                ],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A string of 100 kB to 1.5 MB (under the guard's 4 MiB body limit).
fn huge_string() -> impl Strategy<Value = String> {
    (1usize..=15, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n * 100_000 / 4))
}

fn tool_name() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => prop::sample::select(TOOLS.to_vec()).prop_map(Value::from),
        3 => text_value().prop_map(Value::from),
        1 => huge_string().prop_map(Value::from),
        2 => json_value(),
    ]
}

fn arguments() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => prop::sample::select(vec!["Home", "Onboarding", "nope", ""])
            .prop_map(|t| json!({"title": t, "query": t})),
        1 => huge_string().prop_map(|s| json!({"title": s})),
        4 => json_value(),
    ]
}

fn id() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => any::<i64>().prop_map(|n| Some(json!(n))),
        2 => text_value().prop_map(|s| Some(json!(s))),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => any::<f64>().prop_map(|f| Some(json!(f))),
        1 => json_value().prop_map(Some),
    ]
}

/// A JSON-RPC message: mostly well formed, with random parts.
fn rpc_message() -> impl Strategy<Value = Value> {
    let method = prop_oneof![
        6 => prop::sample::select(METHODS.to_vec()).prop_map(Value::from),
        1 => text_value().prop_map(Value::from),
        1 => json_value(),
    ];
    let tool_params = (tool_name(), arguments()).prop_map(|(name, arguments)| {
        let mut params = Map::new();
        params.insert("name".into(), name);
        params.insert("arguments".into(), arguments);
        Value::Object(params)
    });
    let params = prop_oneof![
        4 => tool_params.prop_map(Some),
        2 => json_value().prop_map(Some),
        1 => Just(None),
    ];
    let jsonrpc = prop_oneof![
        8 => Just(Some(json!("2.0"))),
        1 => Just(None),
        1 => json_value().prop_map(Some),
    ];
    (jsonrpc, method, id(), params).prop_map(|(jsonrpc, method, id, params)| {
        let mut message = Map::new();
        for (field, value) in [
            ("jsonrpc", jsonrpc),
            ("method", Some(method)),
            ("id", id),
            ("params", params),
        ] {
            if let Some(value) = value {
                message.insert(field.into(), value);
            }
        }
        Value::Object(message)
    })
}

/// Hostile bodies the generator of `Value`s cannot write: deep nesting,
/// duplicate keys (the guard and rmcp must read the same tool, or refuse),
/// lone surrogates, odd numbers, trailing bytes; each is also sent on its
/// own inside the session.
fn probes() -> Vec<(String, String)> {
    let call = |params: &str| {
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{params}}}"#)
    };
    let write = |title: &str| {
        format!(r#"{{"name":"write_page","arguments":{{"title":"{title}","body":"x"}}}}"#)
    };
    let mut probes = Vec::new();
    for n in [64usize, 120, 127, 128, 129, 10_000, 500_000] {
        probes.push((
            format!("arguments nested {n} deep"),
            call(&format!(
                r#"{{"name":"read_page","arguments":{{"title":{}"Home"{}}}}}"#,
                "[".repeat(n),
                "]".repeat(n)
            )),
        ));
        probes.push((
            format!("params nested {n} deep in objects"),
            format!(
                r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}1{}}}"#,
                r#"{"a":"#.repeat(n),
                "}".repeat(n)
            ),
        ));
        probes.push((
            format!("{n} unclosed brackets"),
            format!(
                r#"{{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{}"#,
                "[".repeat(n)
            ),
        ));
    }
    probes.extend([
        (
            "duplicate method".to_owned(),
            format!(
                r#"{{"jsonrpc":"2.0","id":4,"method":"tools/list","method":"tools/call","params":{}}}"#,
                write("Dup1")
            ),
        ),
        (
            "duplicate tool name".to_owned(),
            call(r#"{"name":"read_page","name":"write_page","arguments":{"title":"Dup2","body":"x"}}"#),
        ),
        (
            "duplicate params".to_owned(),
            format!(
                r#"{{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{{"name":"read_page","arguments":{{"title":"Home"}}}},"params":{}}}"#,
                write("Dup3")
            ),
        ),
        (
            "duplicate arguments".to_owned(),
            call(r#"{"name":"read_page","arguments":{"title":"Home"},"arguments":{"title":"Onboarding"}}"#),
        ),
        (
            "params as an array".to_owned(),
            call(r#"["write_page",{"title":"Arr","body":"x"}]"#),
        ),
        ("a batch with a write".to_owned(), format!("[{}]", call(&write("Batch1")))),
        (
            "a batch the guard cannot read, with a write".to_owned(),
            format!("[1,{}]", call(&write("Batch2"))),
        ),
        (
            "a lone surrogate in the tool name".to_owned(),
            call(r#"{"name":"read_page\ud800","arguments":{"title":"Home"}}"#),
        ),
        (
            "an escaped tool name".to_owned(),
            call(r#"{"name":"write\u005fpage","arguments":{"title":"Esc","body":"x"}}"#),
        ),
        (
            "a tool name with a NUL".to_owned(),
            call(r#"{"name":"write_page\u0000","arguments":{"title":"Nul","body":"x"}}"#),
        ),
        (
            "a huge number id".to_owned(),
            r#"{"jsonrpc":"2.0","id":1e999,"method":"tools/call","params":{"name":"read_page","arguments":{"title":"Home"}}}"#.to_owned(),
        ),
        (
            "a 400-digit id".to_owned(),
            format!(
                r#"{{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{{"name":"read_page","arguments":{{"title":"Home"}}}}}}"#,
                "9".repeat(400)
            ),
        ),
        (
            "a 1 MB string id".to_owned(),
            format!(
                r#"{{"jsonrpc":"2.0","id":"{}","method":"tools/call","params":{{"name":"org_report","arguments":{{}}}}}}"#,
                "i".repeat(1_000_000)
            ),
        ),
        (
            "a 1.5 MB tool name".to_owned(),
            call(&format!(r#"{{"name":"{}","arguments":{{}}}}"#, "t".repeat(1_500_000))),
        ),
        (
            "trailing garbage".to_owned(),
            format!("{}}}]garbage", call(r#"{"name":"read_page","arguments":{"title":"Home"}}"#)),
        ),
        (
            "two messages back to back".to_owned(),
            format!(
                "{}{}",
                call(r#"{"name":"read_page","arguments":{"title":"Home"}}"#),
                call(&write("Two"))
            ),
        ),
        (
            "a byte-order mark first".to_owned(),
            format!("\u{FEFF}{}", call(&write("Bom"))),
        ),
        (
            "a response instead of a request".to_owned(),
            r#"{"jsonrpc":"2.0","id":1,"result":{"name":"write_page"}}"#.to_owned(),
        ),
        (
            "method null with params of a write".to_owned(),
            format!(r#"{{"jsonrpc":"2.0","id":6,"method":null,"params":{}}}"#, write("Null")),
        ),
    ]);
    probes
}

/// A well-formed `tools/call` with a random tool and arguments.
fn tool_call() -> impl Strategy<Value = Value> {
    (any::<u32>(), tool_name(), arguments()).prop_map(|(id, name, arguments)| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": name, "arguments": arguments}})
    })
}

fn case() -> impl Strategy<Value = Case> {
    let body = prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..2048)
            .prop_map(|b| (format!("{} random bytes", b.len()), b)),
        2 => json_value().prop_map(|v| ("random JSON".to_owned(), v.to_string().into_bytes())),
        6 => rpc_message().prop_map(|v| ("a JSON-RPC message".to_owned(), v.to_string().into_bytes())),
        6 => tool_call().prop_map(|v| ("a tools/call".to_owned(), v.to_string().into_bytes())),
        2 => prop::collection::vec(rpc_message(), 0..6)
            .prop_map(|v| ("a JSON-RPC batch".to_owned(), Value::from(v).to_string().into_bytes())),
        2 => (rpc_message(), any::<prop::sample::Index>()).prop_map(|(v, at)| {
            let mut text = v.to_string().into_bytes();
            text.truncate(at.index(text.len() + 1));
            ("a truncated JSON-RPC message".to_owned(), text)
        }),
        2 => prop::sample::select(probes()).prop_map(|(what, text)| (what, text.into_bytes())),
    ];
    let content_type = prop_oneof![
        18 => Just(Some("application/json")),
        1 => Just(Some("text/plain")),
        1 => Just(None),
    ];
    let accept = prop_oneof![
        18 => Just(Some("application/json, text/event-stream")),
        1 => Just(Some("text/html")),
        1 => Just(None),
    ];
    (body, any::<bool>(), content_type, accept).prop_map(
        |((what, body), in_session, content_type, accept)| Case {
            what,
            body,
            in_session,
            content_type,
            accept,
        },
    )
}

/// The first bytes of a body, for a failure message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(160)]).into_owned();
    format!("{text:?} ({} bytes)", body.len())
}

/// Opens an MCP session over raw HTTP (initialize, then initialized);
/// returns its id.
async fn open_session(http: &reqwest::Client, url: &str, key: &str) -> String {
    let response = http
        .post(url)
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "fuzz", "version": "0"}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    response.bytes().await.unwrap();
    let response = http
        .post(url)
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &session)
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    session
}

/// The fuzzed wiki-mcp and what a case needs to reach it.
struct Target {
    wiki: WikiProc,
    seed: Seed,
    http: reqwest::Client,
    key: String,
    key_id: String,
    session: String,
}

impl Target {
    /// Sends `case`; its status once the whole answer is read (an SSE
    /// stream ends after its reply), or why it is a failure.
    async fn send(&self, case: &Case) -> Result<u16, String> {
        let mut request = self
            .http
            .post(&self.wiki.url)
            .bearer_auth(&self.key)
            .body(case.body.clone());
        if let Some(content_type) = case.content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(accept) = case.accept {
            request = request.header("accept", accept);
        }
        if case.in_session {
            request = request.header("mcp-session-id", &self.session);
        }
        let failed = |why: String| format!("{why} for {} {}", case.what, excerpt(&case.body));
        let response = request
            .send()
            .await
            .map_err(|e| failed(format!("no answer ({e})")))?;
        let status = response.status();
        let body = response.bytes().await;
        if status.is_server_error() {
            let body = body.map(|b| excerpt(&b));
            return Err(failed(format!("{status} {body:?}")));
        }
        body.map_err(|e| failed(format!("{status} then a broken body ({e})")))?;
        Ok(status.as_u16())
    }

    /// (tool bodies run, allowed tool-call events of the fuzzing key).
    async fn runs_and_allowed(&self) -> (u64, u64) {
        let ran = self.wiki.status().await["tool_bodies_run"]
            .as_u64()
            .unwrap();
        let allowed = self
            .seed
            .tool_events()
            .await
            .iter()
            .filter(|e| {
                e.body.decision == Decision::Allowed
                    && e.body.actor_key_id.as_ref().map(|k| k.as_str())
                        == Some(self.key_id.as_str())
            })
            .count() as u64;
        (ran, allowed)
    }
}

#[tokio::test]
async fn random_json_rpc_bodies_never_get_a_5xx_nor_past_the_guard() {
    let seed = Seed::new().await;
    // Only svc:wiki:read: any write that got through would be a bypass.
    let (key, key_id) = seed
        .mint("fuzzer", &["agent:fuzzer", "svc:wiki:read"])
        .await;
    let dir = seed.path.to_str().unwrap().to_owned();
    // The guardrails would quarantine a key that sends hundreds of refused
    // calls; they are tested elsewhere, here they are off.
    let wiki = WikiProc::spawn(
        &[
            "--data-dir",
            &dir,
            "--org",
            "acme",
            "--loop-calls",
            "0",
            "--denial-burst",
            "0",
            "--surge-factor",
            "0",
        ],
        &seed.path.join("wiki.log"),
    );
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let session = open_session(&http, &wiki.url, &key).await;
    let mut target = Target {
        wiki,
        seed,
        http,
        key,
        key_id,
        session,
    };

    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[12; 32]),
    );
    let strategy = case();
    let started = Instant::now();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    let mut failures = Vec::new();
    for _ in 0..CASES {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        match target.send(&case).await {
            Ok(status) => *statuses.entry(status).or_default() += 1,
            Err(failure) => failures.push(failure),
        }
    }
    // Every probe once more, in the session with the right headers (where a
    // body the guard misread would reach a tool), each checked on its own:
    // no tool body runs without an allowed event.
    for (what, text) in probes() {
        let case = Case {
            what,
            body: text.into_bytes(),
            in_session: true,
            content_type: Some("application/json"),
            accept: Some("application/json, text/event-stream"),
        };
        let (ran_before, allowed_before) = target.runs_and_allowed().await;
        match target.send(&case).await {
            Ok(status) => *statuses.entry(status).or_default() += 1,
            Err(failure) => failures.push(failure),
        }
        let (ran, allowed) = target.runs_and_allowed().await;
        if ran - ran_before > allowed - allowed_before {
            failures.push(format!(
                "a tool body ran without an allowed event for {} {}",
                case.what,
                excerpt(&case.body)
            ));
        }
    }
    println!(
        "{CASES} random bodies and {} probes in {:?}; statuses {statuses:?}",
        probes().len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Still serving: a valid tools/call through a real MCP client.
    let client = connect(&target.wiki.url, Some(&target.key))
        .await
        .expect("connects");
    let page = call(&client, "read_page", json!({"title": "Home"}))
        .await
        .expect("a valid call after the fuzz");
    assert!(text(&page).contains("Welcome"), "{page:?}");
    assert!(target.wiki.is_running(), "the process died");
    let log = std::fs::read_to_string(target.seed.path.join("wiki.log")).unwrap();
    assert!(!log.contains("panicked"), "a panic was logged:\n{log}");

    // Nothing got past the guard: no write with a read-only key, and no
    // more tool bodies ran than this key had allowed calls.
    let status = target.wiki.status().await;
    assert_eq!(status["pages"], 3, "a read-only key wrote a page: {status}");
    let (ran, allowed) = target.runs_and_allowed().await;
    assert!(
        ran <= allowed,
        "{ran} tool bodies ran, {allowed} allowed events"
    );
}
