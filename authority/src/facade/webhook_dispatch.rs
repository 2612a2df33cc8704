//! The webhook dispatcher: one loop per server that turns the outbox
//! (`crate::webhooks`) into signed HTTP requests. It lives beside the
//! facade, not in `webhooks`, because it drives the store, and the store
//! writes the outbox with `webhooks`' types: the domain module stays free
//! of the store.
//!
//! Each turn (every `poll`): find `key.expiring` notices when a scan is
//! due, fan new outbox messages out into deliveries, claim due deliveries
//! for the free sending slots, and send each in its own task. Every server
//! sharing a store runs one; the store's claims keep two from sending the
//! same delivery at once.
//!
//! What one org can cost the others: at most one request per endpoint is in
//! flight per server, an org has at most
//! [`MAX_WEBHOOKS_PER_ORG`](crate::webhooks::MAX_WEBHOOKS_PER_ORG) endpoints, and
//! there are `concurrency` slots (16 by default), so one org's slow or
//! silent endpoints hold at most 10 slots, each for at most `timeout`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::{watch, Semaphore};

use crate::ids::WebhookId;
use crate::keys::Pepper;
use crate::outbound::{FetchLimits, Fetcher, OutboundPolicy};
use crate::store::{Store, StoreError};
use crate::time::{Clock, Timestamp};
use crate::webhooks::expiring;
use crate::webhooks::retry::wait_after;
use crate::webhooks::signing::signature_header;
use crate::webhooks::{Delivery, DeliveryState};

/// How the dispatcher paces itself; `Default` suits production.
#[derive(Debug, Clone)]
pub struct DispatchConfig {
    /// How often it looks for work.
    pub poll: Duration,
    /// The wait after a first failed attempt (it grows, see [`crate::webhooks::retry`]).
    pub first_retry: Duration,
    /// The most one attempt may take, connection included.
    pub timeout: Duration,
    /// Requests in flight at once, across endpoints.
    pub concurrency: usize,
    /// How often keys are scanned for `key.expiring` notices.
    pub expiry_scan: Duration,
    /// How far back the first scan after a start looks, so notices due
    /// while no server ran are still sent (if they fell due this recently).
    pub catch_up: Duration,
    /// How long delivered and failed deliveries stay in the log.
    pub keep_history: Duration,
    /// Where deliveries may go: public https hosts unless `allow_insecure`.
    pub outbound: OutboundPolicy,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(500),
            first_retry: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            concurrency: 16,
            expiry_scan: Duration::from_secs(60),
            catch_up: Duration::from_secs(24 * 3600),
            keep_history: Duration::from_secs(30 * 24 * 3600),
            outbound: OutboundPolicy::default(),
        }
    }
}

/// Messages fanned out per store call, and calls per turn.
const FAN_OUT_BATCH: u32 = 100;
const FAN_OUT_CALLS: u32 = 10;
/// Keys read per page of the expiry scan.
const SCAN_PAGE: u32 = 200;
/// Rows deleted per history prune call, and how often it runs.
const PRUNE_BATCH: u32 = 400;
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    Timestamp::from_millis(t.as_millis().saturating_add(millis(d)))
}

