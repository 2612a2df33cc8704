//! kill -9 under load: every acknowledged audit event and key change is
//! present after reopening, and every chain verifies.
//!
//! The test re-executes its own binary as the child (`crash_child`, active
//! only when `ACEKEYS_CRASH_DIR` is set). The child records tool-call events
//! from many tasks and mints, revokes and rotates keys, printing
//! `ACK <event id>` / `KEY <id> <secret>` / `REVOKED <id> <secret>` /
//! `ROTATED <successor id> <secret>` only after the authority acknowledged
//! them. The parent reads those lines, SIGKILLs the child mid-flight, reopens
//! the database and checks that nothing acknowledged was lost: no event, no
//! key, and no revocation (a revoked key presented after the crash is still
//! refused as revoked).
//!
//! A kill cannot lose what is in the page cache, so this test alone would
//! pass with `synchronous=NORMAL`; `durability.rs` checks the fsyncs.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authority::audit::{AuditFilter, Decision};
use authority::{
    Authority, AuthorityConfig, BootstrapRequest, Env, MintRequest, OrgId, Outcome, Pepper,
    RotateRequest, Scope, SqliteStore, ToolCall,
};

const DIR_VAR: &str = "ACEKEYS_CRASH_DIR";

#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = std::path::PathBuf::from(dir);
        let store = Arc::new(SqliteStore::open(&dir).unwrap());
        let pepper = Pepper::load_or_create(&dir).unwrap();
        let auth = Authority::new(store, pepper, Env::Live, AuthorityConfig::default());
        let admin = auth.bootstrap(BootstrapRequest::new("acme")).await.unwrap();
        let p = auth
            .authorize(admin.key.expose_secret(), &Scope::AdminOrg)
            .await
            .unwrap();
        let out = Arc::new(std::sync::Mutex::new(std::io::stdout()));
        let say = {
            let out = out.clone();
            move |line: String| {
                let mut o = out.lock().unwrap();
                writeln!(o, "{line}").unwrap();
                o.flush().unwrap();
            }
        };
        say("READY".into());
        for w in 0..32 {
            let (auth, say) = (auth.clone(), say.clone());
            tokio::spawn(async move {
                for i in 0u64.. {
                    let mut call = ToolCall {
                        org: Some(OrgId::parse("acme").unwrap()),
                        key_id: None,
                        agent: Some(format!("w{w}")),
                        tool: "search".into(),
                        required_scope: Some("svc:wiki:read".into()),
                        decision: if i % 5 == 0 {
                            Decision::Denied
                        } else {
                            Decision::Allowed
                        },
                        reason: None,
                        server: Some("crash-child".into()),
                        request_id: Some(format!("{w}-{i}")),
                        client_ip: None,
                        latency_us: Some(i),
                        ts: None,
                    };
                    call.reason =
                        (call.decision == Decision::Denied).then(|| "insufficient_scope".into());
                    let id = auth.record_tool_call(call).await.unwrap();
                    say(format!("ACK {id}"));
                }
            });
        }
        // Key changes interleaved with the audit load: every mint, and then
        // every second key revoked and every third rotated with no grace.
        // Each line is printed only after the authority answered, with the
        // raw secrets, so the parent can present them after the crash.
        for n in 0u64.. {
            let k = auth
                .mint(
                    &p,
                    MintRequest {
                        org_id: None,
                        name: "crash".into(),
                        scopes: vec!["svc:wiki:read".into()],
                        expires_days: Default::default(),
                        env: None,
                        resources: Vec::new(),
                        terms: Default::default(),
                    },
                )
                .await
                .unwrap();
            say(format!("KEY {} {}", k.view.id, k.key.expose_secret()));
            if n % 3 == 1 {
                let r = auth
                    .rotate(
                        &p,
                        k.view.id.as_str(),
                        RotateRequest {
                            grace_secs: Some(0),
                        },
                    )
                    .await
                    .unwrap();
                say(format!(
                    "ROTATED {} {}",
                    r.successor.view.id,
                    r.successor.key.expose_secret()
                ));
                say(format!("REVOKED {} {}", k.view.id, k.key.expose_secret()));
            } else if n % 2 == 0 {
                auth.revoke(&p, k.view.id.as_str(), Some("crash test".into()))
                    .await
                    .unwrap();
                say(format!("REVOKED {} {}", k.view.id, k.key.expose_secret()));
            }
        }
    });
}

/// What the child acknowledged, read from its stdout.
#[derive(Default)]
struct Acks {
    events: Vec<String>,
    /// Every key whose creation was acknowledged (minted or a rotation's
    /// successor), id → raw secret.
    keys: HashMap<String, String>,
    /// Keys whose revocation (plain, or by a rotation with no grace) was
    /// acknowledged.
    revoked: HashMap<String, String>,
    /// Keys nothing ever tried to revoke: minted keys the child leaves
    /// alone and rotation successors. They must still authenticate.
    untouched: HashSet<String>,
    minted: u64,
}

