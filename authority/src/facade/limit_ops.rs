//! Rate limits and budgets: people (or admin keys) set a key's own limits;
//! guards take allowances of calls from the limits' counters before they
//! let limited calls through (`guardrails::limits` says how that holds
//! across many guards and servers).

use model::wire::{AllowanceGrant, AllowanceRequest, LimitKind, LimitsRequest};

use super::Authority;
use crate::error::AuthorityError;
use crate::guardrails::limits::counter_name;
use crate::ids::{KeyId, OrgId};
use crate::keys::KeyStatus;
use crate::policy::rules::{self, keys_admin, keys_introspect, require};
use crate::policy::{KeyContext, KeyView};
use crate::revocation::KeyChange;
use crate::scopes::Scope;

/// How long a guard waits before asking again about a key that is not
/// active (it will be refused anyway; this only spares the store).
const INACTIVE_RETRY_MS: u64 = 1_000;

impl Authority {
    /// `PUT /keys/{id}/limits`: replaces the key's own limits (inherited
    /// ones stay: they are the minting key's). Needs `svc:keys:admin` and
    /// every scope the key holds (loosening a limit grants as much as a new
    /// key would), and a caller under no limits of its own (a limited key
    /// must not lift limits, its own or its siblings'). The key's counters
    /// carry on: lowering a budget below what was spent stops the key.
    pub async fn set_limits(
        &self,
        p: &KeyContext,
        key_id: &str,
        req: LimitsRequest,
    ) -> Result<KeyView, AuthorityError> {
        require(p, &keys_admin())?;
        let id = KeyId::parse(key_id).ok_or(AuthorityError::NotFound)?;
        let target = self.key_of_org(p, &id).await?;
        rules::check_may_revoke(p, &target.scopes)?;
        rules::check_env_reach(p, target.env, "change")?;
        if !p.limits.is_empty() {
            return Err(AuthorityError::forbidden(
                "this key is under limits itself, so it cannot change limits; ask a person or an unlimited admin key",
            ));
        }
        let owner = target.terms.limits.own_owner(&target.id);
        let own = rules::check_own_limits(&p.org, &owner, &target.scopes, &req.limits)?;
        let limits = target
            .terms
            .limits
            .with_own(own)
            .map_err(|e| AuthorityError::invalid("limits", e.to_string()))?;
        let now = self.now();
        if limits == target.terms.limits {
            return Ok(target.view(now));
        }
        let mut event = self.admin_event(Some(p), &p.org, "set_limits", now);
        event.subject = Some(id.to_string());
        event.subject_agent = target.agent.clone();
        let described: Vec<String> = req.limits.iter().map(|l| l.describe()).collect();
        event.reason = Some(if described.is_empty() {
            "no limits of its own".to_owned()
        } else {
            described.join("; ")
        });
        let (store, org, limits) = (&self.inner.store, &p.org, &limits);
        let changed = self
            .with_admin_event(event, move |ev| async move {
                let changed = store.set_limits(org, &id, limits, now, &ev).await?;
                let wrote = changed.is_some();
                Ok((changed, wrote))
            })
            .await?
            .ok_or(AuthorityError::NotFound)?;
        // Guards drop what they hold of the old limits' allowances.
        self.publish_change(&changed, KeyChange::Updated, now);
        Ok(changed.view(now))
    }

    /// `POST /keys/{id}/allowance`: a remote guard (`svc:keys:introspect`)
    /// asks for calls of one limit that key `id` of its org counts against.
    pub async fn allowance(
        &self,
        p: &KeyContext,
        key_id: &str,
        req: AllowanceRequest,
    ) -> Result<AllowanceGrant, AuthorityError> {
        require(p, &keys_introspect())?;
        let id = KeyId::parse(key_id).ok_or(AuthorityError::NotFound)?;
        self.take_allowance(&p.org, &id, &req.owner, req.kind, req.scope.as_deref())
            .await
    }

    /// Calls of `owner`'s limit of `kind` on `scope` that `key`'s calls
    /// count against, taken from the limit's counter as the key's record
    /// defines it now (a guard's cached copy may be older). A key that no
    /// longer carries the limit answers `unlimited`.
    pub async fn take_allowance(
        &self,
        org: &OrgId,
        key: &KeyId,
        owner: &KeyId,
        kind: LimitKind,
        scope: Option<&str>,
    ) -> Result<AllowanceGrant, AuthorityError> {
        let scope = scope
            .map(Scope::parse)
            .transpose()
            .map_err(|e| AuthorityError::invalid("scope", e.to_string()))?;
        let counter = counter_name(kind, scope.as_ref());
        let rec = self
            .inner
            .store
            .get_key(org, key)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        let now = self.now();
        if rec.status(now) != KeyStatus::Active {
            return Ok(AllowanceGrant {
                granted: 0,
                valid_for_ms: Some(INACTIVE_RETRY_MS),
                unlimited: false,
            });
        }
        let Some(limit) = rec.terms.limits.find(owner, &counter) else {
            return Ok(AllowanceGrant {
                granted: 0,
                valid_for_ms: None,
                unlimited: true,
            });
        };
        let window = limit.window(now);
        let granted = self
            .inner
            .store
            .take_allowance(org, owner, &counter, window.start, limit.cap())
            .await?;
        Ok(AllowanceGrant {
            granted,
            valid_for_ms: window.ends.map(|end| {
                u64::try_from(end.as_millis().saturating_sub(now.as_millis())).unwrap_or(0)
            }),
            unlimited: false,
        })
    }
}
