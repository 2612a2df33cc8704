//! The SQLite file and its companions (`-wal`, `-shm`) readable by their
//! owner only. They hold every key's hash, every audit event and the chain
//! heads: a copy readable by another local user is a leak.
//!
//! SQLite gives the `-wal` and `-shm` files the database file's mode, so
//! creating the database 0600 before SQLite opens it covers all three. A
//! file found with looser permissions (an older version, a restore, a hand
//! copy) is tightened, and the change logged.

use std::io;
use std::path::Path;

/// Creates the data directory (0700 when this call creates it).
pub(super) fn create_dir(dir: &Path) -> io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Makes `db` (created if missing) and its existing companions 0600.
pub(super) fn secure(db: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(db)?;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = db.as_os_str().to_owned();
            name.push(suffix);
            let path = Path::new(&name);
            let mode = match std::fs::metadata(path) {
                Ok(meta) => meta.permissions().mode() & 0o777,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if mode & 0o077 != 0 {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
                tracing::warn!(
                    path = %path.display(),
                    was = format!("{mode:o}"),
                    "the store file was readable by other users; made it 0600"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = db;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::super::{SqliteStore, DB_FILE};
    use crate::store::Store;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[tokio::test]
    async fn the_store_and_its_wal_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let store = SqliteStore::open(&data).unwrap();
        store.is_empty().await.unwrap();
        assert_eq!(mode(&data), 0o700);
        let db = data.join(DB_FILE);
        assert_eq!(mode(&db), 0o600);
        let wal = data.join(format!("{DB_FILE}-wal"));
        assert!(wal.exists(), "WAL mode makes a -wal file");
        assert_eq!(mode(&wal), 0o600);
    }

    #[tokio::test]
    async fn a_store_found_readable_by_others_is_tightened() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path()).unwrap());
        let db = dir.path().join(DB_FILE);
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(SqliteStore::open(dir.path()).unwrap());
        assert_eq!(mode(&db), 0o600);
    }
}
