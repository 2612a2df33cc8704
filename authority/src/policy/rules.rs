//! The policy checks as pure functions of (principal, records, request, now),
//! so every rule is unit-testable without a store.

use super::{ExpiryChoice, KeyContext, MintRequest};
use crate::error::AuthorityError;
use crate::keys::resource::ResourceId;
use crate::keys::Env;
use crate::scopes::{Scope, ScopeCatalog, ScopeSet};
use crate::store::{KeyRecord, KeyStatus, OrgRecord};
use crate::time::Timestamp;

pub(crate) const DEFAULT_DAYS: u32 = 90;
pub(crate) const MAX_DAYS: u32 = 366;
pub(crate) const DEFAULT_GRACE_SECS: u64 = 3600;
pub(crate) const MAX_GRACE_SECS: u64 = 30 * 86_400;
const MAX_SCOPES: usize = 32;
const MAX_NAME: usize = 100;
const MAX_REASON: usize = 500;

pub(crate) fn require(p: &KeyContext, scope: &Scope) -> Result<(), AuthorityError> {
    if p.allows(scope) {
        Ok(())
    } else {
        Err(AuthorityError::Forbidden {
            message: format!("this key lacks the scope `{scope}`"),
            missing: Some(scope.clone()),
        })
    }
}

pub(crate) fn keys_read() -> Scope {
    Scope::service("keys", "read")
}
pub(crate) fn keys_write() -> Scope {
    Scope::service("keys", "write")
}
pub(crate) fn keys_admin() -> Scope {
    Scope::service("keys", "admin")
}
pub(crate) fn keys_introspect() -> Scope {
    Scope::service("keys", "introspect")
}
pub(crate) fn keys_quarantine() -> Scope {
    Scope::service("keys", "quarantine")
}
pub(crate) fn audit_read() -> Scope {
    Scope::service("audit", "read")
}
pub(crate) fn audit_write() -> Scope {
    Scope::service("audit", "write")
}

pub(crate) fn check_name(name: &str) -> Result<String, AuthorityError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME {
        return Err(AuthorityError::invalid(
            "name",
            format!("1-{MAX_NAME} printable characters"),
        ));
    }
    check_readable("name", n)?;
    // A name is shown to everyone in the org and written to the trail.
    if model::text::holds_credential(n) {
        return Err(AuthorityError::invalid(
            "name",
            "looks like a pasted acekeys credential; names are shown to everyone in the org, so name the key instead",
        ));
    }
    Ok(n.to_owned())
}

/// Text a person will read must show what it says: no control,
/// bidirectional or invisible characters (see `model::text`).
pub(crate) fn check_readable(field: &'static str, text: &str) -> Result<(), AuthorityError> {
    match model::text::first_deceptive(text) {
        None => Ok(()),
        Some(found) => Err(AuthorityError::invalid(
            field,
            format!(
                "contains {found}, a control, bidirectional or invisible character that would change how it reads; remove it"
            ),
        )),
    }
}

pub(crate) fn check_reason(reason: Option<String>) -> Result<Option<String>, AuthorityError> {
    match reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
    {
        Some(r) if r.chars().count() > MAX_REASON => Err(AuthorityError::invalid(
            "reason",
            format!("at most {MAX_REASON} printable characters"),
        )),
        Some(r) => check_readable("reason", &r).map(|()| Some(r)),
        None => Ok(None),
    }
}

/// A new key's limits: its own (checked, on scopes it holds), then every
/// limit of the key minting it, which the new key's calls spend as well (a
/// key under a budget cannot mint its way out of it).
pub(crate) fn plan_limits(
    p: &KeyContext,
    id: &crate::ids::KeyId,
    scopes: &ScopeSet,
    wire: &[model::wire::KeyLimit],
) -> Result<crate::guardrails::KeyLimits, AuthorityError> {
    let own = check_own_limits(&p.org, id, scopes, wire)?;
    crate::guardrails::KeyLimits::minted_by(own, &p.limits)
        .map_err(|e| AuthorityError::invalid("limits", e.to_string()))
}

