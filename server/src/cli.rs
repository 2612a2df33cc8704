//! Command line and configuration: every setting is a flag with an
//! environment-variable twin, so the same binary runs by hand, under
//! cargo-leptos and in a container.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use authority::{AuthorityError, BootstrapRequest, StoreError};
use clap::{Parser, Subcommand};

/// acekeys: scoped, auditable, revocable API keys for AI agents.
#[derive(Debug, Parser)]
#[command(name = "acekeys", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    config: Config,
}

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
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the dashboard, the REST API and the authority (the default).
    /// On an empty store, first creates org `default` and prints its admin key once.
    Serve,
    /// Create an org and print its first admin key (`admin:org`) on stdout,
    /// and nothing else. Fails if the org exists.
    Bootstrap {
        /// The org id: lowercase letters, digits, `-` and `_`.
        #[arg(long)]
        org: String,
        /// Days until the admin key expires (1-366); default: never.
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// Audit trail operations.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify every audit hash chain; exits 1 if any event was modified,
    /// deleted, inserted or reordered.
    Verify,
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> Result<ExitCode, CliError> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::routes::serve(self.config)
                .await
                .map(|()| ExitCode::SUCCESS),
            Command::Bootstrap { org, expires_days } => {
                let authority = crate::startup::open_authority(&self.config).await?;
                let mut request = BootstrapRequest::new(&org);
                request.expires_days = expires_days;
                let minted = authority.bootstrap(request).await?;
                let mut stdout = std::io::stdout().lock();
                writeln!(stdout, "{}", minted.key.expose_secret()).map_err(CliError::Output)?;
                tracing::info!(org = %org, key_id = %minted.view.id, "bootstrapped org");
                Ok(ExitCode::SUCCESS)
            }
            Command::Audit {
                command: AuditCommand::Verify,
            } => {
                let authority = crate::startup::open_authority(&self.config).await?;
                let report = authority.verify_all_audit().await?;
                let json = serde_json::to_string_pretty(&report).unwrap_or_default();
                println!("{json}");
                Ok(if report.ok {
                    ExitCode::SUCCESS
                } else {
                    eprintln!(
                        "acekeys: the audit trail has been tampered with (see the report above)"
                    );
                    ExitCode::FAILURE
                })
            }
        }
    }
}

/// Why the binary stopped with a failure. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("could not read the Leptos site configuration: {0}")]
    LeptosConfig(String),
    #[error("could not listen on {addr}: {source}. Is another process using it? Set LEPTOS_SITE_ADDR or --addr to another address.")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
    #[error(
        "unsupported store {0:?}: use `sqlite` (the embedded default), `sqlite:PATH` or `firestore://PROJECT[/DATABASE]`"
    )]
    UnknownStore(String),
    #[error("{0}")]
    BadStore(String),
    #[error("unknown env {0:?}: use `live` or `test`")]
    UnknownEnv(String),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot load the pepper: {0}")]
    Pepper(String),
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Authority(#[from] AuthorityError),
    #[error("cannot write to stdout: {0}")]
    Output(std::io::Error),
}
