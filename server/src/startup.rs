//! Opening the store and building the authority from configuration.

use std::path::PathBuf;
use std::sync::Arc;

use authority::keys::Pepper;
use authority::{Authority, AuthorityConfig, Env, SqliteStore, Store};

use crate::cli::{CliError, Config};

/// Where the store lives, from `ACEKEYS_STORE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The embedded SQLite file in the data directory.
    EmbeddedDefault,
    /// A SQLite file somewhere else.
    SqliteFile(PathBuf),
}

impl StoreChoice {
    pub fn parse(text: &str) -> Result<Self, CliError> {
        match text {
            "" | "sqlite" => Ok(Self::EmbeddedDefault),
            other => match other.strip_prefix("sqlite:") {
                Some(path) if !path.is_empty() => Ok(Self::SqliteFile(PathBuf::from(path))),
                _ => Err(CliError::UnknownStore(other.to_owned())),
            },
        }
    }

    pub fn kind(&self) -> &'static str {
        "sqlite"
    }
}

/// Opens the configured store and pepper and builds the authority.
/// Must run inside the Tokio runtime (the authority starts its flushers).
pub fn open_authority(config: &Config) -> Result<Authority, CliError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| CliError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let store: Arc<dyn Store> = match StoreChoice::parse(&config.store)? {
        StoreChoice::EmbeddedDefault => Arc::new(SqliteStore::open(&config.data_dir)?),
        StoreChoice::SqliteFile(path) => Arc::new(SqliteStore::open_file(&path)?),
    };
    let pepper = Pepper::load_or_create(&config.data_dir)
        .map_err(|error| CliError::Pepper(error.to_string()))?;
    let env = Env::parse(&config.env).ok_or_else(|| CliError::UnknownEnv(config.env.clone()))?;
    Ok(Authority::new(
        store,
        pepper,
        env,
        AuthorityConfig {
            server_name: Some("acekeys".to_owned()),
            ..AuthorityConfig::default()
        },
    ))
}