/// A key's own limits, each on a scope the key holds (a limit on a tool
/// the key cannot call is a mistake, not a limit); `owner` names their
/// counters.
pub(crate) fn check_own_limits(
    org: &crate::ids::OrgId,
    owner: &crate::ids::KeyId,
    scopes: &ScopeSet,
    wire: &[model::wire::KeyLimit],
) -> Result<Vec<crate::guardrails::ChargedLimit>, AuthorityError> {
    let own = crate::guardrails::KeyLimits::own(owner, wire)
        .map_err(|e| AuthorityError::invalid("limits", e.to_string()))?;
    for c in &own {
        if let Some(scope) = c.limit.scope() {
            if !scopes.allows(org.as_str(), scope) {
                return Err(AuthorityError::invalid(
                    "limits",
                    format!("the key does not hold `{scope}`, so a limit on it would count nothing; limit a scope the key holds, or omit `scope` to count every call"),
                ));
            }
        }
    }
    Ok(own)
}

/// What a mint request resolves to once every rule passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MintPlan {
    /// The new key's id, chosen here: its own limits' counters are named
    /// after it.
    pub id: crate::ids::KeyId,
    pub name: String,
    pub scopes: ScopeSet,
    pub agent: Option<String>,
    pub env: Env,
    pub expires_at: Option<Timestamp>,
    pub resources: Vec<ResourceId>,
    pub terms: crate::guardrails::KeyTerms,
}

/// The most tool servers one key may be limited to.
pub const MAX_KEY_RESOURCES: usize = 10;

/// The tool servers a new key is limited to: valid resource URLs, at most
/// [`MAX_KEY_RESOURCES`], duplicates dropped. A minter that is itself
/// limited passes on no more than its own (a limited key minting an
/// unlimited one would be an escalation).
pub(crate) fn plan_resources(
    p: &KeyContext,
    requested: &[String],
) -> Result<Vec<ResourceId>, AuthorityError> {
    let mut resources: Vec<ResourceId> = Vec::new();
    for text in requested {
        let resource = ResourceId::parse(text)
            .map_err(|e| AuthorityError::invalid("resources", e.to_string()))?;
        if !resources.contains(&resource) {
            resources.push(resource);
        }
    }
    if resources.len() > MAX_KEY_RESOURCES {
        return Err(AuthorityError::invalid(
            "resources",
            format!("at most {MAX_KEY_RESOURCES} tool servers per key"),
        ));
    }
    if !p.resources.is_empty()
        && (resources.is_empty() || resources.iter().any(|r| !p.resources.contains(r)))
    {
        return Err(AuthorityError::forbidden(
            "this key is limited to some tool servers and can only mint keys limited to those",
        ));
    }
    Ok(resources)
}

/// Parses scopes (short forms, catalog) and applies the structural rules.
pub(crate) fn parse_scopes(
    p: &KeyContext,
    input: &[String],
    catalog: &ScopeCatalog,
) -> Result<ScopeSet, AuthorityError> {
    if input.is_empty() || input.len() > MAX_SCOPES {
        return Err(AuthorityError::invalid(
            "scopes",
            format!("1-{MAX_SCOPES} scopes"),
        ));
    }
    let set: ScopeSet = input
        .iter()
        .map(|s| catalog.check(s))
        .collect::<Result<_, _>>()?;
    for s in set.iter() {
        if let Scope::Org(o) = s {
            if o != p.org.as_str() {
                return Err(AuthorityError::invalid(
                    "scopes",
                    "`org:` must name the key's own org",
                ));
            }
        }
    }
    if set.iter().filter(|s| matches!(s, Scope::Agent(_))).count() > 1 {
        return Err(AuthorityError::invalid(
            "scopes",
            "at most one `agent:` scope",
        ));
    }
    Ok(set)
}

/// No escalation: `wanted` ⊆ the principal's effective scopes, and an
/// agent-bound principal keeps its binding.
/// Revoking is as sensitive as granting: a key may only revoke keys whose
/// scopes it holds itself (so `svc:keys:write` cannot kill an `admin:org`
/// key), and an agent-bound key only keys bound to the same agent.
pub(crate) fn check_may_revoke(p: &KeyContext, target: &ScopeSet) -> Result<(), AuthorityError> {
    let missing = p.scopes.missing(p.org.as_str(), target);
    if let Some(first) = missing.first() {
        let all: Vec<String> = missing.iter().map(|s| format!("`{s}`")).collect();
        return Err(AuthorityError::Forbidden {
            message: format!(
                "cannot revoke a key holding scopes the calling key does not hold: {}",
                all.join(", ")
            ),
            missing: Some((*first).clone()),
        });
    }
    if let Some(a) = &p.agent {
        if target.agent() != Some(a.as_str()) {
            return Err(AuthorityError::forbidden(format!(
                "a key bound to `agent:{a}` can only revoke keys bound to the same agent"
            )));
        }
    }
    Ok(())
}

