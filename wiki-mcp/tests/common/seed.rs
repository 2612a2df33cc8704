//! A data directory seeded through the authority crate: org `acme` with a
//! key for every case the tests need, and readers of its audit trail.

use std::path::Path;
use std::sync::Arc;

use authority::audit::{AuditEvent, AuditFilter, AuditQuery, EventKind};
use authority::keys::Env;
use authority::time::{Clock, ManualClock, SystemClock};
use authority::{
    Authority, AuthorityConfig, BootstrapRequest, ExpiryChoice, KeyContext, MintRequest, OrgId,
    Pepper, Scope, SqliteStore, Store,
};

/// A data directory with org `acme` and keys for every case.
pub struct Seed {
    /// Kept so the directory lives as long as the seed (tests).
    pub tmp: Option<tempfile::TempDir>,
    pub path: std::path::PathBuf,
    pub auth: Authority,
    pub clock: Arc<ManualClock>,
    pub admin: String,
    pub admin_ctx: KeyContext,
    /// svc:wiki:read, agent:reader
    pub reader: String,
    /// svc:wiki:read + svc:wiki:write + svc:kb:write, agent:writer
    pub writer: String,
    pub revoked: String,
    pub revoked_id: String,
    pub expired: String,
    pub expired_id: String,
    /// Minted 29 days ago for 30 days: its 1-day `key.expiring` notice is due.
    pub expiring_id: String,
    /// A `test` key (the server accepts `live`).
    pub test_env: String,
    /// svc:keys:introspect + svc:audit:write, for remote mode.
    pub service: String,
}

