//! Webhook endpoints and their delivery log as the REST API and the
//! dashboard speak them. Messages follow the Standard Webhooks
//! specification: the authority signs each with the endpoint's secret
//! (`whsec_…`, shown once) and sends it until the endpoint answers 2xx.

use serde::{Deserialize, Serialize};

use crate::ids::{EventId, WebhookId};
use crate::time::Timestamp;

/// What a webhook message announces (its `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WebhookEventType {
    /// A key expires in 7 days, then again in 1 day.
    #[serde(rename = "key.expiring")]
    KeyExpiring,
    /// A key (or, for a bulk revocation, a set of keys) was revoked.
    #[serde(rename = "key.revoked")]
    KeyRevoked,
    /// A key was put in quarantine, by a rule or a person.
    #[serde(rename = "key.quarantined")]
    KeyQuarantined,
    /// A person released a key from quarantine.
    #[serde(rename = "key.released")]
    KeyReleased,
    /// A scanner reported one of the org's keys or tokens as exposed.
    #[serde(rename = "leak.reported")]
    LeakReported,
}

impl WebhookEventType {
    pub const ALL: [WebhookEventType; 5] = [
        WebhookEventType::KeyExpiring,
        WebhookEventType::KeyRevoked,
        WebhookEventType::KeyQuarantined,
        WebhookEventType::KeyReleased,
        WebhookEventType::LeakReported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEventType::KeyExpiring => "key.expiring",
            WebhookEventType::KeyRevoked => "key.revoked",
            WebhookEventType::KeyQuarantined => "key.quarantined",
            WebhookEventType::KeyReleased => "key.released",
            WebhookEventType::LeakReported => "leak.reported",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// `POST /api/v1/webhooks`: a new endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookRequest {
    /// Where messages are POSTed: an `https` URL of a public host (at most
    /// 2,000 characters).
    pub url: String,
    /// The message types it receives; absent or empty: all of them.
    #[serde(default)]
    pub events: Vec<WebhookEventType>,
    /// A note for people (at most 200 characters).
    #[serde(default)]
    pub description: Option<String>,
}

/// An endpoint as the API shows it; its secret is never shown again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookView {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<WebhookEventType>,
    #[serde(default)]
    pub description: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// When the current secret was made (creation or the last rotation).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub secret_since: Timestamp,
    /// Until when messages also carry a signature with the previous
    /// secret (24 hours after a rotation), so receivers can switch over.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub previous_secret_until: Option<Timestamp>,
}

/// An endpoint with its signing secret, answered once: at creation and
/// at each rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookWithSecret {
    pub webhook: WebhookView,
    /// `whsec_` + base64 of 32 bytes, as Standard Webhooks libraries take it.
    pub secret: String,
}

/// `GET /api/v1/webhooks`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

/// Where one message stands with one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not delivered yet: waiting for its first or next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed; no more are made.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// One message to one endpoint, with its latest attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    /// The message's `webhook-id` (the same on every attempt).
    pub message_id: String,
    #[serde(rename = "type")]
    pub event_type: WebhookEventType,
    /// The audit event the message reports, if it reports one.
    #[serde(default)]
    pub audit_event: Option<EventId>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    pub state: DeliveryState,
    pub attempts: u32,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub last_attempt_at: Option<Timestamp>,
    /// The endpoint's HTTP status at the last attempt, if it answered.
    #[serde(default)]
    pub last_status: Option<u16>,
    /// Why the last attempt failed (no answer, a timeout, a refused address).
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub next_attempt_at: Option<Timestamp>,
}

/// `GET /api/v1/webhooks/{id}/deliveries`: newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryLog {
    pub deliveries: Vec<DeliveryView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_round_trip_through_their_names() {
        for t in WebhookEventType::ALL {
            assert_eq!(WebhookEventType::parse(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert_eq!(WebhookEventType::parse("key.deleted"), None);
    }
}