pub(crate) fn check_subset(p: &KeyContext, wanted: &ScopeSet) -> Result<(), AuthorityError> {
    let missing = p.scopes.missing(p.org.as_str(), wanted);
    if let Some(first) = missing.first() {
        let all: Vec<String> = missing.iter().map(|s| format!("`{s}`")).collect();
        return Err(AuthorityError::Forbidden {
            message: format!(
                "cannot grant scopes the calling key does not hold: {}",
                all.join(", ")
            ),
            missing: Some((*first).clone()),
        });
    }
    if let Some(a) = &p.agent {
        if wanted.agent() != Some(a.as_str()) {
            return Err(AuthorityError::forbidden(format!(
                "a key bound to `agent:{a}` can only create keys bound to the same agent"
            )));
        }
    }
    Ok(())
}

fn check_not_after_principal(p: &KeyContext, exp: Option<Timestamp>) -> Result<(), AuthorityError> {
    match (p.expires_at, exp) {
        (Some(pe), None) => Err(AuthorityError::forbidden(format!(
            "a key that expires cannot create a key that never expires (latest allowed expiry: {pe})"
        ))),
        (Some(pe), Some(e)) if e > pe => Err(AuthorityError::forbidden(format!(
            "expiry must not be later than the moment the calling key stops working ({pe}: its expiry, or the end of its rotation grace period)"
        ))),
        _ => Ok(()),
    }
}

pub(crate) fn resolve_expiry(
    p: &KeyContext,
    org: &OrgRecord,
    choice: ExpiryChoice,
    now: Timestamp,
) -> Result<Option<Timestamp>, AuthorityError> {
    let exp = match choice {
        ExpiryChoice::Default => Some(now.plus_days(i64::from(DEFAULT_DAYS))),
        ExpiryChoice::Days(d) if (1..=MAX_DAYS).contains(&d) => Some(now.plus_days(i64::from(d))),
        ExpiryChoice::Days(_) => {
            return Err(AuthorityError::invalid(
                "expires_days",
                format!("must be 1-{MAX_DAYS}"),
            ));
        }
        ExpiryChoice::Never if !org.allow_never_expiry => {
            return Err(AuthorityError::invalid(
                "expires_days",
                "this org does not allow keys without expiry",
            ));
        }
        ExpiryChoice::Never => None,
    };
    check_not_after_principal(p, exp)?;
    Ok(exp)
}

pub(crate) fn plan_mint(
    p: &KeyContext,
    org: &OrgRecord,
    req: &MintRequest,
    catalog: &ScopeCatalog,
    now: Timestamp,
) -> Result<MintPlan, AuthorityError> {
    if req.org_id.as_deref().is_some_and(|o| o != p.org.as_str()) {
        return Err(AuthorityError::forbidden(
            "keys can only be minted in the calling key's own org",
        ));
    }
    require(p, &keys_write())?;
    let name = check_name(&req.name)?;
    let scopes = parse_scopes(p, &req.scopes, catalog)?;
    check_subset(p, &scopes)?;
    let expires_at = resolve_expiry(p, org, req.expires_days, now)?;
    let env = req.env.unwrap_or(p.env);
    check_env_reach(p, env, "create")?;
    let resources = plan_resources(p, &req.resources)?;
    let id = crate::ids::KeyId::generate();
    let mut terms = plan_terms(p, &req.terms, expires_at, now)?;
    terms.limits = plan_limits(p, &id, &scopes, &req.terms.limits)?;
    Ok(MintPlan {
        id,
        name,
        agent: scopes.agent().map(str::to_owned),
        scopes,
        env,
        expires_at,
        resources,
        terms,
    })
}

/// A `test` key is a sandbox credential: it may create, rotate and revoke
/// only `test` keys, even on a server whose store also holds `live` ones.
/// A `live` key reaches both.
pub(crate) fn check_env_reach(
    p: &KeyContext,
    target: Env,
    verb: &str,
) -> Result<(), AuthorityError> {
    if p.env == Env::Test && target == Env::Live {
        return Err(AuthorityError::forbidden(format!(
            "a test key cannot {verb} live keys; use a live key"
        )));
    }
    Ok(())
}

