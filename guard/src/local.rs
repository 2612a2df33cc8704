//! Local mode: the guard asks an in-process [`Authority`] over the same
//! store as the key authority, and records through its group-commit
//! recorder (one fsync per batch; an error means "not durable").
//!
//! A local guard serves one org. The store holds the keys of every org, so
//! the guard itself must refuse the others: a key of another org is
//! answered exactly like an unknown key (same outcome, hence the same 401
//! and the same unattributed audit event), whether it is valid, revoked or
//! expired there. Nothing a caller sees tells it the key exists elsewhere.
//! (A remote guard gets this from the authority: introspection answers
//! only for keys of the service key's own org.)

use authority::ids::OrgId;
use authority::oauth::ResourceId;
use authority::Outcome;
use authority::{Authority, ToolCall};

use super::GuardError;

/// The in-process backend: the authority and the one org it serves.
pub(super) struct Local {
    authority: Authority,
    org: OrgId,
    /// Ends the task that hears releases (see [`Local::new`]).
    _releases: super::remote::AbortOnDrop,
}

impl Local {
    /// Checks that `org` exists, so that a mistyped org fails at start
    /// instead of refusing every key as unknown.
    /// A release heard from the authority ends this guard's own hold at
    /// once (the guard holds a key it tripped on before the authority
    /// stored it); a change of a key's limits drops the allowances held
    /// of them.
    pub(super) async fn new(
        authority: Authority,
        org: OrgId,
        tripwires: std::sync::Arc<crate::tripwire::Tripwires>,
        allowances: std::sync::Arc<crate::allowance::Allowances>,
    ) -> Result<Self, GuardError> {
        use authority::revocation::KeyChange;
        let mut changes = authority.subscribe_revocations();
        let releases = tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(ev) if ev.change == KeyChange::Released => {
                        tripwires.release(&ev.key_id);
                    }
                    Ok(ev) if ev.change == KeyChange::Updated => {
                        allowances.forget_owner(&ev.key_id);
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => allowances.clear(),
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        match authority.store().get_org(&org).await {
            Ok(Some(_)) => Ok(Self {
                authority,
                org,
                _releases: super::remote::AbortOnDrop(releases),
            }),
            Ok(None) => Err(GuardError::UnknownOrg(org)),
            Err(e) => Err(GuardError::OrgLookup(e.to_string())),
        }
    }

    pub(super) fn authority(&self) -> &Authority {
        &self.authority
    }

    pub(super) fn org(&self) -> &OrgId {
        &self.org
    }

    /// The key as this guard sees it: valid only for its org and, when the
    /// key is limited to resources, for `resource` (this guard's own).
    pub(super) async fn validate(&self, raw: &str, resource: Option<&ResourceId>) -> Outcome {
        // Checked without a usage mark: only a key of this guard's org (and
        // resource) is marked, so a foreign key presented here leaves no
        // trace on it.
        let outcome = self.authority.check(raw, None).await.at_resource(resource);
        if let Some(ctx) = outcome.context().filter(|ctx| ctx.org == self.org) {
            self.authority.mark_used(ctx);
        }
        let org = match &outcome {
            Outcome::Valid(ctx) | Outcome::InsufficientScope { context: ctx, .. } => &ctx.org,
            Outcome::Revoked { org, .. }
            | Outcome::Expired { org, .. }
            | Outcome::WrongAudience { org, .. }
            | Outcome::NotYetValid { org, .. }
            | Outcome::Quarantined { org, .. }
            | Outcome::NetworkNotAllowed { org, .. } => org,
            _ => return outcome,
        };
        if *org == self.org {
            outcome
        } else {
            Outcome::Unknown
        }
    }

    pub(super) async fn record(&self, call: ToolCall) -> Result<(), String> {
        self.authority
            .record_tool_call(call)
            .await
            .map(|_| ())
            .map_err(|e| e.internal_cause().unwrap_or("unavailable").to_owned())
    }
}

/// A local guard for org `acme` over a store that also holds org `beta`.
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use authority::{
        AuthorityConfig, BootstrapRequest, Env, ExpiryChoice, MintRequest, Pepper, Scope,
        SqliteStore,
    };

    use super::*;

    async fn authority(dir: &std::path::Path) -> Authority {
        Authority::new(
            Arc::new(SqliteStore::open(dir).unwrap()),
            Pepper::load_or_create(dir).unwrap(),
            Env::Live,
            AuthorityConfig::default(),
        )
    }

    /// Bootstraps `org` and returns a valid key and a revoked one of it.
    async fn org_keys(auth: &Authority, org: &str) -> (String, String) {
        let admin = auth.bootstrap(BootstrapRequest::new(org)).await.unwrap();
        let admin = admin.key.expose_secret().to_owned();
        let ctx = auth.authorize(&admin, &Scope::AdminOrg).await.unwrap();
        let revoked = auth
            .mint(
                &ctx,
                MintRequest {
                    org_id: None,
                    name: "revoked".into(),
                    scopes: vec!["svc:wiki:read".into()],
                    expires_days: ExpiryChoice::Days(1),
                    env: None,
                    resources: Vec::new(),
                    terms: Default::default(),
                },
            )
            .await
            .unwrap();
        auth.revoke(&ctx, revoked.view.id.as_str(), None)
            .await
            .unwrap();
        (admin, revoked.key.expose_secret().to_owned())
    }

    #[tokio::test]
    async fn another_orgs_keys_are_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let auth = authority(dir.path()).await;
        let (acme_key, acme_revoked) = org_keys(&auth, "acme").await;
        let (beta_key, beta_revoked) = org_keys(&auth, "beta").await;
        let local = Local::new(
            auth,
            OrgId::parse("acme").unwrap(),
            Default::default(),
            Default::default(),
        )
        .await
        .unwrap();
        assert!(local.validate(&acme_key, None).await.is_valid());
        assert!(matches!(
            local.validate(&acme_revoked, None).await,
            Outcome::Revoked { .. }
        ));
        assert!(matches!(
            local.validate(&beta_key, None).await,
            Outcome::Unknown
        ));
        assert!(matches!(
            local.validate(&beta_revoked, None).await,
            Outcome::Unknown
        ));
    }

    #[tokio::test]
    async fn an_org_that_does_not_exist_is_refused_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let auth = authority(dir.path()).await;
        org_keys(&auth, "acme").await;
        let err = Local::new(
            auth,
            OrgId::parse("acmee").unwrap(),
            Default::default(),
            Default::default(),
        )
        .await
        .err()
        .expect("refused");
        assert!(matches!(err, GuardError::UnknownOrg(_)), "{err}");
    }
}
