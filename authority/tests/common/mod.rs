//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use authority::store::fault::FaultyStore;
use authority::time::{ManualClock, Timestamp};
use authority::{Authority, AuthorityConfig, Env, Pepper, SqliteStore};
use tempfile::TempDir;

pub const T0: Timestamp = Timestamp::from_millis(1_750_000_000_000);

pub struct Harness {
    pub dir: TempDir,
    pub auth: Authority,
    pub clock: Arc<ManualClock>,
    pub flaky: Arc<FaultyStore>,
    pub sqlite: Arc<SqliteStore>,
}

pub fn harness(env: Env) -> Harness {
    harness_with(env, |_| {})
}

/// A harness whose authority config is adjusted by `configure` first.
pub fn harness_with(env: Env, configure: impl FnOnce(&mut AuthorityConfig)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let flaky = Arc::new(FaultyStore::new(sqlite.clone()));
    let clock = ManualClock::new(T0);
    let mut cfg = AuthorityConfig {
        clock: clock.clone(),
        ..Default::default()
    };
    cfg.usage_flush_interval = Duration::from_secs(3600);
    cfg.validator.store_timeout = Duration::from_secs(5);
    configure(&mut cfg);
    let auth = Authority::new(flaky.clone(), Pepper::random(), env, cfg);
    Harness {
        dir,
        auth,
        clock,
        flaky,
        sqlite,
    }
}
