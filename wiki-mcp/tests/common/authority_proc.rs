//! The real `acekeys` binary as a child process, and its REST API.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

/// The crates the `acekeys` binary is built from (their `Cargo.toml` and
/// everything under `src/`).
const SERVER_SOURCES: [&str; 4] = ["server", "app", "authority", "model"];

/// `acekeys` next to this test's executable (`target/debug/acekeys`), checked
/// once per test process: it must exist and be newer than every source it is
/// built from, or the test fails saying how to build it. Cargo builds it in
/// the same run only when the run includes the server's tests (`scripts/test`
/// runs `cargo test -p server -p wiki-mcp …`); `cargo test -p wiki-mcp` alone,
/// or with `--test NAME`, leaves whatever binary was there, and a stale server
/// must fail these tests rather than pass them.
pub fn acekeys_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("current exe");
        let debug = exe
            .parent()
            .and_then(|deps| {
                if deps.ends_with("deps") || deps.ends_with("examples") {
                    deps.parent()
                } else {
                    Some(deps)
                }
            })
            .expect("target dir")
            .to_path_buf();
        let bin = debug.join("acekeys");
        let build = "build it from this checkout first (`cargo build --locked -p server --bin acekeys`), \
                     or run these tests in the same cargo command as the server's (`scripts/test` does)";
        let built = std::fs::metadata(&bin)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{} is missing ({e}): {build}", bin.display()));
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("workspace root");
        let (newest, changed) = SERVER_SOURCES
            .iter()
            .flat_map(|krate| {
                let dir = root.join(krate);
                let mut files = vec![dir.join("Cargo.toml")];
                collect_files(&dir.join("src"), &mut files);
                files
            })
            .map(|f| {
                let t = std::fs::metadata(&f)
                    .and_then(|m| m.modified())
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                (f, t)
            })
            .max_by_key(|(_, t)| *t)
            .expect("server sources");
        assert!(
            changed <= built,
            "{} is older than {} (changed {:?} after the binary was built): it is not the server \
             these sources build, and testing it proves nothing; {build}",
            bin.display(),
            newest.display(),
            changed.duration_since(built).unwrap_or_default(),
        );
        bin
    })
    .clone()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}

pub struct AcekeysProc {
    pub base: String,
    pub data_dir: PathBuf,
    child: Child,
}

impl Drop for AcekeysProc {
    fn drop(&mut self) {
        self.stop();
    }
}

impl AcekeysProc {
    /// `acekeys bootstrap --org ORG`; returns the admin key.
    pub fn bootstrap(data_dir: &Path, org: &str) -> String {
        let out = Command::new(acekeys_bin())
            .args(["bootstrap", "--org", org])
            .env("ACEKEYS_DATA_DIR", data_dir)
            .env_remove("ACEKEYS_STORE")
            .output()
            .expect("acekeys bootstrap");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// `acekeys serve` on `addr` (`127.0.0.1:0` for a free port).
    pub fn start(data_dir: &Path, addr: &str) -> Self {
        Self::start_with(data_dir, addr, &[])
    }

    /// The same, with more environment (`ACEKEYS_…` settings).
    pub fn start_with(data_dir: &Path, addr: &str, env: &[(&str, &str)]) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("acekeys.log"))
            .expect("log");
        let mut child = Command::new(acekeys_bin())
            .arg("serve")
            .env("ACEKEYS_DATA_DIR", data_dir)
            .env("LEPTOS_SITE_ADDR", addr)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .env_remove("ACEKEYS_STORE")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawn acekeys");
        let base = super::read_address(
            &mut child,
            "acekeys listening on ",
            &data_dir.join("acekeys.log"),
        );
        Self {
            base,
            data_dir: data_dir.to_owned(),
            child,
        }
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }
}

/// The REST API with one admin key.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub admin: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, admin: &str) -> Self {
        Self {
            base: base.to_owned(),
            admin: admin.to_owned(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        }
    }

    pub async fn mint(&self, name: &str, scopes: &[&str]) -> (String, String) {
        let r = self
            .http
            .post(format!("{}/api/v1/keys/mint", self.base))
            .bearer_auth(&self.admin)
            .json(&json!({"name": name, "scopes": scopes, "expires_days": 1}))
            .send()
            .await
            .expect("mint");
        assert_eq!(
            r.status(),
            201,
            "mint {name}: {}",
            r.text().await.unwrap_or_default()
        );
        let v: Value = r.json().await.unwrap();
        (
            v["key"].as_str().unwrap().to_owned(),
            v["id"].as_str().unwrap().to_owned(),
        )
    }

    /// `POST /keys/mint` with any body, as `bearer`: the status and answer.
    pub async fn mint_as(&self, bearer: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/keys/mint", self.base))
            .bearer_auth(bearer)
            .json(&body)
            .send()
            .await
            .expect("mint");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `GET path` on the API as `bearer`: the status and answer.
    pub async fn get_as(&self, bearer: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("get");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `PUT path` with `body` as `bearer`: the status and answer.
    pub async fn put_as(&self, bearer: &str, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .put(format!("{}{path}", self.base))
            .bearer_auth(bearer)
            .json(&body)
            .send()
            .await
            .expect("put");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `POST /introspect` as `bearer` about `token`.
    pub async fn introspect_as(&self, bearer: &str, token: &str) -> Value {
        self.http
            .post(format!("{}/api/v1/introspect", self.base))
            .bearer_auth(bearer)
            .json(&json!({ "token": token }))
            .send()
            .await
            .expect("introspect")
            .json()
            .await
            .expect("introspect json")
    }

    pub async fn revoke(&self, id: &str) {
        let r = self
            .http
            .post(format!("{}/api/v1/keys/{id}/revoke", self.base))
            .bearer_auth(&self.admin)
            .json(&json!({}))
            .send()
            .await
            .expect("revoke");
        assert!(r.status().is_success(), "revoke: {}", r.status());
    }

    /// Every tool-call event of the admin's org.
    pub async fn tool_events(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/api/v1/audit?kind=tool_call&limit=1000", self.base);
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let v: Value = self
                .http
                .get(url)
                .bearer_auth(&self.admin)
                .send()
                .await
                .expect("audit")
                .json()
                .await
                .expect("audit json");
            out.extend(v["events"].as_array().cloned().unwrap_or_default());
            match v["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return out,
            }
        }
    }

    pub async fn verify(&self) -> Value {
        self.http
            .get(format!("{}/api/v1/audit/verify", self.base))
            .bearer_auth(&self.admin)
            .send()
            .await
            .expect("verify")
            .json()
            .await
            .expect("verify json")
    }
}