impl Seed {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut seed = Self::at(dir.path()).await;
        seed.tmp = Some(dir);
        seed
    }

    /// Bootstraps org `acme` in `dir` (an empty acekeys data directory).
    pub async fn at(dir: &Path) -> Self {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir).expect("store"));
        let auth_store = store.clone();
        let clock = ManualClock::new(SystemClock.now());
        let auth = Authority::new(
            auth_store,
            Pepper::load_or_create(dir).expect("pepper"),
            Env::Live,
            AuthorityConfig {
                clock: clock.clone(),
                // Test receivers listen on loopback over plain http.
                webhook_outbound: authority::outbound::OutboundPolicy {
                    allow_insecure: true,
                },
                ..AuthorityConfig::default()
            },
        );
        let admin = auth
            .bootstrap(BootstrapRequest::new("acme"))
            .await
            .expect("bootstrap")
            .key
            .expose_secret()
            .to_owned();
        let admin_ctx = (*auth.authorize(&admin, &Scope::AdminOrg).await.unwrap()).clone();
        let mint = |name: &str, scopes: &[&str], env: Option<Env>| MintRequest {
            org_id: None,
            name: name.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            expires_days: ExpiryChoice::Days(30),
            env,
            resources: Vec::new(),
            terms: Default::default(),
        };
        let key = |m: authority::MintedKey| m.key.expose_secret().to_owned();
        let reader = key(auth
            .mint(
                &admin_ctx,
                mint("reader", &["agent:reader", "svc:wiki:read"], None),
            )
            .await
            .unwrap());
        let writer = key(auth
            .mint(
                &admin_ctx,
                mint(
                    "writer",
                    &["agent:writer", "svc:wiki:write", "svc:kb:write"],
                    None,
                ),
            )
            .await
            .unwrap());
        let revoked_m = auth
            .mint(&admin_ctx, mint("revoked", &["svc:wiki:read"], None))
            .await
            .unwrap();
        auth.revoke(&admin_ctx, revoked_m.view.id.as_str(), None)
            .await
            .unwrap();
        let revoked_id = revoked_m.view.id.to_string();
        let revoked = key(revoked_m);
        // Minted two days ago for one day: expired now.
        let now = clock.now();
        clock.set(now.plus_days(-2));
        let mut one_day = mint("expired", &["svc:wiki:read"], None);
        one_day.expires_days = ExpiryChoice::Days(1);
        let expired_m = auth.mint(&admin_ctx, one_day).await.unwrap();
        let expired_id = expired_m.view.id.to_string();
        let expired = key(expired_m);
        clock.set(now.plus_days(-29));
        let expiring_id = auth
            .mint(&admin_ctx, mint("expiring", &["svc:wiki:read"], None))
            .await
            .unwrap()
            .view
            .id
            .to_string();
        clock.set(now);
        let test_env = key(auth
            .mint(
                &admin_ctx,
                mint("test-env", &["svc:wiki:read"], Some(Env::Test)),
            )
            .await
            .unwrap());
        let service = key(auth
            .mint(
                &admin_ctx,
                mint(
                    "wiki-mcp",
                    &[
                        "svc:keys:introspect",
                        "svc:audit:write",
                        "svc:catalog:write",
                    ],
                    None,
                ),
            )
            .await
            .unwrap());
        Self {
            tmp: None,
            path: dir.to_owned(),
            auth,
            clock,
            admin,
            admin_ctx,
            reader,
            writer,
            revoked,
            revoked_id,
            expired,
            expired_id,
            expiring_id,
            test_env,
            service,
        }
    }

    pub async fn mint(&self, name: &str, scopes: &[&str]) -> (String, String) {
        let m = self
            .auth
            .mint(
                &self.admin_ctx,
                MintRequest {
                    org_id: None,
                    name: name.to_owned(),
                    scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                    expires_days: ExpiryChoice::Days(30),
                    env: None,
                    resources: Vec::new(),
                    terms: Default::default(),
                },
            )
            .await
            .unwrap();
        (m.key.expose_secret().to_owned(), m.view.id.to_string())
    }

    /// Bootstraps another org in the same store; returns a key of it with
    /// `svc:wiki:read` (all a wiki reader needs) and a revoked one.
    pub async fn other_org(&self, org: &str) -> (String, String) {
        let admin = self
            .auth
            .bootstrap(BootstrapRequest::new(org))
            .await
            .expect("bootstrap");
        let admin = admin.key.expose_secret().to_owned();
        let ctx = self.auth.authorize(&admin, &Scope::AdminOrg).await.unwrap();
        let mut keys = Vec::new();
        for name in ["reader", "revoked"] {
            let m = self
                .auth
                .mint(
                    &ctx,
                    MintRequest {
                        org_id: None,
                        name: name.to_owned(),
                        scopes: vec!["agent:reader".into(), "svc:wiki:read".into()],
                        expires_days: ExpiryChoice::Days(30),
                        env: None,
                        resources: Vec::new(),
                        terms: Default::default(),
                    },
                )
                .await
                .unwrap();
            keys.push((m.key.expose_secret().to_owned(), m.view.id.to_string()));
        }
        self.auth.revoke(&ctx, &keys[1].1, None).await.unwrap();
        (keys[0].0.clone(), keys[1].0.clone())
    }

    /// Every event of `org` (any kind, `_unattributed` included), read
    /// from the store's chains.
    pub async fn events_of(&self, org: &OrgId) -> Vec<AuditEvent> {
        let store = self.auth.store();
        let mut out = Vec::new();
        for chain in store.audit_chains(Some(org)).await.unwrap() {
            let mut after = 0;
            loop {
                let page = store
                    .audit_chain_events(org, &chain.writer, after, 1000)
                    .await
                    .unwrap();
                out.extend(page.iter().cloned());
                match page.last() {
                    Some(last) if page.len() == 1000 => after = last.chain.seq,
                    _ => break,
                }
            }
        }
        out
    }

    /// Every tool-call event of org `acme`, newest first.
    pub async fn tool_events(&self) -> Vec<AuditEvent> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .auth
                .audit_query(
                    &self.admin_ctx,
                    AuditQuery {
                        filter: AuditFilter {
                            kind: Some(EventKind::ToolCall),
                            ..AuditFilter::default()
                        },
                        cursor,
                        limit: Some(1000),
                    },
                )
                .await
                .unwrap();
            out.extend(page.events);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return out,
            }
        }
    }
}
