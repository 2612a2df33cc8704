//! The store conformance suite on the embedded SQLite backend, each case on a
//! real database file in its own temporary directory.

use std::sync::Arc;

use async_trait::async_trait;
use authority::store::conformance::StoreFactory;
use authority::store::{SqliteStore, Store};
use tempfile::TempDir;

struct Sqlite;

#[async_trait]
impl StoreFactory for Sqlite {
    type Location = TempDir;

    async fn fresh(&self) -> TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    async fn open(&self, loc: &TempDir) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(loc.path()).expect("open sqlite"))
    }
}

authority::conformance_tests!(Sqlite);

#[test]
fn database_is_one_wal_file_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(s.path(), dir.path().join("acekeys.db"));
    let conn = rusqlite::Connection::open(s.path()).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert!(version >= 1);
}
