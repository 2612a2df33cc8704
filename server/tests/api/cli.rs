//! The binary's subcommands: bootstrap, audit verify, first start, SIGTERM.

use crate::harness::{
    firestore_project, run_cli, run_cli_on, shareable_store, spawn_app, use_store, BIN,
};

#[test]
fn bootstrap_prints_exactly_one_key_and_refuses_an_existing_org() {
    let dir = tempfile::tempdir().unwrap();
    let (status, stdout, _) = run_cli(dir.path(), &["bootstrap", "--org", "acme"]);
    assert!(status.success());
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {stdout:?}");
    assert!(lines[0].starts_with("ace_live_"));
    let (status, stdout, stderr) = run_cli(dir.path(), &["bootstrap", "--org", "acme"]);
    assert!(!status.success());
    assert!(stdout.is_empty());
    assert!(stderr.contains("already exists"), "{stderr}");
    let (status, _, stderr) = run_cli(dir.path(), &["bootstrap", "--org", "Not An Org!"]);
    assert!(!status.success());
    assert!(stderr.contains("org"), "{stderr}");
}

/// Passkeys are bound to a domain name: a public URL naming an IP (or no
/// URL at all) is refused at start with the setting to fix, not at the
/// first sign-in.
#[test]
fn a_public_url_must_name_a_domain() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["http://127.0.0.1:3000", "keys.example.com"] {
        let args = ["--public-url", bad, "bootstrap", "--org", "acme"];
        let (status, stdout, stderr) = run_cli(dir.path(), &args);
        assert!(!status.success(), "{bad} was accepted");
        assert!(stdout.is_empty());
        assert!(stderr.contains("ACEKEYS_PUBLIC_URL"), "{bad}: {stderr}");
    }
    let args = [
        "--public-url",
        "http://localhost:3000",
        "bootstrap",
        "--org",
        "acme",
    ];
    let (status, _, stderr) = run_cli(dir.path(), &args);
    assert!(status.success(), "{stderr}");
}

#[test]
fn help_explains_the_settings() {
    let output = std::process::Command::new(BIN)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for word in [
        "ACEKEYS_DATA_DIR",
        "ACEKEYS_STORE",
        "LEPTOS_SITE_ADDR",
        "bootstrap",
        "audit",
    ] {
        assert!(help.contains(word), "--help does not mention {word}");
    }
}

#[tokio::test]
async fn audit_verify_passes_and_then_catches_tampering() {
    let mut app = spawn_app().await;
    app.mint("one", &["svc:wiki:read"]).await;
    app.mint("two", &["svc:wiki:read"]).await;
    app.terminate();
    let (status, stdout, _) = run_cli(app.data_dir.path(), &["audit", "verify"]);
    assert!(status.success(), "{stdout}");

    // Tamper with a recorded event behind the server's back.
    match firestore_project(app.data_dir.path()) {
        Some(project) => tamper_in_firestore(&project).await,
        None => {
            let db = std::fs::read_dir(app.data_dir.path())
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "db" || x == "sqlite"))
                .expect("the SQLite file");
            assert!(rusqlite_free_update(&db), "could not tamper");
        }
    }
    let (status, _, stderr) = run_cli(app.data_dir.path(), &["audit", "verify"]);
    assert!(!status.success(), "tampering went unnoticed");
    assert!(stderr.contains("tampered"), "{stderr}");
}

/// A graceful stop seals the newest heads: cutting the newest event off a
/// chain afterwards (which a hash chain alone cannot show) fails `audit
/// verify`, as does checking the seals against another deployment's key.
#[tokio::test]
async fn audit_verify_catches_a_tail_cut_after_a_graceful_stop() {
    let mut app = spawn_app().await;
    app.mint("one", &["svc:wiki:read"]).await;
    app.mint("two", &["svc:wiki:read"]).await;
    assert!(app.terminate().success());
    let (status, stdout, _) = run_cli(app.data_dir.path(), &["audit", "verify"]);
    assert!(status.success(), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["unsealed_events"], 0, "{stdout}");
    let (status, key, _) = run_cli(app.data_dir.path(), &["audit", "seal-key"]);
    assert!(status.success());
    let key = key.trim().to_owned();
    assert_eq!(key.len(), 64, "{key}");
    assert_eq!(report["seal_key"], key);

    match firestore_project(app.data_dir.path()) {
        Some(project) => cut_newest_event_in_firestore(&project).await,
        None => {
            let db = app.data_dir.path().join("acekeys.db");
            let sql =
                "DELETE FROM audit_events WHERE rowid = (SELECT MAX(rowid) FROM audit_events);";
            let script = format!("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); n=c.execute(\"{sql}\").rowcount; c.commit(); sys.exit(0 if n==1 else 1)");
            let cut = std::process::Command::new("python3")
                .args(["-c", &script, db.to_str().unwrap()])
                .status()
                .unwrap();
            assert!(cut.success(), "could not cut the tail");
        }
    }
    let (status, stdout, stderr) = run_cli(app.data_dir.path(), &["audit", "verify"]);
    assert!(!status.success(), "a cut tail went unnoticed: {stdout}");
    assert!(stderr.contains("tampered"), "{stderr}");
    assert!(stdout.contains("\"truncated\""), "{stdout}");

    let (status, _, stderr) = run_cli(
        app.data_dir.path(),
        &["audit", "verify", "--seal-public-key", "12ab"],
    );
    assert!(!status.success());
    assert!(stderr.contains("64 hex digits"), "{stderr}");
}

