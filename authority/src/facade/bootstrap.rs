//! Bootstrap: the first org and its first admin key.
//!
//! Idempotency rules:
//! - `bootstrap` creates the org and one admin key (`admin:org` +
//!   `org:<org>`) atomically, with a `bootstrap` audit event. On an org that
//!   already exists it refuses with `Conflict` and changes nothing, so a
//!   retried or concurrent bootstrap can never mint a second, unnoticed admin
//!   key.
//! - [`Authority::ensure_default_org`] is the first-start hook: on an empty
//!   store it bootstraps org `default` and returns the raw key (print it
//!   once); otherwise, or if another process won the race, it returns `None`.
//! - [`Authority::recover_admin`] is the explicit operator path to a fresh
//!   admin key on an existing org (e.g. after an incident revoked every key);
//!   it is audited as `recover_admin`. Neither is reachable by an API key.
//! - The bootstrap key never expires by default (an expiring root key would
//!   lock the org out and cap every key it mints); pass `expires_days` to
//!   bound it.

use serde::Deserialize;

use super::Authority;
use crate::error::AuthorityError;
use crate::ids::{KeyId, OrgId};
use crate::keys::{self, Env, Generated};
use crate::policy::rules::MAX_DAYS;
use crate::policy::MintedKey;
use crate::scopes::{Scope, ScopeSet};
use crate::store::{KeyRecord, OrgRecord, StoreError};
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BootstrapRequest {
    pub org_id: String,
    #[serde(default)]
    pub org_name: Option<String>,
    /// Whether the org allows keys without expiry (default true).
    #[serde(default = "yes")]
    pub allow_never_expiry: bool,
    /// Lifetime of the admin key; `None` = never expires.
    #[serde(default)]
    pub expires_days: Option<u32>,
    /// Default: the server's env.
    #[serde(default)]
    pub env: Option<Env>,
}

fn yes() -> bool {
    true
}

impl BootstrapRequest {
    pub fn new(org_id: &str) -> Self {
        Self {
            org_id: org_id.into(),
            org_name: None,
            allow_never_expiry: true,
            expires_days: None,
            env: None,
        }
    }
}

impl Authority {
    /// True when the store holds no org yet.
    pub async fn is_empty(&self) -> Result<bool, AuthorityError> {
        Ok(self.inner.store.is_empty().await?)
    }

    /// Creates an org and its first admin key; `Conflict` if the org exists.
    pub async fn bootstrap(&self, req: BootstrapRequest) -> Result<MintedKey, AuthorityError> {
        let org_id = OrgId::parse(&req.org_id)
            .map_err(|e| AuthorityError::invalid("org_id", e.to_string()))?;
        let now = self.now();
        let expires_at = self.admin_expiry(req.expires_days, req.allow_never_expiry, now)?;
        let org = OrgRecord {
            id: org_id.clone(),
            name: req.org_name.unwrap_or_else(|| req.org_id.clone()),
            created_at: now,
            allow_never_expiry: req.allow_never_expiry,
        };
        let (raw, rec) = self.admin_key(&org_id, req.env.unwrap_or(self.env()), expires_at, now);
        let mut body = self.admin_event(None, &org_id, "bootstrap", now);
        body.subject = Some(rec.id.to_string());
        body.reason = Some(format!(
            "first admin key; expires {}",
            rec.expires_at.map_or("never".into(), |t| t.to_string())
        ));
        let (store, o, r) = (&self.inner.store, &org, &rec);
        self.with_admin_event(body, move |ev| async move {
            store.create_org(o, r, &ev).await.map(|()| ((), true))
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                AuthorityError::Conflict(format!("org `{org_id}` already exists"))
            }
            other => other.into(),
        })?;
        self.inner.validator.forget_negative(&rec.hash);
        Ok(MintedKey {
            key: raw,
            view: rec.view(now),
        })
    }

    /// First start: bootstraps org `default` if the store is empty.
    pub async fn ensure_default_org(&self) -> Result<Option<MintedKey>, AuthorityError> {
        if !self.is_empty().await? {
            return Ok(None);
        }
        match self.bootstrap(BootstrapRequest::new("default")).await {
            Ok(k) => Ok(Some(k)),
            Err(AuthorityError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Operator recovery: another admin key for an existing org.
    pub async fn recover_admin(
        &self,
        org_id: &str,
        expires_days: Option<u32>,
    ) -> Result<MintedKey, AuthorityError> {
        let org_id = OrgId::parse(org_id).map_err(|_| AuthorityError::NotFound)?;
        let org = self
            .inner
            .store
            .get_org(&org_id)
            .await?
            .ok_or(AuthorityError::NotFound)?;
        let now = self.now();
        let expires_at = self.admin_expiry(expires_days, org.allow_never_expiry, now)?;
        let (raw, rec) = self.admin_key(&org_id, self.env(), expires_at, now);
        let mut body = self.admin_event(None, &org_id, "recover_admin", now);
        body.subject = Some(rec.id.to_string());
        self.insert_minted(raw, rec, body, now).await
    }

    fn admin_expiry(
        &self,
        days: Option<u32>,
        allow_never: bool,
        now: Timestamp,
    ) -> Result<Option<Timestamp>, AuthorityError> {
        match days {
            None if !allow_never => Err(AuthorityError::invalid(
                "expires_days",
                "the org does not allow keys without expiry",
            )),
            None => Ok(None),
            Some(d) if (1..=MAX_DAYS).contains(&d) => Ok(Some(now.plus_days(i64::from(d)))),
            Some(_) => Err(AuthorityError::invalid(
                "expires_days",
                format!("must be 1-{MAX_DAYS}"),
            )),
        }
    }

    fn admin_key(
        &self,
        org: &OrgId,
        env: Env,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> (keys::RawKey, KeyRecord) {
        let Generated { raw, hint } = keys::generate(env);
        let scopes: ScopeSet = [Scope::AdminOrg, Scope::Org(org.to_string())]
            .into_iter()
            .collect();
        let rec = KeyRecord {
            id: KeyId::generate(),
            org: org.clone(),
            name: "admin".into(),
            env,
            agent: None,
            scopes,
            hash: self.inner.validator.pepper().hash(raw.expose_secret()),
            hint,
            created_by: None,
            created_at: now,
            expires_at,
            revoked_at: None,
            revoked_by: None,
            revoke_reason: None,
            last_used_at: None,
            rotated_from: None,
            rotated_to: None,
            resources: Vec::new(),
            oauth: None,
            terms: Default::default(),
            parent: None,
            quarantine: None,
        };
        (raw, rec)
    }
}
