//! The guard's per-call latency with rate limits and budgets on, against
//! the same calls with none: an in-process (local) guard over a SQLite
//! store, each call decided and durably audited as in production.
//!
//! `cargo run --release -p guard --example limits_latency [CALLS] [CALLERS]`
//!
//! Two keys with the same scopes: one without limits, one with a key-wide
//! rate limit and a budget on the tool's scope, both far above what the run
//! spends, so every call is allowed and the difference is the cost of
//! counting (a mutex per call, and a grant from the store's counter once
//! per grant). Prints p50/p99 of `Guard::authorize_tool` per key, with
//! CALLERS concurrent callers (default 8), and the grants taken.

use std::sync::Arc;
use std::time::{Duration, Instant};

use authority::{Authority, AuthorityConfig, BootstrapRequest, Env, MintRequest, Pepper};
use guard::{Guard, ToolScopes};
use model::wire::{KeyLimit, KeyTermsRequest, Refill};

fn pct(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    (at(0.5), at(0.99))
}

async fn run(guard: &Guard, key: &str, calls: usize, callers: usize) -> Vec<Duration> {
    let per = calls / callers;
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let (guard, key) = (guard.clone(), key.to_owned());
        tasks.push(tokio::spawn(async move {
            let args = serde_json::json!({"title": "Home"});
            let client = Some("127.0.0.1".parse().unwrap());
            let mut times = Vec::with_capacity(per);
            for i in 0..per {
                let t = Instant::now();
                guard
                    .authorize_tool(Some(&key), "read_page", &args, Some(i.to_string()), client)
                    .await
                    .expect("allowed");
                times.push(t.elapsed());
            }
            times
        }));
    }
    let mut all = Vec::with_capacity(calls);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

fn main() {
    let mut args = std::env::args().skip(1);
    let calls: usize = args.next().map_or(20_000, |a| a.parse().expect("CALLS"));
    let callers: usize = args.next().map_or(8, |a| a.parse().expect("CALLERS"));
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Arc::new(authority::SqliteStore::open(tmp.path()).unwrap());
        let auth = Authority::new(
            store,
            Pepper::random(),
            Env::Live,
            AuthorityConfig::default(),
        );
        let admin = auth.bootstrap(BootstrapRequest::new("acme")).await.unwrap();
        let admin_ctx = auth
            .authorize(admin.key.expose_secret(), &authority::Scope::AdminOrg)
            .await
            .unwrap();
        let mint = |name: &str, limits: Vec<KeyLimit>| MintRequest {
            org_id: None,
            name: name.into(),
            scopes: vec!["svc:wiki:read".into()],
            expires_days: Default::default(),
            env: None,
            resources: Vec::new(),
            terms: KeyTermsRequest {
                limits,
                ..Default::default()
            },
        };
        let plain = auth
            .mint(&admin_ctx, mint("plain", Vec::new()))
            .await
            .unwrap();
        let limited = auth
            .mint(
                &admin_ctx,
                mint(
                    "limited",
                    vec![
                        KeyLimit::Rate {
                            scope: None,
                            max: 1_000_000_000,
                            per_seconds: 86_400,
                        },
                        KeyLimit::Budget {
                            scope: Some("svc:wiki:read".into()),
                            calls: 1_000_000_000,
                            refill: Refill::Monthly,
                        },
                    ],
                ),
            )
            .await
            .unwrap();
        let tools = ToolScopes::new()
            .tool("read_page", "svc:wiki:read", "Read a page")
            .unwrap();
        let acme = authority::OrgId::parse("acme").unwrap();
        let guard = Guard::local(auth.clone(), acme, tools, Some("bench".into()))
            .await
            .unwrap();
        // The run repeats one call at full speed: the loop and surge rules
        // would rightly hold the keys, and are not what is measured.
        guard.configure_tripwires(guard::TripwireConfig {
            loop_calls: 0,
            denial_burst: 0,
            surge_factor: 0,
            ..guard::TripwireConfig::default()
        });
        // Warm both keys (cache, first grants), then alternate runs.
        run(&guard, plain.key.expose_secret(), callers * 10, callers).await;
        run(&guard, limited.key.expose_secret(), callers * 10, callers).await;
        println!("{calls} calls per run, {callers} concurrent callers, local guard, SQLite");
        for round in 1..=3 {
            for (name, key) in [("limits off", &plain), ("limits on ", &limited)] {
                let (p50, p99) = pct(run(&guard, key.key.expose_secret(), calls, callers).await);
                println!("round {round} {name}: p50 {p50:?}  p99 {p99:?}");
            }
        }
        println!("guard status: {:?}", guard.status());
        guard.shutdown().await;
    });
}
