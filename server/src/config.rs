//! The server's configuration: every setting is a flag with an
//! environment-variable twin (`acekeys --help`), so the same binary runs by
//! hand, under cargo-leptos and in a container. Parsed into typed values
//! (`Env`, `StoreLocation`) before anything starts.

use crate::client_addr::TrustedProxies;
use std::net::SocketAddr;
use std::path::PathBuf;

use authority::{Env, OpenError, StoreLocation};

/// Settings shared by every subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Directory for the embedded store, the pepper and other state.
    #[arg(
        long,
        env = "ACEKEYS_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Which store to use: `sqlite` (the embedded default: one file in the
    /// data directory), `sqlite:PATH` for a SQLite file elsewhere, or
    /// `firestore://PROJECT[/DATABASE]` for a Firestore database several
    /// servers share (honours `FIRESTORE_EMULATOR_HOST`).
    #[arg(long, env = "ACEKEYS_STORE", default_value = "sqlite", global = true)]
    pub store: String,

    /// Address to listen on (cargo-leptos's variable name). Port 0 picks a
    /// free port; the real address is printed on stdout.
    #[arg(
        long,
        env = "LEPTOS_SITE_ADDR",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub addr: SocketAddr,

    /// Which keys this server accepts: `live` or `test`. Keys of the other
    /// env are refused with a clear error.
    #[arg(long, env = "ACEKEYS_ENV", default_value = "live", global = true)]
    pub env: String,

    /// Mark the dashboard's session cookie `Secure`: set this when the
    /// dashboard is served over TLS (directly or behind a TLS proxy). Not
    /// inferred from `X-Forwarded-Proto`, which any client can send.
    #[arg(
        long,
        env = "ACEKEYS_SECURE_COOKIES",
        default_value_t = false,
        global = true
    )]
    pub secure_cookies: bool,

    /// Reverse proxies whose `X-Forwarded-For` names the client
    /// (comma-separated addresses or CIDR ranges). Empty: the connection's
    /// peer is the client, and the header is ignored.
    #[arg(
        long,
        env = "ACEKEYS_TRUSTED_PROXIES",
        default_value = "",
        global = true
    )]
    pub trusted_proxies: String,

    /// Where to serve Prometheus metrics (`/metrics`), e.g. `127.0.0.1:9464`:
    /// a separate listener an operator can keep off the public network.
    /// Unset: no metrics endpoint at all. The metrics are the whole
    /// server's, across orgs, so they are never on the public listener.
    #[arg(long, env = "ACEKEYS_METRICS_ADDR", global = true)]
    pub metrics_addr: Option<SocketAddr>,

    /// The dashboard's address as people type it, e.g.
    /// `https://keys.example.com` or `http://localhost:3000`. Passkeys are
    /// bound to its host, which must be a domain name (never an IP); unset,
    /// people cannot enrol or sign in with passkeys and only the
    /// break-glass `admin:org` key signs in.
    #[arg(long, env = "ACEKEYS_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Development only: fetch OAuth client metadata documents over plain
    /// http and from loopback or private addresses (a client under
    /// development on this machine). Off, a document client id must be an
    /// https URL on a public address.
    #[arg(
        long,
        env = "ACEKEYS_ALLOW_INSECURE_CLIENT_DOCUMENTS",
        default_value_t = false,
        global = true
    )]
    pub allow_insecure_client_documents: bool,

    /// Development only: let webhook endpoints be plain http URLs and
    /// loopback or private addresses (a receiver on this machine). Off, an
    /// endpoint must be an https URL of a public host.
    #[arg(
        long,
        env = "ACEKEYS_ALLOW_INSECURE_WEBHOOKS",
        default_value_t = false,
        global = true
    )]
    pub allow_insecure_webhooks: bool,

    /// The wait after a webhook delivery's first failed attempt, in
    /// milliseconds; later waits grow fourfold up to 6 hours.
    #[arg(
        long,
        env = "ACEKEYS_WEBHOOK_FIRST_RETRY_MS",
        default_value_t = 5_000,
        value_parser = clap::value_parser!(u64).range(100..=3_600_000),
        global = true
    )]
    pub webhook_first_retry_ms: u64,

    /// How long a client may take to send a complete request head (request
    /// line and headers), from opening its connection or from the end of
    /// its previous response, in milliseconds; past it, the connection is
    /// closed unanswered, so a client that sends a head slowly (or nothing)
    /// cannot hold a connection. Idle keep-alive connections close after
    /// the same time. The same 30 s as the request time limit by default.
    #[arg(
        long,
        env = "ACEKEYS_HEADER_TIMEOUT_MS",
        default_value_t = 30_000,
        value_parser = clap::value_parser!(u64).range(100..=3_600_000),
        global = true
    )]
    pub header_timeout_ms: u64,

    /// Turns on the leaked-key report endpoint (`POST /api/v1/leaks/github`):
    /// a file with the scanners' verification keys in GitHub's format
    /// (`{"public_keys": [{"key_identifier", "key": "-----BEGIN PUBLIC KEY-----…"}]}`,
    /// as served at https://api.github.com/meta/public_keys/secret_scanning).
    /// Unset: the endpoint answers 404.
    #[arg(long, env = "ACEKEYS_LEAK_REPORT_KEYS", global = true)]
    pub leak_report_keys: Option<std::path::PathBuf>,

    /// What a reported leak does to the key: `revoke` (default) or
    /// `quarantine` (a person decides).
    #[arg(
        long,
        env = "ACEKEYS_LEAK_RESPONSE",
        default_value = "revoke",
        global = true
    )]
    pub leak_response: String,
}