/// What the dispatcher works with.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    pepper: Pepper,
    clock: Arc<dyn Clock>,
    config: DispatchConfig,
    fetcher: Fetcher,
    in_flight: Mutex<HashSet<WebhookId>>,
    slots: Arc<Semaphore>,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        pepper: Pepper,
        clock: Arc<dyn Clock>,
        config: DispatchConfig,
    ) -> Result<Arc<Self>, crate::outbound::FetchError> {
        let fetcher = Fetcher::new(
            config.outbound,
            FetchLimits {
                max_bytes: 0,
                timeout: config.timeout,
            },
        )?;
        Ok(Arc::new(Self {
            store,
            pepper,
            clock,
            slots: Arc::new(Semaphore::new(config.concurrency.max(1))),
            config,
            fetcher,
            in_flight: Mutex::new(HashSet::new()),
        }))
    }

    /// Runs turns until `stop` fires or its sender is dropped.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<()>) {
        let start = self.clock.now();
        let mut scanned_to =
            Timestamp::from_millis(start.as_millis() - millis(self.config.catch_up));
        let mut next_scan = start;
        let mut next_prune = start;
        let mut tick = tokio::time::interval(self.config.poll);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => return,
            }
            let now = self.clock.now();
            if now >= next_scan {
                match self.scan_expiring(scanned_to, now).await {
                    Ok(()) => scanned_to = now,
                    Err(e) => tracing::warn!(error = %e, "webhooks: expiry scan failed; retrying"),
                }
                next_scan = plus(now, self.config.expiry_scan);
            }
            if let Err(e) = self.turn(now).await {
                tracing::warn!(error = %e, "webhooks: dispatch turn failed; retrying");
            }
            if now >= next_prune {
                let before =
                    Timestamp::from_millis(now.as_millis() - millis(self.config.keep_history));
                if let Err(e) = self.store.prune_webhook_history(before, PRUNE_BATCH).await {
                    tracing::warn!(error = %e, "webhooks: pruning the delivery log failed");
                }
                next_prune = plus(now, PRUNE_EVERY);
            }
        }
    }

    /// One turn: fan out, claim, and start sending.
    pub async fn turn(self: &Arc<Self>, now: Timestamp) -> Result<(), StoreError> {
        for _ in 0..FAN_OUT_CALLS {
            if self.store.fan_out_webhooks(FAN_OUT_BATCH).await? < FAN_OUT_BATCH {
                break;
            }
        }
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(());
        }
        let busy: Vec<WebhookId> = self.in_flight.lock().iter().cloned().collect();
        // The lease outlasts an attempt, so an attempt still running is never
        // claimed again; a server that dies mid-attempt frees it at the end.
        let lease_until = plus(now, self.config.timeout * 3);
        let claimed = self
            .store
            .claim_deliveries(now, lease_until, free as u32, &busy)
            .await?;
        for delivery in claimed {
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                break;
            };
            self.in_flight.lock().insert(delivery.webhook.clone());
            let me = Arc::clone(self);
            tokio::spawn(async move {
                let hook = delivery.webhook.clone();
                me.attempt(delivery).await;
                me.in_flight.lock().remove(&hook);
                drop(slot);
            });
        }
        Ok(())
    }

    /// Sends one delivery and records how it went.
    async fn attempt(&self, mut d: Delivery) {
        let hooks = match self.store.list_webhooks(&d.message.org).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "webhooks: cannot read endpoints; the lease will end and it is retried");
                return;
            }
        };
        let now = self.clock.now();
        d.attempts += 1;
        d.last_attempt_at = Some(now);
        let hook = hooks.iter().find(|h| h.id == d.webhook);
        let deleted = hook.is_none();
        let outcome = match hook {
            None => Err("the endpoint was deleted".to_owned()),
            Some(hook) => match url::Url::parse(&hook.url) {
                Err(e) => Err(format!("the endpoint's URL does not parse: {e}")),
                Ok(url) => {
                    let signature = signature_header(
                        &self.pepper,
                        hook,
                        &d.message.id,
                        now,
                        &d.message.payload,
                    );
                    let headers = [
                        ("webhook-id", d.message.id.clone()),
                        ("webhook-timestamp", now.as_secs().to_string()),
                        ("webhook-signature", signature),
                    ];
                    match self
                        .fetcher
                        .post_json(&url, &headers, d.message.payload.clone())
                        .await
                    {
                        Ok(status) => Ok(status),
                        Err(e) => Err(e.to_string()),
                    }
                }
            },
        };
        match outcome {
            Ok(status) if (200..300).contains(&status) => {
                d.state = DeliveryState::Delivered;
                d.last_status = Some(status);
                d.last_error = None;
                d.next_attempt_at = None;
            }
            other => {
                let (status, error) = match other {
                    Ok(status) => (Some(status), format!("the endpoint answered HTTP {status}")),
                    Err(e) => (None, e),
                };
                tracing::info!(webhook = %d.webhook, message = %d.message.id, attempt = d.attempts, error = %error, "webhook delivery failed");
                d.last_status = status;
                d.last_error = Some(error);
                match wait_after(d.attempts, self.config.first_retry).filter(|_| !deleted) {
                    Some(wait) => d.next_attempt_at = Some(plus(self.clock.now(), wait)),
                    None => {
                        d.state = DeliveryState::Failed;
                        d.next_attempt_at = None;
                    }
                }
            }
        }
        if let Err(e) = self.store.record_delivery(&d).await {
            // Not recorded: the lease ends and it is sent again (at least once).
            tracing::warn!(error = %e, "webhooks: cannot record a delivery attempt");
        }
    }

    /// Writes the `key.expiring` notices whose threshold passed in
    /// `(since, now]`.
    pub async fn scan_expiring(&self, since: Timestamp, now: Timestamp) -> Result<(), StoreError> {
        for (after, up_to) in expiring::windows(since, now) {
            let mut cursor = None;
            loop {
                let keys = self
                    .store
                    .keys_expiring(after, up_to, cursor.as_ref(), SCAN_PAGE)
                    .await?;
                let notices: Vec<_> = keys
                    .iter()
                    .filter_map(|k| expiring::notice(k, since, now))
                    .collect();
                if !notices.is_empty() {
                    self.store.enqueue_webhook_messages(&notices).await?;
                }
                match keys.last() {
                    Some(k) if keys.len() == SCAN_PAGE as usize => {
                        cursor = Some((k.expires_at.unwrap_or(up_to), k.id.clone()));
                    }
                    _ => break,
                }
            }
        }
        Ok(())
    }
}
