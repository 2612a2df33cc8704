//! kill -9 under load: every acknowledged audit event and key change is
//! present after reopening, and every chain verifies.
//!
//! The test re-executes its own binary as the child (`crash_child`, active
//! only when `ACEKEYS_CRASH_DIR` is set). The child records tool-call events
//! from many tasks and mints keys, printing `ACK <event id>` / `KEY <key id>`
//! only after the authority acknowledged them. The parent reads those lines,
//! SIGKILLs the child mid-flight, reopens the database and checks.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authority::audit::{AuditFilter, Decision};
use authority::{
    Authority, AuthorityConfig, BootstrapRequest, Env, MintRequest, OrgId, Pepper, Scope,
    SqliteStore, ToolCall,
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
        loop {
            let k = auth
                .mint(
                    &p,
                    MintRequest {
                        org_id: None,
                        name: "crash".into(),
                        scopes: vec!["svc:wiki:read".into()],
                        expires_days: Default::default(),
                        env: None,
                    },
                )
                .await
                .unwrap();
            say(format!("KEY {}", k.view.id));
        }
    });
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
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut acked = Vec::new();
    let mut keys = Vec::new();
    let started = Instant::now();
    let mut target = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(id.to_owned());
        } else if let Some(id) = line.strip_prefix("KEY ") {
            keys.push(id.to_owned());
        }
        // Kill at an arbitrary point once the load is well under way.
        if target.is_none() && acked.len() >= 3000 {
            target = Some(acked.len() + 137);
        }
        if target.is_some_and(|t| acked.len() >= t) || started.elapsed() > Duration::from_secs(60) {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Lines already in the pipe were acknowledged before the kill.
    for line in lines {
        let Ok(line) = line else { break };
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(id.to_owned());
        } else if let Some(id) = line.strip_prefix("KEY ") {
            keys.push(id.to_owned());
        }
    }
    assert!(
        acked.len() >= 1000,
        "child acknowledged too few events ({}) to be a load test",
        acked.len()
    );
    assert!(!keys.is_empty(), "child minted no key");

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
        let mut st = conn.prepare("SELECT id FROM keys").unwrap();
        let stored_keys: HashSet<String> = st
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            keys.iter().all(|k| stored_keys.contains(k)),
            "an acknowledged key change was lost"
        );

        let pepper = Pepper::load_or_create(dir.path()).unwrap();
        let auth = Authority::new(store, pepper, Env::Live, AuthorityConfig::default());
        let report = auth.verify_all_audit().await.unwrap();
        assert!(
            report.ok,
            "{:?}",
            report.chains.iter().filter(|c| !c.ok()).collect::<Vec<_>>()
        );
        assert!(report.events as usize >= acked.len());
        let mints = auth
            .store()
            .query_audit(
                &OrgId::parse("acme").unwrap(),
                &AuditFilter {
                    tool: Some("mint".into()),
                    ..Default::default()
                },
                None,
                1_000_000,
            )
            .await
            .unwrap();
        assert_eq!(
            mints.len(),
            stored_keys.len() - 1,
            "every stored key change has its event"
        );
        eprintln!(
            "acknowledged {} events and {} keys before SIGKILL; all present",
            acked.len(),
            keys.len()
        );
    });
}
