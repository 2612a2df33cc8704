//! Tool-call recording, audit queries, verification, retention,
//! introspection and dashboard sign-in events.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::Authority;
use crate::audit::chain::ChainVerifier;
use crate::audit::{
    about_keys, AuditCursor, AuditEvent, AuditFilter, AuditPage, AuditQuery, ChainInfo,
    ChainReport, EventKind, NewEvent, ProblemKind, PruneStats, SealTrust, TimelineBucket,
    TimelineQuery, VerifyReport,
};
use crate::error::AuthorityError;
use crate::ids::{EventId, KeyId, OrgId};
use crate::policy::rules::{audit_read, audit_write, keys_introspect, require};
use crate::policy::KeyContext;
use crate::recorder::RecorderError;
use crate::scopes::Scope;
use crate::time::Timestamp;
use crate::validator::Outcome;
use model::wire::{IntrospectAnswer, KeyLife, ToolCall};

const MAX_PAGE: u32 = 1000;
/// Events per page of an export: large enough that the store's per-query
/// cost vanishes, small enough that a page's memory stays in megabytes.
const EXPORT_PAGE: u32 = 5000;
const DEFAULT_PAGE: u32 = 100;
const MAX_BUCKETS: i64 = 1000;
const MAX_INGEST: usize = model::wire::MAX_INGEST_EVENTS;
const CHAIN_PAGE: u32 = 5000;

/// The event a reported tool call becomes, at `now` unless it names its
/// own instant; every free-text field is cut to a bounded length.
fn tool_call_event(call: ToolCall, now: Timestamp) -> NewEvent {
    let call = call.bounded();
    NewEvent {
        ts: call.ts.unwrap_or(now),
        org: call.org.unwrap_or_else(OrgId::unattributed),
        actor_key_id: call.key_id,
        agent: call.agent,
        kind: EventKind::ToolCall,
        action: call.tool,
        required_scope: call.required_scope,
        decision: call.decision,
        reason: call.reason,
        subject: None,
        server: call.server,
        request_id: call.request_id,
        client_ip: call.client_ip,
        latency_us: call.latency_us,
        reported_by: None,
        person: None,
        subject_agent: None,
    }
}

/// How far a reported instant may lie in the future (clock skew between a
/// tool server and the authority).
pub const MAX_REPORTED_AHEAD_MS: i64 = 5 * 60 * 1000;
/// How far in the past: a guard ships what it spooled during an outage of
/// the authority, up to this long.
pub const MAX_REPORTED_AGE_MS: i64 = 7 * 24 * 3600 * 1000;

/// A reported call, with what its sender cannot decide replaced: the org
/// is the reporting key's; a claimed key that is not a key of that org is
/// dropped (and the claim kept, visibly, in the reason); an instant
/// outside `[now - 7 days, now + 5 min]` is moved to the nearest bound (and
/// the reported one kept in the reason).
fn settle_reported(
    mut call: ToolCall,
    p: &KeyContext,
    now: Timestamp,
    claim_holds: impl Fn(&KeyId) -> bool,
) -> ToolCall {
    call.org = Some(p.org.clone());
    let mut notes: Vec<String> = Vec::new();
    if let Some(claimed) = call.key_id.take() {
        if claim_holds(&claimed) {
            call.key_id = Some(claimed);
        } else {
            notes.push(format!("claimed key {claimed} is not a key of this org"));
        }
    }
    if let Some(ts) = call.ts {
        let earliest = now.as_millis().saturating_sub(MAX_REPORTED_AGE_MS);
        let latest = now.as_millis().saturating_add(MAX_REPORTED_AHEAD_MS);
        let clamped = ts.as_millis().clamp(earliest, latest);
        if clamped != ts.as_millis() {
            notes.push(format!("reported at {ts}, outside the accepted window"));
            call.ts = Some(Timestamp::from_millis(clamped));
        }
    }
    if !notes.is_empty() {
        let note = format!("[{}]", notes.join("; "));
        call.reason = Some(match call.reason.take() {
            Some(reason) => format!("{note} {reason}"),
            None => note,
        });
    }
    call
}

