//! The validated identity behind every call: a key's context.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::guardrails::{AddressRanges, KeyLimits, KeyMetadata};

use crate::ids::{KeyId, OrgId};
use crate::keys::Env;
use crate::oauth::{ResourceId, TokenOrigin};
use crate::scopes::{Scope, ScopeSet};
use crate::store::KeyRecord;
use crate::time::Timestamp;

/// What a valid key is allowed to be: the "principal" of facade calls.
///
/// Obtain it from [`Authority::authenticate`](crate::Authority::authenticate);
/// constructing one by hand (tests, tools) is possible but bypasses validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyContext {
    pub key_id: KeyId,
    pub org: OrgId,
    pub name: String,
    pub env: Env,
    pub agent: Option<String>,
    pub scopes: ScopeSet,
    /// When the key stops working: its expiry, or its scheduled revocation
    /// (a rotated key's grace period) when that comes first. Every cap
    /// that says "not beyond the calling key" (minting, rotating, the
    /// introspection `exp`) reads this, so a key in its grace period cannot
    /// mint keys that outlive it.
    pub expires_at: Option<Timestamp>,
    pub created_by: Option<KeyId>,
    /// Set when a person signed in to the dashboard acts: `key_id` is then
    /// their member credential id (a `key_` id no key record carries), and
    /// the trail names the person beside it.
    pub person: Option<model::people::Person>,
    /// The tool servers the credential is limited to; empty: any (see
    /// [`serves`](Self::serves)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceId>,
    /// Set for OAuth access tokens: their grant and client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<TokenOrigin>,
    /// The client addresses the key may be used from; empty: any (see
    /// [`admits`](Self::admits)).
    #[serde(default, skip_serializing_if = "AddressRanges::is_empty")]
    pub networks: AddressRanges,
    /// What tool servers receive with the key (introspection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<KeyMetadata>,
    /// The rate limits and budgets its tool calls count against.
    #[serde(default, skip_serializing_if = "KeyLimits::is_empty")]
    pub limits: KeyLimits,
}

impl KeyContext {
    pub fn allows(&self, wanted: &Scope) -> bool {
        self.scopes.allows(self.org.as_str(), wanted)
    }

    /// Whether the credential may be used at `resource` (a guard's own
    /// identifier; `None` for the authority's API and for a guard that
    /// declared none). A credential limited to resources serves exactly
    /// those: a token issued for one tool server is refused at every other,
    /// and a guard that cannot say who it is accepts only unlimited keys.
    pub fn serves(&self, resource: Option<&ResourceId>) -> bool {
        self.resources.is_empty() || resource.is_some_and(|r| self.resources.contains(r))
    }

    /// Whether the key may be used by a caller at `client`: a key limited
    /// to networks needs a known address inside one of them (an unknown
    /// address is refused: fail closed).
    pub fn admits(&self, client: Option<IpAddr>) -> bool {
        self.networks.is_empty() || client.is_some_and(|ip| self.networks.contains(ip))
    }

    pub fn from_record(k: &KeyRecord) -> Self {
        Self {
            key_id: k.id.clone(),
            org: k.org.clone(),
            name: k.name.clone(),
            env: k.env,
            agent: k.agent.clone(),
            scopes: k.scopes.clone(),
            expires_at: match (k.expires_at, k.revoked_at) {
                (Some(expiry), Some(revocation)) => Some(expiry.min(revocation)),
                (expiry, revocation) => expiry.or(revocation),
            },
            created_by: k.created_by.clone(),
            person: None,
            resources: k.resources.clone(),
            oauth: k.oauth.clone(),
            networks: k.terms.networks.clone(),
            metadata: k.terms.metadata.clone(),
            limits: k.terms.limits.clone(),
        }
    }
}
