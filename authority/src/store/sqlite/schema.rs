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
    // 5: tool scopes are registered per org. Earlier registrations stay
    // shared by every org (`org = ''`), as they were when made.
    r#"
    CREATE TABLE org_scopes (
        org TEXT NOT NULL,
        service TEXT NOT NULL,
        action TEXT NOT NULL,
        description TEXT NOT NULL,
        PRIMARY KEY (org, service, action)
    );
    INSERT INTO org_scopes (org, service, action, description)
        SELECT '', service, action, description FROM scopes;
    DROP TABLE scopes;
    "#,
    // 6: a resumed revocation stream reads the revocations since an instant
    // without scanning the org's keys.
    r#"
    CREATE INDEX keys_by_org_revoked ON keys (org, revoked_at) WHERE revoked_at IS NOT NULL;
    "#,
    // 7: dashboard sessions, so every server sharing the store accepts
    // them and a restart signs nobody out.
    r#"
    CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,
        org TEXT NOT NULL,
        key_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
    );
    CREATE INDEX sessions_by_key ON sessions (org, key_id);
    "#,
    // 8: people. A session is now a member's (passkey) or a key's
    // (break-glass): `actor_id` holds a `mem_` or `key_` id. Open sessions
    // are dropped (their holders sign in again once). Members are stored
    // whole as JSON beside the columns that find them; tickets are the
    // single-use invitations and WebAuthn ceremonies.
    r#"
    DROP TABLE sessions;
    CREATE TABLE sessions (
        token_hash BLOB PRIMARY KEY,
        org TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
    );
    CREATE INDEX sessions_by_actor ON sessions (org, actor_id);
    CREATE TABLE members (
        org TEXT NOT NULL,
        id TEXT NOT NULL,
        email TEXT NOT NULL,
        revision INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (org, id),
        UNIQUE (org, email)
    );
    CREATE TABLE tickets (
        hash BLOB PRIMARY KEY,
        org TEXT NOT NULL,
        purpose TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        payload TEXT NOT NULL
    );
    CREATE INDEX tickets_by_expiry ON tickets (expires_at);
    ALTER TABLE audit_events ADD COLUMN person TEXT;
    "#,
    // 9: "everything about this key / agent". `subject_agent` is the agent
    // of what an admin action acted on; `audit_about` holds each event's
    // `audit::about_tags` (less the key+agent pairs: a query for both reads
    // the key's rows and checks the agent), ordered as the explorer reads them, so a key or
    // agent filter walks its own index instead of the whole trail. Rows of
    // existing events are filled in by `audit::backfill_about`; retention
    // deletes an event's rows by recomputing its tags (no second index on
    // the hot write path).
    r#"
    ALTER TABLE audit_events ADD COLUMN subject_agent TEXT;
    CREATE TABLE audit_about (
        org TEXT NOT NULL,
        tag TEXT NOT NULL,
        ts INTEGER NOT NULL,
        id TEXT NOT NULL,
        PRIMARY KEY (org, tag, ts, id)
    ) WITHOUT ROWID;
    "#,
    // 10: OAuth. Keys gain the resources they are limited to and, for
    // access tokens, their grant and client (a grant's revocation finds its
    // tokens through `keys_by_grant`). Clients and grants are JSON records
    // (`oauth::OAuthClient`, `oauth::GrantRecord`) under the columns they
    // are looked up by; every refresh token's hash stays, with its
    // generation, so the reuse of an old one is recognised.
    r#"
    ALTER TABLE keys ADD COLUMN resources TEXT NOT NULL DEFAULT '';
    ALTER TABLE keys ADD COLUMN grant_id TEXT;
    ALTER TABLE keys ADD COLUMN client_id TEXT;
    CREATE INDEX keys_by_grant ON keys (grant_id) WHERE grant_id IS NOT NULL;
    CREATE TABLE oauth_clients (
        id TEXT PRIMARY KEY,
        record TEXT NOT NULL
    );
    CREATE TABLE oauth_grants (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX oauth_grants_by_org ON oauth_grants (org, created_at);
    CREATE TABLE oauth_refresh (
        hash BLOB PRIMARY KEY,
        grant_id TEXT NOT NULL,
        org TEXT NOT NULL,
        generation INTEGER NOT NULL
    );
    "#,
    // 11: guardrails. A key's not-before instant, allowed networks
    // (comma-separated CIDR ranges) and metadata (a JSON object), and the
    // agent key it derives from (revoking a parent finds its children
    // through `keys_by_parent`).
    r#"
    ALTER TABLE keys ADD COLUMN not_before INTEGER;
    ALTER TABLE keys ADD COLUMN networks TEXT NOT NULL DEFAULT '';
    ALTER TABLE keys ADD COLUMN metadata TEXT;
    ALTER TABLE keys ADD COLUMN parent TEXT;
    CREATE INDEX keys_by_parent ON keys (org, parent) WHERE parent IS NOT NULL;
    "#,
    // 12: quarantine, a reversible hold on a key (JSON `QuarantineView`).
    r#"
    ALTER TABLE keys ADD COLUMN quarantine TEXT;
    "#,
    // 13: rate limits and budgets. A key's limits (JSON `LimitView`s), and
    // one counter per limit owner, limit and window: guards take
    // allowances from it, never a write per call.
    r#"
    ALTER TABLE keys ADD COLUMN limits TEXT;
    CREATE TABLE allowances (
        org TEXT NOT NULL,
        owner TEXT NOT NULL,
        counter TEXT NOT NULL,
        window_start INTEGER NOT NULL,
        used INTEGER NOT NULL,
        PRIMARY KEY (org, owner, counter)
    ) WITHOUT ROWID;
    "#,
    // 14: webhooks. Endpoints (JSON `WebhookRecord`s), the outbox of
    // messages owed (written with the admin event that makes each), one
    // delivery per (endpoint, message), and the expiry index the
    // `key.expiring` scan reads.
    r#"
    CREATE TABLE webhooks (
        org TEXT NOT NULL,
        id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (org, id)
    ) WITHOUT ROWID;
    CREATE TABLE webhook_messages (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        fanned INTEGER NOT NULL DEFAULT 0,
        message TEXT NOT NULL
    );
    CREATE INDEX webhook_messages_unfanned ON webhook_messages (created_at) WHERE fanned = 0;
    CREATE INDEX webhook_messages_by_age ON webhook_messages (created_at);
    CREATE TABLE webhook_deliveries (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        webhook TEXT NOT NULL,
        state TEXT NOT NULL,
        due INTEGER,
        created_at INTEGER NOT NULL,
        record TEXT NOT NULL
    );
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due) WHERE state = 'pending';
    CREATE INDEX webhook_deliveries_by_hook ON webhook_deliveries (webhook, created_at DESC);
    CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries (created_at);
    CREATE INDEX keys_by_expiry ON keys (expires_at, id) WHERE expires_at IS NOT NULL;
    "#,
    // 15: an org's guardrail settings (JSON `OrgSettings`).
    r#"
    CREATE TABLE org_settings (
        org TEXT PRIMARY KEY,
        settings TEXT NOT NULL
    );
    "#,
    // 16: facets, so that every filter combination the explorer offers is
    // an index seek, never a walk of the trail. A facet is one
    // (kind, action, decision) an org's events have had; `audit_facets`
    // lists them, and each filter on those columns becomes one seek per
    // matching facet into `audit_by_facet` (no key or agent) or
    // `audit_about_by_facet` (a key or agent: its about-rows carry their
    // event's facet), merged by time (`audit_query`).
    r#"
    CREATE TABLE audit_facets (
        org TEXT NOT NULL,
        kind TEXT NOT NULL,
        action TEXT NOT NULL,
        decision TEXT NOT NULL,
        PRIMARY KEY (org, kind, action, decision)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO audit_facets
        SELECT DISTINCT org, kind, action, decision FROM audit_events;
    CREATE INDEX audit_by_facet ON audit_events (org, kind, action, decision, ts DESC, id DESC);
    ALTER TABLE audit_about ADD COLUMN kind TEXT;
    ALTER TABLE audit_about ADD COLUMN action TEXT;
    ALTER TABLE audit_about ADD COLUMN decision TEXT;
    UPDATE audit_about SET (kind, action, decision) =
        (SELECT e.kind, e.action, e.decision FROM audit_events e WHERE e.id = audit_about.id);
    CREATE INDEX audit_about_by_facet
        ON audit_about (org, tag, kind, action, decision, ts DESC, id DESC);
    "#,
    // 17: hourly counts per org, about-tag and facet, written with each
    // event and subtracted by retention, so a timeline over weeks sums
    // rows instead of counting events (`audit_hours`).
    r#"
    CREATE TABLE audit_hours (
        org TEXT NOT NULL,
        tag TEXT NOT NULL,
        kind TEXT NOT NULL,
        action TEXT NOT NULL,
        decision TEXT NOT NULL,
        hour INTEGER NOT NULL,
        events INTEGER NOT NULL,
        PRIMARY KEY (org, tag, kind, action, decision, hour)
    ) WITHOUT ROWID;
    INSERT INTO audit_hours
        SELECT org, '', kind, action, decision,
               (ts - ((ts % 3600000) + 3600000) % 3600000) / 3600000 AS h, COUNT(*)
        FROM audit_events GROUP BY org, kind, action, decision, h;
    INSERT INTO audit_hours
        SELECT org, tag, kind, action, decision,
               (ts - ((ts % 3600000) + 3600000) % 3600000) / 3600000 AS h, COUNT(*)
        FROM audit_about GROUP BY org, tag, kind, action, decision, h;
    "#,
];