/// About a hundredth of the range, rounded up to a whole second, minute or
/// hour: whole hours let a store sum hourly counts instead of counting
/// events, and round widths read better on a chart.
fn default_bucket_ms(range_ms: i64) -> i64 {
    const SECOND: i64 = 1000;
    const MINUTE: i64 = 60 * SECOND;
    const HOUR: i64 = 60 * MINUTE;
    let raw = (range_ms / 100).max(SECOND);
    let unit = match raw {
        r if r >= HOUR => HOUR,
        r if r >= MINUTE => MINUTE,
        _ => SECOND,
    };
    raw.saturating_add(unit - 1) / unit * unit
}

fn recorder_err(e: RecorderError) -> AuthorityError {
    AuthorityError::Unavailable {
        cause: e.to_string(),
    }
}

impl Authority {
    /// Records one tool call durably (the in-process guard calls this after
    /// `validate`). An error means the call must be refused.
    pub async fn record_tool_call(&self, call: ToolCall) -> Result<EventId, AuthorityError> {
        self.inner
            .recorder
            .record(tool_call_event(call, self.now()))
            .await
            .map_err(recorder_err)
    }

    /// `POST /audit/events`: a remote tool server's batch. What the sender
    /// cannot be trusted to say is settled here (see [`settle_reported`]):
    /// the org is the caller's, the reporting key is recorded with every
    /// event, a claimed key must be a key of that org, and the instant must
    /// lie within the stated skew of now.
    pub async fn ingest_audit(
        &self,
        p: &KeyContext,
        calls: Vec<ToolCall>,
    ) -> Result<Vec<EventId>, AuthorityError> {
        require(p, &audit_write())?;
        if calls.len() > MAX_INGEST {
            return Err(AuthorityError::invalid(
                "events",
                format!("at most {MAX_INGEST} per batch"),
            ));
        }
        let now = self.now();
        let mut org_keys: HashMap<KeyId, bool> = HashMap::new();
        let mut events = Vec::with_capacity(calls.len());
        for call in calls {
            if let Some(claimed) = &call.key_id {
                if !org_keys.contains_key(claimed) {
                    let known = self.inner.store.get_key(&p.org, claimed).await?.is_some();
                    org_keys.insert(claimed.clone(), known);
                }
            }
            let claim_holds = |k: &KeyId| org_keys.get(k).copied().unwrap_or(false);
            let mut event = tool_call_event(settle_reported(call, p, now, claim_holds), now);
            event.reported_by = Some(p.key_id.clone());
            events.push(event);
        }
        self.inner
            .recorder
            .record_batch(events)
            .await
            .map_err(recorder_err)
    }

