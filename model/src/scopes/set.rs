//! A key's set of scopes and the questions asked of it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Scope;

/// The scopes a key holds, in canonical order, without duplicates.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ScopeSet(BTreeSet<Scope>);

impl std::fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.0.iter().map(|s| s.to_string()))
            .finish()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ScopeSet {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(<Scope as utoipa::PartialSchema>::schema())
            .unique_items(true)
            .description(Some("Scopes in canonical form"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ScopeSet {}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl ScopeSet {
    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, s: &Scope) -> bool {
        self.0.contains(s)
    }

    /// Whether any held scope implies `wanted` for a key of `key_org`.
    pub fn allows(&self, key_org: &str, wanted: &Scope) -> bool {
        self.0.iter().any(|h| h.implies(key_org, wanted))
    }

    /// The scopes of `other` this set does not grant; empty means `other` ⊆
    /// the effective scopes of `self`.
    pub fn missing<'a>(&self, key_org: &str, other: &'a ScopeSet) -> Vec<&'a Scope> {
        other
            .0
            .iter()
            .filter(|s| !self.allows(key_org, s))
            .collect()
    }

    /// The agent binding, if any (`agent:<name>`).
    pub fn agent(&self) -> Option<&str> {
        self.0.iter().find_map(|s| match s {
            Scope::Agent(a) => Some(a.as_str()),
            _ => None,
        })
    }

    /// Space-separated canonical form, the storage encoding.
    pub fn to_storage(&self) -> String {
        self.0
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Inverse of [`to_storage`](Self::to_storage); unparsable entries are
    /// dropped (they can only come from a tampered store, and dropping a scope
    /// can only narrow a key).
    pub fn from_storage(s: &str) -> Self {
        s.split_whitespace()
            .filter_map(|x| Scope::parse(x).ok())
            .collect()
    }

    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|s| s.to_string()).collect()
    }
}
