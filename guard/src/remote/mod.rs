//! Remote mode: the guard knows only the authority's URL and its own
//! service key (`svc:keys:introspect` + `svc:audit:write`).
//!
//! - `cache`: introspection answers keyed by SHA-256 of the raw key.
//! - `stream`: the revocation listener that evicts from the cache.
//! - `spool`: the durable, bounded local audit spool and its shipper.
//! - `client`: the REST calls.
//!
//! Keys are parsed locally first: a malformed or wrong-env key is refused
//! without a network call.

mod cache;
mod client;
mod spool;
mod stream;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

pub use client::ApiError;
pub use spool::SpoolError;

use self::cache::{digest, IntrospectionCache};
use self::client::AuthorityApi;
use self::spool::{Spool, SpoolLimits};
use self::stream::StreamState;
use super::{GuardError, GuardStatus};
use authority::keys::{self, Env, RawKey};
use authority::time::{Clock, SystemClock};
use authority::validator::parse_for_env;
use authority::Outcome;
use authority::ToolCall;

/// The longest a cached answer may live (DESIGN: TTL ≤ 60 s).
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(60);
/// How long an idle connection to the authority is kept for reuse: well
/// under the authority's 30 s header timeout (which closes idle
/// connections), so a request never races the authority closing the
/// connection it was sent on (the org settings are read every 30 s).
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// Default [`RemoteConfig::spool_max_events`]: about 250 MB of typical
/// events (200–300 bytes each), hours of a busy server's calls during an
/// authority outage.
pub const DEFAULT_SPOOL_MAX_EVENTS: u64 = 1_000_000;
/// Default [`RemoteConfig::spool_max_bytes`]: 1 GiB of events' JSON.
pub const DEFAULT_SPOOL_MAX_BYTES: u64 = 1 << 30;

/// How a remote guard reaches its authority.
pub struct RemoteConfig {
    /// e.g. `http://127.0.0.1:3000` (no trailing `/api/v1`).
    pub authority_url: String,
    service_key: RawKey,
    service_env: Env,
    /// Where the audit spool lives (one directory per tool-server process).
    pub spool_dir: PathBuf,
    /// Cached answers live this long (clamped to 60 s): the bound on a
    /// revoked key's use while the revocation stream is down.
    pub cache_ttl: Duration,
    pub cache_capacity: u64,
    /// Listen to the revocation stream (turn off only to test the TTL fallback).
    pub revocation_stream: bool,
    /// Timeout of introspection and ingest requests.
    pub request_timeout: Duration,
    /// The most events the spool holds for the authority. When an event
    /// does not fit (this, or [`spool_max_bytes`](Self::spool_max_bytes)),
    /// its call is refused (503) and counted in `spool_full_refusals`.
    pub spool_max_events: u64,
    /// The most bytes of events' JSON the spool holds.
    pub spool_max_bytes: u64,
}

impl std::fmt::Debug for RemoteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteConfig")
            .field("authority_url", &self.authority_url)
            .field("service_key", &self.service_key)
            .field("spool_dir", &self.spool_dir)
            .field("cache_ttl", &self.cache_ttl)
            .field("revocation_stream", &self.revocation_stream)
            .field("spool_max_events", &self.spool_max_events)
            .field("spool_max_bytes", &self.spool_max_bytes)
            .finish_non_exhaustive()
    }
}

impl RemoteConfig {
    /// Checks the URL and the service key's format (not its validity).
    pub fn new(
        authority_url: &str,
        service_key: &str,
        spool_dir: impl Into<PathBuf>,
    ) -> Result<Self, GuardError> {
        let url = authority_url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(GuardError::Config(format!(
                "the authority URL must start with http:// or https:// (got {url:?})"
            )));
        }
        let parsed = keys::parse(service_key.trim()).map_err(|e| {
            GuardError::Config(format!("the service key is not an acekeys key: {e}"))
        })?;
        Ok(Self {
            authority_url: url.to_owned(),
            service_env: parsed.env(),
            service_key: RawKey::new_unchecked(service_key.trim().to_owned()),
            spool_dir: spool_dir.into(),
            cache_ttl: MAX_CACHE_TTL,
            cache_capacity: 100_000,
            revocation_stream: true,
            request_timeout: Duration::from_secs(5),
            spool_max_events: DEFAULT_SPOOL_MAX_EVENTS,
            spool_max_bytes: DEFAULT_SPOOL_MAX_BYTES,
        })
    }
}

/// Aborts background tasks when the guard is dropped.
struct Tasks(Vec<JoinHandle<()>>);