/// The names of acme's audit event documents on the emulator, in name
/// order (`<writer>.<seq, 20 digits>`), read as someone with database
/// access could.
async fn firestore_audit_docs(project: &str) -> Vec<String> {
    let host = std::env::var("FIRESTORE_EMULATOR_HOST").unwrap();
    let base = format!("http://{host}/v1/projects/{project}/databases/(default)/documents");
    let list: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/orgs/acme/audit?pageSize=1000"))
        .bearer_auth("owner")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["documents"]
        .as_array()
        .expect("audit events")
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Deletes the newest event of the last chain listed, through the
/// emulator's REST API.
async fn cut_newest_event_in_firestore(project: &str) {
    let host = std::env::var("FIRESTORE_EMULATOR_HOST").unwrap();
    let name = firestore_audit_docs(project).await.pop().unwrap();
    let status = reqwest::Client::new()
        .delete(format!("http://{host}/v1/{name}"))
        .bearer_auth("owner")
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "could not delete: {status}");
}

/// Edits one audit row with the sqlite3 shell if present, else through a
/// tiny SQL statement run by python3's sqlite3 module (both are on the
/// test machines; neither is a dependency of the product).
fn rusqlite_free_update(db: &std::path::Path) -> bool {
    let sql = "UPDATE audit_events SET action = 'tampered' WHERE rowid = (SELECT MIN(rowid) FROM audit_events);";
    let script = format!("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); n=c.execute(\"{sql}\").rowcount; c.commit(); sys.exit(0 if n==1 else 1)");
    std::process::Command::new("python3")
        .args(["-c", &script, db.to_str().unwrap()])
        .status()
        .is_ok_and(|status| status.success())
}

/// Rewrites one audit event's action through the emulator's REST API, as
/// someone with write access to the database could.
async fn tamper_in_firestore(project: &str) {
    let host = std::env::var("FIRESTORE_EMULATOR_HOST").unwrap();
    let client = reqwest::Client::new();
    let name = firestore_audit_docs(project)
        .await
        .into_iter()
        .next()
        .expect("an audit event");
    let status = client
        .patch(format!(
            "http://{host}/v1/{name}?updateMask.fieldPaths=action"
        ))
        .bearer_auth("owner")
        .json(&serde_json::json!({"fields": {"action": {"stringValue": "tampered"}}}))
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "could not tamper: {status}");
}

#[tokio::test]
async fn first_start_on_an_empty_store_prints_the_admin_key_once() {
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        let mut command = std::process::Command::new(BIN);
        command
            .arg("serve")
            .env("ACEKEYS_DATA_DIR", dir.path())
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        use_store(&mut command, dir.path());
        let mut child = command.spawn().unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() == 0 {
                break;
            }
            seen.push_str(&line);
            if line.starts_with("acekeys listening on") {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        seen
    };
    let first = start();
    assert!(first.contains("created org `default`"), "{first}");
    let key = first
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("ace_live_"))
        .expect("the admin key");
    assert!(key.len() > 30);
    let second = start();
    assert!(
        !second.contains("ace_live_"),
        "the key was printed twice: {second}"
    );
    // Unused here but keeps the harness module's helpers referenced.
    let _ = spawn_app;
}

#[test]
fn a_store_set_up_with_another_pepper_is_refused() {
    // Two servers sharing a store with different peppers would each find
    // none of the other's keys; the second one must refuse to start instead.
    let first = tempfile::tempdir().unwrap();
    let second = tempfile::tempdir().unwrap();
    let store = shareable_store(first.path());
    let (status, _, stderr) =
        run_cli_on(first.path(), Some(&store), &["bootstrap", "--org", "acme"]);
    assert!(status.success(), "{stderr}");
    let (status, stdout, stderr) = run_cli_on(
        second.path(),
        Some(&store),
        &["bootstrap", "--org", "globex"],
    );
    assert!(!status.success(), "started with another pepper: {stdout}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("different pepper"), "{stderr}");
    std::fs::copy(first.path().join("pepper"), second.path().join("pepper")).unwrap();
    let (status, _, stderr) = run_cli_on(
        second.path(),
        Some(&store),
        &["bootstrap", "--org", "globex"],
    );
    assert!(status.success(), "same pepper, same store: {stderr}");
}
