//! Shared test helpers: a seeded data directory (bootstrapped through the
//! authority crate), the wiki-mcp binary as a real child process, and an
//! rmcp client with a Bearer key.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use authority::audit::{AuditEvent, AuditFilter, AuditQuery, EventKind};
use authority::keys::Env;
use authority::time::{Clock, ManualClock, SystemClock};
use authority::{
    Authority, AuthorityConfig, BootstrapRequest, ExpiryChoice, KeyContext, MintRequest, Pepper,
    Scope, SqliteStore, Store,
};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};

pub mod authority_proc;

/// The wiki-mcp binary: cargo's path in tests, the sibling of the
/// executable in examples (`target/debug/examples/x` → `target/debug/wiki-mcp`).
pub fn wiki_bin() -> std::path::PathBuf {
    if let Some(path) = option_env!("CARGO_BIN_EXE_wiki-mcp") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("wiki-mcp")
}

/// A data directory with org `acme` and keys for every case.
pub struct Seed {
    /// Kept so the directory lives as long as the seed (tests).
    pub tmp: Option<tempfile::TempDir>,
    pub path: std::path::PathBuf,
    pub auth: Authority,
    pub clock: Arc<ManualClock>,
    pub admin: String,
    pub admin_ctx: KeyContext,
    /// svc:wiki:read, agent:reader
    pub reader: String,
    /// svc:wiki:read + svc:wiki:write + svc:kb:write, agent:writer
    pub writer: String,
    pub revoked: String,
    pub expired: String,
    /// A `test` key (the server accepts `live`).
    pub test_env: String,
    /// svc:keys:introspect + svc:audit:write, for remote mode.
    pub service: String,
}

impl Seed {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut seed = Self::at(dir.path()).await;
        seed.tmp = Some(dir);
        seed
    }

    /// Bootstraps org `acme` in `dir` (an empty acekeys data directory).
    pub async fn at(dir: &Path) -> Self {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir).expect("store"));
        let auth_store = store.clone();
        let clock = ManualClock::new(SystemClock.now());
        let auth = Authority::new(
            auth_store,
            Pepper::load_or_create(dir).expect("pepper"),
            Env::Live,
            AuthorityConfig {
                clock: clock.clone(),
                ..AuthorityConfig::default()
            },
        );
        let admin = auth
            .bootstrap(BootstrapRequest::new("acme"))
            .await
            .expect("bootstrap")
            .key
            .expose_secret()
            .to_owned();
        let admin_ctx = (*auth.authorize(&admin, &Scope::AdminOrg).await.unwrap()).clone();
        let mint = |name: &str, scopes: &[&str], env: Option<Env>| MintRequest {
            org_id: None,
            name: name.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            expires_days: ExpiryChoice::Days(30),
            env,
        };
        let key = |m: authority::MintedKey| m.key.expose_secret().to_owned();
        let reader = key(auth
            .mint(
                &admin_ctx,
                mint("reader", &["agent:reader", "svc:wiki:read"], None),
            )
            .await
            .unwrap());
        let writer = key(auth
            .mint(
                &admin_ctx,
                mint(
                    "writer",
                    &["agent:writer", "svc:wiki:write", "svc:kb:write"],
                    None,
                ),
            )
            .await
            .unwrap());
        let revoked_m = auth
            .mint(&admin_ctx, mint("revoked", &["svc:wiki:read"], None))
            .await
            .unwrap();
        auth.revoke(&admin_ctx, revoked_m.view.id.as_str(), None)
            .await
            .unwrap();
        let revoked = key(revoked_m);
        // Minted two days ago for one day: expired now.
        let now = clock.now();
        clock.set(now.plus_days(-2));
        let mut one_day = mint("expired", &["svc:wiki:read"], None);
        one_day.expires_days = ExpiryChoice::Days(1);
        let expired = key(auth.mint(&admin_ctx, one_day).await.unwrap());
        clock.set(now);
        let test_env = key(auth
            .mint(
                &admin_ctx,
                mint("test-env", &["svc:wiki:read"], Some(Env::Test)),
            )
            .await
            .unwrap());
        let service = key(auth
            .mint(
                &admin_ctx,
                mint(
                    "wiki-mcp",
                    &[
                        "svc:keys:introspect",
                        "svc:audit:write",
                        "svc:catalog:write",
                    ],
                    None,
                ),
            )
            .await
            .unwrap());
        Self {
            tmp: None,
            path: dir.to_owned(),
            auth,
            clock,
            admin,
            admin_ctx,
            reader,
            writer,
            revoked,
            expired,
            test_env,
            service,
        }
    }

    pub async fn mint(&self, name: &str, scopes: &[&str]) -> (String, String) {
        let m = self
            .auth
            .mint(
                &self.admin_ctx,
                MintRequest {
                    org_id: None,
                    name: name.to_owned(),
                    scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                    expires_days: ExpiryChoice::Days(30),
                    env: None,
                },
            )
            .await
            .unwrap();
        (m.key.expose_secret().to_owned(), m.view.id.to_string())
    }

    /// Every tool-call event of org `acme`, newest first.
    pub async fn tool_events(&self) -> Vec<AuditEvent> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .auth
                .audit_query(
                    &self.admin_ctx,
                    AuditQuery {
                        filter: AuditFilter {
                            kind: Some(EventKind::ToolCall),
                            ..AuditFilter::default()
                        },
                        cursor,
                        limit: Some(1000),
                    },
                )
                .await
                .unwrap();
            out.extend(page.events);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return out,
            }
        }
    }
}

