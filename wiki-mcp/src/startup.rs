//! Building the guard: local mode (same store as the authority, one org's
//! keys) or remote mode (authority URL + service key, whose org it serves).

use std::path::Path;
use std::time::Duration;

use authority::ids::OrgId;
use authority::{Authority, AuthorityConfig, Env, OpenError, OpenOptions, StoreLocation};
use guard::{Guard, GuardError, RemoteConfig, ToolScopes};

/// Why wiki-mcp could not start. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "choose a mode: --data-dir DIR (local) or --authority URL with --service-key KEY (remote)"
    )]
    NoMode,
    #[error("--data-dir and --authority exclude each other: pick local or remote mode")]
    BothModes,
    #[error(
        "local mode needs --org ORG (or WIKI_MCP_ORG): the org whose keys this server accepts"
    )]
    NoOrg,
    #[error("--org is for local mode only: a remote guard serves its service key's org")]
    OrgInRemoteMode,
    #[error("invalid --org {org:?}: {source}")]
    InvalidOrg {
        org: String,
        source: authority::ids::InvalidOrgId,
    },
    #[error("remote mode needs --service-key (or WIKI_MCP_SERVICE_KEY): a key with svc:keys:introspect, svc:audit:write and svc:catalog:write")]
    NoServiceKey,
    #[error("unknown env {0:?}: use `live` or `test`")]
    UnknownEnv(String),
    #[error("cannot open the authority's store: {0}")]
    Open(#[from] OpenError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// Opens the authority's embedded store in `data_dir` (the directory the
/// `acekeys` server uses), exactly as the server does (pepper check
/// included), and guards with it in-process, for the keys of `org` only.
pub async fn local_guard(
    data_dir: &Path,
    org: OrgId,
    env: Env,
    cache_ttl: Duration,
    tools: ToolScopes,
) -> Result<Guard, StartError> {
    let mut config = AuthorityConfig {
        server_name: Some("wiki-mcp".into()),
        ..AuthorityConfig::default()
    };
    config.validator.cache_ttl = cache_ttl;
    let authority = Authority::open(OpenOptions {
        store: StoreLocation::EmbeddedDefault,
        data_dir: data_dir.to_owned(),
        env,
        config,
    })
    .await?;
    local_guard_with(authority, org, tools).await
}

/// Local mode over an authority built by the caller (tests inject stores).
pub async fn local_guard_with(
    authority: Authority,
    org: OrgId,
    tools: ToolScopes,
) -> Result<Guard, StartError> {
    Ok(Guard::local(authority, org, tools, Some("wiki-mcp".into())).await?)
}

/// Remote mode.
pub async fn remote_guard(
    authority_url: &str,
    service_key: &str,
    spool_dir: &Path,
    cache_ttl: Duration,
    revocation_stream: bool,
    tools: ToolScopes,
) -> Result<Guard, StartError> {
    let mut config = RemoteConfig::new(authority_url, service_key, spool_dir)?;
    config.cache_ttl = cache_ttl;
    config.revocation_stream = revocation_stream;
    Ok(Guard::remote(config, tools, Some("wiki-mcp".into())).await?)
}

pub fn parse_env(s: &str) -> Result<Env, StartError> {
    Env::parse(s).ok_or_else(|| StartError::UnknownEnv(s.to_owned()))
}

/// The `--org` of local mode: required there.
pub fn parse_org(org: Option<&str>) -> Result<OrgId, StartError> {
    let org = org.ok_or(StartError::NoOrg)?;
    OrgId::parse(org).map_err(|source| StartError::InvalidOrg {
        org: org.to_owned(),
        source,
    })
}
