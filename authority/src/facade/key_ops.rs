//! Mint, revoke, rotate, bulk revoke, list and get.

use super::Authority;
use crate::audit::NewEvent;
use crate::error::AuthorityError;
use crate::ids::KeyId;
use crate::keys::{self, Env, Generated, RawKey};
use crate::policy::rules::{self, keys_admin, keys_read, keys_write, require};
use crate::policy::{
    BulkRevokeRequest, BulkRevokeResult, BulkRevokeTarget, KeyContext, KeyListFilter, KeyView,
    MintRequest, MintedKey, RotateRequest, RotatedKey,
};
use crate::scopes::Scope;
use crate::store::{BulkSelection, KeyRecord, Revocation, RevokeResult};
use crate::time::Timestamp;

fn expiry_text(e: Option<Timestamp>) -> String {
    e.map_or_else(|| "never".to_owned(), |t| t.to_string())
}

/// The mint event's reason: everything the key was given, never its secret.
fn mint_summary(rec: &KeyRecord) -> String {
    let mut text = format!(
        "env {}; scopes {}; expires {}",
        rec.env,
        rec.scopes.to_storage(),
        expiry_text(rec.expires_at)
    );
    if !rec.resources.is_empty() {
        text += &format!(
            "; tool servers {}",
            crate::keys::resource::to_storage(&rec.resources)
        );
    }
    if let Some(nb) = rec.terms.not_before {
        text += &format!("; not before {nb}");
    }
    if !rec.terms.networks.is_empty() {
        text += &format!("; networks {}", rec.terms.networks);
    }
    if let Some(m) = &rec.terms.metadata {
        let fields: Vec<&str> = m.as_map().keys().map(String::as_str).collect();
        text += &format!("; metadata {}", fields.join(", "));
    }
    for c in rec.terms.limits.iter().filter(|c| !c.inherited) {
        text += &format!("; limit {}", c.limit.to_wire().describe());
    }
    if let Some(parent) = &rec.parent {
        text += &format!("; derived from {parent}");
    }
    text
}

impl Authority {
    /// `POST /keys/mint`.
    pub async fn mint(
        &self,
        p: &KeyContext,
        req: MintRequest,
    ) -> Result<MintedKey, AuthorityError> {
        let now = self.now();
        let org = self
            .inner
            .store
            .get_org(&p.org)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        let plan = |authority: &Self| {
            let catalog = authority.catalog_view(&p.org);
            rules::plan_mint(p, &org, &req, &catalog, now)
        };
        let plan = match plan(self) {
            // Another server sharing the store may have registered it.
            Err(AuthorityError::InvalidScope(crate::scopes::ScopeError::Unknown { .. })) => {
                self.refresh_catalog(&p.org).await?;
                plan(self)?
            }
            other => other?,
        };
        let Generated { raw, hint } = keys::generate(plan.env);
        let hash = self.inner.validator.pepper().hash(raw.expose_secret());
        let rec = KeyRecord {
            id: plan.id,
            org: p.org.clone(),
            name: plan.name,
            env: plan.env,
            agent: plan.agent,
            scopes: plan.scopes,
            hash,
            hint,
            created_by: Some(p.key_id.clone()),
            created_at: now,
            expires_at: plan.expires_at,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            last_used_at: None,
            rotated_from: None,
            rotated_to: None,
            resources: plan.resources,
            oauth: None,
            terms: plan.terms,
            parent: rules::parent_for(p),
            quarantine: None,
        };
        let mut body = self.admin_event(Some(p), &p.org, "mint", now);
        body.subject = Some(rec.id.to_string());
        body.subject_agent = rec.agent.clone();
        body.reason = Some(mint_summary(&rec));
        self.insert_minted(raw, rec, body, now).await
    }

    /// Stores a new key with its admin event (one transaction) and hands
    /// back the one response that carries the raw key.
    pub(super) async fn insert_minted(
        &self,
        raw: RawKey,
        rec: KeyRecord,
        event: NewEvent,
        now: Timestamp,
    ) -> Result<MintedKey, AuthorityError> {
        let (store, r) = (&self.inner.store, &rec);
        self.with_admin_event(event, move |ev| async move {
            store.insert_key(r, &ev).await.map(|()| ((), true))
        })
        .await?;
        // A lookup of this key may have been cached as unknown a moment ago.
        self.inner.validator.forget_negative(&rec.hash);
        Ok(MintedKey {
            key: raw,
            view: rec.view(now),
        })
    }

