//! The [`Authority`] facade: one method per API handler.
//!
//! Rules:
//! - Every method that acts for a caller takes the caller's validated
//!   [`KeyContext`] (the principal) and checks its permissions here.
//!   Methods without a principal (`bootstrap`, `recover_admin`,
//!   `prune_audit`, `verify_all_audit`) are operator operations for the CLI
//!   and server start-up, never for request handlers.
//! - State changes carry their admin audit event into the store call (same
//!   transaction). Admin events form their own chain per process (writer id
//!   `<instance>-a`), tool calls another (`<instance>-t`); a process-wide
//!   async mutex orders admin writes so their chain has no gaps.
//! - After a revocation commits, the local cache is evicted before the call
//!   returns, and a [`RevocationEvent`] is broadcast to subscribers.
//! - Must be created inside a Tokio runtime: it starts the audit flusher and
//!   the `last_used_at` flusher, which stop when the last clone is dropped.

mod audit_ops;
mod bootstrap;
mod catalog_ops;
pub use catalog_ops::MAX_ORG_SCOPES;
mod key_ops;
mod leak_ops;
mod limit_ops;
mod oauth_consent;
mod oauth_tokens;
mod org_settings_ops;
mod people_ops;
mod quarantine_ops;
pub use leak_ops::{LeakError, LeakResponse};
pub use oauth_tokens::ClientCredentials;
pub use people_ops::{Invitation, PasskeyChallenge, PersonSignedIn, INVITATION_SECS};
mod refusals;
mod revocation_ops;
mod seal_ops;
mod session_ops;
mod webhook_dispatch;
mod webhook_ops;
pub use webhook_dispatch::DispatchConfig as WebhookDispatchConfig;

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use tokio::sync::{broadcast, watch};

pub use bootstrap::BootstrapRequest;
pub use session_ops::MintLimits;

use crate::audit::chain::ChainState;
use crate::audit::heads::HeadBook;
use crate::audit::SealKey;
use crate::audit::{AuditEvent, Decision, EventKind, NewEvent};
use crate::error::AuthorityError;
use crate::ids::EventId;
use crate::keys::{base62, Env, Pepper};
use crate::policy::KeyContext;
use crate::recorder::{Recorder, RecorderConfig};
use crate::revocation::{KeyChange, Origin, RevocationEvent};
use crate::scopes::Scope;
use crate::stats::{Stats, StatsSnapshot};
use crate::store::{KeyRecord, SharedChange, Store, StoreError};
use crate::time::{Clock, SystemClock, Timestamp};
use crate::validator::{Outcome, Validator, ValidatorConfig};

/// Facade configuration; `Default` suits production.
#[derive(Clone)]
pub struct AuthorityConfig {
    pub clock: Arc<dyn Clock>,
    pub validator: ValidatorConfig,
    pub recorder: RecorderConfig,
    /// How often `last_used_at` marks are written.
    pub usage_flush_interval: Duration,
    /// How often the heads of this process's audit chains are signed
    /// (`audit::seal`): events newer than the last seal are the ones a
    /// database writer could still drop unseen.
    pub seal_interval: Duration,
    /// How long dashboard sessions live.
    pub sessions: crate::sessions::SessionTimeouts,
    /// Recorded as `server` on admin events.
    pub server_name: Option<String>,
    /// The WebAuthn relying party people sign in to; `None` turns passkey
    /// enrolment and sign-in off (they answer a clear error).
    pub passkeys: Option<Arc<crate::people::passkeys::PasskeyVerifier>>,
    /// Where the authority's own requests may go (client metadata documents).
    pub outbound: crate::outbound::OutboundPolicy,
    /// Who may report leaked keys, and what happens to them.
    pub leaks: LeakPolicy,
    /// Where webhook endpoints may point (checked when one is added, and
    /// again by the dispatcher at each delivery).
    pub webhook_outbound: crate::outbound::OutboundPolicy,
}

/// The leaked-key report endpoint's setup: the scanners' verification keys
/// (none: the endpoint answers that it is not configured) and the response.
#[derive(Debug, Clone, Default)]
pub struct LeakPolicy {
    pub keys: crate::guardrails::leaks::PartnerKeys,
    pub response: LeakResponse,
}

impl Default for AuthorityConfig {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            validator: ValidatorConfig::default(),
            recorder: RecorderConfig::default(),
            usage_flush_interval: Duration::from_secs(5),
            seal_interval: Duration::from_secs(10),
            sessions: Default::default(),
            server_name: None,
            passkeys: None,
            outbound: Default::default(),
            leaks: LeakPolicy::default(),
            webhook_outbound: Default::default(),
        }
    }
}

