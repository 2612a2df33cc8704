//! Shared test helpers: a seeded data directory (bootstrapped through the
//! authority crate, [`Seed`]), the wiki-mcp binary as a real child process,
//! and an rmcp client with a Bearer key.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};

pub mod authority_proc;
mod seed;

#[allow(unused_imports)] // some test crates use no seed
pub use seed::Seed;

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

/// A running wiki-mcp child; killed on drop.
pub struct WikiProc {
    /// The MCP endpoint, `http://ADDR/mcp`.
    pub url: String,
    /// `http://ADDR` of the MCP listener.
    pub base: String,
    /// `http://ADDR/status` on the status listener (`--status-addr`).
    pub status_url: String,
    child: Child,
}

impl Drop for WikiProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WikiProc {
    /// Starts wiki-mcp with `args`, on free loopback ports for both the MCP
    /// endpoint and `/status`.
    pub fn spawn(args: &[&str], log: &Path) -> Self {
        let mut child = Command::new(wiki_bin())
            .args(["--addr", "127.0.0.1:0", "--status-addr", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .env_remove("WIKI_MCP_SERVICE_KEY")
            .env_remove("WIKI_MCP_ORG")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(log).expect("log")))
            .spawn()
            .expect("spawn wiki-mcp");
        // The status line comes first: the listening line means ready.
        let mut lines = read_lines(
            &mut child,
            &["wiki-mcp status on ", "wiki-mcp listening on "],
            log,
        );
        let url = lines.pop().expect("listening line");
        let status_url = lines.pop().expect("status line");
        let base = url.trim_end_matches("/mcp").to_owned();
        Self {
            url,
            base,
            status_url,
            child,
        }
    }

    /// Starts wiki-mcp in remote mode against `authority` with
    /// `service_key`, its spool in `dir/spool`, and waits until its
    /// revocation stream is connected.
    pub async fn spawn_remote(authority: &str, service_key: &str, dir: &Path) -> Self {
        Self::spawn_remote_with(authority, service_key, dir, &[]).await
    }

    /// [`spawn_remote`](Self::spawn_remote) with more arguments.
    pub async fn spawn_remote_with(
        authority: &str,
        service_key: &str,
        dir: &Path,
        extra: &[&str],
    ) -> Self {
        let spool = dir.join("spool");
        let mut args = vec![
            "--authority",
            authority,
            "--service-key",
            service_key,
            "--spool-dir",
            spool.to_str().expect("utf-8 path"),
        ];
        args.extend_from_slice(extra);
        let wiki = Self::spawn(&args, &dir.join("wiki.log"));
        wait_for(
            "the revocation stream",
            Duration::from_secs(10),
            async || wiki.status().await["guard"]["stream_connected"] == true,
        )
        .await;
        wiki
    }

    /// Whether the process is still running (it has not exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends SIGTERM and waits up to `limit` for the process to exit;
    /// `None` if it is still running then (dropping it kills it).
    pub fn terminate_within(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            if started.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub async fn status(&self) -> serde_json::Value {
        reqwest::get(&self.status_url)
            .await
            .expect("status")
            .json()
            .await
            .expect("status json")
    }
}

/// Reads the child's stdout until `prefix`; keeps draining it afterwards.
pub fn read_address(child: &mut Child, prefix: &str, log: &Path) -> String {
    read_lines(child, &[prefix], log).remove(0)
}

/// Reads the child's stdout until a line starting with each of `prefixes`,
/// in that order, has been seen; returns the rest of each line. Keeps
/// draining stdout afterwards.
pub fn read_lines(child: &mut Child, prefixes: &[&str], log: &Path) -> Vec<String> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    let wanted: Vec<String> = prefixes.iter().map(|p| (*p).to_owned()).collect();
    std::thread::spawn(move || {
        let mut next = 0;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = wanted.get(next).and_then(|p| line.strip_prefix(p.as_str())) {
                next += 1;
                let _ = tx.send(rest.trim().to_owned());
            }
        }
    });
    prefixes
        .iter()
        .map(|prefix| {
            rx.recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!(
                        "no `{prefix}` line; log:\n{}",
                        std::fs::read_to_string(log).unwrap_or_default()
                    )
                })
        })
        .collect()
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
