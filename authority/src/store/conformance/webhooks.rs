//! Conformance cases for webhooks: the outbox message is written with its
//! admin event, each message is fanned out once to the endpoints that
//! receive it, a delivery is claimed by one caller at a time, and the expiry
//! scan pages through keys of every org.

use super::*;
use crate::ids::WebhookId;
use crate::webhooks::{
    expiring, Delivery, DeliveryState, SecretSalt, WebhookEventType, WebhookRecord,
};

fn hook(org: &str, events: &[WebhookEventType], created_at: Timestamp) -> WebhookRecord {
    WebhookRecord {
        id: WebhookId::generate(),
        org: org_id(org),
        url: "https://hooks.example.com/acekeys".into(),
        events: events.to_vec(),
        description: None,
        created_at,
        salt: SecretSalt::random(),
        secret_since: created_at,
        previous: None,
    }
}

/// Mints a key of `org` and revokes it at `at` with an announced
/// `revoke` event; returns the key and the event.
async fn minted_then_revoked(
    s: &dyn Store,
    ev: &mut Events,
    org: &str,
    name: &str,
    at: Timestamp,
) -> (KeyRecord, AuditEvent) {
    let k = key(org, name, Some("bot"), T0);
    s.insert_key(&k, &ev.admin(org, "mint", T0)).await.unwrap();
    let mut body = NewEvent::new(
        at,
        org_id(org),
        EventKind::Admin,
        "revoke",
        Decision::Allowed,
    );
    body.subject = Some(k.id.to_string());
    let event = ev.0.place(EventId::generate(), body);
    s.revoke_key(&org_id(org), &k.id, &rev(at, "done"), &event)
        .await
        .unwrap();
    (k, event)
}

async fn claim_all(s: &dyn Store, now: Timestamp) -> Vec<Delivery> {
    s.claim_deliveries(now, now.plus_secs(60), 100, &[])
        .await
        .unwrap()
}

pub async fn webhook_messages_go_out_once_to_the_endpoints_that_take_them<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    s.create_org(
        &org("beta"),
        &key("beta", "admin", None, T0),
        &ev.admin("beta", "bootstrap", T0),
    )
    .await
    .unwrap();
    let all = hook("acme", &WebhookEventType::ALL, T0);
    let released_only = hook("acme", &[WebhookEventType::KeyReleased], T0);
    let beta = hook("beta", &WebhookEventType::ALL, T0);
    for h in [&all, &released_only, &beta] {
        s.put_webhook(h, &ev.admin(h.org.as_str(), "webhook_create", T0))
            .await
            .unwrap();
    }
    let listed = s.list_webhooks(&org_id("acme")).await.unwrap();
    let ids: Vec<&WebhookId> = listed.iter().map(|h| &h.id).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&&all.id) && ids.contains(&&released_only.id));
    assert_eq!(
        s.list_webhooks(&org_id("beta")).await.unwrap(),
        std::slice::from_ref(&beta)
    );

    // A revocation: its message is in the outbox with the event.
    let (k, event) = minted_then_revoked(&*s, &mut ev, "acme", "bot", T0.plus_secs(1)).await;
    assert_eq!(
        s.fan_out_webhooks(100).await.unwrap(),
        1,
        "one message: the revocation"
    );
    assert_eq!(s.fan_out_webhooks(100).await.unwrap(), 0, "fanned out once");

    let now = T0.plus_secs(10);
    let claimed = claim_all(&*s, now).await;
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    let mut d = claimed[0].clone();
    assert_eq!(d.webhook, all.id);
    assert_eq!(d.message.id, event.id.to_string());
    assert_eq!(d.message.event_type, WebhookEventType::KeyRevoked);
    assert!(d.message.payload.contains(k.id.as_str()));
    assert!(claim_all(&*s, now).await.is_empty(), "leased");

    // A failed attempt comes back when due; a delivered one never does.
    d.attempts = 1;
    d.last_status = Some(503);
    d.next_attempt_at = Some(now.plus_secs(5));
    s.record_delivery(&d).await.unwrap();
    assert!(claim_all(&*s, now.plus_secs(4)).await.is_empty());
    let again = claim_all(&*s, now.plus_secs(5)).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    let mut done = again[0].clone();
    done.state = DeliveryState::Delivered;
    done.attempts = 2;
    done.last_status = Some(204);
    done.next_attempt_at = None;
    s.record_delivery(&done).await.unwrap();
    assert!(claim_all(&*s, now.plus_days(10)).await.is_empty());

    let log = s
        .list_deliveries(&org_id("acme"), &all.id, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].state, DeliveryState::Delivered);
    assert!(
        s.list_deliveries(&org_id("beta"), &all.id, 10)
            .await
            .unwrap()
            .is_empty(),
        "another org's endpoint"
    );

    // A notice enqueued twice is one message; an endpoint added after a
    // message was made does not get it.
    let mut soon = key("acme", "soon", None, T0.plus_days(-30));
    soon.expires_at = Some(now.plus_secs(3600));
    let notice = expiring::notice(&soon, now.plus_days(-2), now).expect("a 1-day notice");
    s.enqueue_webhook_messages(&[notice.clone(), notice.clone()])
        .await
        .unwrap();
    s.enqueue_webhook_messages(std::slice::from_ref(&notice))
        .await
        .unwrap();
    let late = hook("acme", &WebhookEventType::ALL, now.plus_secs(1));
    s.put_webhook(&late, &ev.admin("acme", "webhook_create", now))
        .await
        .unwrap();
    assert_eq!(s.fan_out_webhooks(100).await.unwrap(), 1);
    let claimed = claim_all(&*s, now.plus_days(10)).await;
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    assert_eq!(claimed[0].webhook, all.id);
    assert_eq!(claimed[0].message.id, notice.id);

    // Busy endpoints are skipped.
    minted_then_revoked(&*s, &mut ev, "acme", "bot2", now.plus_secs(2)).await;
    s.fan_out_webhooks(100).await.unwrap();
    let far = now.plus_days(20);
    let skipped = s
        .claim_deliveries(far, far.plus_secs(60), 100, std::slice::from_ref(&late.id))
        .await
        .unwrap();
    assert!(skipped.iter().all(|d| d.webhook != late.id), "{skipped:?}");

    // Deleting: only in its own org, once.
    assert!(!s
        .delete_webhook(
            &org_id("beta"),
            &all.id,
            &ev.admin("beta", "webhook_delete", far)
        )
        .await
        .unwrap());
    assert!(s
        .delete_webhook(
            &org_id("acme"),
            &all.id,
            &ev.admin("acme", "webhook_delete", far)
        )
        .await
        .unwrap());
    assert!(!s
        .delete_webhook(
            &org_id("acme"),
            &all.id,
            &ev.admin("acme", "webhook_delete", far)
        )
        .await
        .unwrap());
    assert_eq!(s.list_webhooks(&org_id("acme")).await.unwrap().len(), 2);

    // History: finished deliveries and fanned-out messages go; pending stay.
    let pruned = s
        .prune_webhook_history(far.plus_days(100), 1000)
        .await
        .unwrap();
    assert!(pruned >= 2, "{pruned}");
    assert!(s
        .list_deliveries(&org_id("acme"), &all.id, 10)
        .await
        .unwrap()
        .iter()
        .all(|d| d.state == DeliveryState::Pending));
}