    /// `POST /keys/{id}/revoke`. Idempotent.
    pub async fn revoke(
        &self,
        p: &KeyContext,
        key_id: &str,
        reason: Option<String>,
    ) -> Result<KeyView, AuthorityError> {
        require(p, &keys_write())?;
        let id = KeyId::parse(key_id).ok_or(AuthorityError::NotFound)?;
        let target = self
            .inner
            .store
            .get_key(&p.org, &id)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        rules::check_may_revoke(p, &target.scopes)?;
        rules::check_env_reach(p, target.env, "revoke")?;
        let reason = rules::check_reason(reason)?;
        let now = self.now();
        let rev = Revocation {
            at: now,
            by: p.key_id.to_string(),
            reason: reason.clone(),
        };
        let mut body = self.admin_event(Some(p), &p.org, "revoke", now);
        body.subject = Some(id.to_string());
        body.subject_agent = target.agent.clone();
        body.reason = reason;
        match self.revoke_tree(&p.org, &id, &rev, body).await? {
            RevokeResult::Revoked { key, .. } | RevokeResult::AlreadyRevoked { key, .. } => {
                Ok(key.view(now))
            }
            RevokeResult::NotFound => Err(AuthorityError::NotFound),
        }
    }

    /// Revokes a key of `org` and its descendants in one store operation
    /// with `event` (written only if something changed), and tells every
    /// cache about each key it revoked.
    pub(super) async fn revoke_tree(
        &self,
        org: &crate::ids::OrgId,
        id: &KeyId,
        rev: &Revocation,
        event: NewEvent,
    ) -> Result<RevokeResult, AuthorityError> {
        let store = &self.inner.store;
        let result = self
            .with_admin_event(event, move |ev| async move {
                let r = store.revoke_key(org, id, rev, &ev).await?;
                let wrote = match &r {
                    RevokeResult::Revoked { .. } => true,
                    RevokeResult::AlreadyRevoked { descendants, .. } => !descendants.is_empty(),
                    RevokeResult::NotFound => false,
                };
                Ok((r, wrote))
            })
            .await?;
        match &result {
            RevokeResult::Revoked { key, descendants } => {
                self.publish_revocation(key);
                descendants.iter().for_each(|d| self.publish_revocation(d));
            }
            RevokeResult::AlreadyRevoked { descendants, .. } => {
                descendants.iter().for_each(|d| self.publish_revocation(d));
            }
            RevokeResult::NotFound => {}
        }
        Ok(result)
    }

    /// `POST /keys/{id}/rotate`.
    pub async fn rotate(
        &self,
        p: &KeyContext,
        key_id: &str,
        req: RotateRequest,
    ) -> Result<RotatedKey, AuthorityError> {
        require(p, &keys_write())?;
        let id = KeyId::parse(key_id).ok_or(AuthorityError::NotFound)?;
        let now = self.now();
        let old = self
            .inner
            .store
            .get_key(&p.org, &id)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        let org = self
            .inner
            .store
            .get_org(&p.org)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        let (expires_at, revoke_at) = rules::plan_rotation(p, &org, &old, req.grace_secs, now)?;
        let Generated { raw, hint } = keys::generate(old.env);
        let succ = KeyRecord {
            id: KeyId::generate(),
            org: old.org.clone(),
            name: old.name.clone(),
            env: old.env,
            agent: old.agent.clone(),
            scopes: old.scopes.clone(),
            hash: self.inner.validator.pepper().hash(raw.expose_secret()),
            hint,
            created_by: Some(p.key_id.clone()),
            created_at: now,
            expires_at,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            last_used_at: None,
            rotated_from: Some(old.id.clone()),
            rotated_to: None,
            resources: old.resources.clone(),
            oauth: None,
            // The successor is the same key under a new secret: same terms,
            // same place in its lineage.
            terms: old.terms.clone(),
            parent: old.parent.clone(),
            quarantine: None,
        };
        let rev = Revocation {
            at: revoke_at,
            by: p.key_id.to_string(),
            reason: Some("rotated".into()),
        };
        let mut body = self.admin_event(Some(p), &p.org, "rotate", now);
        // Both keys: the rotation is part of the successor's life too.
        body.subject = Some(format!("{} {}", old.id, succ.id));
        body.subject_agent = old.agent.clone();
        body.reason = Some(format!(
            "successor {}; old key stops at {revoke_at}",
            succ.id
        ));
        let (store, org_id, idr, sr, revr) = (&self.inner.store, &p.org, &id, &succ, &rev);
        let old_now = self
            .with_admin_event(body, move |ev| async move {
                store
                    .rotate_key(org_id, idr, sr, revr, &ev)
                    .await
                    .map(|k| (k, true))
            })
            .await?;
        self.publish_revocation(&old_now);
        self.inner.validator.forget_negative(&succ.hash);
        Ok(RotatedKey {
            successor: MintedKey {
                key: raw,
                view: succ.view(now),
            },
            previous: old_now.view(now),
        })
    }

