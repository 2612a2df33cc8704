//! Tool servers adding the scopes their tools require to their org's
//! catalog, so keys can be minted for them (`POST /api/v1/scopes`).
//!
//! Two registrars, one path: a key holding `svc:catalog:write` (REST), and a
//! guard embedding the authority in its own process for one org (the
//! operator's code, so no key).
//!
//! Rules:
//! - A key needs `svc:catalog:write`.
//! - Only `svc:<service>:<action>` scopes; never `org:`, `agent:` or
//!   `admin:org`, which are not a tool's to define.
//! - Per org: a registration is seen by the registering org only (its
//!   picker, its mints, its suggestions). Another org's tool server cannot
//!   add a scope, or a misleading description, to anyone else's catalog.
//!   The built-in catalog, and registrations stored before registrations
//!   were per org, are every org's.
//! - Add-only: an existing scope or description (built-in, shared or the
//!   org's own) is never changed.
//! - At most [`MAX_ORG_SCOPES`] registered scopes per org.
//! - Registrations are stored (servers sharing a store share them); each
//!   server keeps them in memory and merges the store's in before it lists
//!   an org's catalog, adds to it, or refuses a mint for an unknown scope.
//! - Each call that adds something is an admin audit event of the org,
//!   written in the same transaction as the scopes it adds.

use std::collections::HashMap;

use super::Authority;
use crate::audit::NewEvent;
use crate::error::AuthorityError;
use crate::ids::OrgId;
use crate::policy::rules::require;
use crate::policy::KeyContext;
use crate::scopes::{Scope, ScopeCatalog, ServiceInfo};
use crate::store::CatalogEntry;
use model::wire::{RegisteredScopes, ScopeRegistration};

const MAX_SCOPES: usize = 200;
/// The most tool scopes one org may register; past it registrations are
/// refused (its picker, and each of its mints' suggestions, stay bounded).
pub const MAX_ORG_SCOPES: usize = 1000;
const MAX_DESCRIPTION: usize = 200;

/// The catalogs in memory: what every org sees, and each org's own
/// registrations on top.
#[derive(Debug, Default)]
pub(super) struct Catalogs {
    shared: ScopeCatalog,
    orgs: HashMap<OrgId, Vec<CatalogEntry>>,
}

impl Catalogs {
    /// The catalog `org` mints from and sees: built-in and shared scopes,
    /// then its own (which can never relabel a shared one).
    pub(super) fn view(&self, org: &OrgId) -> ScopeCatalog {
        let mut view = self.shared.clone();
        for e in self.orgs.get(org).into_iter().flatten() {
            // Stored entries were validated on the way in.
            let _ = view.register_if_new(&e.service, &e.action, &e.description);
        }
        view
    }

    fn registered(&self, org: &OrgId) -> usize {
        self.orgs.get(org).map_or(0, Vec::len)
    }

    /// Takes in what the store lists for `org`.
    fn absorb(&mut self, org: &OrgId, stored: Vec<CatalogEntry>) -> Result<(), AuthorityError> {
        let mut own = Vec::new();
        for e in stored {
            match e.org {
                None => {
                    self.shared
                        .register_if_new(&e.service, &e.action, &e.description)?;
                }
                Some(_) => own.push(e),
            }
        }
        self.orgs.insert(org.clone(), own);
        Ok(())
    }

    fn add(&mut self, org: &OrgId, new: &[CatalogEntry]) {
        self.orgs
            .entry(org.clone())
            .or_default()
            .extend(new.iter().cloned());
    }
}

impl Authority {
    /// Adds the scopes a tool server's tools require (see the module rules).
    pub async fn register_tool_scopes(
        &self,
        p: &KeyContext,
        scopes: &[ScopeRegistration],
    ) -> Result<RegisteredScopes, AuthorityError> {
        require(p, &Scope::service("catalog", "write"))?;
        self.add_tool_scopes(&p.org, Some(p), scopes).await
    }

    /// The same registration for a guard running in this process for `org`
    /// (no key: the embedding code is the operator's). Stored and audited
    /// in `org` like the REST path, naming this server.
    pub async fn register_local_tool_scopes(
        &self,
        org: &OrgId,
        scopes: &[ScopeRegistration],
    ) -> Result<RegisteredScopes, AuthorityError> {
        self.add_tool_scopes(org, None, scopes).await
    }

    /// The catalog `org` mints from, as services with their actions.
    pub async fn scope_catalog(&self, org: &OrgId) -> Result<Vec<ServiceInfo>, AuthorityError> {
        self.refresh_catalog(org).await?;
        Ok(self.catalog_view(org).services())
    }

    /// The scopes the authorization server advertises (RFC 8414
    /// `scopes_supported`): the built-in catalog's tool scopes, not the
    /// authority's own (its API refuses OAuth tokens). An org's own
    /// registrations are its business and are not published.
    pub fn oauth_scopes(&self) -> Vec<String> {
        ScopeCatalog::builtin()
            .services()
            .into_iter()
            .filter(|s| !super::people_ops::AUTHORITY_SERVICES.contains(&s.service.as_str()))
            .flat_map(|s| s.actions.into_iter().map(|a| a.scope))
            .collect()
    }

    pub(super) fn catalog_view(&self, org: &OrgId) -> ScopeCatalog {
        self.inner.catalog.read().view(org)
    }

    async fn add_tool_scopes(
        &self,
        org: &OrgId,
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
            self.refresh_catalog(org).await?;
            let new: Vec<CatalogEntry> = {
                let catalog = self.catalog_view(org);
                unique
                    .iter()
                    .filter(|(service, action, _, _)| {
                        !catalog.is_known(&Scope::service(service, action))
                    })
                    .map(|(service, action, description, _)| CatalogEntry {
                        org: Some(org.clone()),
                        service: service.clone(),
                        action: action.clone(),
                        description: description.clone(),
                    })
                    .collect()
            };
            let registered = self.inner.catalog.read().registered(org);
            if registered + new.len() > MAX_ORG_SCOPES {
                return Err(AuthorityError::Conflict(format!(
                    "this org has registered {registered} tool scopes; at most {MAX_ORG_SCOPES} are allowed"
                )));
            }
            if !new.is_empty() {
                match self.store_scopes(org, registrar, &new).await {
                    Err(AuthorityError::Conflict(_)) => continue,
                    other => other?,
                }
                self.inner.catalog.write().add(org, &new);
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

    /// Takes in the scopes registered in the store for `org` (possibly by
    /// another server sharing it).
    pub(crate) async fn refresh_catalog(&self, org: &OrgId) -> Result<(), AuthorityError> {
        let stored = self.inner.store.list_scopes(org).await?;
        self.inner.catalog.write().absorb(org, stored)
    }

    async fn store_scopes(
        &self,
        org: &OrgId,
        registrar: Option<&KeyContext>,
        new: &[CatalogEntry],
    ) -> Result<(), AuthorityError> {
        let mut body: NewEvent = self.admin_event(registrar, org, "register_scopes", self.now());
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
