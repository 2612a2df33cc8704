//! The tool-server guard: every tool call is
//! authenticated, checked against the scope its tool requires, and audited
//! before the tool body runs.
//!
//! - [`ToolScopes`]: a tool server declares once which scope each tool needs.
//! - [`Guard`]: the decision logic, over one of two backends:
//!   - *local*: an in-process [`Authority`] over the same store as the key
//!     authority; events go through [`Authority::record_tool_call`];
//!   - *remote* ([`RemoteConfig`]): only the authority's URL and a service
//!     key; keys are checked through `POST /api/v1/introspect` behind a
//!     short-lived cache that the revocation stream evicts, and events are
//!     spooled durably and shipped through `POST /api/v1/audit/events`.
//! - [`GuardLayer`]: a tower layer for any HTTP MCP server (rmcp's
//!   `StreamableHttpService`, an axum router). It reads the Bearer key,
//!   answers 401 with `WWW-Authenticate: Bearer` for missing and bad keys,
//!   peeks at JSON-RPC `tools/call` bodies to check the tool's scope, and
//!   inserts the [`GuardedCaller`] into the request extensions (rmcp copies
//!   them into the handler's `RequestContext`).
//! - [`Refusal`]: why a call was refused; the layer answers each with its
//!   HTTP status (a missing scope: 403 `insufficient_scope`, MCP step-up).
//! - [`ProtectedResource`] and [`metadata_router`]: the server as an OAuth
//!   2.0 protected resource (RFC 9728 metadata, named by every challenge).
//! - [`UnauthenticatedLimit`]: tool calls without a valid key are audited
//!   up to this rate, then answered 429 unaudited, so a flood of them cannot
//!   fill the audit trail; calls with a valid key are never limited.
//! - A local guard serves one org ([`Guard::local`]): keys of other orgs
//!   are refused like unknown keys. A remote guard serves its service key's
//!   org, because introspection answers only for that org's keys.
//! - Rate limits and budgets ([`LimitReached`]) are spent from allowances
//!   the authority grants (many calls per grant, never more than the
//!   limit across every guard); a reached limit is refused with 429 and
//!   audited as `rate_limited` or `budget_exhausted`.
//! - [`serve::serve`]: serves a router over TCP with a time limit on
//!   request heads (slowloris) and a bounded graceful shutdown; the
//!   authority and tool servers serve through it.
//! - Requests that are not tool calls are not audited, except a revoked or
//!   expired key's refusal: traced once a minute per key (`traced`).
//!
//! Fail closed: if the audit event of a call cannot be recorded durably, the
//! call is refused and never reaches the tool. The event is therefore
//! written *before* the tool runs; it records the decision, its reason and
//! the guard's decision latency, not the tool's own result. Every event is
//! bounded ([`ToolCall::bounded`]) before it is recorded: its text fields
//! (the tool name above all) are the caller's to choose.

mod allowance;
mod decision;
mod jsonrpc;
mod layer;
mod local;
mod refusal;
pub mod remote;
mod resource;
pub mod serve;
mod status;
mod throttle;
mod tools;
mod tripwire;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use allowance::LimitReached;
pub use authority::dead_keys::TRACE_EVERY;
pub use layer::{GuardBody, GuardLayer, GuardService};
pub use refusal::Refusal;
pub use remote::{RemoteConfig, SpoolError};
pub use resource::{metadata_router, ProtectedResource, ResourceMetadata};
pub use status::GuardStatus;
pub use throttle::UnauthenticatedLimit;
pub use tools::{ToolScope, ToolScopes};
pub use tripwire::TripwireConfig;

use authority::dead_keys::DeadKeyTraces;
use authority::ids::OrgId;
use authority::scopes::{Scope, ScopeError};
use authority::AuthorityError;
use authority::KeyContext;
use authority::Outcome;
use authority::{Authority, ToolCall};
use decision::{decide, head, refusal_of, shown, KeyCheck};
use throttle::Throttle;