pub async fn a_delivery_is_claimed_by_one_caller_at_a_time<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let hooks: Vec<WebhookRecord> = (0..6)
        .map(|_| hook("acme", &WebhookEventType::ALL, T0))
        .collect();
    for h in &hooks {
        s.put_webhook(h, &ev.admin("acme", "webhook_create", T0))
            .await
            .unwrap();
    }
    minted_then_revoked(&*s, &mut ev, "acme", "bot", T0.plus_secs(1)).await;
    let fanned: u32 = at_once(3, &s, |s| async move { s.fan_out_webhooks(10).await })
        .await
        .into_iter()
        .sum();
    assert_eq!(fanned, 1, "one caller fans the message out");
    let mut ids: Vec<String> = at_once(4, &s, |s| async move {
        let now = T0.plus_secs(5);
        s.claim_deliveries(now, now.plus_secs(60), 6, &[]).await
    })
    .await
    .into_iter()
    .flatten()
    .map(|d| d.id())
    .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "a delivery was claimed twice");
    assert_eq!(total, 6, "one delivery per endpoint");
}

/// Runs `call` on `n` tasks at once and collects what each returned.
async fn at_once<T, Fut>(n: usize, s: &Arc<dyn Store>, call: fn(Arc<dyn Store>) -> Fut) -> Vec<T>
where
    T: Send + 'static,
    Fut: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|_| tokio::spawn(call(s.clone()))).collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("task").expect("store call"));
    }
    out
}

pub async fn expiring_keys_are_found_across_orgs_by_expiry<F: StoreFactory>(f: &F) {
    let mut ev = Events::new();
    let (_loc, s, _admin) = with_org(f, &mut ev).await;
    let admin_b = key("beta", "admin", None, T0);
    s.create_org(&org("beta"), &admin_b, &ev.admin("beta", "bootstrap", T0))
        .await
        .unwrap();
    let mut made = Vec::new();
    for (i, org) in ["acme", "beta", "acme", "beta", "acme"]
        .into_iter()
        .enumerate()
    {
        let mut k = key(org, &format!("k{i}"), None, T0);
        k.expires_at = Some(T0.plus_days(200).plus_secs(i as i64));
        s.insert_key(&k, &ev.admin(org, "mint", T0)).await.unwrap();
        made.push(k);
    }
    let after = T0.plus_days(200);
    let up_to = T0.plus_days(200).plus_secs(3);
    let first = s.keys_expiring(after, up_to, None, 2).await.unwrap();
    let names: Vec<&str> = first.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["k1", "k2"], "(after, up_to], by expiry");
    let last = first.last().unwrap();
    let cursor = (last.expires_at.unwrap(), last.id.clone());
    let next = s
        .keys_expiring(after, up_to, Some(&cursor), 2)
        .await
        .unwrap();
    let names: Vec<&str> = next.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["k3"]);
}
