//! What server functions send to the browser. Plain data, no secrets except
//! [`MintedKey::key`], which only mint and rotate return (in their POST
//! response, never in a page's serialized resources).

use ::model::wire::KeyView;
use serde::{Deserialize, Serialize};

/// The signed-in principal, for the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub key_id: String,
    pub key_name: String,
    pub org: String,
    /// `alice@acme.com (owner, passkey)` for a person; `None` for the
    /// break-glass key.
    pub person: Option<String>,
    /// What the dashboard offers; the server refuses the rest anyway.
    pub may_write_keys: bool,
    pub may_manage_members: bool,
}

/// A member as the members page lists them (no credential material).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRow {
    pub id: String,
    pub email: String,
    pub role: ::model::people::Role,
    pub joined_ms: i64,
    pub passkeys: usize,
    /// The id the person acts under in the trail (filter the explorer by it).
    pub credential_id: String,
    /// The signed-in person's own row.
    pub is_me: bool,
}

/// A fresh invitation; `token` goes into the link once and is never shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationShown {
    pub token: String,
    pub email: String,
    pub role: ::model::people::Role,
    pub expires_ms: i64,
}

/// A started WebAuthn ceremony: options for the browser (JSON text) and
/// the ceremony's token, sent back with the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CeremonyStart {
    pub ceremony: String,
    pub options: String,
    /// Enrolment only: who is enrolling, to show before the prompt.
    pub email: Option<String>,
    pub role: Option<::model::people::Role>,
    pub org: Option<String>,
}

/// One of the signed-in person's passkeys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRow {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
}

/// A row of the keys table: the model's key view (never a secret) and
/// what the server's clock says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    #[serde(flatten)]
    pub key: KeyView,
    /// True when an active key expires within 7 days.
    pub expiring_soon: bool,
}

impl std::ops::Deref for KeyRow {
    type Target = KeyView;

    fn deref(&self) -> &KeyView {
        &self.key
    }
}

/// The one-time answer of mint and rotate.
/// The new-key form's optional terms, as typed (the server parses them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsInput {
    /// `YYYY-MM-DDTHH:MM` (a `datetime-local` value, read as UTC); empty: at once.
    #[serde(default)]
    pub not_before: String,
    /// Addresses and CIDR ranges, separated by whitespace or commas.
    #[serde(default)]
    pub networks: String,
    /// A JSON object; empty: none.
    #[serde(default)]
    pub metadata: String,
    /// Rate limits and budgets.
    #[serde(default)]
    pub limits: Vec<LimitInput>,
}

/// One rate limit or budget as typed in the dashboard (the server parses it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitInput {
    /// `rate` or `budget`.
    pub kind: String,
    /// Calls per window (rate) or in all (budget).
    pub amount: String,
    /// Rate: the window in seconds.
    #[serde(default)]
    pub per_seconds: String,
    /// Budget: `never`, `daily` or `monthly`.
    #[serde(default)]
    pub refill: String,
    /// One tool scope; empty: every tool call.
    #[serde(default)]
    pub scope: String,
}

impl Default for LimitInput {
    fn default() -> Self {
        Self {
            kind: "rate".into(),
            amount: "60".into(),
            per_seconds: "60".into(),
            refill: "never".into(),
            scope: String::new(),
        }
    }
}

impl LimitInput {
    /// The form's rows for limits a key has.
    pub fn from_limit(limit: &::model::wire::KeyLimit) -> Self {
        use ::model::wire::{KeyLimit, Refill};
        let scope = limit.scope().unwrap_or_default().to_owned();
        match limit {
            KeyLimit::Rate {
                max, per_seconds, ..
            } => Self {
                kind: "rate".into(),
                amount: max.to_string(),
                per_seconds: per_seconds.to_string(),
                refill: "never".into(),
                scope,
            },
            KeyLimit::Budget { calls, refill, .. } => Self {
                kind: "budget".into(),
                amount: calls.to_string(),
                per_seconds: "60".into(),
                refill: match refill {
                    Refill::Never => "never",
                    Refill::Daily => "daily",
                    Refill::Monthly => "monthly",
                }
                .into(),
                scope,
            },
        }
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedKey {
    pub key: String,
    pub row: KeyRow,
}

impl std::fmt::Debug for MintedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedKey")
            .field("key", &"<redacted>")
            .field("row", &self.row)
            .finish()
    }
}

/// Rotation's answer: the successor (with its raw key) and the old key's new state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotated {
    pub successor: MintedKey,
    pub previous: KeyRow,
}

/// One action of a service in the scope picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickerAction {
    pub action: String,
    pub scope: String,
    pub description: String,
    /// Whether the signed-in key may grant it (the authority's rule).
    pub grantable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickerService {
    pub service: String,
    pub description: String,
    pub actions: Vec<PickerAction>,
}

/// Everything the new-key form needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintOptions {
    pub services: Vec<PickerService>,
    pub never_allowed: bool,
    /// RFC 3339; keys may not expire later than this.
    pub latest_expiry: Option<String>,
    /// Set when the signed-in key is agent-bound: new keys must use it.
    pub forced_agent: Option<String>,
}

/// One audit event, as the model has it.
pub use ::model::audit::AuditEvent as AuditRow;

/// A page of the explorer: the REST API's page type.
pub use ::model::wire::AuditPage as AuditPageData;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    pub start_ms: i64,
    pub allowed: u64,
    pub denied: u64,
}

/// The audit explorer's filters, exactly as they sit in the URL query (the
/// model's type: the authority parses the same fields for REST and here).
pub use ::model::wire::AuditFilterParams as AuditFilters;