    /// `POST /keys/revoke`: every key of one agent, or of the whole org.
    pub async fn bulk_revoke(
        &self,
        p: &KeyContext,
        req: BulkRevokeRequest,
    ) -> Result<BulkRevokeResult, AuthorityError> {
        require(p, &keys_admin())?;
        // The incident switch for a whole org is the org admin's; an
        // agent-bound key may only switch off its own agent.
        let agent = match (&p.agent, &req.target) {
            (Some(own), BulkRevokeTarget::Agent(target)) if own != target => {
                return Err(AuthorityError::forbidden(format!(
                    "a key bound to `agent:{own}` can only revoke keys of that agent"
                )))
            }
            (Some(own), BulkRevokeTarget::WholeOrg) => {
                return Err(AuthorityError::forbidden(format!(
                    "a key bound to `agent:{own}` cannot revoke every key of the org"
                )))
            }
            (None, BulkRevokeTarget::WholeOrg) => {
                require(p, &Scope::AdminOrg)?;
                None
            }
            (_, BulkRevokeTarget::Agent(agent)) => Some(agent.clone()),
        };
        if let Some(a) = &agent {
            if !matches!(Scope::parse(&format!("agent:{a}")), Ok(Scope::Agent(_))) {
                return Err(AuthorityError::invalid(
                    "agent",
                    "agent names are lowercase [a-z0-9_-]+",
                ));
            }
        }
        let reason = rules::check_reason(req.reason)?;
        let now = self.now();
        let rev = Revocation {
            at: now,
            by: p.key_id.to_string(),
            reason: reason.clone(),
        };
        let mut body = self.admin_event(Some(p), &p.org, "bulk_revoke", now);
        body.subject = Some(
            agent
                .as_ref()
                .map_or_else(|| format!("org:{}", p.org), |a| format!("agent:{a}")),
        );
        body.subject_agent = agent.clone();
        body.reason = reason;
        let selection = BulkSelection {
            agent,
            except: (!req.include_caller).then(|| p.key_id.clone()),
            within: Some(p.scopes.clone()),
            env: (p.env == Env::Test).then_some(Env::Test),
        };
        let (store, org, sel, revr) = (&self.inner.store, &p.org, &selection, &rev);
        let revoked = self
            .with_admin_event(body, move |ev| async move {
                let v = store.bulk_revoke(org, sel, revr, &ev).await?;
                let wrote = !v.is_empty();
                Ok((v, wrote))
            })
            .await?;
        for k in &revoked {
            self.publish_revocation(k);
        }
        // The switch covers OAuth grants too: their access tokens are keys
        // (revoked above), and their refresh tokens must not mint new ones.
        self.end_grants_of(p, selection.agent.as_deref(), &rev)
            .await?;
        // Reported, not decided, here: the store applied the ceiling.
        let spared = self
            .inner
            .store
            .list_keys(&p.org)
            .await?
            .into_iter()
            .filter(|k| {
                let beyond = BulkSelection {
                    within: None,
                    env: None,
                    ..selection.clone()
                };
                crate::store::bulk_revoke_hits(k, &beyond, &rev)
                    && !crate::store::bulk_revoke_hits(k, &selection, &rev)
            })
            .map(|k| k.id)
            .collect();
        Ok(BulkRevokeResult {
            revoked: revoked.len() as u64,
            key_ids: revoked.into_iter().map(|k| k.id).collect(),
            spared,
        })
    }

    /// `GET /keys`: the org's keys, not its OAuth access tokens.
    pub async fn list_keys(
        &self,
        p: &KeyContext,
        filter: KeyListFilter,
    ) -> Result<Vec<KeyView>, AuthorityError> {
        require(p, &keys_read())?;
        let now = self.now();
        let keys = self.inner.store.list_keys(&p.org).await?;
        Ok(keys
            .iter()
            // OAuth access tokens (one per refresh) are listed by their
            // grant under Apps, not among the keys; each is still reachable
            // by its id, where the trail links to it.
            .filter(|k| k.org == p.org && k.oauth.is_none())
            .map(|k| k.view(now))
            .filter(|v| filter.status.is_none_or(|s| v.status == s))
            .filter(|v| filter.env.is_none_or(|e| v.env == e))
            .filter(|v| {
                filter
                    .agent
                    .as_ref()
                    .is_none_or(|a| v.agent.as_ref() == Some(a))
            })
            .collect())
    }

    /// `GET /keys/{id}`. Another org's key is `NotFound`.
    pub async fn get_key(&self, p: &KeyContext, key_id: &str) -> Result<KeyView, AuthorityError> {
        require(p, &keys_read())?;
        let id = KeyId::parse(key_id).ok_or(AuthorityError::NotFound)?;
        let k = self
            .inner
            .store
            .get_key(&p.org, &id)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        if k.org != p.org {
            return Err(AuthorityError::NotFound);
        }
        Ok(k.view(self.now()))
    }
}
