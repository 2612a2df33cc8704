//! Latency percentiles and durable audit throughput, measured per call
//! (Criterion reports means; the targets in DESIGN.md are p99).
//!
//! `cargo run --release -p authority --example latency [data-dir]`
//! `cargo run --release -p authority --features firestore --example latency firestore://PROJECT`
//!
//! Prints p50/p99/p99.9 for validate on a cache hit and on a cache miss and
//! for minting, and events/s for durable tool-call recording with 1, 8 and
//! 64 concurrent writers (each caller waits for its own durable commit),
//! against SQLite (a data dir, default a temp dir) or Firestore (with
//! `FIRESTORE_EMULATOR_HOST` set: the emulator, so emulator figures). The
//! Firestore run uses fewer iterations: each call is a network round trip.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authority::audit::Decision;
use authority::store::Store;
use authority::{
    Authority, AuthorityConfig, BootstrapRequest, Env, MintRequest, OrgId, Pepper, Scope,
    SqliteStore, ToolCall,
};

fn pct(mut v: Vec<Duration>) -> String {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    format!(
        "n={} p50={:?} p99={:?} p99.9={:?} max={:?}",
        v.len(),
        at(0.5),
        at(0.99),
        at(0.999),
        v[v.len() - 1]
    )
}

fn call(i: u64) -> ToolCall {
    ToolCall {
        org: Some(OrgId::parse("acme").unwrap()),
        key_id: None,
        agent: Some("bench".into()),
        tool: "search".into(),
        required_scope: Some("svc:wiki:read".into()),
        decision: Decision::Allowed,
        reason: None,
        server: Some("latency".into()),
        request_id: Some(i.to_string()),
        client_ip: Some("127.0.0.1".into()),
        latency_us: Some(12),
        ts: None,
    }
}

async fn open_store(arg: Option<String>, tmp: &std::path::Path) -> Arc<dyn Store> {
    match arg {
        #[cfg(feature = "firestore")]
        Some(url) if url.starts_with("firestore://") => {
            let location = authority::store::FirestoreLocation::parse(&url).unwrap();
            Arc::new(
                authority::store::FirestoreStore::open(&location)
                    .await
                    .unwrap(),
            )
        }
        Some(url) if url.starts_with("firestore://") => {
            panic!("built without Firestore support: add --features firestore")
        }
        Some(dir) => Arc::new(SqliteStore::open(std::path::Path::new(&dir)).unwrap()),
        None => Arc::new(SqliteStore::open(tmp).unwrap()),
    }
}

/// Iteration counts: (cache misses, mints, events per writer count, ingest batches).
fn sizes(backend: &str) -> (usize, usize, [(u64, u64); 3], u64) {
    if backend == "firestore" {
        (1_000, 300, [(1, 300), (8, 4_000), (64, 20_000)], 10)
    } else {
        (5_000, 1_000, [(1, 2_000), (8, 100_000), (64, 100_000)], 50)
    }
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let arg = std::env::args().nth(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = open_store(arg, tmp.path()).await;
        let backend = store.backend();
        let (miss_n, mint_n, writer_runs, ingest_batches) = sizes(backend);
        println!("store: {backend}");
        let auth = Authority::new(
            store,
            Pepper::random(),
            Env::Live,
            AuthorityConfig::default(),
        );
        let admin = auth.bootstrap(BootstrapRequest::new("acme")).await.unwrap();
        let raw = admin.key.expose_secret().to_owned();
        let scope = Scope::parse("svc:wiki:read").unwrap();

        assert!(auth.authenticate(&raw, &scope, None).await.is_valid());
        let mut hits = Vec::with_capacity(200_000);
        for _ in 0..200_000 {
            let t = Instant::now();
            let o = auth.authenticate(&raw, &scope, None).await;
            hits.push(t.elapsed());
            assert!(o.is_valid());
        }
        println!("validate cache hit:   {}", pct(hits));

        let mut misses = Vec::with_capacity(miss_n);
        for _ in 0..miss_n {
            auth.invalidate_cache();
            let t = Instant::now();
            let o = auth.authenticate(&raw, &scope, None).await;
            misses.push(t.elapsed());
            assert!(o.is_valid());
        }
        println!("validate cache miss:  {}", pct(misses));

        let admin_ctx = auth.authorize(&raw, &Scope::AdminOrg).await.unwrap();
        let mut mints = Vec::with_capacity(mint_n);
        for i in 0..mint_n {
            let req = MintRequest {
                org_id: None,
                name: format!("bench-{i}"),
                scopes: vec!["svc:wiki:read".into()],
                expires_days: Default::default(),
                env: None,
                resources: Vec::new(),
                terms: Default::default(),
            };
            let t = Instant::now();
            auth.mint(&admin_ctx, req).await.unwrap();
            mints.push(t.elapsed());
        }
        println!("mint:                 {}", pct(mints));

        for (writers, total) in writer_runs {
            let per = total / writers;
            let start = Instant::now();
            let tasks: Vec<_> = (0..writers)
                .map(|_| {
                    let a = auth.clone();
                    tokio::spawn(async move {
                        let mut lat = Vec::with_capacity(per as usize);
                        for i in 0..per {
                            let t = Instant::now();
                            a.record_tool_call(call(i)).await.unwrap();
                            lat.push(t.elapsed());
                        }
                        lat
                    })
                })
                .collect();
            let mut lat = Vec::new();
            for t in tasks {
                lat.extend(t.await.unwrap());
            }
            let secs = start.elapsed().as_secs_f64();
            println!(
                "audit {writers:>2} writers:     {:>9.0} durable events/s; ack latency {}",
                (per * writers) as f64 / secs,
                pct(lat)
            );
        }
        // Bulk ingest path: one caller, batches of 1000 (POST /audit/events).
        let svc = auth
            .authorize(&raw, &Scope::parse("svc:audit:write").unwrap())
            .await
            .unwrap();
        let start = Instant::now();
        for b in 0..ingest_batches {
            let batch = (0..1000).map(|i| call(b * 1000 + i)).collect();
            auth.ingest_audit(&svc, batch).await.unwrap();
        }
        println!(
            "audit ingest 1 caller x 1000-event batches: {:.0} durable events/s",
            (ingest_batches * 1000) as f64 / start.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let report = auth.verify_all_audit().await.unwrap();
        println!(
            "verify {} events: ok={} in {:?}",
            report.events,
            report.ok,
            t.elapsed()
        );
    });
}