    /// `GET /audit`: newest first, cursor-paginated.
    pub async fn audit_query(
        &self,
        p: &KeyContext,
        q: AuditQuery,
    ) -> Result<AuditPage, AuthorityError> {
        let limit = q.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(AuthorityError::invalid("limit", format!("1-{MAX_PAGE}")));
        }
        let mut page = self.events_page(p, q, limit).await?;
        page.key_names = self.key_names(&p.org, &page.events).await?;
        Ok(page)
    }

    /// One page of an export (`EXPORT_PAGE` events): an
    /// [`Authority::audit_query`] page without the key names, which a file
    /// of rows does not carry and which would cost a key read per key named.
    pub async fn audit_export_page(
        &self,
        p: &KeyContext,
        filter: AuditFilter,
        cursor: Option<String>,
    ) -> Result<AuditPage, AuthorityError> {
        let q = AuditQuery {
            filter,
            cursor,
            limit: None,
        };
        self.events_page(p, q, EXPORT_PAGE).await
    }

    async fn events_page(
        &self,
        p: &KeyContext,
        q: AuditQuery,
        limit: u32,
    ) -> Result<AuditPage, AuthorityError> {
        require(p, &audit_read())?;
        let cursor = match &q.cursor {
            Some(c) => Some(
                AuditCursor::decode(c)
                    .ok_or_else(|| AuthorityError::invalid("cursor", "not a cursor"))?,
            ),
            None => None,
        };
        let mut events = self
            .inner
            .store
            .query_audit(&p.org, &q.filter, cursor.as_ref(), limit + 1)
            .await?;
        let more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next_cursor = if more {
            events.last().map(|e| AuditCursor::after(e).encode())
        } else {
            None
        };
        Ok(AuditPage {
            events,
            next_cursor,
            key_names: Default::default(),
        })
    }

    /// A key's page: the key and the newest `limit` events about it (see
    /// [`AuditFilter`]'s key filter), with the names of the keys it was
    /// created by and rotated from or to even when those events are older.
    pub async fn key_life(
        &self,
        p: &KeyContext,
        key_id: &str,
        limit: u32,
    ) -> Result<KeyLife, AuthorityError> {
        let key = self.get_key(p, key_id).await?;
        let mut trail = self
            .audit_query(
                p,
                AuditQuery {
                    filter: AuditFilter {
                        key_id: Some(key.id.clone()),
                        ..Default::default()
                    },
                    cursor: None,
                    limit: Some(limit),
                },
            )
            .await?;
        let related = [
            &key.created_by,
            &key.rotated_from,
            &key.rotated_to,
            &key.parent,
        ];
        for id in related.into_iter().flatten() {
            if trail.key_names.contains_key(id.as_str()) {
                continue;
            }
            if let Some(k) = self.inner.store.get_key(&p.org, id).await? {
                trail.key_names.insert(id.to_string(), k.name);
            }
        }
        let now = self.now();
        let mut derived: Vec<model::wire::KeyView> = self
            .inner
            .store
            .list_keys(&p.org)
            .await?
            .iter()
            .filter(|k| k.parent.as_ref() == Some(&key.id))
            .map(|k| k.view(now))
            .collect();
        derived.reverse();
        Ok(KeyLife {
            key,
            trail,
            derived,
        })
    }

    /// Names of the org's keys a page of events names: one read per
    /// distinct key (a page holds at most `MAX_PAGE` events, and most name
    /// a handful of keys).
    async fn key_names(
        &self,
        org: &OrgId,
        events: &[AuditEvent],
    ) -> Result<std::collections::BTreeMap<String, String>, AuthorityError> {
        let ids: BTreeSet<KeyId> = events
            .iter()
            .flat_map(|e| about_keys(&e.body).chain(e.body.reported_by.clone()))
            .collect();
        let mut names = std::collections::BTreeMap::new();
        for id in ids {
            if let Some(key) = self.inner.store.get_key(org, &id).await? {
                names.insert(id.to_string(), key.name);
            }
        }
        Ok(names)
    }

    /// `GET /audit/{id}`: one event of the caller's org.
    pub async fn audit_event(
        &self,
        p: &KeyContext,
        id: &str,
    ) -> Result<AuditEvent, AuthorityError> {
        require(p, &audit_read())?;
        let id = EventId::parse(id).ok_or(AuthorityError::NotFound)?;
        self.inner
            .store
            .get_audit_event(&p.org, &id)
            .await?
            .ok_or(AuthorityError::NotFound)
    }

    /// Allowed/denied counts per bucket; range defaults to the last 24 h,
    /// bucket width to about range/100 ([`default_bucket_ms`]), at most 1000
    /// buckets.
    pub async fn audit_timeline(
        &self,
        p: &KeyContext,
        q: TimelineQuery,
    ) -> Result<Vec<TimelineBucket>, AuthorityError> {
        require(p, &audit_read())?;
        let mut filter = q.filter;
        let until = filter.until.unwrap_or_else(|| self.now().plus_secs(1));
        let since = filter.since.unwrap_or(until.plus_days(-1));
        if since >= until {
            return Err(AuthorityError::invalid("since", "must be before `until`"));
        }
        // Any i64 parses as a timestamp: never let the range overflow.
        let range = until.as_millis().saturating_sub(since.as_millis());
        let bucket_ms = match q.bucket_secs {
            Some(0) => return Err(AuthorityError::invalid("bucket_secs", "must be positive")),
            Some(s) => i64::try_from(s)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000),
            None => default_bucket_ms(range),
        };
        if range / bucket_ms > MAX_BUCKETS {
            return Err(AuthorityError::invalid(
                "bucket_secs",
                format!("at most {MAX_BUCKETS} buckets"),
            ));
        }
        filter.since = Some(since);
        filter.until = Some(until);
        Ok(self
            .inner
            .store
            .audit_timeline(&p.org, &filter, bucket_ms)
            .await?)
    }

    /// Verifies every chain of the caller's org.
    ///
    /// One verification per org at a time (a second one is refused with a
    /// conflict until the first finishes), and the hashing runs on the
    /// blocking pool, so an org re-verifying its trail in a loop costs one
    /// core at most and never stalls the async workers serving everyone.
    pub async fn verify_audit(&self, p: &KeyContext) -> Result<VerifyReport, AuthorityError> {
        require(p, &audit_read())?;
        let Some(_running) = VerifyingOrg::start(&self.inner.verifying, &p.org) else {
            return Err(AuthorityError::Conflict(
                "a verification of this org's trail is already running; try again when it has finished"
                    .into(),
            ));
        };
        self.verify_chains(Some(&p.org), self.seal_trust()).await
    }

    /// Operator: verifies every chain of every org, seals against this
    /// deployment's own seal key.
    pub async fn verify_all_audit(&self) -> Result<VerifyReport, AuthorityError> {
        self.verify_chains(None, self.seal_trust()).await
    }

    /// Operator: like [`verify_all_audit`](Self::verify_all_audit), with
    /// seals checked against `pinned`, a public key kept outside this
    /// deployment (a key swapped in with a new pepper then shows).
    pub async fn verify_all_audit_pinned(
        &self,
        pinned: SealTrust,
    ) -> Result<VerifyReport, AuthorityError> {
        self.verify_chains(None, pinned).await
    }

    async fn verify_chains(
        &self,
        org: Option<&OrgId>,
        trust: SealTrust,
    ) -> Result<VerifyReport, AuthorityError> {
        let store = &self.inner.store;
        let mut by_org: BTreeMap<OrgId, Vec<ChainInfo>> = BTreeMap::new();
        for info in store.audit_chains(org).await? {
            by_org.entry(info.org.clone()).or_default().push(info);
        }
        let mut reports = Vec::new();
        for (org, chains) in by_org {
            // Every writer a valid seal of the org names must still have a
            // chain: a deleted chain (events, registration and seal) shows.
            let named: BTreeSet<String> = chains
                .iter()
                .filter_map(|c| c.seal.as_ref())
                .filter(|s| s.is_signed_by(&trust))
                .flat_map(|s| s.writers.iter().cloned())
                .collect();
            for writer in &named {
                if !chains.iter().any(|c| &c.writer == writer) {
                    reports.push(ChainVerifier::new(org.clone(), writer.clone(), None).finish());
                }
            }
            for info in chains {
                reports.push(self.verify_chain(info, &trust).await?);
            }
        }
        reports.sort_by(|a, b| (&a.org, &a.writer).cmp(&(&b.org, &b.writer)));
        Ok(VerifyReport::from_chains(reports, trust.to_hex()))
    }

    async fn verify_chain(
        &self,
        info: ChainInfo,
        trust: &SealTrust,
    ) -> Result<ChainReport, AuthorityError> {
        let store = &self.inner.store;
        let mut v = ChainVerifier::new(
            info.org.clone(),
            info.writer.clone(),
            info.checkpoint.as_ref(),
        );
        match &info.seal {
            Some(seal)
                if seal.is_signed_by(trust)
                    && seal.org == info.org
                    && seal.writer == info.writer =>
            {
                v.expect_seal(seal.seq, seal.hash);
            }
            Some(seal) => v.flag(seal.seq, ProblemKind::BadSeal),
            None => {}
        }
        let mut after = info.checkpoint.as_ref().map_or(0, |c| c.seq);
        loop {
            let page = store
                .audit_chain_events(&info.org, &info.writer, after, CHAIN_PAGE)
                .await?;
            let (fed, page) = tokio::task::spawn_blocking(move || {
                for e in &page {
                    v.feed(e);
                }
                (v, page)
            })
            .await
            .map_err(|e| AuthorityError::Internal {
                cause: format!("chain verification task: {e}"),
            })?;
            v = fed;
            match page.last() {
                Some(last) if page.len() == CHAIN_PAGE as usize => after = last.chain.seq,
                _ => break,
            }
        }
        Ok(v.finish())
    }

    /// Operator: retention. Deletes, per chain, the prefix older than
    /// `before` and records checkpoints so the rest still verifies.
    pub async fn prune_audit(&self, before: Timestamp) -> Result<PruneStats, AuthorityError> {
        Ok(self.inner.store.prune_audit(before).await?)
    }

    /// `POST /introspect`: a tool server (with `svc:keys:introspect`) asks
    /// about a key of its own org. Keys of other orgs are inactive.
    pub async fn introspect(
        &self,
        p: &KeyContext,
        raw_key: &str,
    ) -> Result<IntrospectAnswer, AuthorityError> {
        require(p, &keys_introspect())?;
        // Only a key of the caller's own org is marked used: asking about a
        // foreign key must leave no trace on it.
        let outcome = self.inner.validator.check(raw_key, None).await;
        if matches!(&outcome, Outcome::Revoked { org, .. } | Outcome::Expired { org, .. } | Outcome::NotYetValid { org, .. } | Outcome::Quarantined { org, .. } if *org == p.org)
        {
            // A tool server of the key's own org was handed a dead key (or
            // one used before its start: the guard only learns "inactive").
            self.trace_refused_key(&outcome, None);
        }
        match outcome {
            Outcome::Valid(c) if c.org == p.org => {
                self.inner.validator.usage.mark(&c, self.now());
                let mut answer = IntrospectAnswer::active(
                    c.key_id.clone(),
                    c.org.clone(),
                    c.env,
                    c.agent.clone(),
                    c.scopes.clone(),
                    c.expires_at,
                );
                answer.aud = c.resources.iter().map(|r| r.as_str().to_owned()).collect();
                answer.allowed_networks = c.networks.to_strings();
                answer.metadata = c.metadata.as_ref().map(|m| m.as_map().clone());
                answer.limits = c.limits.views();
                if let Some(origin) = &c.oauth {
                    answer.client_id = Some(origin.client.as_str().to_owned());
                    answer.grant_id = Some(origin.grant.clone());
                }
                Ok(answer)
            }
            Outcome::Unavailable => Err(AuthorityError::Unavailable {
                cause: "key lookup failed".into(),
            }),
            _ => Ok(IntrospectAnswer::inactive()),
        }
    }

    /// Dashboard sign-in with an admin key: validates it (`admin:org`) and
    /// records a `sign_in` event. Sessions themselves are the server's.
    pub async fn sign_in(
        &self,
        raw_key: &str,
        client_ip: Option<String>,
    ) -> Result<KeyContext, AuthorityError> {
        let client = client_ip.as_deref().and_then(|ip| ip.parse().ok());
        let ctx = self
            .authorize_from(raw_key, &Scope::AdminOrg, client)
            .await?;
        self.session_event(&ctx, "sign_in", client_ip).await?;
        Ok((*ctx).clone())
    }

    pub async fn sign_out(
        &self,
        p: &KeyContext,
        client_ip: Option<String>,
    ) -> Result<(), AuthorityError> {
        self.session_event(p, "sign_out", client_ip).await
    }

    async fn session_event(
        &self,
        p: &KeyContext,
        action: &str,
        ip: Option<String>,
    ) -> Result<(), AuthorityError> {
        let mut body = self.admin_event(Some(p), &p.org, action, self.now());
        body.client_ip = ip.map(|s| s.chars().take(64).collect());
        Ok(self.append_admin_event(body).await?)
    }
}

