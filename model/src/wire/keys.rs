//! Bodies of the `/keys` endpoints: mint, list, get, revoke, rotate and the
//! incident switch.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{KeyId, OrgId};
use crate::keys::{Env, KeyHint, KeyStatus, RawKey};
use crate::scopes::ScopeSet;
use crate::time::Timestamp;

/// How long a new key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpiryChoice {
    /// 90 days.
    #[default]
    Default,
    Days(u32),
    /// No expiry: only when explicitly asked and allowed.
    Never,
}

/// `POST /keys/mint`. `orgId` may also be spelled `org_id`, and
/// `expires_days` `expiresDays`; `expires_days` absent → 90 days, a number →
/// that many days (1–366), `null` → a key that never expires (only where the
/// org allows it). `env` absent → the caller's. `resources` absent → any
/// tool server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MintRequest {
    #[serde(rename = "orgId", alias = "org_id", default)]
    pub org_id: Option<String>,
    pub name: String,
    /// Canonical or short forms: `svc:wiki:read`, `read:wiki`, `org:acme`, `agent:devops`, `admin:org`.
    pub scopes: Vec<String>,
    #[serde(default, alias = "expiresDays", deserialize_with = "expiry_field")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>, minimum = 1, maximum = 366))]
    pub expires_days: ExpiryChoice,
    #[serde(default)]
    pub env: Option<Env>,
    /// The tool servers (their resource URLs, as their protected-resource
    /// metadata names them) the key is limited to: every other guard and
    /// the authority's own API refuse it. Empty: any tool server of the org.
    #[serde(default)]
    pub resources: Vec<String>,
    /// When, where, and with what description the key works: see [`KeyTermsRequest`].
    #[serde(flatten)]
    pub terms: KeyTermsRequest,
}

/// The terms of a new key beyond its scopes and expiry (all optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyTermsRequest {
    /// The key is refused before this instant (RFC 3339); absent or past: valid at once.
    #[serde(default, alias = "notBefore")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub not_before: Option<Timestamp>,
    /// Client addresses the key may be used from: IPv4 or IPv6 addresses
    /// and CIDR ranges (`203.0.113.7`, `10.0.0.0/8`, `2001:db8::/32`), at
    /// most 20. Empty: any address.
    #[serde(default, alias = "allowedNetworks")]
    pub allowed_networks: Vec<String>,
    /// A JSON object of at most 1 KiB (serialized) that introspection hands
    /// to tool servers with the key, e.g. `{"team": "search", "cost_center": 42}`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<serde_json::Value>,
    /// Rate limits and budgets on the key's tool calls, at most 10 (see
    /// [`KeyLimit`](super::KeyLimit)). A key minted by a key with limits
    /// also carries those (its calls spend the minter's counters).
    #[serde(default)]
    pub limits: Vec<super::KeyLimit>,
}

fn expiry_field<'de, D: Deserializer<'de>>(d: D) -> Result<ExpiryChoice, D::Error> {
    // Only called when the field is present: `null` is an explicit "never".
    Ok(match Option::<u32>::deserialize(d)? {
        None => ExpiryChoice::Never,
        Some(n) => ExpiryChoice::Days(n),
    })
}

/// `POST /keys/{id}/rotate` (the body is optional).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RotateRequest {
    /// Seconds the old key keeps working; default 3600, 0 = revoke now.
    pub grace_secs: Option<u64>,
}

/// Why a key is in quarantine: a person's decision, or the guardrail rule
/// that tripped (reported by a guard with `svc:keys:quarantine`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuarantineRule {
    /// A person (or an admin key) put it there.
    #[default]
    Manual,
    /// The same tool with the same arguments, again and again.
    Loop,
    /// A burst of refused calls (missing scopes, unknown tools).
    DenialBurst,
    /// Its parent key went into quarantine.
    Parent,
    /// A scanner reported it exposed (and the server holds leaked keys
    /// instead of revoking them).
    Leaked,
    /// Calls far above the key's own recent rate.
    RateSurge,
    /// The first call of a tool outside the key's usual set.
    NewTool,
}

impl QuarantineRule {
    pub fn as_str(self) -> &'static str {
        match self {
            QuarantineRule::Manual => "manual",
            QuarantineRule::Loop => "loop",
            QuarantineRule::DenialBurst => "denial_burst",
            QuarantineRule::Parent => "parent",
            QuarantineRule::Leaked => "leaked",
            QuarantineRule::RateSurge => "rate_surge",
            QuarantineRule::NewTool => "new_tool",
        }
    }
}

