//! `spawn_app()`: a real server process on a free port, with two orgs
//! (`acme` and `globex`) bootstrapped through the CLI.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

pub const BIN: &str = env!("CARGO_BIN_EXE_acekeys");

pub struct TestApp {
    pub base: String,
    /// `admin:org` key of org `acme`.
    pub admin: String,
    /// `admin:org` key of org `globex`.
    pub other_admin: String,
    pub data_dir: tempfile::TempDir,
    /// `ACEKEYS_STORE` of this server (`None`: the embedded default).
    pub store: Option<String>,
    pub client: reqwest::Client,
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr_path: PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The store the tests run against: the embedded default, or with
/// `ACEKEYS_TEST_STORE=firestore` (scripts/test's second pass) a Firestore
/// project on the emulator of its own for each data directory.
pub fn use_store(command: &mut Command, data_dir: &Path) {
    set_store(command, default_store(data_dir).as_deref());
}

fn set_store(command: &mut Command, store: Option<&str>) {
    match store {
        Some(store) => command.env("ACEKEYS_STORE", store),
        None => command.env_remove("ACEKEYS_STORE"),
    };
}

fn default_store(data_dir: &Path) -> Option<String> {
    firestore_project(data_dir).map(|p| format!("firestore://{p}"))
}

/// A store other data directories can share with `data_dir`'s: its
/// Firestore project, or its SQLite file named explicitly.
pub fn shareable_store(data_dir: &Path) -> String {
    default_store(data_dir)
        .unwrap_or_else(|| format!("sqlite:{}", data_dir.join("acekeys.db").display()))
}

/// The emulator project of `data_dir` when the tests run on Firestore.
pub fn firestore_project(data_dir: &Path) -> Option<String> {
    match std::env::var("ACEKEYS_TEST_STORE").as_deref() {
        Ok("firestore") => Some(emulator_project(data_dir)),
        Ok("sqlite") | Ok("") | Err(_) => None,
        Ok(other) => panic!("ACEKEYS_TEST_STORE={other:?}: use `sqlite` or `firestore`"),
    }
}

/// A project of its own on the Firestore emulator, named after `data_dir`;
/// fails, saying why, when the emulator is not running.
pub fn emulator_project(data_dir: &Path) -> String {
    let host = std::env::var("FIRESTORE_EMULATOR_HOST").unwrap_or_default();
    assert!(
        !host.is_empty(),
        "the Firestore tests need Google's Firestore emulator: FIRESTORE_EMULATOR_HOST \
         is not set (scripts/test starts it; the README says how to start it by hand)"
    );
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut h);
    format!("acekeys-api-{:016x}", h.finish())
}

/// Runs `acekeys ARGS` against `data_dir` and returns (status, stdout, stderr).
pub fn run_cli(data_dir: &Path, args: &[&str]) -> (std::process::ExitStatus, String, String) {
    run_cli_on(data_dir, default_store(data_dir).as_deref(), args)
}