impl Config {
    /// The passkey relying party, when a public URL is configured.
    pub fn passkeys(
        &self,
    ) -> Result<Option<authority::people::passkeys::PasskeyVerifier>, ConfigError> {
        self.public_url
            .as_deref()
            .map(authority::people::passkeys::PasskeyVerifier::new)
            .transpose()
            .map_err(|e| ConfigError::PublicUrl(e.to_string()))
    }

    /// Which keys this server accepts.
    pub fn env(&self) -> Result<Env, ConfigError> {
        Env::parse(&self.env).ok_or_else(|| ConfigError::UnknownEnv(self.env.clone()))
    }

    /// The proxies whose forwarded-for header is believed.
    pub fn trusted_proxies(&self) -> Result<TrustedProxies, ConfigError> {
        TrustedProxies::parse(&self.trusted_proxies).map_err(ConfigError::TrustedProxies)
    }

    /// The leaked-key report endpoint's keys and response.
    pub fn leaks(&self) -> Result<authority::LeakPolicy, ConfigError> {
        let response = match self.leak_response.trim() {
            "revoke" => authority::LeakResponse::Revoke,
            "quarantine" => authority::LeakResponse::Quarantine,
            other => {
                return Err(ConfigError::Leaks(format!(
                    "--leak-response {other:?}: use `revoke` or `quarantine`"
                )))
            }
        };
        let keys = match &self.leak_report_keys {
            None => Default::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError::Leaks(format!(
                        "cannot read --leak-report-keys {}: {e}",
                        path.display()
                    ))
                })?;
                authority::guardrails::leaks::PartnerKeys::from_json(&text)
                    .map_err(|e| ConfigError::Leaks(format!("{}: {e}", path.display())))?
            }
        };
        Ok(authority::LeakPolicy { keys, response })
    }

    /// Where the store lives.
    pub fn store_location(&self) -> Result<StoreLocation, ConfigError> {
        Ok(StoreLocation::parse(&self.store)?)
    }
}

/// A setting that does not parse. Messages say what to write instead.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown env {0:?}: use `live` or `test`")]
    UnknownEnv(String),
    #[error(transparent)]
    Store(#[from] OpenError),
    #[error("--trusted-proxies: {0}")]
    TrustedProxies(String),
    #[error("ACEKEYS_PUBLIC_URL / --public-url: {0}")]
    PublicUrl(String),
    #[error("leak reports: {0}")]
    Leaks(String),
}