/// A key's quarantine: when, why, on whose word.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuarantineView {
    pub at: Timestamp,
    pub rule: QuarantineRule,
    /// What the rule saw (tool, counts, window), or the person's reason.
    pub evidence: String,
    /// The key (or person's credential) that put it there.
    pub by: String,
    /// For a key held because its parent was: that key. Releasing it
    /// releases this one too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<KeyId>,
}

/// `POST /keys/{id}/quarantine`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct QuarantineBody {
    /// Absent: `manual`. Guards name the rule that tripped.
    pub rule: Option<QuarantineRule>,
    /// Why: the evidence a rule saw, or a person's reason (at most 500 characters).
    pub reason: Option<String>,
}

/// `POST /keys/{id}/revoke` (the body is optional).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RevokeBody {
    pub reason: Option<String>,
}

/// Which keys the incident switch revokes. There is no "nothing said":
/// emptying a whole org is always asked for by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkRevokeTarget {
    /// Every key bound to this agent (`agent:<name>`).
    Agent(String),
    /// Every key of the caller's org.
    WholeOrg,
}

/// The incident switch, as the authority takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRevokeRequest {
    pub target: BulkRevokeTarget,
    pub reason: Option<String>,
    /// Also revoke the calling key (spared by default).
    pub include_caller: bool,
}

impl BulkRevokeRequest {
    /// Every key of the caller's org but the caller's own, no reason given.
    pub fn whole_org() -> Self {
        Self {
            target: BulkRevokeTarget::WholeOrg,
            reason: None,
            include_caller: false,
        }
    }

    /// Every key bound to `agent` but the caller's own, no reason given.
    pub fn agent(agent: impl Into<String>) -> Self {
        Self {
            target: BulkRevokeTarget::Agent(agent.into()),
            reason: None,
            include_caller: false,
        }
    }
}

/// `POST /keys/revoke`: give `agent` for one agent's keys, or `"all": true`
/// for the whole org (never both, never neither).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkRevokeBody {
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub reason: Option<String>,
    /// Also revoke the calling key (spared by default).
    #[serde(default)]
    pub include_caller: bool,
}

impl TryFrom<BulkRevokeBody> for BulkRevokeRequest {
    /// The public message for a body that names no target or two.
    type Error = &'static str;

    fn try_from(body: BulkRevokeBody) -> Result<Self, Self::Error> {
        let target = match (body.agent, body.all) {
            (Some(agent), false) => BulkRevokeTarget::Agent(agent),
            (None, true) => BulkRevokeTarget::WholeOrg,
            (Some(_), true) => return Err("give either `agent` or `\"all\": true`, not both"),
            (None, false) => {
                return Err("say which keys to revoke: `\"agent\": \"NAME\"` for one agent's keys, or `\"all\": true` for every key of your org")
            }
        };
        Ok(Self {
            target,
            reason: body.reason,
            include_caller: body.include_caller,
        })
    }
}

/// The incident switch's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkRevokeResult {
    pub revoked: u64,
    pub key_ids: Vec<KeyId>,
    /// Active keys of the target left alone because they hold scopes the
    /// calling key does not (revoking is as sensitive as granting), or are
    /// `live` keys and the caller a `test` key: revoke them with a key that
    /// reaches them, e.g. a live `admin:org` key.
    pub spared: Vec<KeyId>,
}

/// `GET /keys` filters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct KeyListFilter {
    pub status: Option<KeyStatus>,
    pub agent: Option<String>,
    pub env: Option<Env>,
}

/// A key as the API shows it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyView {
    pub id: KeyId,
    pub org: OrgId,
    pub name: String,
    pub env: Env,
    pub agent: Option<String>,
    pub scopes: ScopeSet,
    pub hint: KeyHint,
    pub status: KeyStatus,
    pub created_at: Timestamp,
    pub created_by: Option<KeyId>,
    pub expires_at: Option<Timestamp>,
    /// Set once the key is revoked.
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
    /// Set while a rotation grace period runs: the key stops working then.
    pub revokes_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub rotated_from: Option<KeyId>,
    pub rotated_to: Option<KeyId>,
    /// The tool servers (resource URLs) it is limited to; empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Set on an OAuth access token: the grant it was issued under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<crate::ids::GrantId>,
    /// Refused before this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
    /// The client addresses (CIDR ranges) it is limited to; empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_networks: Vec<String>,
    /// The JSON object tool servers receive with it (introspection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// The key that minted it when that key is an agent's: it dies with
    /// its parent (revoking the parent revokes it too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<KeyId>,
    /// Set while the key is held in quarantine (its status says
    /// `quarantined` unless it is also revoked or expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<QuarantineView>,
    /// Its limits: its own (`owner` is the key) and those inherited from
    /// the key that minted it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<super::LimitView>,
}

