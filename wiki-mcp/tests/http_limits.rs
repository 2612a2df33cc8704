//! The guard's body limit and wiki-mcp's time limit, against the real
//! binary over raw TCP: a body declared over the guard's 4 MiB limit gets
//! 413 in the error envelope at once, before any of it is sent, with or
//! without a key; a client that stops sending its body is cut off with 408
//! when the request time limit passes (shortened here to half a second),
//! and normal MCP calls are unaffected by that limit. A client that sends
//! its request head too slowly (slowloris), or nothing, is cut off once
//! the header timeout passes, and a stop (SIGTERM) does not wait forever
//! for a session's event stream.

mod common;

use std::time::{Duration, Instant};

use common::{call, connect, text, Seed, WikiProc};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn spawn(seed: &Seed, extra: &[&str]) -> WikiProc {
    let dir = seed.path.to_str().unwrap().to_owned();
    let mut args = vec!["--data-dir", dir.as_str(), "--org", "acme"];
    args.extend_from_slice(extra);
    WikiProc::spawn(&args, &seed.path.join("wiki.log"))
}

/// Writes `head` (and `body`, if any) to `/mcp` on a raw connection and
/// reads the answer until the server closes it; returns the status, the
/// body after the head, and how long the answer took.
async fn raw(wiki: &WikiProc, head: &str, body: &[u8]) -> (u16, String, Duration) {
    let host = wiki.base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(host).await.unwrap();
    let started = Instant::now();
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut answer))
        .await
        .expect("no answer within 10 s")
        .unwrap();
    let elapsed = started.elapsed();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body, elapsed)
}

fn head(wiki: &WikiProc, key: Option<&str>, content_length: u64) -> String {
    let host = wiki.base.trim_start_matches("http://");
    let authorization = key
        .map(|key| format!("Authorization: Bearer {key}\r\n"))
        .unwrap_or_default();
    format!(
        "POST /mcp HTTP/1.1\r\nHost: {host}\r\n{authorization}\
         Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         Content-Length: {content_length}\r\nConnection: close\r\n\r\n"
    )
}

#[tokio::test]
async fn a_body_declared_over_the_limit_gets_413_before_it_is_sent() {
    let seed = Seed::new().await;
    let wiki = spawn(&seed, &[]);
    for key in [Some(seed.reader.as_str()), None] {
        // 200 MB declared, nothing sent: the answer cannot wait for the body.
        let (status, body, elapsed) = raw(&wiki, &head(&wiki, key, 200_000_000), b"").await;
        assert_eq!(status, 413, "key {}: {body}", key.is_some());
        let envelope: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(envelope["error"]["code"], "body_too_large", "{envelope}");
        assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    }
    // One byte over the guard's limit (4 MiB) is over.
    let over = 4 * 1024 * 1024 + 1;
    let (status, _, _) = raw(&wiki, &head(&wiki, Some(&seed.reader), over), b"").await;
    assert_eq!(status, 413);
    // Nothing reached the trail: refused before any decision.
    assert!(seed.tool_events().await.is_empty());
}

#[tokio::test]
async fn a_client_that_stalls_its_body_is_cut_off_with_408() {
    let seed = Seed::new().await;
    let wiki = spawn(&seed, &["--request-timeout-ms", "500"]);
    // 1,000 bytes declared, 10 sent, then silence.
    let (status, _, elapsed) = raw(
        &wiki,
        &head(&wiki, Some(&seed.reader), 1_000),
        br#"{"jsonrpc""#,
    )
    .await;
    assert_eq!(status, 408);
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
        "cut off after {elapsed:?}"
    );
    // The limit is on the response head: a session, its event stream and
    // a tool call work as usual under it.
    let client = connect(&wiki.url, Some(&seed.reader)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let page = call(&client, "read_page", json!({"title": "Home"}))
        .await
        .expect("a call after the stream outlived the limit");
    assert!(text(&page).contains("Welcome"), "{page:?}");
}

#[tokio::test]
async fn a_request_head_that_does_not_arrive_in_time_is_cut_off() {
    let seed = Seed::new().await;
    let wiki = spawn(&seed, &["--header-timeout-ms", "500"]);
    let host = wiki.base.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    // The head without its final blank line, then silence; and a
    // connection that sends nothing.
    let mut partial = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n",
        seed.reader
    );
    partial.write_all(head.as_bytes()).await.unwrap();
    let mut silent = tokio::net::TcpStream::connect(&host).await.unwrap();
    // A session on other connections works meanwhile, and after the limit.
    let client = connect(&wiki.url, Some(&seed.reader)).await.unwrap();
    for (what, socket) in [("partial head", &mut partial), ("silent", &mut silent)] {
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer))
            .await
            .unwrap_or_else(|_| panic!("{what}: the connection was still open after 5 s"));
        let elapsed = started.elapsed();
        // Closed (end of stream, or reset) without an answer, or with 408.
        let answer = String::from_utf8_lossy(&answer);
        assert!(
            read.is_err() || answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
            "{what}: answered {answer:?}"
        );
        assert!(
            elapsed >= Duration::from_millis(450),
            "{what}: closed after {elapsed:?}, before the timeout"
        );
    }
    // Idle keep-alive connections are closed after the same time: the
    // client's pool sees its idle one go and opens another.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let page = call(&client, "read_page", json!({"title": "Home"}))
        .await
        .expect("a call after the slow connections were cut off");
    assert!(text(&page).contains("Welcome"), "{page:?}");
    // The status listener has the same limit.
    let status_host = wiki
        .status_url
        .trim_start_matches("http://")
        .trim_end_matches("/status")
        .to_owned();
    let mut slow_status = tokio::net::TcpStream::connect(&status_host).await.unwrap();
    slow_status
        .write_all(b"GET /status HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), slow_status.read_to_end(&mut answer))
        .await
        .expect("the status listener held a partial head past 5 s");
}

#[tokio::test]
async fn a_stop_does_not_wait_forever_for_an_open_event_stream() {
    let seed = Seed::new().await;
    let mut wiki = spawn(&seed, &["--request-timeout-ms", "500"]);
    // A session holds its event stream open; a call on it works.
    let client = connect(&wiki.url, Some(&seed.reader)).await.unwrap();
    call(&client, "read_page", json!({"title": "Home"}))
        .await
        .expect("a call");
    // In-flight requests get the request time limit (half a second here)
    // to finish; the stream is closed then and the server stops cleanly.
    let started = Instant::now();
    let status = wiki
        .terminate_within(Duration::from_secs(10))
        .expect("wiki-mcp still running 10 s after SIGTERM");
    assert!(status.success(), "wiki-mcp did not stop cleanly: {status}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stopped after {:?}",
        started.elapsed()
    );
    drop(client);
}