impl std::fmt::Debug for AuthorityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorityConfig")
            .field("validator", &self.validator)
            .field("recorder", &self.recorder)
            .field("usage_flush_interval", &self.usage_flush_interval)
            .field("seal_interval", &self.seal_interval)
            .finish_non_exhaustive()
    }
}

/// The key authority. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Authority {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    stats: Arc<Stats>,
    clock: Arc<dyn Clock>,
    catalog: RwLock<catalog_ops::Catalogs>,
    validator: Validator,
    recorder: Recorder,
    admin_chain: tokio::sync::Mutex<ChainState>,
    heads: Arc<HeadBook>,
    seal_key: SealKey,
    sealing: tokio::sync::Mutex<()>,
    session_timeouts: crate::sessions::SessionTimeouts,
    last_session_sweep: std::sync::atomic::AtomicI64,
    revocations: broadcast::Sender<RevocationEvent>,
    refusals_traced: crate::dead_keys::DeadKeyTraces,
    verifying: audit_ops::VerifyingOrgs,
    instance: String,
    server_name: Option<String>,
    passkeys: Option<Arc<crate::people::passkeys::PasskeyVerifier>>,
    /// `Err` if the HTTP client could not start: document clients then get
    /// that error on the consent page, everything else works.
    client_documents: Result<crate::oauth::ClientDocuments, crate::outbound::FetchError>,
    leaks: LeakPolicy,
    webhook_outbound: crate::outbound::OutboundPolicy,
    _stop: watch::Sender<()>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("backend", &self.inner.store.backend())
            .field("env", &self.inner.validator.env())
            .field("instance", &self.inner.instance)
            .finish()
    }
}

impl Authority {
    /// # Panics
    /// Outside a Tokio runtime.
    pub fn new(store: Arc<dyn Store>, pepper: Pepper, env: Env, config: AuthorityConfig) -> Self {
        let instance = format!("w{}", base62::random_string(10));
        let stats = Arc::new(Stats::default());
        let seal_key = SealKey::from_pepper(&pepper);
        let heads = Arc::new(HeadBook::default());
        let validator = Validator::new(
            store.clone(),
            pepper,
            env,
            config.clock.clone(),
            &config.validator,
            stats.clone(),
        );
        let recorder = Recorder::start(
            store.clone(),
            format!("{instance}-t"),
            config.recorder.clone(),
            stats.clone(),
            heads.clone(),
        );
        let (stop_tx, stop_rx) = watch::channel(());
        tokio::spawn(usage_flusher(
            store.clone(),
            validator.usage.clone(),
            config.usage_flush_interval.max(Duration::from_millis(10)),
            stop_rx,
        ));
        let (revocations, _) = broadcast::channel(4096);
        let authority = Self {
            inner: Arc::new(Inner {
                store,
                stats,
                clock: config.clock,
                catalog: RwLock::new(Default::default()),
                validator,
                recorder,
                admin_chain: tokio::sync::Mutex::new(ChainState::new(format!("{instance}-a"))),
                heads,
                seal_key,
                sealing: tokio::sync::Mutex::new(()),
                session_timeouts: config.sessions,
                last_session_sweep: std::sync::atomic::AtomicI64::new(i64::MIN / 2),
                revocations,
                refusals_traced: Default::default(),
                verifying: Default::default(),
                instance,
                server_name: config.server_name,
                passkeys: config.passkeys,
                client_documents: crate::oauth::ClientDocuments::new(config.outbound),
                leaks: config.leaks.clone(),
                webhook_outbound: config.webhook_outbound,
                _stop: stop_tx,
            }),
        };
        authority.watch_shared_store();
        seal_ops::spawn_sealer(
            &authority,
            config.seal_interval.max(Duration::from_millis(10)),
        );
        authority
    }

