//! Measures how fast a revocation reaches remote tool servers.
//!
//! Starts the real `acekeys` binary and several `wiki-mcp` processes in
//! remote mode, warms each one's cache with a fresh key, revokes the key
//! through the REST API, and times until every server refuses it (clock
//! starts before the revoke request is sent). Then repeats with the
//! revocation stream switched off and a short cache TTL, to measure the
//! fallback bound.
//!
//! ```text
//! cargo build -p server -p wiki-mcp --examples
//! cargo run -p wiki-mcp --example propagation -- [rounds=50] [servers=3] [fallback_rounds=5] [ttl_secs=2]
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::authority_proc::{AcekeysProc, Api};
use common::{call, connect, WikiProc};
use serde_json::json;

fn arg(n: usize, default: usize) -> usize {
    std::env::args()
        .nth(n)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn spawn_wikis(n: usize, base: &str, key: &str, dir: &Path, extra: &[&str]) -> Vec<WikiProc> {
    (0..n)
        .map(|i| {
            let spool = dir.join(format!("spool-{i}-{}", extra.len()));
            let mut args = vec![
                "--authority",
                base,
                "--service-key",
                key,
                "--spool-dir",
                spool.to_str().unwrap(),
            ];
            args.extend_from_slice(extra);
            WikiProc::spawn(&args, &dir.join(format!("wiki-{i}.log")))
        })
        .collect()
}

async fn wait_connected(wikis: &[WikiProc]) {
    for w in wikis {
        let started = Instant::now();
        while w.status().await["guard"]["stream_connected"] != true {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "stream never connected"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One round: a fresh key, warm caches, revoke, time until each refuses.
async fn round(api: &Api, wikis: &[WikiProc], limit: Duration) -> Vec<Duration> {
    let (key, id) = api.mint("victim", &["svc:wiki:read"]).await;
    let mut clients = Vec::new();
    for w in wikis {
        let c = connect(&w.url, Some(&key)).await.expect("connect");
        call(&c, "read_page", json!({"title": "Home"}))
            .await
            .expect("warm");
        clients.push(c);
    }
    let t0 = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|c| {
            tokio::spawn(async move {
                loop {
                    if call(&c, "read_page", json!({"title": "Home"}))
                        .await
                        .is_err()
                    {
                        return t0.elapsed();
                    }
                    if t0.elapsed() > limit {
                        return t0.elapsed();
                    }
                }
            })
        })
        .collect();
    api.revoke(&id).await;
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("poller"));
    }
    out
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let pick = |q: f64| {
        let i = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i]
    };
    println!(
        "{label}: n={} p50={:.1} ms p99={:.1} ms max={:.1} ms",
        samples.len(),
        pick(0.50).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let (rounds, servers, fallback_rounds, ttl) = (arg(1, 50), arg(2, 3), arg(3, 5), arg(4, 2));
    let data = tempfile::tempdir().unwrap();
    let admin = AcekeysProc::bootstrap(data.path(), "acme");
    let acekeys = AcekeysProc::start(data.path(), "127.0.0.1:0");
    let api = Api::new(&acekeys.base, &admin);
    let (service_key, _) = api
        .mint(
            "wiki-mcp",
            &[
                "svc:keys:introspect",
                "svc:audit:write",
                "svc:catalog:write",
            ],
        )
        .await;

    let wikis = spawn_wikis(servers, &acekeys.base, &service_key, data.path(), &[]);
    wait_connected(&wikis).await;
    let mut samples = Vec::new();
    for _ in 0..rounds {
        samples.extend(round(&api, &wikis, Duration::from_secs(10)).await);
    }
    report(
        &format!("stream: {servers} servers x {rounds} revocations"),
        samples,
    );
    drop(wikis);

    let ttl_s = ttl.to_string();
    let wikis = spawn_wikis(
        servers,
        &acekeys.base,
        &service_key,
        data.path(),
        &["--no-revocation-stream", "--cache-ttl-secs", &ttl_s],
    );
    let mut samples = Vec::new();
    for _ in 0..fallback_rounds {
        samples.extend(round(&api, &wikis, Duration::from_secs(ttl as u64 + 10)).await);
    }
    report(
        &format!(
            "fallback (stream off, TTL {ttl} s): {servers} servers x {fallback_rounds} revocations"
        ),
        samples,
    );
}
