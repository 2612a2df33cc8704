//! The command line: `serve` (the default), `bootstrap`, `audit verify`,
//! `audit seal-key`.
//! Settings are [`Config`]'s; starting and serving is [`crate::startup`]'s.

use std::io::Write;
use std::process::ExitCode;

use authority::audit::SealTrust;
use authority::{AuthorityError, BootstrapRequest};
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::startup::{self, StartError};

/// acekeys: scoped, auditable, revocable API keys for AI agents.
#[derive(Debug, Parser)]
#[command(name = "acekeys", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    config: Config,
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
    /// Verify every audit hash chain and its seal; exits 1 if any event was
    /// modified, deleted, inserted or reordered, a chain was cut short or
    /// deleted after it was sealed, or a seal is not signed by the seal key.
    Verify {
        /// Check seals against this public key (64 hex digits, from
        /// `acekeys audit seal-key` run earlier and kept elsewhere) instead
        /// of the key derived from this deployment's pepper.
        #[arg(long, value_name = "HEX")]
        seal_public_key: Option<String>,
    },
    /// Print the public key the audit seals verify with (derived from the
    /// pepper), to keep outside the deployment and pass to
    /// `audit verify --seal-public-key`.
    SealKey,
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> Result<ExitCode, CliError> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => startup::serve(self.config)
                .await
                .map(|()| ExitCode::SUCCESS)
                .map_err(CliError::from),
            Command::Bootstrap { org, expires_days } => {
                let authority = startup::open_authority(&self.config).await?;
                let mut request = BootstrapRequest::new(&org);
                request.expires_days = expires_days;
                let minted = authority.bootstrap(request).await?;
                // This process's admin chain ends here: sign its head, or the
                // bootstrap event could be cut off the trail unseen.
                authority.seal_chains().await?;
                let mut stdout = std::io::stdout().lock();
                writeln!(stdout, "{}", minted.key.expose_secret()).map_err(CliError::Output)?;
                tracing::info!(org = %org, key_id = %minted.view.id, "bootstrapped org");
                Ok(ExitCode::SUCCESS)
            }
            Command::Audit {
                command: AuditCommand::SealKey,
            } => {
                let authority = startup::open_authority(&self.config).await?;
                writeln!(
                    std::io::stdout().lock(),
                    "{}",
                    authority.seal_trust().to_hex()
                )
                .map_err(CliError::Output)?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Audit {
                command: AuditCommand::Verify { seal_public_key },
            } => {
                let pinned = seal_public_key
                    .map(|hex| SealTrust::from_hex(&hex).map_err(CliError::SealKey))
                    .transpose()?;
                let authority = startup::open_authority(&self.config).await?;
                let report = match pinned {
                    Some(key) => authority.verify_all_audit_pinned(key).await?,
                    None => authority.verify_all_audit().await?,
                };
                let json = serde_json::to_string_pretty(&report).map_err(CliError::Report)?;
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

/// Why a command failed. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("{0}")]
    Authority(#[from] AuthorityError),
    #[error("cannot write the audit report: {0}")]
    Report(serde_json::Error),
    #[error("cannot write to stdout: {0}")]
    Output(std::io::Error),
    #[error("--seal-public-key: {0}")]
    SealKey(String),
}
