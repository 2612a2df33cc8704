//! The catalog of known services and actions.
//!
//! Rules:
//! - Mint requests may only name service scopes the catalog knows; anything
//!   else is refused with [`ScopeError::Unknown`], which names the scope and
//!   lists up to three close matches (Levenshtein distance ≤ 3 on the
//!   canonical form).
//! - `org:`, `agent:` and `admin:org` are structural and always known.
//! - Tool servers extend the catalog at run time with [`ScopeCatalog::register`];
//!   registering is additive and idempotent (a later description wins).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{action_rank, valid_segment, Scope, ScopeError};

/// One service in the catalog, with its actions in display order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceInfo {
    pub service: String,
    pub description: String,
    pub actions: Vec<ActionInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionInfo {
    pub action: String,
    /// Canonical scope, e.g. `svc:wiki:read`.
    pub scope: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct ScopeCatalog {
    services: BTreeMap<String, (String, BTreeMap<String, String>)>,
}

impl Default for ScopeCatalog {
    fn default() -> Self {
        Self::builtin()
    }
}

impl ScopeCatalog {
    pub fn empty() -> Self {
        Self {
            services: BTreeMap::new(),
        }
    }

    /// The services every acekeys deployment knows.
    pub fn builtin() -> Self {
        let mut c = Self::empty();
        let rwa = |c: &mut Self, svc: &str, desc: &str, what: &str| {
            c.register_service(svc, desc).expect("valid");
            c.register(svc, "read", &format!("Read {what}"))
                .expect("valid");
            c.register(
                svc,
                "write",
                &format!("Create and change {what} (includes read)"),
            )
            .expect("valid");
            c.register(svc, "admin", &format!("Administer {what} (includes write)"))
                .expect("valid");
        };
        rwa(
            &mut c,
            "keys",
            "API keys of the org",
            "API keys (mint, revoke, rotate)",
        );
        c.register(
            "keys",
            "introspect",
            "Check other keys' validity (tool servers); implied by admin",
        )
        .expect("valid");
        c.register(
            "keys",
            "quarantine",
            "Put the org's keys in quarantine when a guardrail trips (tool servers); implied by admin",
        )
        .expect("valid");
        c.register_service("audit", "The audit trail")
            .expect("valid");
        c.register("audit", "read", "Query and export the audit trail")
            .expect("valid");
        c.register(
            "audit",
            "write",
            "Submit audit events (remote tool servers)",
        )
        .expect("valid");
        c.register_service("catalog", "The scope catalog")
            .expect("valid");
        c.register(
            "catalog",
            "write",
            "Add the scopes a tool server's tools require (never changes existing ones)",
        )
        .expect("valid");
        rwa(&mut c, "mcp", "MCP tool servers", "MCP tools");
        rwa(&mut c, "wiki", "The wiki", "wiki pages");
        rwa(&mut c, "kb", "The knowledge base", "knowledge-base entries");
        c
    }

    pub fn register_service(&mut self, service: &str, description: &str) -> Result<(), ScopeError> {
        if !valid_segment(service) {
            return Err(ScopeError::Syntax(service.to_owned()));
        }
        let entry = self.services.entry(service.to_owned()).or_default();
        entry.0 = description.to_owned();
        Ok(())
    }

    /// Adds `svc:<service>:<action>` (and the service if new).
    pub fn register(
        &mut self,
        service: &str,
        action: &str,
        description: &str,
    ) -> Result<(), ScopeError> {
        if !valid_segment(service) || !valid_segment(action) {
            return Err(ScopeError::Syntax(format!("svc:{service}:{action}")));
        }
        let entry = self.services.entry(service.to_owned()).or_default();
        entry.1.insert(action.to_owned(), description.to_owned());
        Ok(())
    }

    /// Adds `svc:<service>:<action>` only if it is not known yet; returns
    /// whether it was added. Tool servers of any org share the catalog, so
    /// nothing they send may change a scope or description that exists.
    pub fn register_if_new(
        &mut self,
        service: &str,
        action: &str,
        description: &str,
    ) -> Result<bool, ScopeError> {
        if !valid_segment(service) || !valid_segment(action) {
            return Err(ScopeError::Syntax(format!("svc:{service}:{action}")));
        }
        let entry = self
            .services
            .entry(service.to_owned())
            .or_insert_with(|| ("Registered by a tool server".to_owned(), BTreeMap::new()));
        if entry.1.contains_key(action) {
            return Ok(false);
        }
        entry.1.insert(action.to_owned(), description.to_owned());
        Ok(true)
    }

    /// How many `svc:` scopes the catalog holds.
    pub fn tool_scope_count(&self) -> usize {
        self.services
            .values()
            .map(|(_, actions)| actions.len())
            .sum()
    }

    pub fn is_known(&self, scope: &Scope) -> bool {
        match scope {
            Scope::Service { service, action } => self
                .services
                .get(service)
                .is_some_and(|(_, actions)| actions.contains_key(action)),
            _ => true,
        }
    }

    /// Parses `input` and requires it to be known.
    pub fn check(&self, input: &str) -> Result<Scope, ScopeError> {
        let scope = Scope::parse(input)?;
        if self.is_known(&scope) {
            Ok(scope)
        } else {
            let canonical = scope.to_string();
            Err(ScopeError::Unknown {
                suggestions: self.suggest(&canonical, input),
                scope: canonical,
            })
        }
    }

    /// Close matches for an unknown scope. The distance is only computed
    /// for candidates whose length is within 3 of the input's (the distance
    /// is at least the length difference, so nothing closer is skipped).
    /// The input has passed [`Scope::parse`], so it is at most 128 bytes:
    /// one comparison costs at most 128 x 132 steps, whatever a caller sends.
    fn suggest(&self, canonical: &str, input: &str) -> Vec<String> {
        const MAX_DISTANCE: usize = 3;
        let near = |s: &str| {
            s.len().abs_diff(canonical.len()) <= MAX_DISTANCE
                || s.len().abs_diff(input.len()) <= MAX_DISTANCE
        };
        let mut scored: Vec<(usize, String)> = self
            .all_scopes()
            .filter(|s| near(s))
            .map(|s| {
                let d = levenshtein(canonical, &s).min(levenshtein(input, &s));
                (d, s)
            })
            .filter(|(d, _)| *d <= MAX_DISTANCE)
            .collect();
        scored.sort();
        scored.into_iter().take(3).map(|(_, s)| s).collect()
    }

    fn all_scopes(&self) -> impl Iterator<Item = String> + '_ {
        self.services
            .iter()
            .flat_map(|(svc, (_, actions))| actions.keys().map(move |a| format!("svc:{svc}:{a}")))
            .chain(std::iter::once("admin:org".to_owned()))
    }

    /// The catalog for display: services by name, actions read < write <
    /// admin first, extra actions after.
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.services
            .iter()
            .map(|(svc, (desc, actions))| {
                let mut acts: Vec<ActionInfo> = actions
                    .iter()
                    .map(|(a, d)| ActionInfo {
                        action: a.clone(),
                        scope: format!("svc:{svc}:{a}"),
                        description: d.clone(),
                    })
                    .collect();
                acts.sort_by_key(|a| (action_rank(&a.action).unwrap_or(u8::MAX), a.action.clone()));
                ServiceInfo {
                    service: svc.clone(),
                    description: desc.clone(),
                    actions: acts,
                }
            })
            .collect()
    }
}

pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}