/// Why a guard could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("tool `{tool}` declares an invalid scope: {source}")]
    ToolScope { tool: String, source: ScopeError },
    #[error("tool `{0}` is declared twice")]
    DuplicateTool(String),
    #[error("cannot register the tools' scopes in the catalog: {0}")]
    Register(AuthorityError),
    #[error("org `{0}` does not exist in the authority's store")]
    UnknownOrg(OrgId),
    #[error("cannot look up the guard's org in the authority's store: {0}")]
    OrgLookup(String),
    #[error("invalid remote guard configuration: {0}")]
    Config(String),
    #[error("invalid protected resource: {0}")]
    Resource(String),
    #[error(transparent)]
    Spool(#[from] SpoolError),
}

/// The caller the guard let through, in the request's extensions.
#[derive(Debug, Clone)]
pub struct GuardedCaller(pub Arc<KeyContext>);

impl GuardedCaller {
    /// The caller of a request that passed the guard (e.g. from the
    /// `http::request::Parts` rmcp puts into a tool's `RequestContext`).
    pub fn from_parts(parts: &http::request::Parts) -> Option<&KeyContext> {
        parts.extensions.get::<GuardedCaller>().map(|c| &*c.0)
    }
}

/// The guard. Cheap to clone.
#[derive(Clone)]
pub struct Guard {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    tools: ToolScopes,
    server: Option<String>,
    throttle: Throttle,
    traced: DeadKeyTraces,
    allowed: AtomicU64,
    denied: AtomicU64,
    audit_failures: AtomicU64,
    spool_full_refusals: AtomicU64,
    /// Set once by [`Guard::serve_as`]; challenges then name its metadata.
    resource: std::sync::OnceLock<ProtectedResource>,
    /// Guardrail rules that put a key in quarantine on their own.
    tripwires: Arc<tripwire::Tripwires>,
    /// Holds that could not be reported to the authority.
    hold_report_failures: AtomicU64,
    /// Calls granted on the keys' rate limits and budgets.
    allowances: Arc<allowance::Allowances>,
    /// Calls refused because a limit's grant could not be asked for.
    allowance_failures: AtomicU64,
    /// Reads of the org's settings that failed.
    org_settings_failures: AtomicU64,
}

enum Backend {
    Local(local::Local),
    Remote(remote::Remote),
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("mode", &self.mode())
            .field("tools", &self.inner.tools.len())
            .finish_non_exhaustive()
    }
}

/// Why an event was not recorded.
#[derive(Debug, thiserror::Error)]
enum RecordError {
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("{0}")]
    Local(String),
}

impl Guard {
    /// An in-process guard for the keys of `org` (which must exist in the
    /// authority's store): a key of any other org is refused exactly like
    /// an unknown key. Registers every tool's service scope in `org`'s
    /// catalog the way a remote guard does (stored, audited, so every
    /// server sharing the store can mint `org`'s keys for them).
    pub async fn local(
        authority: Authority,
        org: OrgId,
        tools: ToolScopes,
        server_name: Option<String>,
    ) -> Result<Self, GuardError> {
        let tripwires = Arc::new(tripwire::Tripwires::new(TripwireConfig::default()));
        let allowances = Arc::new(allowance::Allowances::default());
        let local = local::Local::new(
            authority,
            org.clone(),
            tripwires.clone(),
            allowances.clone(),
        )
        .await?;
        let registrations = service_registrations(&tools);
        if !registrations.is_empty() {
            local
                .authority()
                .register_local_tool_scopes(&org, &registrations)
                .await
                .map_err(GuardError::Register)?;
        }
        Ok(Self::with_backend(
            Backend::Local(local),
            tools,
            server_name,
            tripwires,
            allowances,
        ))
    }

    /// A guard that talks to a remote authority. Must be called inside a
    /// Tokio runtime: it starts the revocation listener and the shipper.
    /// The tools' scopes must exist in the authority's catalog (the
    /// built-in catalog has `wiki`, `kb`, `mcp`, …).
    pub async fn remote(
        config: RemoteConfig,
        tools: ToolScopes,
        server_name: Option<String>,
    ) -> Result<Self, GuardError> {
        let registrations = service_registrations(&tools);
        let tripwires = Arc::new(tripwire::Tripwires::new(TripwireConfig::default()));
        let allowances = Arc::new(allowance::Allowances::default());
        let remote = remote::Remote::start(
            config,
            Arc::new(registrations),
            tripwires.clone(),
            allowances.clone(),
        )
        .await?;
        Ok(Self::with_backend(
            Backend::Remote(remote),
            tools,
            server_name,
            tripwires,
            allowances,
        ))
    }

