//! Tool servers adding the scopes their tools require to the catalog, so
//! keys can be minted for them (`POST /api/v1/scopes`).
//!
//! Rules:
//! - Needs `svc:catalog:write`.
//! - Only `svc:<service>:<action>` scopes; never `org:`, `agent:` or
//!   `admin:org`, which are not a tool's to define.
//! - Add-only: the catalog is shared by every org, so an existing scope or
//!   description is never changed, and a tenant cannot relabel a built-in.
//! - The catalog lives in memory: a remote guard registers again whenever
//!   its revocation stream (re)connects, which covers authority restarts.
//! - Each call that adds something is an admin audit event.

use super::Authority;
use crate::audit::NewEvent;
use crate::error::AuthorityError;
use crate::policy::rules::require;
use crate::policy::KeyContext;
use crate::scopes::Scope;

const MAX_SCOPES: usize = 200;
const MAX_DESCRIPTION: usize = 200;

/// One scope a tool requires, with its one-line description.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeRegistration {
    pub scope: String,
    pub description: String,
}

/// What [`Authority::register_tool_scopes`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RegisteredScopes {
    /// Canonical forms of every scope in the request.
    pub scopes: Vec<String>,
    /// How many of them were new to the catalog.
    pub added: usize,
}

impl Authority {
    /// Adds the scopes a tool server's tools require (see the module rules).
    pub async fn register_tool_scopes(
        &self,
        p: &KeyContext,
        scopes: &[ScopeRegistration],
    ) -> Result<RegisteredScopes, AuthorityError> {
        require(p, &Scope::service("catalog", "write"))?;
        if scopes.is_empty() || scopes.len() > MAX_SCOPES {
            return Err(AuthorityError::invalid(
                "scopes",
                format!("send 1 to {MAX_SCOPES} scopes"),
            ));
        }
        let mut parsed = Vec::with_capacity(scopes.len());
        for registration in scopes {
            let scope = Scope::parse(&registration.scope)?;
            let Scope::Service { service, action } = &scope else {
                return Err(AuthorityError::invalid(
                    "scopes",
                    format!(
                        "`{}` is not a tool scope: register `svc:<service>:<action>` (or `<action>:<service>`)",
                        registration.scope
                    ),
                ));
            };
            let description = registration.description.trim();
            if description.is_empty()
                || description.chars().count() > MAX_DESCRIPTION
                || description.chars().any(char::is_control)
            {
                return Err(AuthorityError::invalid(
                    "description",
                    format!("one line of 1 to {MAX_DESCRIPTION} characters, for `{scope}`"),
                ));
            }
            parsed.push((
                service.clone(),
                action.clone(),
                description.to_owned(),
                scope.to_string(),
            ));
        }
        let mut added = Vec::new();
        {
            let mut catalog = self.inner.catalog.write();
            for (service, action, description, canonical) in &parsed {
                if catalog.register_if_new(service, action, description)? {
                    added.push(canonical.clone());
                }
            }
        }
        if !added.is_empty() {
            self.record_catalog_event(p, &added).await?;
        }
        Ok(RegisteredScopes {
            scopes: parsed
                .into_iter()
                .map(|(_, _, _, canonical)| canonical)
                .collect(),
            added: added.len(),
        })
    }

    async fn record_catalog_event(
        &self,
        p: &KeyContext,
        added: &[String],
    ) -> Result<(), AuthorityError> {
        let mut body: NewEvent = self.admin_event(Some(p), &p.org, "register_scopes", self.now());
        body.subject = Some(added.join(" ").chars().take(1000).collect());
        let store = &self.inner.store;
        self.with_admin_event(body, move |event| async move {
            store
                .append_audit(std::slice::from_ref(&event))
                .await
                .map(|()| ((), true))
        })
        .await?;
        Ok(())
    }
}
