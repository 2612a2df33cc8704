//! `wiki-mcp`: run the demo MCP server.
//!
//! ```text
//! wiki-mcp --data-dir ./data                                   # local mode
//! wiki-mcp --authority http://127.0.0.1:3000 --service-key ace_live_…   # remote mode
//! ```
//!
//! Prints `wiki-mcp listening on http://ADDR/mcp` on stdout once it accepts
//! connections (port 0 picks a free port).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use wiki_mcp::startup::{self, StartError};
use wiki_mcp::{router, tool_scopes, Wiki};

/// A demo wiki MCP server guarded by acekeys.
#[derive(Debug, Parser)]
#[command(name = "wiki-mcp", version, about)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "WIKI_MCP_ADDR", default_value = "127.0.0.1:8090")]
    addr: SocketAddr,
    /// Local mode: the acekeys data directory (same store as the authority).
    #[arg(long, env = "WIKI_MCP_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Remote mode: the authority's base URL, e.g. http://127.0.0.1:3000.
    #[arg(long, env = "WIKI_MCP_AUTHORITY")]
    authority: Option<String>,
    /// Remote mode: this server's key (svc:keys:introspect + svc:audit:write + svc:catalog:write).
    /// Prefer the environment variable: command lines are visible to other users.
    #[arg(long, env = "WIKI_MCP_SERVICE_KEY", hide_env_values = true)]
    service_key: Option<String>,
    /// Remote mode: the durable audit spool directory (one per process).
    #[arg(long, env = "WIKI_MCP_SPOOL_DIR", default_value = "./wiki-mcp-spool")]
    spool_dir: PathBuf,
    /// Which keys to accept: `live` or `test` (local mode; remote mode uses
    /// the service key's env).
    #[arg(long, env = "WIKI_MCP_ENV", default_value = "live")]
    env: String,
    /// Seconds a validated key stays cached. Default: 30 remote (the
    /// revocation stream evicts at once; the TTL bounds a down stream),
    /// 1 local (another process's revocations are seen after at most this).
    #[arg(long, env = "WIKI_MCP_CACHE_TTL_SECS")]
    cache_ttl_secs: Option<u64>,
    /// Remote mode: do not listen to the revocation stream (only to measure
    /// the TTL fallback).
    #[arg(long)]
    no_revocation_stream: bool,
    /// Extra Host header values to accept (loopback is always accepted).
    #[arg(long = "allowed-host")]
    allowed_hosts: Vec<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wiki-mcp: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), StartError> {
    let tools = tool_scopes()?;
    let guard = match (&cli.data_dir, &cli.authority) {
        (Some(_), Some(_)) => return Err(StartError::BothModes),
        (None, None) => return Err(StartError::NoMode),
        (Some(dir), None) => {
            let ttl = Duration::from_secs(cli.cache_ttl_secs.unwrap_or(1));
            startup::local_guard(dir, startup::parse_env(&cli.env)?, ttl, tools).await?
        }
        (None, Some(url)) => {
            let key = cli.service_key.as_deref().ok_or(StartError::NoServiceKey)?;
            let ttl = Duration::from_secs(cli.cache_ttl_secs.unwrap_or(30));
            startup::remote_guard(
                url,
                key,
                &cli.spool_dir,
                ttl,
                !cli.no_revocation_stream,
                tools,
            )
            .await?
        }
    };
    let listener = tokio::net::TcpListener::bind(cli.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: cli.addr,
            source,
        })?;
    let local = listener.local_addr().map_err(StartError::Serve)?;
    let mut hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        local.ip().to_string(),
    ];
    hosts.extend(cli.allowed_hosts);
    tracing::info!(%local, mode = guard.mode(), "wiki-mcp listening");
    // Tests and scripts read the address from this line.
    println!("wiki-mcp listening on http://{local}/mcp");
    let app = router(guard, Wiki::new(), hosts);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(StartError::Serve)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