    fn with_backend(
        backend: Backend,
        tools: ToolScopes,
        server: Option<String>,
        tripwires: Arc<tripwire::Tripwires>,
        allowances: Arc<allowance::Allowances>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                backend,
                tools,
                server,
                throttle: Throttle::new(UnauthenticatedLimit::default()),
                traced: DeadKeyTraces::new(),
                allowed: AtomicU64::new(0),
                denied: AtomicU64::new(0),
                audit_failures: AtomicU64::new(0),
                spool_full_refusals: AtomicU64::new(0),
                resource: std::sync::OnceLock::new(),
                tripwires,
                hold_report_failures: AtomicU64::new(0),
                allowances,
                allowance_failures: AtomicU64::new(0),
                org_settings_failures: AtomicU64::new(0),
            }),
        }
    }

    /// Sets the thresholds of the rules that put a key in quarantine
    /// ([`TripwireConfig`]; the defaults hold until this is called).
    pub fn configure_tripwires(&self, config: TripwireConfig) {
        self.inner.tripwires.configure(config);
    }

    /// Reads the org's guardrail settings now and applies its rule
    /// thresholds (or, if it set none, goes back to the guard's own).
    pub async fn refresh_org_settings(&self) -> Result<(), String> {
        let settings = match &self.inner.backend {
            Backend::Local(local) => local
                .authority()
                .org_settings_for_guard(local.org())
                .await
                .map_err(|e| e.to_string()),
            Backend::Remote(remote) => remote.org_settings().await.map_err(|e| e.to_string()),
        };
        match settings {
            Ok(settings) => {
                self.inner.tripwires.apply_org_rules(settings.rules);
                Ok(())
            }
            Err(e) => {
                self.inner
                    .org_settings_failures
                    .fetch_add(1, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Reads the org's settings now and every `every` after, for as long
    /// as the guard lives; a failed read keeps the last settings read.
    pub fn follow_org_settings(&self, every: Duration) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                let guard = Guard { inner };
                if let Err(error) = guard.refresh_org_settings().await {
                    tracing::warn!(%error, "cannot read the org's guardrail settings; keeping the last ones");
                }
                drop(guard);
                tokio::time::sleep(every).await;
            }
        });
    }

    /// Call once the server has stopped serving: a local guard writes its
    /// authority's pending last-used marks and signs the heads of its audit
    /// chains, so nothing it recorded can be cut off the trail unseen (a
    /// remote guard's unsent events are already in its spool on disk).
    pub async fn shutdown(&self) {
        if let Backend::Local(local) = &self.inner.backend {
            let authority = local.authority();
            if let Err(error) = authority.flush_usage().await {
                tracing::warn!(%error, "could not flush last-used marks on shutdown");
            }
            if let Err(error) = authority.seal_chains().await {
                tracing::warn!(%error, "could not seal the audit chains on shutdown");
            }
        }
    }

    /// The tower layer for an HTTP MCP endpoint.
    pub fn layer(&self) -> GuardLayer {
        GuardLayer::new(self.clone())
    }

    /// Publishes this guard's tools as `resource` (RFC 9728): its 401 and
    /// 403 challenges then carry `resource_metadata`, and
    /// [`metadata_router`] serves the document. Once per guard.
    pub fn serve_as(&self, resource: ProtectedResource) -> Result<(), GuardError> {
        self.inner
            .resource
            .set(resource)
            .map_err(|_| GuardError::Resource("this guard already serves a resource".into()))
    }

    /// The resource set by [`Guard::serve_as`], if any.
    pub fn protected_resource(&self) -> Option<&ProtectedResource> {
        self.inner.resource.get()
    }

    /// Replaces the limit on tool calls without a valid key (default:
    /// [`UnauthenticatedLimit::default`]); its buckets start full again.
    pub fn set_unauthenticated_limit(&self, limit: UnauthenticatedLimit) {
        self.inner.throttle.set_limit(limit);
    }

    pub fn tools(&self) -> &ToolScopes {
        &self.inner.tools
    }

    pub fn mode(&self) -> &'static str {
        match self.inner.backend {
            Backend::Local(_) => "local",
            Backend::Remote(_) => "remote",
        }
    }

    /// Health and counters. Warns (once per transition) when degraded.
    pub fn status(&self) -> GuardStatus {
        let mut status = GuardStatus {
            mode: self.mode(),
            allowed: self.inner.allowed.load(Ordering::Relaxed),
            denied: self.inner.denied.load(Ordering::Relaxed),
            audit_failures: self.inner.audit_failures.load(Ordering::Relaxed),
            spool_full_refusals: self.inner.spool_full_refusals.load(Ordering::Relaxed),
            unauthenticated_throttled: self.inner.throttle.throttled.load(Ordering::Relaxed),
            hold_report_failures: self.inner.hold_report_failures.load(Ordering::Relaxed),
            allowances: self.inner.allowances.len(),
            allowance_failures: self.inner.allowance_failures.load(Ordering::Relaxed),
            org_rules: self.inner.tripwires.org_rules(),
            org_settings_failures: self.inner.org_settings_failures.load(Ordering::Relaxed),
            ..GuardStatus::default()
        };
        if let Backend::Remote(remote) = &self.inner.backend {
            remote.fill_status(&mut status);
        }
        status
    }

    /// Authenticates a request that is not a tool call (initialize, list,
    /// the event stream): only the key is checked, and nothing is audited
    /// except the refusal of a revoked or expired key, once a minute per
    /// key and within the unauthenticated limit (see [`TRACE_EVERY`]).
    /// `request` names the request in that event (its JSON-RPC method).
    pub async fn authenticate(
        &self,
        bearer: Option<&str>,
        request: &str,
        request_id: Option<String>,
        client: Option<IpAddr>,
    ) -> Result<Arc<KeyContext>, Refusal> {
        let started = Instant::now();
        let outcome = match self.held_here(self.check_key(bearer, client).await) {
            KeyCheck::Missing => return Err(Refusal::MissingKey),
            KeyCheck::Checked(Outcome::Valid(ctx)) => return Ok(ctx),
            KeyCheck::Checked(outcome) => outcome,
        };
        if let Some(key_id) = self.inner.traced.due(&outcome) {
            // A throttled trace leaves the key due, so a later try is traced.
            if let Err(retry_after_secs) = self.inner.throttle.admit(client, Instant::now()) {
                return Err(Refusal::Throttled { retry_after_secs });
            }
            self.inner.traced.traced(key_id);
            let request = shown(request);
            let mut call = outcome.tool_call(&request, &Scope::AdminOrg);
            call.required_scope = None;
            self.stamp(&mut call, started, request_id, client);
            // Refused whatever happens: a lost trace is only counted.
            if let Err(cause) = self.record(call).await {
                self.count_record_failure(&request, &cause);
            }
        }
        Err(refusal_of(outcome))
    }

    /// Decides one tool call: key, the tool's scope, then a durable audit
    /// event. `Ok` means the event is recorded and the tool may run.
    /// `client` is the caller's address when the server knows it: the
    /// limit on unauthenticated calls is per address, and the event
    /// records it.
    ///
    /// `arguments` are the call's arguments: only their fingerprint is
    /// used, to recognise a loop (see [`TripwireConfig`]).
    pub async fn authorize_tool(
        &self,
        bearer: Option<&str>,
        tool: &str,
        arguments: &serde_json::Value,
        request_id: Option<String>,
        client: Option<IpAddr>,
    ) -> Result<Arc<KeyContext>, Refusal> {
        let started = Instant::now();
        let check = self.held_here(self.check_key(bearer, client).await);
        // Before anything is recorded: a throttled call leaves no event
        // (that is the point of the limit), only the counter.
        if check.is_unauthenticated() {
            if let Err(retry_after_secs) = self.inner.throttle.admit(client, Instant::now()) {
                return Err(Refusal::Throttled { retry_after_secs });
            }
        }
        let scope = self.inner.tools.scope_for(tool);
        let tool = shown(tool);
        let (mut call, mut decision) = decide(check, &tool, scope.cloned());
        if let (Ok(ctx), Some(scope)) = (&decision, scope) {
            if let Err(refusal) = self.spend_limits(ctx, scope).await {
                call.decision = authority::audit::Decision::Denied;
                call.reason = Some(refusal.code().to_owned());
                decision = Err(refusal);
            }
        }
        self.stamp(&mut call, started, request_id, client);
        let watched = match (&decision, &call.key_id, call.reason.as_deref()) {
            (Ok(ctx), _, _) => Some((ctx.key_id.clone(), ctx.org.clone(), None)),
            (
                Err(Refusal::InsufficientScope { .. } | Refusal::UnknownTool { .. }),
                Some(key),
                reason,
            ) => call.org.clone().map(|org| {
                (
                    key.clone(),
                    org,
                    Some(reason.unwrap_or("refused").to_owned()),
                )
            }),
            _ => None,
        };
        let recorded = self.record(call).await;
        let decision = match (recorded, decision) {
            (Ok(()), decision) => decision,
            (Err(cause), decision) => {
                self.count_record_failure(&tool, &cause);
                match decision {
                    Ok(_) => Err(Refusal::AuditUnavailable),
                    Err(refusal) => Err(refusal),
                }
            }
        };
        let counter = if decision.is_ok() {
            &self.inner.allowed
        } else {
            &self.inner.denied
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some((key, org, refused)) = watched {
            let seen = match &refused {
                None => tripwire::Observed::Allowed {
                    tool: &tool,
                    fingerprint: tripwire::fingerprint(&tool, arguments),
                },
                Some(code) => tripwire::Observed::Refused { code },
            };
            if let Some(trip) = self.inner.tripwires.observe(&key, seen, Instant::now()) {
                self.report_hold(key, org, trip);
            }
        }
        decision
    }

    /// Spends one call of every rate limit and budget the call counts
    /// against (nothing to do for a key without limits).
    async fn spend_limits(&self, ctx: &KeyContext, scope: &Scope) -> Result<(), Refusal> {
        if ctx.limits.is_empty() {
            return Ok(());
        }
        match self
            .inner
            .allowances
            .spend(ctx, scope, &self.inner.backend)
            .await
        {
            allowance::Spend::Allowed => Ok(()),
            allowance::Spend::Refused(reached) => Err(Refusal::Limited(reached)),
            allowance::Spend::Unavailable(cause) => {
                self.inner
                    .allowance_failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(key = %ctx.key_id, %cause, "could not get an allowance for a limited key; refusing the call");
                Err(Refusal::Unavailable)
            }
        }
    }

    /// A key this guard put in quarantine itself is refused at once, before
    /// the authority has stored the hold (afterwards the authority's answer
    /// refuses it, until a person releases it).
    fn held_here(&self, check: KeyCheck) -> KeyCheck {
        match check {
            KeyCheck::Checked(outcome)
                if outcome
                    .context()
                    .is_some_and(|c| self.inner.tripwires.is_held(&c.key_id)) =>
            {
                let ctx = outcome.context().expect("checked above");
                KeyCheck::Checked(Outcome::Quarantined {
                    key_id: ctx.key_id.clone(),
                    org: ctx.org.clone(),
                })
            }
            other => other,
        }
    }

    /// Tells the authority a rule tripped, in the background: the key is
    /// held here already; the authority stores the hold, audits it and
    /// tells every other guard. A failure is logged and counted (the hold
    /// here lasts a minute, and the rule trips again if the key goes on).
    fn report_hold(&self, key: authority::KeyId, org: OrgId, trip: tripwire::Trip) {
        tracing::warn!(key = %key, rule = trip.rule.as_str(), evidence = %trip.evidence, "guardrail tripped: key held in quarantine");
        let guard = self.clone();
        tokio::spawn(async move {
            let reported = match &guard.inner.backend {
                Backend::Local(local) => local
                    .authority()
                    .quarantine_reported(
                        &org,
                        &key,
                        trip.rule,
                        &trip.evidence,
                        guard.inner.server.as_deref(),
                    )
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string()),
                Backend::Remote(remote) => remote
                    .report_hold(&key, trip.rule, &trip.evidence)
                    .await
                    .map_err(|e| e.to_string()),
            };
            match reported {
                // The authority holds the key now, for every guard, until a
                // person releases it: its word replaces this guard's own
                // hold (which would otherwise outlive a release made in
                // another process). The cached answer goes first.
                Ok(()) => {
                    if let Backend::Remote(remote) = &guard.inner.backend {
                        remote.forget(&key, &org);
                    }
                    guard.inner.tripwires.release(&key);
                }
                Err(error) => {
                    guard
                        .inner
                        .hold_report_failures
                        .fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(key = %key, %error, "could not report a quarantine to the authority; held at this guard only");
                }
            }
        });
    }

    /// What the guard knows about the request beyond the decision.
    fn stamp(
        &self,
        call: &mut ToolCall,
        started: Instant,
        request_id: Option<String>,
        client: Option<IpAddr>,
    ) {
        call.latency_us = Some(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        call.server.clone_from(&self.inner.server);
        call.request_id = request_id.map(|id| head(&id, ToolCall::MAX_REQUEST_ID).to_owned());
        call.client_ip = client.map(|ip| ip.to_canonical().to_string());
    }

    /// `what` is the tool or request as [`shown`].
    fn count_record_failure(&self, what: &str, cause: &RecordError) {
        self.inner.audit_failures.fetch_add(1, Ordering::Relaxed);
        if matches!(cause, RecordError::Spool(SpoolError::Full { .. })) {
            // Counted, not logged per call: the spool logs when it fills,
            // and a flood must not become a log flood.
            self.inner
                .spool_full_refusals
                .fetch_add(1, Ordering::Relaxed);
        } else {
            tracing::warn!(%what, %cause, "audit event not recorded; refusing the request");
        }
    }

    /// The key's outcome for a caller at `client`: a key limited to
    /// networks is refused from anywhere else, and where the server does
    /// not know the caller's address.
    async fn check_key(&self, bearer: Option<&str>, client: Option<IpAddr>) -> KeyCheck {
        let Some(raw) = bearer else {
            return KeyCheck::Missing;
        };
        // A credential bound to resources is good only at those: this
        // guard's own identifier, when it declared one, must be among them.
        let resource = self
            .protected_resource()
            .map(ProtectedResource::resource_id);
        let outcome = match &self.inner.backend {
            Backend::Local(local) => local.validate(raw, resource).await,
            Backend::Remote(remote) => remote.validate(raw).await.at_resource(resource),
        };
        KeyCheck::Checked(outcome.from_address(client))
    }

    /// Records the event, bounded first: whatever a caller sent, no field
    /// outgrows what the authority accepts (an oversized event would be
    /// refused there with the honest events shipped beside it).
    async fn record(&self, call: ToolCall) -> Result<(), RecordError> {
        let call = call.bounded();
        match &self.inner.backend {
            Backend::Local(local) => local.record(call).await.map_err(RecordError::Local),
            Backend::Remote(remote) => Ok(remote.record(call).await?),
        }
    }
}

