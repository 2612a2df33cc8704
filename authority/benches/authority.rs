//! Criterion benchmarks: key material, validation (cache hit and SQLite
//! miss) and durable audit throughput with 1, 8 and 64 concurrent writers.
//!
//! `cargo bench -p authority --bench authority -- --warm-up-time 1 --measurement-time 3`
//! For p99 latencies see `examples/latency.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authority::audit::Decision;
use authority::keys::{generate, parse, Env, Pepper};
use authority::{
    Authority, AuthorityConfig, BootstrapRequest, OrgId, Scope, SqliteStore, ToolCall,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn setup(rt: &tokio::runtime::Runtime) -> (tempfile::TempDir, Authority, String) {
    let dir = tempfile::tempdir().unwrap();
    let auth = rt.block_on(async {
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        Authority::new(
            store,
            Pepper::random(),
            Env::Live,
            AuthorityConfig::default(),
        )
    });
    let raw = rt
        .block_on(auth.bootstrap(BootstrapRequest::new("acme")))
        .unwrap()
        .key
        .expose_secret()
        .to_owned();
    (dir, auth, raw)
}

fn key_material(c: &mut Criterion) {
    let mut g = c.benchmark_group("keys");
    g.bench_function("generate", |b| b.iter(|| generate(Env::Live)));
    let k = generate(Env::Live);
    let raw = k.raw.expose_secret().to_owned();
    g.bench_function("parse_and_checksum", |b| {
        b.iter(|| parse(std::hint::black_box(&raw)).unwrap().env())
    });
    let pepper = Pepper::random();
    g.bench_function("hmac_sha256", |b| {
        b.iter(|| pepper.hash(std::hint::black_box(&raw)))
    });
    g.finish();
}

fn validate(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_dir, auth, raw) = setup(&rt);
    let scope = Scope::parse("svc:wiki:read").unwrap();
    let mut g = c.benchmark_group("validate");
    assert!(rt
        .block_on(auth.authenticate(&raw, &scope, None))
        .is_valid());
    g.bench_function("cache_hit", |b| {
        b.iter(|| rt.block_on(auth.authenticate(&raw, &scope, None)))
    });
    // Every measured call is a miss: the cache is emptied, untimed, before it.
    g.bench_function("cache_miss_sqlite", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                auth.invalidate_cache();
                let start = Instant::now();
                let o = rt.block_on(auth.authenticate(&raw, &scope, None));
                total += start.elapsed();
                assert!(o.is_valid());
            }
            total
        })
    });
    g.finish();
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
        server: Some("bench".into()),
        request_id: Some(i.to_string()),
        client_ip: Some("127.0.0.1".into()),
        latency_us: Some(12),
        ts: None,
    }
}

fn audit_throughput(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (_dir, auth, _raw) = setup(&rt);
    let mut g = c.benchmark_group("audit_durable");
    g.sample_size(10);
    for writers in [1u64, 8, 64] {
        // Each caller waits for its own fsynced commit, so one writer is
        // bounded by fsync latency; more writers share commits.
        let total: u64 = if writers == 1 { 1_000 } else { 32_768 };
        let per_writer = total / writers;
        g.throughput(Throughput::Elements(writers * per_writer));
        g.bench_function(format!("{writers}_writers"), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    rt.block_on(async {
                        let tasks: Vec<_> = (0..writers)
                            .map(|_| {
                                let a = auth.clone();
                                tokio::spawn(async move {
                                    for i in 0..per_writer {
                                        a.record_tool_call(call(i)).await.unwrap();
                                    }
                                })
                            })
                            .collect();
                        for t in tasks {
                            t.await.unwrap();
                        }
                    });
                    total += start.elapsed();
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, key_material, validate, audit_throughput);
criterion_main!(benches);
