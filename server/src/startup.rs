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
    /// A Firestore database several servers share:
    /// `firestore://PROJECT[/DATABASE]`.
    #[cfg(feature = "firestore")]
    Firestore(authority::store::FirestoreLocation),
}

impl StoreChoice {
    pub fn parse(text: &str) -> Result<Self, CliError> {
        if text.starts_with("firestore:") {
            return Self::parse_firestore(text);
        }
        match text {
            "" | "sqlite" => Ok(Self::EmbeddedDefault),
            other => match other.strip_prefix("sqlite:") {
                Some(path) if !path.is_empty() => Ok(Self::SqliteFile(PathBuf::from(path))),
                _ => Err(CliError::UnknownStore(other.to_owned())),
            },
        }
    }

    #[cfg(feature = "firestore")]
    fn parse_firestore(text: &str) -> Result<Self, CliError> {
        authority::store::FirestoreLocation::parse(text)
            .map(Self::Firestore)
            .map_err(CliError::BadStore)
    }

    #[cfg(not(feature = "firestore"))]
    fn parse_firestore(_: &str) -> Result<Self, CliError> {
        Err(CliError::BadStore(
            "this acekeys binary was built without Firestore support (cargo feature `firestore`)"
                .to_owned(),
        ))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::EmbeddedDefault | Self::SqliteFile(_) => "sqlite",
            #[cfg(feature = "firestore")]
            Self::Firestore(_) => "firestore",
        }
    }

    async fn open(&self, data_dir: &std::path::Path) -> Result<Arc<dyn Store>, CliError> {
        Ok(match self {
            Self::EmbeddedDefault => Arc::new(SqliteStore::open(data_dir)?),
            Self::SqliteFile(path) => Arc::new(SqliteStore::open_file(path)?),
            #[cfg(feature = "firestore")]
            Self::Firestore(location) => {
                Arc::new(authority::store::FirestoreStore::open(location).await?)
            }
        })
    }
}

/// Opens the configured store and pepper and builds the authority.
/// Must run inside the Tokio runtime (the authority starts its flushers).
pub async fn open_authority(config: &Config) -> Result<Authority, CliError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| CliError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let store = StoreChoice::parse(&config.store)?
        .open(&config.data_dir)
        .await?;
    let pepper = Pepper::load_or_create(&config.data_dir)
        .map_err(|error| CliError::Pepper(error.to_string()))?;
    let env = Env::parse(&config.env).ok_or_else(|| CliError::UnknownEnv(config.env.clone()))?;
    let authority = Authority::new(
        store,
        pepper,
        env,
        AuthorityConfig {
            server_name: Some("acekeys".to_owned()),
            ..AuthorityConfig::default()
        },
    );
    authority.check_pepper().await?;
    Ok(authority)
}
