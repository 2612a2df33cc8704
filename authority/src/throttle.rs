//! Failed-authentication throttling per client address: one rule for every
//! way in (the REST API and the dashboard's sign-in share one instance).
//!
//! Rules:
//! - Only failures count, and only failures are refused: past
//!   [`FAILURES_PER_MINUTE`] failed attempts an address's next *failed*
//!   attempts are refused until the window passes, while a key that
//!   authenticates from the same address (a NAT, a proxy) is never refused
//!   for its neighbours' failures.
//! - Bounded memory: the limiter forgets idle addresses every minute and
//!   the block list holds at most [`MAX_BLOCKED`] addresses.
//!
//! The transport decides what the client address is and how a refusal is
//! answered (HTTP 429 with `Retry-After`).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Failed authentications an address may make per minute.
pub const FAILURES_PER_MINUTE: u32 = 20;
/// The most addresses blocked at once.
pub const MAX_BLOCKED: u64 = 100_000;

pub struct FailureThrottle {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    blocked_until: moka::sync::Cache<IpAddr, Instant>,
}

impl FailureThrottle {
    pub fn new(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            failures: RateLimiter::keyed(Quota::per_minute(per_minute)),
            blocked_until: moka::sync::Cache::builder()
                .max_capacity(MAX_BLOCKED)
                .time_to_live(Duration::from_secs(120))
                .build(),
        }
    }

    /// A throttle with the default budget, pruned every minute for as long
    /// as it is in use. Must be called inside a Tokio runtime.
    pub fn shared() -> Arc<Self> {
        Self::shared_with(FAILURES_PER_MINUTE)
    }

    /// [`shared`](Self::shared) with another budget per minute.
    pub fn shared_with(per_minute: u32) -> Arc<Self> {
        let throttle = Arc::new(Self::new(per_minute));
        let weak = Arc::downgrade(&throttle);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            every.tick().await;
            loop {
                every.tick().await;
                let Some(throttle) = weak.upgrade() else {
                    break;
                };
                throttle.failures.retain_recent();
                throttle.failures.shrink_to_fit();
            }
        });
        throttle
    }

    /// How long `client`'s failed attempts are still refused, if they are.
    pub fn blocked(&self, client: IpAddr) -> Option<Duration> {
        let until = self.blocked_until.get(&client)?;
        let now = Instant::now();
        (until > now).then(|| until - now)
    }

    /// Counts a failed attempt. `Some(wait)` when this attempt is one too
    /// many (or the address was already blocked): refuse it, saying when
    /// to try again.
    pub fn failed(&self, client: IpAddr) -> Option<Duration> {
        if let Some(wait) = self.blocked(client) {
            return Some(wait);
        }
        let not_until = self.failures.check_key(&client).err()?;
        let wait = not_until
            .wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ))
            .max(Duration::from_secs(1));
        self.blocked_until.insert(client, Instant::now() + wait);
        tracing::warn!(%client, "failed-authentication limit reached");
        Some(wait)
    }
}

/// Whole seconds to wait, at least one (for `Retry-After`).
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_count_and_each_address_has_its_own_budget() {
        let throttle = FailureThrottle::new(3);
        let a: IpAddr = [192, 0, 2, 1].into();
        let b: IpAddr = [192, 0, 2, 2].into();
        for _ in 0..3 {
            assert_eq!(throttle.failed(a), None);
        }
        let wait = throttle.failed(a).expect("the fourth failure is refused");
        assert!(retry_after_secs(wait) >= 1);
        assert!(throttle.blocked(a).is_some());
        assert_eq!(throttle.blocked(b), None);
        assert_eq!(throttle.failed(b), None);
    }
}
