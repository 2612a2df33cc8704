//! The durability settings the README states, checked on the real store file
//! and the real system calls: the database is in WAL mode, and every
//! acknowledged commit (mint, revoke, tool-call event) fsynced the WAL before
//! it was answered (`synchronous=FULL`).
//!
//! `crash.rs` kills the process, not the machine, so what sits in the page
//! cache survives it and `synchronous=NORMAL` or `OFF` would pass it. This
//! test sees the difference: it re-executes its own binary (`durability_child`,
//! active only when `ACEKEYS_DURABILITY_DIR` is set) under `strace`, which
//! records every `fsync`/`fdatasync` with the path of its file. In WAL mode,
//! NORMAL syncs the WAL only at checkpoints and OFF never; FULL syncs it at
//! every commit. Needs `strace` (Debian package `strace`) and ptrace
//! permission; without them the test fails saying so.

use std::process::Command;
use std::sync::Arc;

use authority::audit::Decision;
use authority::{
    Authority, AuthorityConfig, BootstrapRequest, Env, MintRequest, OrgId, Pepper, Scope,
    SqliteStore, ToolCall,
};

const DIR_VAR: &str = "ACEKEYS_DURABILITY_DIR";
const MINTS: usize = 20;
const REVOKES: usize = 10;
const EVENTS: usize = 10;

#[test]
fn durability_child() {
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
        // One acknowledged commit at a time: each call returns before the
        // next starts, so no two share a group commit.
        let mut minted = Vec::new();
        for _ in 0..MINTS {
            let k = auth
                .mint(
                    &p,
                    MintRequest {
                        org_id: None,
                        name: "durable".into(),
                        scopes: vec!["svc:wiki:read".into()],
                        expires_days: Default::default(),
                        env: None,
                        resources: Vec::new(),
                        terms: Default::default(),
                    },
                )
                .await
                .unwrap();
            minted.push(k.view.id);
        }
        for id in minted.iter().take(REVOKES) {
            auth.revoke(&p, id.as_str(), None).await.unwrap();
        }
        for i in 0..EVENTS {
            auth.record_tool_call(ToolCall {
                org: Some(OrgId::parse("acme").unwrap()),
                key_id: None,
                agent: Some("durable".into()),
                tool: "search".into(),
                required_scope: Some("svc:wiki:read".into()),
                decision: Decision::Allowed,
                reason: None,
                server: Some("durability-child".into()),
                request_id: Some(format!("r{i}")),
                client_ip: None,
                latency_us: None,
                ts: None,
            })
            .await
            .unwrap();
        }
    });
}

#[test]
fn every_acknowledged_commit_fsyncs_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("strace.out");
    let data = dir.path().join("data");
    let run = Command::new("strace")
        .args(["-f", "-qq", "-y", "-e", "trace=fsync,fdatasync", "-o"])
        .arg(&trace)
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durability_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(DIR_VAR, &data)
        .output()
        .unwrap_or_else(|e| {
            panic!("this test needs strace (Debian package `strace`) on PATH: {e}")
        });
    assert!(
        run.status.success(),
        "the child under strace failed (is ptrace allowed?): {}\n{}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );

    // The journal mode is stored in the database file itself.
    let conn = rusqlite::Connection::open(data.join("acekeys.db")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal", "the store file is not in WAL mode");
    let keys: i64 = conn
        .query_row("SELECT count(*) FROM keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(keys as usize, MINTS + 1, "the child's mints are all stored");

    let trace = std::fs::read_to_string(&trace).unwrap();
    // A line per call: `1234 fdatasync(7</tmp/…/acekeys.db-wal>) = 0`, or
    // `… <unfinished ...>` when another thread's call interleaves.
    let wal_syncs = trace
        .lines()
        .filter(|l| l.contains("sync(") && l.contains("acekeys.db-wal>"))
        .count();
    let commits = MINTS + REVOKES + EVENTS;
    assert!(
        wal_syncs >= commits,
        "{commits} acknowledged commits but only {wal_syncs} fsyncs of the WAL: \
         a commit was answered before it was on disk (synchronous below FULL?)\n{trace}"
    );
}
