//! Command line and configuration: every setting is a flag with an
//! environment-variable twin, so the same binary runs by hand, under
//! cargo-leptos and in a container.

use std::net::SocketAddr;
use std::path::PathBuf;

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
    #[arg(long, env = "ACEKEYS_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Which store to use: `sqlite` (the embedded default, one file in the data
    /// directory) or `sqlite:PATH` for a file elsewhere.
    #[arg(long, env = "ACEKEYS_STORE", default_value = "sqlite", global = true)]
    pub store: String,

    /// Address to listen on (cargo-leptos's variable name).
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000", global = true)]
    pub addr: SocketAddr,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the dashboard, the REST API and the authority (the default).
    Serve,
}

impl Cli {
    /// Runs the chosen subcommand.
    pub async fn run(self) -> Result<(), CliError> {
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::routes::serve(self.config).await,
        }
    }
}

/// Why the binary stopped with a failure.
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
    #[error("unsupported store {0:?}: use `sqlite` or `sqlite:PATH`")]
    UnknownStore(String),
}