pub fn run_cli_on(
    data_dir: &Path,
    store: Option<&str>,
    args: &[&str],
) -> (std::process::ExitStatus, String, String) {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("ACEKEYS_DATA_DIR", data_dir)
        .env("RUST_LOG", "info");
    set_store(&mut command, store);
    let output = command.output().expect("run acekeys");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn bootstrap(data_dir: &Path, store: Option<&str>, org: &str) -> String {
    let (status, stdout, stderr) = run_cli_on(data_dir, store, &["bootstrap", "--org", org]);
    assert!(status.success(), "bootstrap failed: {stderr}");
    stdout.trim().to_owned()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the server with extra environment variables.
pub async fn spawn_app_with(env: &[(&str, &str)]) -> TestApp {
    let data_dir = tempfile::tempdir().expect("tempdir");
    let store = default_store(data_dir.path());
    spawn_app_on(data_dir, store, env).await
}

/// Starts the server on `store` (`None`: the embedded default) after
/// bootstrapping `acme` and `globex` into it.
pub async fn spawn_app_on(
    data_dir: tempfile::TempDir,
    store: Option<String>,
    env: &[(&str, &str)],
) -> TestApp {
    let admin = bootstrap(data_dir.path(), store.as_deref(), "acme");
    let other_admin = bootstrap(data_dir.path(), store.as_deref(), "globex");
    serve(data_dir, store, admin, other_admin, env).await
}

/// Another server on `first`'s store, with its pepper (every server of a
/// shared store must hash keys alike) and its own data directory.
pub async fn spawn_second_server(first: &TestApp) -> TestApp {
    let data_dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        first.data_dir.path().join("pepper"),
        data_dir.path().join("pepper"),
    )
    .expect("copy the pepper");
    serve(
        data_dir,
        first.store.clone(),
        first.admin.clone(),
        first.other_admin.clone(),
        &[],
    )
    .await
}

async fn serve(
    data_dir: tempfile::TempDir,
    store: Option<String>,
    admin: String,
    other_admin: String,
    env: &[(&str, &str)],
) -> TestApp {
    let stderr_path = data_dir.path().join("server.log");
    let stderr = std::fs::File::create(&stderr_path).expect("log file");
    let mut command = Command::new(BIN);
    command
        .arg("serve")
        .env("ACEKEYS_DATA_DIR", data_dir.path())
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(stderr));
    set_store(&mut command, store.as_deref());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("spawn acekeys serve");
    let stdout = Arc::new(Mutex::new(String::new()));
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    let reader = BufReader::new(child.stdout.take().expect("stdout"));
    let sink = stdout.clone();
    std::thread::spawn(move || {
        for line in reader.lines().map_while(Result::ok) {
            if let Some(address) = line.strip_prefix("acekeys listening on ") {
                let _ = address_tx.send(address.to_owned());
            }
            sink.lock().unwrap().push_str(&line);
            sink.lock().unwrap().push('\n');
        }
    });
    let base = address_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("server did not print its address");
    TestApp {
        base,
        admin,
        other_admin,
        data_dir,
        store,
        client: reqwest::Client::new(),
        child,
        stdout,
        stderr_path,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, key: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, key: &str, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_raw(
        &self,
        key: &str,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request")
    }

    /// Sends only the head of a POST whose declared body is 200 MB and
    /// returns the status and the JSON body of the answer. A client that
    /// really wrote an oversized body could see a broken pipe instead of the
    /// answer (the server answers 413 and closes without reading the body),
    /// so tests of the limit declare the length and send nothing.
    pub async fn post_declared_oversized(&self, key: Option<&str>, path: &str) -> (u16, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = self.base.trim_start_matches("http://").to_owned();
        let mut socket = tokio::net::TcpStream::connect(&host).await.unwrap();
        let authorization = key
            .map(|key| format!("Authorization: Bearer {key}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
             {authorization}Content-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 209715200\r\nConnection: close\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut answer = String::new();
        socket.read_to_string(&mut answer).await.unwrap();
        let (status_line, rest) = answer
            .split_once("\r\n")
            .unwrap_or_else(|| panic!("{path}: no status line in {answer:?}"));
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("{path}: bad status line {status_line:?}"));
        let body = rest
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("{path}: {body}"));
        (status, body)
    }

    /// Mints a key in `acme` with the given scopes; returns (raw key, id).
    pub async fn mint(&self, name: &str, scopes: &[&str]) -> (String, String) {
        self.mint_as(&self.admin, name, scopes).await
    }

    pub async fn mint_as(&self, key: &str, name: &str, scopes: &[&str]) -> (String, String) {
        let response = self
            .post(
                key,
                "/api/v1/keys/mint",
                json!({ "name": name, "scopes": scopes }),
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.expect("json");
        assert_eq!(status, 201, "mint failed: {body}");
        (
            body["key"].as_str().unwrap().to_owned(),
            body["id"].as_str().unwrap().to_owned(),
        )
    }

    /// Everything the server has written to its log (stderr) so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Stops the server with SIGTERM and waits for it.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        self.child.wait().expect("wait")
    }
}

/// Reads an error envelope and checks its shape; returns the code.
pub async fn error_code(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let body: Value = response.json().await.expect("error body is JSON");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned();
    let message = body["error"]["message"].as_str().expect("error.message");
    assert!(!message.is_empty(), "error message is empty");
    code
}