impl KeyView {
    /// Whether the key can still be rotated: it is active, and neither
    /// rotated already nor inside a rotation's grace period.
    pub fn can_rotate(&self) -> bool {
        self.status == KeyStatus::Active && self.rotated_to.is_none() && self.revokes_at.is_none()
    }

    /// Whether revoking the key would stop anything: it still works (a
    /// key inside a rotation's grace period too: revoking ends it now).
    /// Revoking is idempotent, so this only says whether to offer it.
    pub fn can_revoke(&self) -> bool {
        matches!(self.status, KeyStatus::Active | KeyStatus::Quarantined)
    }

    /// Whether a person can release it: it is in quarantine, and not
    /// because of its parent (release the parent instead).
    pub fn can_release(&self) -> bool {
        self.status == KeyStatus::Quarantined
            && self.quarantine.as_ref().is_some_and(|q| q.source.is_none())
    }
}

/// `GET /keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

/// The one response that carries a raw key: mint, rotate, bootstrap.
/// Serializes the secret as `key`, beside the key's view.
#[derive(Debug, PartialEq, Eq)]
pub struct MintedKey {
    pub key: RawKey,
    pub view: KeyView,
}

#[derive(Serialize)]
struct MintedKeyOut<'a> {
    key: &'a str,
    #[serde(flatten)]
    view: &'a KeyView,
}

/// A new key: the raw `key` is in this response only.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = MintedKey))]
struct MintedKeyIn {
    /// The raw key. Shown once; store it now.
    key: String,
    #[serde(flatten)]
    view: KeyView,
}

impl Serialize for MintedKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MintedKeyOut {
            key: self.key.expose_secret(),
            view: &self.view,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for MintedKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = MintedKeyIn::deserialize(d)?;
        Ok(Self {
            key: RawKey::new_unchecked(wire.key),
            view: wire.view,
        })
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for MintedKey {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <MintedKeyIn as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for MintedKey {
    fn schemas(
        schemas: &mut Vec<(
            String,
            utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
        )>,
    ) {
        <MintedKeyIn as utoipa::ToSchema>::schemas(schemas);
    }
}

/// Rotation's answer.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotatedKey {
    /// The successor, with its raw key (shown once).
    pub successor: MintedKey,
    /// The old key, with `revokes_at` (grace) or `revoked_at` (grace 0).
    pub previous: KeyView,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_revoke_needs_exactly_one_target() {
        let body = |agent: Option<&str>, all| BulkRevokeBody {
            agent: agent.map(str::to_owned),
            all,
            ..BulkRevokeBody::default()
        };
        assert_eq!(
            BulkRevokeRequest::try_from(body(Some("ops"), false))
                .unwrap()
                .target,
            BulkRevokeTarget::Agent("ops".into())
        );
        assert_eq!(
            BulkRevokeRequest::try_from(body(None, true))
                .unwrap()
                .target,
            BulkRevokeTarget::WholeOrg
        );
        assert!(BulkRevokeRequest::try_from(body(None, false)).is_err());
        assert!(BulkRevokeRequest::try_from(body(Some("ops"), true)).is_err());
    }

    #[test]
    fn minted_key_round_trips_with_its_secret() {
        let json = serde_json::json!({
            "key": "ace_live_x", "id": "key_a", "org": "acme", "name": "n", "env": "live",
            "agent": null, "scopes": ["read:wiki"], "hint": "ace_live_…", "status": "active",
            "created_at": "2025-01-01T00:00:00Z", "created_by": null, "expires_at": null,
            "revoked_at": null, "revoked_by": null, "revoke_reason": null, "revokes_at": null,
            "last_used_at": null, "rotated_from": null, "rotated_to": null
        });
        let minted: MintedKey = serde_json::from_value(json).unwrap();
        assert_eq!(minted.key.expose_secret(), "ace_live_x");
        assert!(!format!("{minted:?}").contains("ace_live_x"));
        let back = serde_json::to_value(&minted).unwrap();
        assert_eq!(back["key"], "ace_live_x");
        assert_eq!(back["scopes"][0], "svc:wiki:read");
        assert!(minted.view.can_rotate() && minted.view.can_revoke());
    }
}
