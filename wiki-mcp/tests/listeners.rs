//! What the real wiki-mcp binary serves where, and how it refuses to start:
//! `/status` only on its own listener (`--status-addr`), the peer address
//! reaching the guard (events record `client_ip`), and clear errors for a
//! missing or misplaced `--org`.

mod common;

use std::process::Command;

use common::{call, connect, wiki_bin, Seed, WikiProc};
use serde_json::json;

fn spawn(seed: &Seed) -> WikiProc {
    let dir = seed.path.to_str().unwrap().to_owned();
    WikiProc::spawn(
        &["--data-dir", &dir, "--org", "acme"],
        &seed.path.join("wiki.log"),
    )
}

#[tokio::test]
async fn status_is_served_only_on_the_status_listener() {
    let seed = Seed::new().await;
    let wiki = spawn(&seed);
    assert_ne!(
        wiki.status_url.trim_end_matches("/status"),
        wiki.base,
        "two listeners"
    );
    let public = reqwest::get(format!("{}/status", wiki.base)).await.unwrap();
    assert_eq!(public.status(), 404, "the MCP listener has no /status");
    let status = reqwest::get(&wiki.status_url).await.unwrap();
    assert_eq!(status.status(), 200);
    let status: serde_json::Value = status.json().await.unwrap();
    assert_eq!(status["guard"]["mode"], "local");
    // The MCP endpoint still works on its listener.
    let client = connect(&wiki.url, Some(&seed.reader)).await.unwrap();
    call(&client, "read_page", json!({"title": "Home"}))
        .await
        .expect("allowed");
}

#[tokio::test]
async fn events_recorded_by_wiki_mcp_carry_the_client_address() {
    let seed = Seed::new().await;
    let wiki = spawn(&seed);
    let client = connect(&wiki.url, Some(&seed.reader)).await.unwrap();
    call(&client, "read_page", json!({"title": "Home"}))
        .await
        .expect("allowed");
    let events = seed.tool_events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].body.client_ip.as_deref(), Some("127.0.0.1"));
}

/// Runs wiki-mcp with `args` and returns its exit failure's stderr.
fn refused_start(args: &[&str]) -> String {
    let out = Command::new(wiki_bin())
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("WIKI_MCP_ORG")
        .env_remove("WIKI_MCP_SERVICE_KEY")
        .output()
        .expect("run wiki-mcp");
    assert!(!out.status.success(), "wiki-mcp started with {args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn local_mode_needs_an_existing_org_and_remote_mode_takes_none() {
    let seed = Seed::new().await;
    let dir = seed.path.to_str().unwrap().to_owned();
    let err = refused_start(&["--data-dir", &dir]);
    assert!(err.contains("local mode needs --org"), "{err}");
    let err = refused_start(&["--data-dir", &dir, "--org", "Not An Org"]);
    assert!(err.contains("invalid --org"), "{err}");
    let err = refused_start(&["--data-dir", &dir, "--org", "acmee"]);
    assert!(err.contains("org `acmee` does not exist"), "{err}");
    let err = refused_start(&[
        "--authority",
        "http://127.0.0.1:9",
        "--service-key",
        &seed.service,
        "--org",
        "acme",
    ]);
    assert!(err.contains("--org is for local mode only"), "{err}");
}
