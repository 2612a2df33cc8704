//! Seeds a realistic audit trail for the explorer benchmarks
//! (`scripts/bench-audit`): org `bench`, 50 agents with two keys each, and
//! N tool calls written through the authority's real recorder (group
//! commit, hash chains, about-index, everything a guard's call writes).
//!
//! The mix is skewed the way real agents are: a few busy agents, a tool
//! mix of 50/25/15/7/3 %, 5 % denials, instants spread evenly over the
//! last 90 days and written in time order, as a live trail is. A fixed seed makes every run write the same trail.
//!
//! ```text
//! cargo run --release -p server --example seed_audit -- DATA_DIR EVENTS [STORE]
//! ```
//! STORE is what `acekeys --store` takes (default: the embedded SQLite
//! file in DATA_DIR; `firestore://PROJECT` with `FIRESTORE_EMULATOR_HOST`
//! for the emulator). Prints the admin key, the keys' ids and the agents
//! as JSON on stdout; progress goes to stderr.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use authority::audit::Decision;
use authority::time::{Clock as _, SystemClock, Timestamp};
use authority::{
    Authority, BootstrapRequest, ExpiryChoice, MintRequest, OpenOptions, Scope, StoreLocation,
    ToolCall,
};

const AGENTS: usize = 50;
const KEYS_PER_AGENT: usize = 2;
const DAYS: i64 = 90;
/// Concurrent callers: the recorder commits what they hand it together.
const CALLERS: u64 = 128;
const TOOLS: [(&str, &str, u32); 5] = [
    ("search", "svc:wiki:read", 50),
    ("read_page", "svc:wiki:read", 25),
    ("list_pages", "svc:wiki:read", 15),
    ("update_page", "svc:wiki:write", 7),
    ("delete_page", "svc:wiki:write", 3),
];

/// SplitMix64: deterministic and dependency-free; statistical quality is
/// more than a benchmark's mix needs.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Agent `i` is picked with weight 1 / (1 + i/4): agent00 is about 25
/// times as busy as agent49.
fn pick_agent(mix: &mut Mix, weights: &[f64], total: f64) -> usize {
    let mut x = (mix.next() as f64 / u64::MAX as f64) * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

fn pick_tool(mix: &mut Mix) -> usize {
    let mut x = mix.below(100) as u32;
    for (i, (_, _, pct)) in TOOLS.iter().enumerate() {
        if x < *pct {
            return i;
        }
        x -= pct;
    }
    0
}

fn usage() -> ! {
    eprintln!("usage: seed_audit DATA_DIR EVENTS [STORE]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| usage());
    let events: u64 = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| usage());
    let store = StoreLocation::parse(&args.next().unwrap_or_default()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    std::fs::create_dir_all(&dir).expect("create the data directory");
    let mut options = OpenOptions::embedded(&dir);
    options.store = store;
    let auth = Authority::open(options)
        .await
        .unwrap_or_else(|e| panic!("cannot open the authority: {e}"));

    let admin = auth
        .bootstrap(BootstrapRequest::new("bench"))
        .await
        .unwrap_or_else(|e| panic!("bootstrap org `bench` (is {dir} already seeded?): {e}"))
        .key
        .expose_secret()
        .to_owned();
    let admin_ctx = auth
        .authorize(&admin, &Scope::AdminOrg)
        .await
        .expect("the admin key authorizes");

    let agents: Vec<String> = (0..AGENTS).map(|i| format!("agent{i:02}")).collect();
    let mut keys = Vec::new();
    for agent in &agents {
        for k in 0..KEYS_PER_AGENT {
            let minted = auth
                .mint(
                    &admin_ctx,
                    MintRequest {
                        org_id: None,
                        name: format!("{agent}-{k}"),
                        scopes: vec![
                            "svc:wiki:read".into(),
                            "svc:wiki:write".into(),
                            format!("agent:{agent}"),
                        ],
                        expires_days: ExpiryChoice::Never,
                        env: None,
                        resources: Vec::new(),
                        terms: Default::default(),
                    },
                )
                .await
                .expect("mint");
            keys.push(minted.view.id.clone());
        }
    }

    let weights: Vec<f64> = (0..AGENTS).map(|i| 1.0 / (1.0 + i as f64 / 4.0)).collect();
    let total: f64 = weights.iter().sum();
    let now = SystemClock.now().as_millis();
    let span = DAYS * 24 * 3600 * 1000;
    let written = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let auth = Arc::new(auth);
    let mut callers = Vec::new();
    for caller in 0..CALLERS {
        let (auth, keys, agents, weights) =
            (auth.clone(), keys.clone(), agents.clone(), weights.clone());
        let written = written.clone();
        callers.push(tokio::spawn(async move {
            let mut mix = Mix(0xACE0 + caller);
            let mine = events / CALLERS + u64::from(caller < events % CALLERS);
            for i in 0..mine {
                let agent = pick_agent(&mut mix, &weights, total);
                let key = &keys[agent * KEYS_PER_AGENT + mix.below(KEYS_PER_AGENT as u64) as usize];
                let (tool, scope, _) = TOOLS[pick_tool(&mut mix)];
                let denied = mix.below(100) < 5;
                let call = ToolCall {
                    org: Some(admin_org()),
                    key_id: Some(key.clone()),
                    agent: Some(agents[agent].clone()),
                    tool: tool.into(),
                    required_scope: Some(scope.into()),
                    decision: if denied {
                        Decision::Denied
                    } else {
                        Decision::Allowed
                    },
                    reason: denied.then(|| "missing_scope".into()),
                    server: Some("wiki-mcp".into()),
                    request_id: Some(format!("{caller}-{i}")),
                    client_ip: Some(format!("10.0.{}.{}", agent, 1 + caller % 200)),
                    latency_us: Some(200 + mix.below(5_000)),
                    // In time order, as a live trail is written (a few
                    // seconds of jitter): the indexes grow at their end.
                    ts: Some(Timestamp::from_millis(
                        now - span
                            + ((i * CALLERS + caller) as i128 * span as i128 / events as i128)
                                as i64
                            - mix.below(5_000) as i64,
                    )),
                };
                auth.record_tool_call(call)
                    .await
                    .expect("record a tool call");
                let n = written.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(100_000) {
                    let secs = started.elapsed().as_secs_f64();
                    eprintln!("{n} events, {:.0}/s", n as f64 / secs);
                }
            }
        }));
    }
    for caller in callers {
        caller.await.expect("a caller panicked");
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "wrote {events} events in {secs:.1} s ({:.0}/s)",
        events as f64 / secs
    );
    println!(
        "{}",
        serde_json::json!({
            "org": "bench",
            "admin": admin,
            "keys": keys,
            "agents": agents,
            "tools": TOOLS.iter().map(|t| t.0).collect::<Vec<_>>(),
        })
    );
}

fn admin_org() -> authority::OrgId {
    authority::OrgId::parse("bench").expect("a valid org id")
}
