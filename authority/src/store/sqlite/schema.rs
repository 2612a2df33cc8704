//! Schema migrations, applied in order at open; `PRAGMA user_version` holds
//! how many have run. Migrations are append-only: never edit a shipped one.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: orgs, keys, audit events, chain checkpoints.
    r#"
    CREATE TABLE orgs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        allow_never_expiry INTEGER NOT NULL
    );
    CREATE TABLE keys (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        name TEXT NOT NULL,
        env TEXT NOT NULL,
        agent TEXT,
        scopes TEXT NOT NULL,
        hash BLOB NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        created_by TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER,
        revoked_by TEXT,
        revoke_reason TEXT,
        last_used_at INTEGER,
        rotated_from TEXT,
        rotated_to TEXT
    );
    CREATE INDEX keys_by_org ON keys (org, created_at DESC);
    CREATE TABLE audit_events (
        id TEXT NOT NULL UNIQUE,
        ts INTEGER NOT NULL,
        org TEXT NOT NULL,
        actor TEXT,
        agent TEXT,
        kind TEXT NOT NULL,
        action TEXT NOT NULL,
        scope TEXT,
        decision TEXT NOT NULL,
        reason TEXT,
        subject TEXT,
        server TEXT,
        request_id TEXT,
        client_ip TEXT,
        latency_us INTEGER,
        writer TEXT NOT NULL,
        seq INTEGER NOT NULL,
        prev_hash BLOB NOT NULL,
        hash BLOB NOT NULL
    );
    CREATE INDEX audit_by_org_ts ON audit_events (org, ts DESC, id DESC);
    CREATE UNIQUE INDEX audit_by_chain ON audit_events (org, writer, seq);
    CREATE TABLE audit_checkpoints (
        org TEXT NOT NULL,
        writer TEXT NOT NULL,
        seq INTEGER NOT NULL,
        hash BLOB NOT NULL,
        pruned_at INTEGER NOT NULL,
        PRIMARY KEY (org, writer)
    );
    "#,
    // 2: store-wide facts (the pepper's fingerprint) and the tool scopes
    // tool servers registered.
    r#"
    CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
    );
    CREATE TABLE scopes (
        service TEXT NOT NULL,
        action TEXT NOT NULL,
        description TEXT NOT NULL,
        PRIMARY KEY (service, action)
    );
    "#,
    // 3: which key reported an ingested event.
    r#"
    ALTER TABLE audit_events ADD COLUMN reported_by TEXT;
    "#,
    // 4: the registry of chains (written with each chain's first event, so
    // a chain whose events were all deleted is still listed) and each
    // chain's newest seal (a signed head, see `audit::seal`).
    r#"
    CREATE TABLE audit_chains (
        org TEXT NOT NULL,
        writer TEXT NOT NULL,
        seal_seq INTEGER,
        seal_hash BLOB,
        seal_writers TEXT,
        sealed_at INTEGER,
        seal_signature BLOB,
        PRIMARY KEY (org, writer)
    );
    INSERT OR IGNORE INTO audit_chains (org, writer)
        SELECT DISTINCT org, writer FROM audit_events;
    "#,
];

pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let done: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in (1_i64..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(done).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i)?;
        tx.commit()?;
    }
    Ok(())
}