/// A background task that ends with its owner.
pub(crate) struct AbortOnDrop(pub(crate) JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

pub(crate) struct Remote {
    api: Arc<AuthorityApi>,
    env: Env,
    cache: Arc<IntrospectionCache>,
    spool: Arc<Spool>,
    stream: Option<Arc<StreamState>>,
    _tasks: Tasks,
}

impl Remote {
    /// `scopes` are this server's tool scopes, registered with the
    /// authority now and again on every revocation-stream (re)connect, so
    /// an authority restart (which forgets them) is covered.
    pub(crate) async fn start(
        config: RemoteConfig,
        scopes: Arc<Vec<authority::ScopeRegistration>>,
        tripwires: Arc<crate::tripwire::Tripwires>,
        allowances: Arc<crate::allowance::Allowances>,
    ) -> Result<Self, GuardError> {
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .build()
            .map_err(|e| GuardError::Config(e.without_url().to_string()))?;
        // The stream is long-lived: only the connect is bounded.
        let stream_http = reqwest::Client::builder()
            .connect_timeout(config.request_timeout)
            .build()
            .map_err(|e| GuardError::Config(e.without_url().to_string()))?;
        let api = Arc::new(AuthorityApi::new(
            http,
            config.authority_url.clone(),
            Arc::new(config.service_key),
        ));
        let cache = Arc::new(IntrospectionCache::new(
            config.cache_ttl.min(MAX_CACHE_TTL),
            config.cache_capacity,
        ));
        let limits = SpoolLimits {
            max_events: config.spool_max_events,
            max_bytes: config.spool_max_bytes,
        };
        let spool = Arc::new(Spool::open(&config.spool_dir, limits)?);
        api.register_scopes_or_warn(&scopes).await;
        let mut tasks = Vec::new();
        {
            let (spool, api) = (spool.clone(), api.clone());
            tasks.push(tokio::spawn(async move { spool.ship_forever(api).await }));
        }
        let stream = config.revocation_stream.then(|| {
            let state = Arc::new(StreamState::default());
            tasks.push(tokio::spawn(stream::listen(
                stream_http,
                api.clone(),
                cache.clone(),
                state.clone(),
                scopes.clone(),
                tripwires,
                allowances,
            )));
            state
        });
        if stream.is_none() {
            tracing::warn!(ttl = ?config.cache_ttl, "revocation stream disabled: revoked keys keep working until their cache entry expires");
        }
        Ok(Self {
            api,
            env: config.service_env,
            cache,
            spool,
            stream,
            _tasks: Tasks(tasks),
        })
    }

    pub(crate) async fn validate(&self, raw: &str) -> Outcome {
        if let Err(outcome) = parse_for_env(raw, self.env) {
            return outcome;
        }
        let hash = digest(raw);
        let now = SystemClock.now();
        if let Some(ctx) = self.cache.get(&hash) {
            if ctx.expires_at.is_some_and(|at| at <= now) {
                self.cache.remove(&hash);
                return Outcome::Expired {
                    key_id: ctx.key_id.clone(),
                    org: ctx.org.clone(),
                };
            }
            return Outcome::Valid(ctx);
        }
        if let Some((key_id, org)) = self.cache.revoked(&hash) {
            return Outcome::Revoked { key_id, org };
        }
        let epoch = self.cache.epoch();
        match self.api.introspect(raw).await {
            Ok(Some(ctx)) => {
                let ctx = Arc::new(ctx);
                self.cache.insert(epoch, hash, ctx.clone());
                Outcome::Valid(ctx)
            }
            Ok(None) => Outcome::Unknown,
            Err(e) => {
                tracing::warn!(error = %e, "introspection failed; refusing (fail closed)");
                Outcome::Unavailable
            }
        }
    }

    /// Drops every cached answer for a key (its state changed).
    pub(crate) fn forget(&self, key: &authority::KeyId, org: &authority::OrgId) {
        self.cache.evict_key(key, org, false);
    }

    /// `POST /keys/{id}/allowance`: calls of one of the key's limits.
    pub(crate) async fn allowance(
        &self,
        key: &authority::KeyId,
        request: &model::wire::AllowanceRequest,
    ) -> Result<model::wire::AllowanceGrant, client::ApiError> {
        self.api.allowance(key, request).await
    }

    /// `POST /keys/{id}/quarantine`: a rule tripped at this guard.
    pub(crate) async fn org_settings(&self) -> Result<model::wire::OrgSettings, client::ApiError> {
        self.api.org_settings().await
    }

    pub(crate) async fn report_hold(
        &self,
        key: &authority::KeyId,
        rule: authority::wire::QuarantineRule,
        evidence: &str,
    ) -> Result<(), client::ApiError> {
        self.api.quarantine(key, rule, evidence).await
    }

    /// Durable once this returns `Ok` (fsynced in the spool); the event's
    /// time is the decision's, not the shipping's. The caller bounds the
    /// event ([`ToolCall::bounded`]) first.
    pub(crate) async fn record(&self, mut call: ToolCall) -> Result<(), SpoolError> {
        call.ts.get_or_insert_with(|| SystemClock.now());
        self.spool.append(call).await
    }

    pub(crate) fn fill_status(&self, status: &mut GuardStatus) {
        let spool = &self.spool.stats;
        status.cache_entries = self.cache.len();
        status.spool_pending = spool.pending.load(Ordering::Relaxed);
        status.spool_pending_bytes = spool.pending_bytes.load(Ordering::Relaxed);
        status.shipped = spool.shipped.load(Ordering::Relaxed);
        status.spool_rejected = spool.rejected.load(Ordering::Relaxed);
        let spool_full = spool.full.load(Ordering::Relaxed);
        let ship_error = spool.ship_error.lock().clone();
        match &self.stream {
            Some(state) => {
                status.stream_connected = state.connected.load(Ordering::SeqCst);
                status.stream_connects = state.connects.load(Ordering::Relaxed);
                status.last_error = ship_error.or_else(|| state.last_error.lock().clone());
            }
            None => status.last_error = ship_error,
        }
        status.degraded = !status.stream_connected || status.last_error.is_some() || spool_full;
        if status.degraded {
            tracing::warn!(
                stream_connected = status.stream_connected,
                spool_pending = status.spool_pending,
                spool_full,
                last_error = status.last_error.as_deref().unwrap_or(""),
                "guard degraded"
            );
        }
    }
}