impl allowance::GrantSource for Backend {
    async fn grant(
        &self,
        key: &authority::KeyId,
        request: &model::wire::AllowanceRequest,
    ) -> Result<model::wire::AllowanceGrant, String> {
        match self {
            Backend::Local(local) => local
                .authority()
                .take_allowance(
                    local.org(),
                    key,
                    &request.owner,
                    request.kind,
                    request.scope.as_deref(),
                )
                .await
                .map_err(|e| {
                    e.internal_cause()
                        .map_or_else(|| e.to_string(), str::to_owned)
                }),
            Backend::Remote(remote) => remote
                .allowance(key, request)
                .await
                .map_err(|e| e.to_string()),
        }
    }
}

/// The catalog registrations for the tools' `svc:` scopes. The other kinds
/// (`admin:org`, `org:`, `agent:`) are the grammar's, not a tool's to define,
/// and the authority refuses a registration that names one.
fn service_registrations(tools: &ToolScopes) -> Vec<authority::ScopeRegistration> {
    let mut registrations: Vec<authority::ScopeRegistration> = Vec::new();
    for (_, tool) in tools.iter() {
        if matches!(tool.scope, Scope::Service { .. }) {
            registrations.push(authority::ScopeRegistration {
                scope: tool.scope.to_string(),
                description: tool.description.clone(),
            });
        }
    }
    registrations
}
