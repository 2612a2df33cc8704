//! Tool servers adding the scopes their tools require to the catalog, so
//! keys can be minted for them (`POST /api/v1/scopes`).
//!
//! Two registrars, one path: a key holding `svc:catalog:write` (REST), and a
//! guard embedding the authority in its own process (the operator's code, so
//! no key), whose registrations are audited under the reserved
//! `_unattributed` org because they belong to no tenant.
//!
//! Rules:
//! - A key needs `svc:catalog:write`.
//! - Only `svc:<service>:<action>` scopes; never `org:`, `agent:` or
//!   `admin:org`, which are not a tool's to define.
//! - Add-only: the catalog is shared by every org, so an existing scope or
//!   description is never changed, and a tenant cannot relabel a built-in.
//! - Registrations are stored (servers sharing a store share them); each
//!   server keeps the catalog in memory and merges the store's registrations
//!   in before it lists the catalog, adds to it, or refuses a mint for an
//!   unknown scope.
//! - Each call that adds something is an admin audit event, written in the
//!   same transaction as the scopes it adds.

use super::Authority;
use crate::audit::NewEvent;
use crate::error::AuthorityError;
use crate::ids::OrgId;
use crate::policy::rules::require;
use crate::policy::KeyContext;
use crate::scopes::Scope;
use crate::store::CatalogEntry;
use model::wire::{RegisteredScopes, ScopeRegistration};

const MAX_SCOPES: usize = 200;
/// The most tool scopes the shared catalog holds; past it registrations
/// are refused (the catalog is every org's, so one org cannot grow it
/// without bound).
pub const MAX_CATALOG_SCOPES: usize = 5000;
const MAX_DESCRIPTION: usize = 200;

impl Authority {
    /// Adds the scopes a tool server's tools require (see the module rules).
    pub async fn register_tool_scopes(
        &self,
        p: &KeyContext,
        scopes: &[ScopeRegistration],
    ) -> Result<RegisteredScopes, AuthorityError> {
        require(p, &Scope::service("catalog", "write"))?;
        self.add_tool_scopes(Some(p), scopes).await
    }

    /// The same registration for a guard running in this process (no key:
    /// the embedding code is the operator's). Stored and audited like the
    /// REST path, under `_unattributed`, naming this server.
    pub async fn register_local_tool_scopes(
        &self,
        scopes: &[ScopeRegistration],
    ) -> Result<RegisteredScopes, AuthorityError> {
        self.add_tool_scopes(None, scopes).await
    }

    async fn add_tool_scopes(
        &self,
        registrar: Option<&KeyContext>,
        scopes: &[ScopeRegistration],
    ) -> Result<RegisteredScopes, AuthorityError> {
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
            if description.is_empty() || description.chars().count() > MAX_DESCRIPTION {
                return Err(AuthorityError::invalid(
                    "description",
                    format!("one line of 1 to {MAX_DESCRIPTION} characters, for `{scope}`"),
                ));
            }
            crate::policy::rules::check_readable("description", description)?;
            parsed.push((
                service.clone(),
                action.clone(),
                description.to_owned(),
                scope.to_string(),
            ));
        }
        let mut unique: Vec<(String, String, String, String)> = Vec::with_capacity(parsed.len());
        for entry in &parsed {
            if !unique.iter().any(|u| u.3 == entry.3) {
                unique.push(entry.clone());
            }
        }
        // Another server may register some of them between our read and our
        // write: the store then refuses the whole set, and we read again.
        for _ in 0..3 {
            self.refresh_catalog().await?;
            let new: Vec<CatalogEntry> = {
                let catalog = self.inner.catalog.read();
                unique
                    .iter()
                    .filter(|(service, action, _, _)| {
                        !catalog.is_known(&Scope::service(service, action))
                    })
                    .map(|(service, action, description, _)| CatalogEntry {
                        service: service.clone(),
                        action: action.clone(),
                        description: description.clone(),
                    })
                    .collect()
            };
            let registered = self.inner.catalog.read().tool_scope_count();
            if registered + new.len() > MAX_CATALOG_SCOPES {
                return Err(AuthorityError::Conflict(format!(
                    "the scope catalog is full ({registered} of {MAX_CATALOG_SCOPES} scopes); ask the operator"
                )));
            }
            if !new.is_empty() {
                match self.store_scopes(registrar, &new).await {
                    Err(AuthorityError::Conflict(_)) => continue,
                    other => other?,
                }
                let mut catalog = self.inner.catalog.write();
                for e in &new {
                    catalog.register_if_new(&e.service, &e.action, &e.description)?;
                }
            }
            return Ok(RegisteredScopes {
                scopes: parsed
                    .into_iter()
                    .map(|(_, _, _, canonical)| canonical)
                    .collect(),
                added: new.len(),
            });
        }
        Err(AuthorityError::Unavailable {
            cause: "scope registrations kept racing with another server's".into(),
        })
    }

    /// Merges the scopes registered in the store (possibly by another
    /// server sharing it) into this server's catalog.
    pub(crate) async fn refresh_catalog(&self) -> Result<(), AuthorityError> {
        let stored = self.inner.store.list_scopes().await?;
        let mut catalog = self.inner.catalog.write();
        for e in stored {
            catalog.register_if_new(&e.service, &e.action, &e.description)?;
        }
        Ok(())
    }

    async fn store_scopes(
        &self,
        registrar: Option<&KeyContext>,
        new: &[CatalogEntry],
    ) -> Result<(), AuthorityError> {
        let org = registrar.map_or_else(OrgId::unattributed, |p| p.org.clone());
        let mut body: NewEvent = self.admin_event(registrar, &org, "register_scopes", self.now());
        let added: Vec<String> = new
            .iter()
            .map(|e| Scope::service(&e.service, &e.action).to_string())
            .collect();
        body.subject = Some(added.join(" ").chars().take(1000).collect());
        let store = &self.inner.store;
        self.with_admin_event(body, move |event| async move {
            store.add_scopes(new, &event).await.map(|()| ((), true))
        })
        .await?;
        Ok(())
    }
}
