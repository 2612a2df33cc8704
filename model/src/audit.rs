//! The audit event record: what happened, who did it, the decision, and
//! where the event sits in its hash chain.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{EventId, KeyId, OrgId};
use crate::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ToolCall,
    Admin,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ToolCall => "tool_call",
            EventKind::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tool_call" => Some(EventKind::ToolCall),
            "admin" => Some(EventKind::Admin),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Allowed,
    Denied,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allowed" => Some(Decision::Allowed),
            "denied" => Some(Decision::Denied),
            _ => None,
        }
    }
}

/// A SHA-256 chain hash; hex on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    /// The `prev_hash` of the first event of a chain.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        crate::hex::decode32(s).map(Self)
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", &self.to_hex()[..12])
    }
}

impl Serialize for ChainHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ChainHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_hex(&s).ok_or_else(|| serde::de::Error::custom("expected 64 hex characters"))
    }
}

crate::schema::string_schema!(
    ChainHash,
    "A SHA-256 chain hash, 64 hex characters",
    pattern = "^[0-9a-f]{64}$"
);

/// Where an event sits in its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChainLink {
    pub writer: String,
    pub seq: u64,
    pub prev_hash: ChainHash,
    pub hash: ChainHash,
}

/// The last pruned event of a chain; verification resumes after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: ChainHash,
    /// The retention cut-off that produced this checkpoint.
    pub pruned_at: Timestamp,
}

/// An event before it is placed in a chain: what callers describe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewEvent {
    pub ts: Timestamp,
    pub org: OrgId,
    pub actor_key_id: Option<KeyId>,
    pub agent: Option<String>,
    pub kind: EventKind,
    /// The tool name (tool calls) or admin action (`mint`, `revoke`, ...).
    pub action: String,
    pub required_scope: Option<String>,
    pub decision: Decision,
    pub reason: Option<String>,
    /// What an admin action acted on (a key id, an agent, an org); a
    /// rotation names the old key then its successor, space-separated.
    pub subject: Option<String>,
    pub server: Option<String>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    pub latency_us: Option<u64>,
    /// The key that reported this event through `POST /audit/events` (a
    /// tool server's service key); `None` when the authority itself saw the
    /// call or the action. Everything else in a reported event is that
    /// key's word, which is why the dashboard shows it as "reported by".
    #[serde(default)]
    pub reported_by: Option<KeyId>,
    /// The person who acted, when a member signed in to the dashboard did
    /// (`actor_key_id` is then their member credential id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<crate::people::Person>,
    /// The agent the subject belongs to: the `agent:` binding of the key an
    /// admin action minted, revoked or rotated, or the agent a bulk
    /// revocation switched off. `agent` is the actor's; this one lets
    /// "everything about agent x" find what was done to x's keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_agent: Option<String>,
}

impl NewEvent {
    /// A minimal event; fill the optional fields with struct update syntax.
    pub fn new(
        ts: Timestamp,
        org: OrgId,
        kind: EventKind,
        action: &str,
        decision: Decision,
    ) -> Self {
        Self {
            ts,
            org,
            actor_key_id: None,
            agent: None,
            kind,
            action: action.to_owned(),
            required_scope: None,
            decision,
            reason: None,
            subject: None,
            server: None,
            request_id: None,
            client_ip: None,
            latency_us: None,
            reported_by: None,
            person: None,
            subject_agent: None,
        }
    }
}

/// A recorded audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub id: EventId,
    #[serde(flatten)]
    pub body: NewEvent,
    pub chain: ChainLink,
}
