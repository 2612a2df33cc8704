//! Quarantine and release: a hold on a key (and its descendants) that a
//! person or a guard puts on and only a person with `svc:keys:admin` lifts.

use super::Authority;
use crate::error::AuthorityError;
use crate::ids::KeyId;
use crate::policy::rules::{self, keys_admin, keys_quarantine, require};
use crate::policy::{KeyContext, KeyView};
use crate::revocation::KeyChange;
use crate::scopes::Scope;
use crate::store::KeyRecord;
use model::wire::{QuarantineBody, QuarantineRule, QuarantineView};

impl Authority {
    /// `POST /keys/{id}/quarantine`: holds the key and its active
    /// descendants until a person releases them. Needs
    /// `svc:keys:quarantine` (what a guard holds; `svc:keys:admin` implies
    /// it). Unlike revoking, holding a key does not need the key's scopes
    /// (a guard must be able to stop any looping agent of its org), with
    /// one exception: a key holding `admin:org` is held only by an
    /// `admin:org` caller, so a leaked guard key cannot lock an org's
    /// admins out. Holding a held key changes nothing.
    pub async fn quarantine(
        &self,
        p: &KeyContext,
        key_id: &str,
        body: QuarantineBody,
    ) -> Result<KeyView, AuthorityError> {
        require(p, &keys_quarantine())?;
        let id = KeyId::parse(key_id).ok_or(AuthorityError::NotFound)?;
        let target = self.key_of_org(p, &id).await?;
        if target.scopes.contains(&Scope::AdminOrg) {
            require(p, &Scope::AdminOrg)?;
        }
        rules::check_env_reach(p, target.env, "quarantine")?;
        let rule = body.rule.unwrap_or_default();
        if rule == QuarantineRule::Parent {
            return Err(AuthorityError::invalid(
                "rule",
                "`parent` is set by the authority on a held key's descendants; name the rule that tripped, or omit it",
            ));
        }
        let evidence = rules::check_reason(body.reason)?.unwrap_or_default();
        self.hold(&target, rule, evidence, p.key_id.to_string(), Some(p))
            .await
    }

    /// For an in-process guard whose rule tripped on a key of `org` (a
    /// remote guard calls [`quarantine`](Self::quarantine) with its
    /// service key). `server` names the guard in the hold and the trail.
    pub async fn quarantine_reported(
        &self,
        org: &crate::ids::OrgId,
        key: &KeyId,
        rule: QuarantineRule,
        evidence: &str,
        server: Option<&str>,
    ) -> Result<KeyView, AuthorityError> {
        let target = self
            .inner
            .store
            .get_key(org, key)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        let evidence = rules::check_reason(Some(evidence.to_owned()))?.unwrap_or_default();
        let by = format!("guard {}", server.unwrap_or("(in-process)"));
        self.hold(&target, rule, evidence, by, None).await
    }

    async fn hold(
        &self,
        target: &KeyRecord,
        rule: QuarantineRule,
        evidence: String,
        by: String,
        actor: Option<&KeyContext>,
    ) -> Result<KeyView, AuthorityError> {
        let now = self.now();
        let mut event = self.admin_event(actor, &target.org, "quarantine", now);
        event.subject = Some(target.id.to_string());
        event.subject_agent = target.agent.clone();
        event.reason = Some(match (evidence.is_empty(), actor) {
            (true, _) => rule.as_str().to_owned(),
            (false, Some(_)) => format!("{}: {evidence}", rule.as_str()),
            (false, None) => format!("{}: {evidence} (reported by {by})", rule.as_str()),
        });
        let hold = QuarantineView {
            at: now,
            rule,
            evidence,
            by,
            source: None,
        };
        self.apply_hold(target, Some(&hold), KeyChange::Quarantined, event)
            .await
    }

    /// `POST /keys/{id}/release`: lifts a hold, and the holds it put on the
    /// key's descendants. Needs `svc:keys:admin` and every scope the key
    /// holds (letting a key work again is as sensitive as granting it). A
    /// key held because of its parent is released with the parent.
    pub async fn release(
        &self,
        p: &KeyContext,
        key_id: &str,
        reason: Option<String>,
    ) -> Result<KeyView, AuthorityError> {
        require(p, &keys_admin())?;
        let id = KeyId::parse(key_id).ok_or(AuthorityError::NotFound)?;
        let target = self.key_of_org(p, &id).await?;
        rules::check_may_revoke(p, &target.scopes)?;
        rules::check_env_reach(p, target.env, "release")?;
        match &target.quarantine {
            None => return Ok(target.view(self.now())),
            Some(QuarantineView {
                source: Some(parent),
                ..
            }) => {
                return Err(AuthorityError::Conflict(format!(
                    "this key is held because its parent {parent} is; release {parent} instead"
                )))
            }
            Some(_) => {}
        }
        let reason = rules::check_reason(reason)?;
        let now = self.now();
        let mut event = self.admin_event(Some(p), &p.org, "release", now);
        event.subject = Some(id.to_string());
        event.subject_agent = target.agent.clone();
        event.reason = reason;
        self.apply_hold(&target, None, KeyChange::Released, event)
            .await
    }

    pub(super) async fn key_of_org(
        &self,
        p: &KeyContext,
        id: &KeyId,
    ) -> Result<KeyRecord, AuthorityError> {
        self.inner
            .store
            .get_key(&p.org, id)
            .await?
            .ok_or(AuthorityError::NotFound)
    }

    /// Stores a hold or release with its event and tells every cache.
    pub(super) async fn apply_hold(
        &self,
        target: &KeyRecord,
        hold: Option<&QuarantineView>,
        change: KeyChange,
        event: crate::audit::NewEvent,
    ) -> Result<KeyView, AuthorityError> {
        let now = self.now();
        let (store, org, id) = (&self.inner.store, &target.org, &target.id);
        let changed = self
            .with_admin_event(event, move |ev| async move {
                let changed = store.set_quarantine(org, id, hold, now, &ev).await?;
                let wrote = changed.as_ref().is_some_and(|c| !c.is_empty());
                Ok((changed, wrote))
            })
            .await?
            .ok_or(AuthorityError::NotFound)?;
        for k in &changed {
            self.publish_change(k, change, now);
        }
        let now_view = changed
            .iter()
            .find(|k| k.id == target.id)
            .map_or_else(|| target.view(now), |k| k.view(now));
        Ok(now_view)
    }
}