/// Rotation: the successor's expiry and when the old key stops working.
pub(crate) fn plan_rotation(
    p: &KeyContext,
    org: &OrgRecord,
    old: &KeyRecord,
    grace_secs: Option<u64>,
    now: Timestamp,
) -> Result<(Option<Timestamp>, Timestamp), AuthorityError> {
    require(p, &keys_write())?;
    if old.status(now) != KeyStatus::Active {
        return Err(AuthorityError::Conflict(
            "only active keys can be rotated".into(),
        ));
    }
    if old.rotated_to.is_some() {
        return Err(AuthorityError::Conflict("key was already rotated".into()));
    }
    if old.oauth.is_some() {
        return Err(AuthorityError::Conflict(
            "an OAuth access token is not rotated: its client refreshes it; revoke its grant to end it"
                .into(),
        ));
    }
    check_env_reach(p, old.env, "rotate")?;
    check_subset(p, &old.scopes)?;
    let grace = grace_secs.unwrap_or(DEFAULT_GRACE_SECS);
    if grace > MAX_GRACE_SECS {
        return Err(AuthorityError::invalid(
            "grace_secs",
            format!("at most {MAX_GRACE_SECS}"),
        ));
    }
    let expiry = match old.expires_at {
        Some(e) => {
            let lifetime = e
                .as_millis()
                .saturating_sub(old.created_at.as_millis())
                .max(0);
            let mut exp = Timestamp::from_millis(now.as_millis().saturating_add(lifetime));
            if let Some(pe) = p.expires_at {
                exp = exp.min(pe);
            }
            Some(exp)
        }
        None if p.expires_at.is_none() && org.allow_never_expiry => None,
        None => Some(
            p.expires_at
                .unwrap_or(now.plus_days(i64::from(DEFAULT_DAYS))),
        ),
    };
    check_not_after_principal(p, expiry)?;
    let grace_secs = i64::try_from(grace).unwrap_or(i64::MAX);
    Ok((expiry, now.plus_secs(grace_secs)))
}

/// The parent a key minted by `minter` records: the minting key when it is
/// an agent's key (bound to `agent:<name>`). Keys minted by people in the
/// dashboard, by admin or automation keys without an agent, and bootstrap
/// keys have none: revoking an admin's key must not take the org down.
pub(crate) fn parent_for(minter: &KeyContext) -> Option<crate::ids::KeyId> {
    (minter.agent.is_some() && minter.person.is_none() && minter.oauth.is_none())
        .then(|| minter.key_id.clone())
}

/// Plans the terms of a key `p` mints that expires at `expires_at`:
/// - a `not_before` at or before `now` is no restriction (dropped); one at
///   or after the expiry would make a key that never works (refused);
/// - networks parse as [`AddressRanges`]; a minter limited to networks
///   mints only keys limited to ranges inside its own (an unlimited child
///   would carry the parent's key out of its network);
/// - metadata is a capped object without credentials ([`KeyMetadata`]).
pub(crate) fn plan_terms(
    p: &KeyContext,
    req: &model::wire::KeyTermsRequest,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<crate::guardrails::KeyTerms, AuthorityError> {
    let not_before = req.not_before.filter(|nb| *nb > now);
    if let (Some(nb), Some(exp)) = (not_before, expires_at) {
        if nb >= exp {
            return Err(AuthorityError::invalid(
                "not_before",
                format!("{nb} is not before the key's expiry ({exp}); choose an earlier start or a longer expiry"),
            ));
        }
    }
    let networks = crate::guardrails::AddressRanges::parse(
        req.allowed_networks.iter().map(String::as_str),
        crate::guardrails::terms::MAX_KEY_NETWORKS,
    )
    .map_err(|e| AuthorityError::invalid("allowed_networks", e.to_string()))?;
    if !p.networks.is_empty() && (networks.is_empty() || !networks.within(&p.networks)) {
        return Err(AuthorityError::forbidden(format!(
            "this key may only be used from {}; it can only mint keys limited to ranges inside those",
            p.networks
        )));
    }
    let metadata = match &req.metadata {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => crate::guardrails::KeyMetadata::parse(value.clone())
            .map_err(|e| AuthorityError::invalid("metadata", e.to_string()))?,
    };
    Ok(crate::guardrails::KeyTerms {
        not_before,
        networks,
        metadata,
        // Planned with the key's id and scopes (`plan_limits`).
        limits: Default::default(),
    })
}