    /// On a store several servers share, revocations committed by any of
    /// them reach this one's cache and revocation stream (see
    /// [`Store::watch_revocations`]). Retries until the store answers; ends
    /// with the authority.
    fn watch_shared_store(&self) {
        let weak = Arc::downgrade(&self.inner);
        let store = self.inner.store.clone();
        let mut stop = self.inner._stop.subscribe();
        tokio::spawn(async move {
            let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
            loop {
                match store.watch_revocations(tx.clone()).await {
                    Ok(true) => break,
                    Ok(false) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot watch shared revocations yet; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        if weak.strong_count() == 0 {
                            return;
                        }
                    }
                }
            }
            drop(tx);
            // Returning drops `rx`, which stops the store's listener.
            loop {
                let ev = tokio::select! {
                    ev = rx.recv() => ev,
                    _ = stop.changed() => return,
                };
                let (Some(ev), Some(inner)) = (ev, weak.upgrade()) else {
                    return;
                };
                let authority = Authority { inner };
                match ev {
                    SharedChange::Revoked(ev) => authority.apply_remote_revocation(ev),
                    SharedChange::Resync => authority.invalidate_cache(),
                }
            }
        });
    }

    pub fn env(&self) -> Env {
        self.inner.validator.env()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Counters for metrics: cache hits and misses, audit commits.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot(self.inner.recorder.queue_depth())
    }

    /// Checks a key without marking it used: for a caller that will only
    /// accept keys of one org (an in-process guard) and marks the key with
    /// [`mark_used`](Self::mark_used) once it accepts it, so a key presented
    /// where it does not belong leaves no trace on it.
    pub async fn check(&self, raw_key: &str, required: Option<&Scope>) -> Outcome {
        self.inner.validator.check(raw_key, required).await
    }

    /// Records that a key checked with [`check`](Self::check) was used now.
    pub fn mark_used(&self, key: &KeyContext) {
        self.inner.validator.usage.mark(key, self.now());
    }

    /// Checks `raw_key` and, if given, one required scope.
    pub async fn validate(&self, raw_key: &str, required: Option<&Scope>) -> Outcome {
        self.inner.validator.validate(raw_key, required).await
    }

    /// [`validate`](Self::validate) with a required scope, for the
    /// authority's own API, called from `client` (`None`: unknown, which a
    /// key limited to networks is refused for). That API is no tool
    /// server: a credential limited to resources (an OAuth access token) is
    /// refused here, and is not marked used by being shown here.
    pub async fn authenticate(
        &self,
        raw_key: &str,
        required: &Scope,
        client: Option<IpAddr>,
    ) -> Outcome {
        let outcome = self
            .check(raw_key, Some(required))
            .await
            .at_resource(None)
            .from_address(client);
        if let Some(ctx) = outcome.context() {
            self.mark_used(ctx);
        }
        outcome
    }

    /// For request handlers: the principal, or the error to answer with
    /// (401 for bad keys, 403 naming the missing scope, 503 when
    /// unavailable). The caller's address is unknown: a key limited to
    /// networks is refused (see [`authorize_from`](Self::authorize_from)).
    pub async fn authorize(
        &self,
        raw_key: &str,
        required: &Scope,
    ) -> Result<Arc<KeyContext>, AuthorityError> {
        self.authorize_from(raw_key, required, None).await
    }

    /// [`authorize`](Self::authorize) for a caller at `client`.
    pub async fn authorize_from(
        &self,
        raw_key: &str,
        required: &Scope,
        client: Option<IpAddr>,
    ) -> Result<Arc<KeyContext>, AuthorityError> {
        let outcome = self.authenticate(raw_key, required, client).await;
        self.trace_refused_key(&outcome, Some(required));
        outcome_to_result(outcome)
    }

    /// Revocations accepted by (or fed into) this process.
    pub fn subscribe_revocations(&self) -> broadcast::Receiver<RevocationEvent> {
        self.inner.revocations.subscribe()
    }

    /// Feeds a revocation learned from another node (SSE, Firestore
    /// listener): evicts it here and re-broadcasts it as `Origin::Remote`.
    pub fn apply_remote_revocation(&self, mut ev: RevocationEvent) {
        match crate::keys::KeyHash::from_hex(&ev.key_hash) {
            Some(h) => self.inner.validator.evict(&h),
            None => self.inner.validator.evict_all(),
        }
        ev.origin = Origin::Remote;
        let _ = self.inner.revocations.send(ev);
    }

    /// Refuses a store set up with another pepper (records this pepper's
    /// fingerprint on a store that has none). Servers sharing a store must
    /// share the pepper: with another one, no key minted elsewhere is found.
    pub async fn check_pepper(&self) -> Result<(), AuthorityError> {
        use subtle::ConstantTimeEq;
        let mine = self.inner.validator.pepper().fingerprint();
        let held = self.inner.store.pepper_fingerprint(&mine).await?;
        if bool::from(held.ct_eq(&mine)) {
            Ok(())
        } else {
            Err(AuthorityError::Conflict(
                "this store was set up with a different pepper: every server that shares a \
                 store needs the same pepper file (copy the first server's <data dir>/pepper, \
                 mode 0600)"
                    .into(),
            ))
        }
    }

    /// Drops every cached validation (e.g. after a lagged revocation stream).
    pub fn invalidate_cache(&self) {
        self.inner.validator.evict_all();
    }

    /// Writes pending `last_used_at` marks now (also done periodically).
    pub async fn flush_usage(&self) -> Result<(), AuthorityError> {
        let batch = self.inner.validator.usage.drain();
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.inner.store.touch_keys(&batch).await {
            self.inner.validator.usage.restore(batch);
            return Err(e.into());
        }
        Ok(())
    }

    fn publish_revocation(&self, k: &KeyRecord) {
        if let Some(at) = k.revoked_at {
            self.publish_change(k, KeyChange::Revoked, at);
        } else {
            self.inner.validator.evict(&k.hash);
        }
    }

    /// Evicts `k` here and tells every cache and stream that it changed.
    pub(super) fn publish_change(&self, k: &KeyRecord, change: KeyChange, at: Timestamp) {
        self.inner.validator.evict(&k.hash);
        let _ = self.inner.revocations.send(RevocationEvent {
            key_id: k.id.clone(),
            org: k.org.clone(),
            key_hash: k.hash.to_hex(),
            revoked_at: at,
            origin: Origin::Local,
            change,
        });
    }

    fn admin_event(
        &self,
        p: Option<&KeyContext>,
        org: &crate::ids::OrgId,
        action: &str,
        now: Timestamp,
    ) -> NewEvent {
        let mut e = NewEvent::new(
            now,
            org.clone(),
            EventKind::Admin,
            action,
            Decision::Allowed,
        );
        if let Some(p) = p {
            e.actor_key_id = Some(p.key_id.clone());
            e.agent = p.agent.clone();
            e.person = p.person.clone();
        }
        e.server = self.inner.server_name.clone();
        e
    }

    /// Appends an admin event that goes with no store change (a sign-in, a
    /// refused dead key, a tamper alarm), in the admin chain.
    async fn append_admin_event(&self, body: NewEvent) -> Result<(), StoreError> {
        let store = &self.inner.store;
        self.with_admin_event(body, move |ev| async move {
            store
                .append_audit(std::slice::from_ref(&ev))
                .await
                .map(|()| ((), true))
        })
        .await
    }

    /// Runs a store change with its admin event; the chain head advances
    /// only if the store reports it wrote the event, and the chain restarts
    /// when the store cannot say.
    async fn with_admin_event<T, F, Fut>(&self, body: NewEvent, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(AuditEvent) -> Fut,
        Fut: Future<Output = Result<(T, bool), StoreError>>,
    {
        let mut chain = self.inner.admin_chain.lock().await;
        let mut scratch = chain.clone();
        let event = scratch.place(EventId::generate(), body);
        let (org, link) = (event.body.org.clone(), event.chain.clone());
        match f(event).await {
            Ok((out, wrote)) => {
                if wrote {
                    *chain = scratch;
                    self.inner.heads.advance_link(&org, &link);
                }
                Ok(out)
            }
            Err(e @ StoreError::Unavailable(_)) => {
                // The event may have landed (see ChainState::restarted).
                *chain = chain.restarted();
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}

pub(crate) fn outcome_to_result(o: Outcome) -> Result<Arc<KeyContext>, AuthorityError> {
    match o {
        Outcome::Valid(c) => Ok(c),
        Outcome::InsufficientScope { missing, .. } => Err(AuthorityError::Forbidden {
            message: format!("this key lacks the scope `{missing}`"),
            missing: Some(missing),
        }),
        other => Err(match other.unauthenticated() {
            Some(why) => why.into(),
            None => AuthorityError::Unavailable {
                cause: "key lookup failed".into(),
            },
        }),
    }
}

async fn usage_flusher(
    store: Arc<dyn Store>,
    usage: Arc<crate::validator::UsageTracker>,
    every: Duration,
    mut stop: watch::Receiver<()>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let stopping = tokio::select! {
            _ = tick.tick() => false,
            _ = stop.changed() => true,
        };
        let batch = usage.drain();
        if !batch.is_empty() {
            if let Err(e) = store.touch_keys(&batch).await {
                tracing::warn!(error = %e, "last_used_at flush failed; will retry");
                usage.restore(batch);
            }
        }
        if stopping {
            break;
        }
    }
}
