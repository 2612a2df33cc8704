//! Signed webhooks (Standard Webhooks): an org's endpoints, the messages
//! the authority owes them, and the delivery of each message to each
//! endpoint until it answers 2xx.
//!
//! How a message is never lost:
//! - A message that reports a change (`key.revoked`, `key.quarantined`,
//!   `key.released`, `leak.reported`) is made from the change's admin audit
//!   event by [`message_for`], and every store writes it to its outbox in
//!   the same commit as that event, so there is no change without its
//!   message. `key.expiring` notices are found by a scan
//!   ([`expiring::notices`]) and written under ids derived from the key, so
//!   scanning twice never makes two.
//! - The dispatcher (`Authority::start_webhooks`) fans each outbox message out into one
//!   delivery per endpoint of the org subscribed to its type, claims due
//!   deliveries under a lease (a process that dies mid-attempt leaves the
//!   delivery to be claimed again when the lease ends), signs and sends
//!   them, and records each attempt. Delivery is at least once: a receiver
//!   de-duplicates on `webhook-id`.
//!
//! Secrets are never stored: an endpoint keeps a random salt, and its
//! secret is HMAC(pepper, salt) ([`signing`]), so a copy of the database
//! alone cannot sign messages.

pub mod expiring;
mod messages;
pub mod retry;
pub mod signing;

use serde::{Deserialize, Serialize};

pub use messages::message_for;
pub use model::wire::{DeliveryState, WebhookEventType};

use crate::ids::{EventId, OrgId, WebhookId};
use crate::time::Timestamp;
use model::wire::{DeliveryView, WebhookView};

/// The most endpoints one org may have: each message is sent to each, so
/// this bounds what one org's events cost the dispatcher.
pub const MAX_WEBHOOKS_PER_ORG: usize = 10;
/// The longest endpoint URL accepted.
pub const MAX_URL_CHARS: usize = 2_000;
/// The longest description accepted.
pub const MAX_DESCRIPTION_CHARS: usize = 200;
/// How long the previous secret keeps signing after a rotation.
pub const PREVIOUS_SECRET_SECS: i64 = 24 * 3600;

/// A random salt the endpoint's secret is derived from (never the secret).
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretSalt(#[serde(with = "hex32")] [u8; 32]);

impl SecretSalt {
    pub fn random() -> Self {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).expect("the OS CSPRNG is unavailable");
        Self(b)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SecretSalt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSalt(<redacted>)")
    }
}

mod hex32 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&model::hex::encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        model::hex::decode(&text)
            .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
            .ok_or_else(|| D::Error::custom("expected 64 hex digits"))
    }
}

/// The secret an endpoint signed with before its last rotation, and until
/// when messages still carry a signature by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousSecret {
    pub salt: SecretSalt,
    pub until: Timestamp,
}

/// An org's webhook endpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRecord {
    pub id: WebhookId,
    pub org: OrgId,
    pub url: String,
    /// Sorted, without duplicates; every type when created without a list.
    pub events: Vec<WebhookEventType>,
    pub description: Option<String>,
    pub created_at: Timestamp,
    pub salt: SecretSalt,
    pub secret_since: Timestamp,
    pub previous: Option<PreviousSecret>,
}

impl WebhookRecord {
    pub fn receives(&self, t: WebhookEventType) -> bool {
        self.events.contains(&t)
    }

    pub fn view(&self, now: Timestamp) -> WebhookView {
        WebhookView {
            id: self.id.clone(),
            url: self.url.clone(),
            events: self.events.clone(),
            description: self.description.clone(),
            created_at: self.created_at,
            secret_since: self.secret_since,
            previous_secret_until: self.previous.map(|p| p.until).filter(|until| *until > now),
        }
    }
}

/// A message the authority owes an org's endpoints: its body is fixed when
/// it is made, so every attempt and every endpoint gets the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookMessage {
    /// The `webhook-id`: the audit event's id, or for a `key.expiring`
    /// notice one derived from the key and the notice.
    pub id: String,
    pub org: OrgId,
    pub event_type: WebhookEventType,
    pub audit_event: Option<EventId>,
    pub created_at: Timestamp,
    /// The JSON body: `{"type", "timestamp", "data"}`.
    pub payload: String,
}

/// One message to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub webhook: WebhookId,
    pub message: WebhookMessage,
    pub state: DeliveryState,
    pub attempts: u32,
    pub last_attempt_at: Option<Timestamp>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    /// When a pending delivery is next due (or its lease ends).
    pub next_attempt_at: Option<Timestamp>,
}

impl Delivery {
    /// A new delivery of `message` to `webhook`, due at once.
    pub fn new(webhook: &WebhookId, message: &WebhookMessage) -> Self {
        Self {
            webhook: webhook.clone(),
            message: message.clone(),
            state: DeliveryState::Pending,
            attempts: 0,
            last_attempt_at: None,
            last_status: None,
            last_error: None,
            next_attempt_at: Some(message.created_at),
        }
    }

    /// Its id in the store: unique per (endpoint, message).
    pub fn id(&self) -> String {
        format!("{}.{}", self.webhook.as_str(), self.message.id)
    }

    pub fn view(&self) -> DeliveryView {
        DeliveryView {
            message_id: self.message.id.clone(),
            event_type: self.message.event_type,
            audit_event: self.message.audit_event.clone(),
            created_at: self.message.created_at,
            state: self.state,
            attempts: self.attempts,
            last_attempt_at: self.last_attempt_at,
            last_status: self.last_status,
            last_error: self.last_error.clone(),
            next_attempt_at: self
                .next_attempt_at
                .filter(|_| self.state == DeliveryState::Pending),
        }
    }
}
