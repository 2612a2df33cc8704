//! Opening an authority from configuration: the store, the pepper, and the
//! check that they belong together. The server, its CLI and in-process
//! tool servers (a local guard) all start through [`Authority::open`], so
//! none of them can skip the pepper check.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::AuthorityError;
use crate::facade::{Authority, AuthorityConfig};
use crate::keys::{Env, Pepper};
use crate::store::{SqliteStore, Store, StoreError};

/// Where the store lives (`ACEKEYS_STORE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// The embedded SQLite file in the data directory.
    EmbeddedDefault,
    /// A SQLite file somewhere else.
    SqliteFile(PathBuf),
    /// A Firestore database several servers share:
    /// `firestore://PROJECT[/DATABASE]`.
    #[cfg(feature = "firestore")]
    Firestore(crate::store::FirestoreLocation),
}

impl StoreLocation {
    /// `sqlite` (or empty), `sqlite:PATH`, or `firestore://PROJECT[/DATABASE]`.
    pub fn parse(text: &str) -> Result<Self, OpenError> {
        if text.starts_with("firestore:") {
            return Self::parse_firestore(text);
        }
        match text {
            "" | "sqlite" => Ok(Self::EmbeddedDefault),
            other => match other.strip_prefix("sqlite:") {
                Some(path) if !path.is_empty() => Ok(Self::SqliteFile(PathBuf::from(path))),
                _ => Err(OpenError::UnknownStore(other.to_owned())),
            },
        }
    }

    #[cfg(feature = "firestore")]
    fn parse_firestore(text: &str) -> Result<Self, OpenError> {
        crate::store::FirestoreLocation::parse(text)
            .map(Self::Firestore)
            .map_err(OpenError::BadStore)
    }

    #[cfg(not(feature = "firestore"))]
    fn parse_firestore(_: &str) -> Result<Self, OpenError> {
        Err(OpenError::BadStore(
            "this binary was built without Firestore support (cargo feature `firestore`)"
                .to_owned(),
        ))
    }

    /// `sqlite` or `firestore`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::EmbeddedDefault | Self::SqliteFile(_) => "sqlite",
            #[cfg(feature = "firestore")]
            Self::Firestore(_) => "firestore",
        }
    }

    async fn open(&self, data_dir: &std::path::Path) -> Result<Arc<dyn Store>, StoreError> {
        Ok(match self {
            Self::EmbeddedDefault => Arc::new(SqliteStore::open(data_dir)?),
            Self::SqliteFile(path) => Arc::new(SqliteStore::open_file(path)?),
            #[cfg(feature = "firestore")]
            Self::Firestore(location) => {
                Arc::new(crate::store::FirestoreStore::open(location).await?)
            }
        })
    }
}

/// Everything [`Authority::open`] needs.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub store: StoreLocation,
    /// Holds the pepper (and the embedded store's file).
    pub data_dir: PathBuf,
    /// Which keys this authority accepts.
    pub env: Env,
    pub config: AuthorityConfig,
}

impl OpenOptions {
    /// The embedded default in `data_dir`, `live` keys, default settings.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            store: StoreLocation::EmbeddedDefault,
            data_dir: data_dir.into(),
            env: Env::Live,
            config: AuthorityConfig::default(),
        }
    }
}

/// Why an authority could not be opened. Messages say what to do.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "unsupported store {0:?}: use `sqlite` (the embedded default), `sqlite:PATH` or `firestore://PROJECT[/DATABASE]`"
    )]
    UnknownStore(String),
    #[error("{0}")]
    BadStore(String),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot load the pepper in {path}: {message}")]
    Pepper { path: PathBuf, message: String },
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    /// The store belongs to another pepper, or could not say.
    #[error("{0}")]
    PepperCheck(AuthorityError),
}

impl Authority {
    /// Opens the store and the pepper (creating both on first use of the
    /// embedded default), builds the authority, and refuses a store that was
    /// set up with another pepper. Must run inside a Tokio runtime.
    pub async fn open(options: OpenOptions) -> Result<Self, OpenError> {
        let OpenOptions {
            store,
            data_dir,
            env,
            config,
        } = options;
        std::fs::create_dir_all(&data_dir).map_err(|source| OpenError::DataDir {
            path: data_dir.clone(),
            source,
        })?;
        let store = store.open(&data_dir).await?;
        let pepper = Pepper::load_or_create(&data_dir).map_err(|e| OpenError::Pepper {
            path: data_dir.clone(),
            message: e.to_string(),
        })?;
        let authority = Authority::new(store, pepper, env, config);
        authority
            .check_pepper()
            .await
            .map_err(OpenError::PepperCheck)?;
        Ok(authority)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_locations() {
        assert_eq!(
            StoreLocation::parse("sqlite").unwrap(),
            StoreLocation::EmbeddedDefault
        );
        assert_eq!(
            StoreLocation::parse("sqlite:/x/y.db").unwrap(),
            StoreLocation::SqliteFile("/x/y.db".into())
        );
        assert!(matches!(
            StoreLocation::parse("postgres://x"),
            Err(OpenError::UnknownStore(_))
        ));
        assert!(matches!(
            StoreLocation::parse("sqlite:"),
            Err(OpenError::UnknownStore(_))
        ));
    }

    #[tokio::test]
    async fn a_store_keeps_its_pepper() {
        let dir = tempfile::tempdir().unwrap();
        let first = Authority::open(OpenOptions::embedded(dir.path())).await;
        assert!(first.is_ok(), "{first:?}");
        drop(first);
        // Another pepper in front of the same store file is refused.
        let other = tempfile::tempdir().unwrap();
        let options = OpenOptions {
            store: StoreLocation::SqliteFile(dir.path().join(crate::store::sqlite::DB_FILE)),
            ..OpenOptions::embedded(other.path())
        };
        let err = Authority::open(options).await.unwrap_err();
        assert!(matches!(err, OpenError::PepperCheck(_)), "{err}");
        assert!(err.to_string().contains("different pepper"), "{err}");
    }
}