/// The orgs whose trail is being verified right now.
pub(super) type VerifyingOrgs =
    std::sync::Arc<parking_lot::Mutex<std::collections::HashSet<OrgId>>>;

/// Marks an org as being verified for as long as it lives.
struct VerifyingOrg {
    orgs: VerifyingOrgs,
    org: OrgId,
}

impl VerifyingOrg {
    fn start(orgs: &VerifyingOrgs, org: &OrgId) -> Option<Self> {
        orgs.lock().insert(org.clone()).then(|| Self {
            orgs: orgs.clone(),
            org: org.clone(),
        })
    }
}

impl Drop for VerifyingOrg {
    fn drop(&mut self) {
        self.orgs.lock().remove(&self.org);
    }
}

#[cfg(test)]
mod tests {
    use super::default_bucket_ms;

    #[test]
    fn default_buckets_are_round_and_whole_hours_from_an_hour_up() {
        let (s, min, h) = (1000, 60_000, 3_600_000);
        assert_eq!(default_bucket_ms(60 * s), s, "a minute: 1 s buckets");
        assert_eq!(default_bucket_ms(h), 36 * s);
        assert_eq!(default_bucket_ms(24 * h), 15 * min, "864 s up to 15 min");
        assert_eq!(default_bucket_ms(7 * 24 * h), 2 * h, "1.68 h up to 2 h");
        assert_eq!(default_bucket_ms(30 * 24 * h), 8 * h, "7.2 h up to 8 h");
        assert_eq!(default_bucket_ms(100 * h), h, "exactly an hour stays");
        assert!(default_bucket_ms(i64::MAX) > 0, "no overflow");
    }
}
