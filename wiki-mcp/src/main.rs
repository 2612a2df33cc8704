//! `wiki-mcp`: run the demo MCP server.
//!
//! ```text
//! wiki-mcp --data-dir ./data --org acme                                 # local mode
//! wiki-mcp --authority http://127.0.0.1:3000 --service-key ace_live_…   # remote mode
//!          [--status-addr 127.0.0.1:8091]                               # GET /status there
//! ```
//!
//! Prints `wiki-mcp status on http://ADDR/status` (with `--status-addr`)
//! and then `wiki-mcp listening on http://ADDR/mcp` on stdout once it
//! accepts connections (port 0 picks a free port).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use guard::ProtectedResource;
use tokio::net::TcpListener;
use wiki_mcp::startup::{self, StartError};
use wiki_mcp::{router, status_router, tool_scopes, Wiki};

/// A demo wiki MCP server guarded by acekeys.
#[derive(Debug, Parser)]
#[command(name = "wiki-mcp", version, about)]
struct Cli {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "WIKI_MCP_ADDR", default_value = "127.0.0.1:8090")]
    addr: SocketAddr,
    /// Serve `GET /status` (the guard's health and counters, no key needed)
    /// on this address only; off unless set. Keep it on loopback or an
    /// operators' network: the MCP address never serves it.
    #[arg(long, env = "WIKI_MCP_STATUS_ADDR")]
    status_addr: Option<SocketAddr>,
    /// Local mode: the acekeys data directory (same store as the authority).
    #[arg(long, env = "WIKI_MCP_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Local mode (required there): the org whose keys this server accepts;
    /// keys of every other org in the store are refused like unknown keys.
    #[arg(long, env = "WIKI_MCP_ORG")]
    org: Option<String>,
    /// Remote mode: the authority's base URL, e.g. http://127.0.0.1:3000.
    #[arg(long, env = "WIKI_MCP_AUTHORITY")]
    authority: Option<String>,
    /// Remote mode: this server's key (svc:keys:introspect + svc:audit:write + svc:catalog:write,
    /// and svc:keys:quarantine so a tripped guardrail holds the key at every guard).
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
    /// The base URL clients reach this server at (https, or http on a
    /// loopback host): the MCP endpoint `<url>/mcp` is the OAuth protected
    /// resource its metadata names. Default: http://<the listening address>.
    #[arg(long, env = "WIKI_MCP_PUBLIC_URL")]
    public_url: Option<String>,
    /// The authorization server its metadata names (the acekeys URL).
    /// Default: `--authority` in remote mode, none in local mode.
    #[arg(long, env = "WIKI_MCP_AUTHORIZATION_SERVER")]
    authorization_server: Option<String>,
    /// Guardrail: identical calls (same tool, same arguments) of one key
    /// within the window that put it in quarantine; 0 turns the rule off.
    #[arg(long, env = "WIKI_MCP_LOOP_CALLS", default_value_t = guard::TripwireConfig::default().loop_calls)]
    loop_calls: u32,
    /// Guardrail: refused calls of one valid key (missing scope, unknown
    /// tool) within the window that put it in quarantine; 0: off.
    #[arg(long, env = "WIKI_MCP_DENIAL_BURST", default_value_t = guard::TripwireConfig::default().denial_burst)]
    denial_burst: u32,
    /// Guardrail: how many times its usual rate a key's calls in one
    /// window may reach before it is put in quarantine; 0: off.
    #[arg(long, env = "WIKI_MCP_SURGE_FACTOR", default_value_t = guard::TripwireConfig::default().surge_factor)]
    surge_factor: u32,
    /// Guardrail: the fewest calls in one window that can make a surge.
    #[arg(long, env = "WIKI_MCP_SURGE_FLOOR", default_value_t = guard::TripwireConfig::default().surge_floor)]
    surge_floor: u32,
    /// Guardrail: put a key in quarantine at its first call of a tool
    /// outside its usual set (learnt over its first active windows).
    #[arg(long, env = "WIKI_MCP_NEW_TOOL_RULE")]
    new_tool_rule: bool,
    /// Guardrail: the window the rules count in, in seconds.
    #[arg(long, env = "WIKI_MCP_TRIPWIRE_WINDOW_SECS", default_value_t = 60)]
    tripwire_window_secs: u64,
    /// How often the org's guardrail settings are read from the authority,
    /// in milliseconds; rule thresholds the org set replace the flags above.
    #[arg(long, env = "WIKI_MCP_ORG_SETTINGS_REFRESH_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    org_settings_refresh_ms: u64,
    /// How long a request may take, reading its body included, until its
    /// response head (a stream, once started, is not cut): past it, 408.
    /// In milliseconds; the authority's limit is the same 30 s. At a stop
    /// (SIGTERM), open requests and event streams get this long to end.
    #[arg(long, env = "WIKI_MCP_REQUEST_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(100..))]
    request_timeout_ms: u64,
    /// How long a client may take to send a complete request head, from
    /// opening its connection or from the end of its previous response:
    /// past it, the connection is closed unanswered (idle keep-alive
    /// connections too). In milliseconds; the authority's default is the
    /// same 30 s.
    #[arg(long, env = "WIKI_MCP_HEADER_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    header_timeout_ms: u64,
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
            let org = startup::parse_org(cli.org.as_deref())?;
            let ttl = Duration::from_secs(cli.cache_ttl_secs.unwrap_or(1));
            startup::local_guard(dir, org, startup::parse_env(&cli.env)?, ttl, tools).await?
        }
        (None, Some(_)) if cli.org.is_some() => return Err(StartError::OrgInRemoteMode),
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
    guard.configure_tripwires(guard::TripwireConfig {
        loop_calls: cli.loop_calls,
        denial_burst: cli.denial_burst,
        surge_factor: cli.surge_factor,
        surge_floor: cli.surge_floor,
        new_tool: cli.new_tool_rule,
        window: Duration::from_secs(cli.tripwire_window_secs.max(1)),
    });
    guard.follow_org_settings(Duration::from_millis(cli.org_settings_refresh_ms));
    let wiki = Wiki::new();
    let limits = guard::serve::ServeLimits {
        header_timeout: Duration::from_millis(cli.header_timeout_ms),
        // At shutdown, in-flight requests get as long as a request may
        // take anyway; a session's event stream still open then is closed.
        shutdown_grace: Duration::from_millis(cli.request_timeout_ms),
    };
    if let Some(addr) = cli.status_addr {
        serve_status(addr, status_router(guard.clone(), wiki.clone()), limits).await?;
    }
    let listener = bind(cli.addr).await?;
    let local = listener.local_addr().map_err(StartError::Serve)?;
    let mut hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        local.ip().to_string(),
    ];
    hosts.extend(cli.allowed_hosts);
    let base = cli.public_url.unwrap_or_else(|| format!("http://{local}"));
    let issuers: Vec<String> = cli
        .authorization_server
        .or(cli.authority)
        .into_iter()
        .collect();
    let resource =
        ProtectedResource::new(&format!("{}/mcp", base.trim_end_matches('/')), &issuers)?;
    guard.serve_as(resource)?;
    tracing::info!(%local, mode = guard.mode(), "wiki-mcp listening");
    // Tests and scripts read the address from this line.
    println!("wiki-mcp listening on http://{local}/mcp");
    // A client that stalls its body (or a request that hangs) is cut off
    // with 408, as at the authority; the guard's body limit answers 413.
    let app = router(guard.clone(), wiki, hosts).layer(
        tower_http::timeout::TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(cli.request_timeout_ms),
        ),
    );
    // The peer's address reaches the guard: its per-client limit on
    // unauthenticated calls, and every event's `client_ip`. A request head
    // must arrive within the header timeout (slowloris).
    guard::serve::serve(listener, app, shutdown_signal(), limits).await;
    guard.shutdown().await;
    Ok(())
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

/// Serves `/status` on its own listener, in the background: it needs no
/// key, so it lives where only operators reach it.
async fn serve_status(
    addr: SocketAddr,
    app: axum::Router,
    limits: guard::serve::ServeLimits,
) -> Result<(), StartError> {
    let listener = bind(addr).await?;
    let local = listener.local_addr().map_err(StartError::Serve)?;
    if !local.ip().is_loopback() {
        tracing::warn!(%local, "/status needs no key and is served on a non-loopback address");
    }
    println!("wiki-mcp status on http://{local}/status");
    tokio::spawn(guard::serve::serve(
        listener,
        app,
        std::future::pending(),
        limits,
    ));
    Ok(())
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