impl Acks {
    fn take(&mut self, line: &str) {
        let mut parts = line.split(' ');
        let (kind, id, secret) = (parts.next(), parts.next(), parts.next());
        match (kind, id, secret) {
            (Some("ACK"), Some(id), None) => self.events.push(id.to_owned()),
            (Some("KEY"), Some(id), Some(secret)) => {
                // Same rule as the child: n % 3 == 1 rotated, else even revoked.
                let n = self.minted;
                self.minted += 1;
                if n % 3 != 1 && !n.is_multiple_of(2) {
                    self.untouched.insert(id.to_owned());
                }
                self.keys.insert(id.to_owned(), secret.to_owned());
            }
            (Some("ROTATED"), Some(id), Some(secret)) => {
                self.untouched.insert(id.to_owned());
                self.keys.insert(id.to_owned(), secret.to_owned());
            }
            (Some("REVOKED"), Some(id), Some(secret)) => {
                self.revoked.insert(id.to_owned(), secret.to_owned());
            }
            _ if line.contains("READY") || line.starts_with("running ") || line.is_empty() => {}
            _ => panic!("unexpected line from the crash child: {line:?}"),
        }
    }
}

#[test]
fn acknowledged_events_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(DIR_VAR, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    // A line counts only once its newline arrived: a kill can cut the last
    // one short, and a cut line was not acknowledged.
    let mut next_line = move || {
        let mut line = String::new();
        match out.read_line(&mut line) {
            Ok(n) if n > 0 && line.ends_with('\n') => Some(line.trim_end().to_owned()),
            _ => None,
        }
    };
    let mut acks = Acks::default();
    let started = Instant::now();
    let mut target = None;
    while let Some(line) = next_line() {
        acks.take(&line);
        // Kill at an arbitrary point once the load is well under way.
        if target.is_none() && acks.events.len() >= 3000 && acks.revoked.len() >= 20 {
            target = Some(acks.events.len() + 137);
        }
        if target.is_some_and(|t| acks.events.len() >= t)
            || started.elapsed() > Duration::from_secs(60)
        {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Lines already in the pipe were acknowledged before the kill.
    while let Some(line) = next_line() {
        acks.take(&line);
    }
    let acked = &acks.events;
    assert!(
        acked.len() >= 1000,
        "child acknowledged too few events ({}) to be a load test",
        acked.len()
    );
    assert!(!acks.keys.is_empty(), "child minted no key");
    assert!(
        acks.revoked.len() >= 2 && acks.untouched.len() >= 2,
        "child revoked {} and left {} keys alone: too few to test",
        acks.revoked.len(),
        acks.untouched.len()
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let conn = rusqlite::Connection::open(store.path()).unwrap();
        let mut st = conn.prepare("SELECT id FROM audit_events").unwrap();
        let stored: HashSet<String> = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let missing: Vec<&String> = acked.iter().filter(|id| !stored.contains(*id)).collect();
        assert!(
            missing.is_empty(),
            "{} acknowledged events lost, e.g. {:?}",
            missing.len(),
            missing.first()
        );
        let mut st = conn
            .prepare("SELECT id, revoked_at IS NOT NULL FROM keys")
            .unwrap();
        let stored_keys: HashMap<String, bool> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let lost: Vec<&String> = acks
            .keys
            .keys()
            .filter(|k| !stored_keys.contains_key(*k))
            .collect();
        assert!(lost.is_empty(), "acknowledged keys lost: {lost:?}");
        let unrevoked: Vec<&String> = acks
            .revoked
            .keys()
            .filter(|k| stored_keys.get(*k) != Some(&true))
            .collect();
        assert!(
            unrevoked.is_empty(),
            "acknowledged revocations lost (the keys came back): {unrevoked:?}"
        );

        let pepper = Pepper::load_or_create(dir.path()).unwrap();
        let auth = Authority::new(store, pepper, Env::Live, AuthorityConfig::default());
        // Through the validator of a fresh authority (empty cache, so the
        // store answers): a revoked key stays revoked, a key nobody touched
        // still works.
        for (id, secret) in &acks.revoked {
            let outcome = auth.validate(secret, None).await;
            assert!(
                matches!(outcome, Outcome::Revoked { .. }),
                "revoked key {id} after the crash: {outcome:?}"
            );
        }
        for id in &acks.untouched {
            let outcome = auth.validate(&acks.keys[id], None).await;
            assert!(
                matches!(outcome, Outcome::Valid(_)),
                "untouched key {id} after the crash: {outcome:?}"
            );
        }
        let report = auth.verify_all_audit().await.unwrap();
        assert!(
            report.ok,
            "{:?}",
            report.chains.iter().filter(|c| !c.ok()).collect::<Vec<_>>()
        );
        assert!(report.events as usize >= acked.len());
        let acme = OrgId::parse("acme").unwrap();
        let count = |tool: &'static str| {
            let (auth, acme) = (auth.clone(), acme.clone());
            async move {
                auth.store()
                    .query_audit(
                        &acme,
                        &AuditFilter {
                            tool: Some(tool.into()),
                            ..Default::default()
                        },
                        None,
                        1_000_000,
                    )
                    .await
                    .unwrap()
                    .len()
            }
        };
        let (mints, rotations, revokes) = (
            count("mint").await,
            count("rotate").await,
            count("revoke").await,
        );
        assert_eq!(
            mints + rotations,
            stored_keys.len() - 1,
            "every stored key (but the bootstrap admin) has its mint or rotate event"
        );
        let stored_revoked = stored_keys.values().filter(|r| **r).count();
        assert_eq!(
            revokes + rotations,
            stored_revoked,
            "every stored revocation has its revoke or rotate event"
        );
        eprintln!(
            "acknowledged {} events, {} keys and {} revocations before SIGKILL; all present",
            acked.len(),
            acks.keys.len(),
            acks.revoked.len()
        );
    });
}