/// The migration after which existing events get their `audit_about` rows.
const ABOUT_MIGRATION: i64 = 9;

pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let done: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in (1_i64..)
        .zip(MIGRATIONS)
        .skip(usize::try_from(done).unwrap_or(0))
    {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if i == ABOUT_MIGRATION {
            super::audit::backfill_about(&tx)?;
        }
        tx.pragma_update(None, "user_version", i)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store from before per-org registrations keeps what its tool
    /// servers registered (shared, as it was) and its chains (registered).
    #[test]
    fn upgrading_keeps_registrations_and_chains() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO scopes VALUES ('jira', 'read', 'Read issues');
             INSERT INTO audit_events (id, ts, org, kind, action, decision, writer, seq, prev_hash, hash)
                 VALUES ('evt_1', 1, 'acme', 'admin', 'mint', 'allowed', 'w1-a', 1, x'00', x'00');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let scope: (String, String) = conn
            .query_row("SELECT org, service FROM org_scopes", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(scope, (String::new(), "jira".to_owned()));
        let chain: String = conn
            .query_row(
                "SELECT writer FROM audit_chains WHERE org = 'acme'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(chain, "w1-a");
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    /// Events written before `audit_about` existed are found by the key and
    /// agent filters after the upgrade: the migration indexes their tags.
    #[test]
    fn upgrading_indexes_what_existing_events_are_about() {
        let mut conn = Connection::open_in_memory().unwrap();
        let before = ABOUT_MIGRATION as usize - 1;
        for sql in &MIGRATIONS[..before] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", before as i64)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO audit_events (id, ts, org, actor, agent, kind, action, decision, subject, writer, seq, prev_hash, hash)
                 VALUES ('evt_1', 5, 'acme', 'key_admin', NULL, 'admin', 'revoke', 'allowed', 'key_bot', 'w1', 1, x'00', x'00'),
                        ('evt_2', 6, 'acme', 'key_bot', 'bot', 'tool_call', 'search', 'allowed', NULL, 'w1', 2, x'00', x'00');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let mut tags: Vec<(String, i64, String)> = conn
            .prepare("SELECT tag, ts, id FROM audit_about WHERE org = 'acme' ORDER BY tag, id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        tags.sort();
        let row = |tag: &str, ts: i64, id: &str| (tag.to_owned(), ts, id.to_owned());
        assert_eq!(
            tags,
            [
                row("agent:bot", 6, "evt_2"),
                row("key:key_admin", 5, "evt_1"),
                row("key:key_bot", 5, "evt_1"),
                row("key:key_bot", 6, "evt_2"),
            ]
        );
    }
}