/// A running wiki-mcp child; killed on drop.
pub struct WikiProc {
    pub url: String,
    pub base: String,
    child: Child,
}

impl Drop for WikiProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WikiProc {
    pub fn spawn(args: &[&str], log: &Path) -> Self {
        let mut child = Command::new(wiki_bin())
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .env_remove("WIKI_MCP_SERVICE_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(log).expect("log")))
            .spawn()
            .expect("spawn wiki-mcp");
        let url = read_address(&mut child, "wiki-mcp listening on ", log);
        let base = url.trim_end_matches("/mcp").to_owned();
        Self { url, base, child }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub async fn status(&self) -> serde_json::Value {
        reqwest::get(format!("{}/status", self.base))
            .await
            .expect("status")
            .json()
            .await
            .expect("status json")
    }
}

/// Reads the child's stdout until `prefix`; keeps draining it afterwards.
pub fn read_address(child: &mut Child, prefix: &str, log: &Path) -> String {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let wanted = prefix.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix(&wanted) {
                let _ = tx.send(rest.trim().to_owned());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            panic!(
                "no `{prefix}` line; log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        })
}

pub type Client = RunningService<RoleClient, ()>;

/// An rmcp client over Streamable HTTP, with `Authorization: Bearer key`.
pub async fn connect(url: &str, key: Option<&str>) -> Result<Client, String> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.to_owned());
    if let Some(key) = key {
        config = config.auth_header(key.to_owned());
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    tokio::time::timeout(Duration::from_secs(20), ().serve(transport))
        .await
        .map_err(|_| "handshake timed out".to_owned())?
        .map_err(|e| format!("{e:?}"))
}

pub async fn call(
    client: &Client,
    tool: &str,
    args: serde_json::Value,
) -> Result<CallToolResult, String> {
    let params = CallToolRequestParams::new(tool.to_owned())
        .with_arguments(args.as_object().cloned().unwrap_or_default());
    tokio::time::timeout(Duration::from_secs(20), client.call_tool(params))
        .await
        .map_err(|_| "call timed out".to_owned())?
        .map_err(|e| format!("{e:?}"))
}

pub fn text(result: &CallToolResult) -> String {
    serde_json::to_value(&result.content)
        .ok()
        .and_then(|v| v[0]["text"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Polls `check` every 50 ms until it holds; fails the test after `limit`.
pub async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
