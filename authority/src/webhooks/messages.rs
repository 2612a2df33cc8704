//! Which admin audit events become webhook messages, and what they say.
//!
//! The message is made from the event alone, inside the store's commit of
//! that event, so both stores call [`message_for`] on every event they
//! write and the mapping lives only here.

use serde_json::{json, Map, Value};

use super::{WebhookEventType, WebhookMessage};
use crate::audit::{AuditEvent, EventKind};
use crate::time::Timestamp;

/// The message `event` announces, if it announces one. Only events the
/// authority wrote itself count: reported tool calls (`svc:audit:write`)
/// are a tool server's word and never admin events, so no key can make
/// the authority announce a revocation that did not happen.
pub fn message_for(event: &AuditEvent) -> Option<WebhookMessage> {
    let b = &event.body;
    if b.kind != EventKind::Admin || b.reported_by.is_some() {
        return None;
    }
    let event_type = match b.action.as_str() {
        "revoke" | "bulk_revoke" => WebhookEventType::KeyRevoked,
        "quarantine" => WebhookEventType::KeyQuarantined,
        "release" => WebhookEventType::KeyReleased,
        "leak_reported" => WebhookEventType::LeakReported,
        _ => return None,
    };
    let mut data = Map::new();
    data.insert("org".into(), json!(b.org));
    let subject = b.subject.clone().map(Value::String).unwrap_or(Value::Null);
    match (b.action.as_str(), b.subject.as_deref()) {
        // "agent:<name>" or "org:<org>": every key it picked, and their descendants.
        ("bulk_revoke", _) => data.insert("selection".into(), subject),
        (_, Some(s)) if s.starts_with("grant_") => data.insert("grant_id".into(), subject),
        _ => data.insert("key_id".into(), subject),
    };
    data.insert("agent".into(), json!(b.subject_agent));
    data.insert("reason".into(), json!(b.reason));
    let by = match (&b.person, &b.actor_key_id) {
        (Some(person), _) => person.email.clone(),
        (None, Some(key)) => key.to_string(),
        (None, None) => "system".to_owned(),
    };
    data.insert("by".into(), json!(by));
    data.insert("audit_event".into(), json!(event.id));
    Some(WebhookMessage {
        id: event.id.to_string(),
        org: b.org.clone(),
        event_type,
        audit_event: Some(event.id.clone()),
        created_at: b.ts,
        payload: body(event_type, b.ts, Value::Object(data)),
    })
}

/// The Standard Webhooks body: `{"type", "timestamp", "data"}`.
pub(super) fn body(t: WebhookEventType, at: Timestamp, data: Value) -> String {
    json!({ "type": t.as_str(), "timestamp": at, "data": data }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{ChainHash, ChainLink, Decision, NewEvent};
    use crate::ids::{EventId, KeyId, OrgId};

    fn event(kind: EventKind, action: &str, subject: &str) -> AuditEvent {
        let mut body = NewEvent::new(
            Timestamp::from_millis(1_700_000_000_000),
            OrgId::parse("acme").unwrap(),
            kind,
            action,
            Decision::Allowed,
        );
        body.subject = Some(subject.to_owned());
        body.subject_agent = Some("bot".to_owned());
        body.actor_key_id = Some(KeyId::parse("key_admin").unwrap());
        body.reason = Some("looped".to_owned());
        AuditEvent {
            id: EventId::parse("evt_1").unwrap(),
            body,
            chain: ChainLink {
                writer: "w".into(),
                seq: 1,
                prev_hash: ChainHash([0; 32]),
                hash: ChainHash([0; 32]),
            },
        }
    }

    fn data(m: &WebhookMessage) -> Value {
        let v: Value = serde_json::from_str(&m.payload).unwrap();
        v["data"].clone()
    }

    #[test]
    fn a_revocation_names_the_key_and_who_revoked_it() {
        let m = message_for(&event(EventKind::Admin, "revoke", "key_bot")).unwrap();
        assert_eq!(m.event_type, WebhookEventType::KeyRevoked);
        assert_eq!(m.id, "evt_1");
        let v: Value = serde_json::from_str(&m.payload).unwrap();
        assert_eq!(v["type"], "key.revoked");
        assert_eq!(v["timestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(
            v["data"],
            json!({"org": "acme", "key_id": "key_bot", "agent": "bot", "reason": "looped",
                   "by": "key_admin", "audit_event": "evt_1"})
        );
    }

    #[test]
    fn a_bulk_revocation_names_its_selection() {
        let m = message_for(&event(EventKind::Admin, "bulk_revoke", "agent:bot")).unwrap();
        assert_eq!(data(&m)["selection"], "agent:bot");
        assert!(data(&m).get("key_id").is_none());
    }

    #[test]
    fn each_announced_action_has_its_type_and_others_have_none() {
        let of = |action: &str| {
            message_for(&event(EventKind::Admin, action, "key_bot")).map(|m| m.event_type)
        };
        assert_eq!(of("quarantine"), Some(WebhookEventType::KeyQuarantined));
        assert_eq!(of("release"), Some(WebhookEventType::KeyReleased));
        assert_eq!(of("leak_reported"), Some(WebhookEventType::LeakReported));
        for quiet in ["mint", "rotate", "set_limits", "sign_in", "bootstrap"] {
            assert_eq!(of(quiet), None, "{quiet}");
        }
    }

    #[test]
    fn reported_and_tool_call_events_announce_nothing() {
        assert!(message_for(&event(EventKind::ToolCall, "revoke", "key_bot")).is_none());
        let mut reported = event(EventKind::Admin, "revoke", "key_bot");
        reported.body.reported_by = Some(KeyId::parse("key_tool").unwrap());
        assert!(message_for(&reported).is_none());
    }

    #[test]
    fn a_leaked_refresh_token_names_its_grant() {
        let m = message_for(&event(EventKind::Admin, "leak_reported", "grant_ab12")).unwrap();
        assert_eq!(data(&m)["grant_id"], "grant_ab12");
    }
}
