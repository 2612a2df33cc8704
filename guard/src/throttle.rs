//! The limit on unauthenticated tool calls (no key, or a key the guard
//! refuses: malformed, unknown, expired, revoked, wrong env).
//!
//! Every tool call is audited, refused ones included, so without a limit
//! anyone who can reach the tool server could fill the audit spool and the
//! trail for free. Beyond the limit a call is answered 429 with
//! `Retry-After` and is *not* audited, only counted.
//!
//! - One token bucket per client address (IPv6 per /64: one host usually
//!   holds a whole /64), so a single noisy client cannot use up the
//!   allowance of the others.
//! - One global bucket: the bound on how fast unauthenticated events are
//!   written at all, however many addresses a flood comes from.
//!
//! Calls with a valid key never reach either bucket, so others' failures
//! can never throttle them. The same buckets bound the traces of revoked
//! and expired keys refused outside tool calls (`traced`): they are
//! audited too.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};

/// How many unauthenticated tool calls the guard audits before it answers
/// 429 instead. Calls with a valid key are never counted here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnauthenticatedLimit {
    /// Calls one client address may make at once…
    pub per_client_burst: u32,
    /// …and per second after that.
    pub per_client_per_sec: u32,
    /// Calls all clients together may make at once…
    pub global_burst: u32,
    /// …and per second after that.
    pub global_per_sec: u32,
}

impl Default for UnauthenticatedLimit {
    /// A caller with a bad key retries a few times, not hundreds. At most
    /// 20 unauthenticated events a second reach the spool: a flood alone
    /// needs an authority outage of over 13 hours to fill the default
    /// 1 M-event spool.
    fn default() -> Self {
        Self {
            per_client_burst: 10,
            per_client_per_sec: 1,
            global_burst: 100,
            global_per_sec: 20,
        }
    }
}

/// The longest `Retry-After` the guard sends (a bucket that never refills
/// would otherwise say "never").
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// Client buckets kept at once: bounds memory whatever the number of
/// addresses. A forgotten bucket only gives its client a fresh burst; the
/// global bucket still holds.
const MAX_CLIENTS: u64 = 100_000;
/// An idle client's bucket is forgotten after this (at the default rate it
/// has refilled long before).
const CLIENT_IDLE: Duration = Duration::from_secs(60);
/// Throttling is logged at most this often (a flood must not become a log
/// flood); the counter has the exact number.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// A token bucket: `burst` tokens, refilled at `per_sec`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(burst),
            at: now,
        }
    }

    /// Takes one token, or says how long until one is available.
    fn take(&mut self, burst: u32, per_sec: u32, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * f64::from(per_sec)).min(f64::from(burst));
        self.at = self.at.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if per_sec == 0 {
            return Err(MAX_RETRY_AFTER);
        }
        let wait = (1.0 - self.tokens) / f64::from(per_sec);
        Err(Duration::from_secs_f64(wait).min(MAX_RETRY_AFTER))
    }
}

/// The buckets of one guard.
pub(crate) struct Throttle {
    limit: RwLock<UnauthenticatedLimit>,
    global: Mutex<Bucket>,
    clients: moka::sync::Cache<IpAddr, Arc<Mutex<Bucket>>>,
    /// Calls answered 429.
    pub(crate) throttled: AtomicU64,
    logged_at: Mutex<Option<Instant>>,
}

impl Throttle {
    pub(crate) fn new(limit: UnauthenticatedLimit) -> Self {
        Self {
            limit: RwLock::new(limit),
            global: Mutex::new(Bucket::full(limit.global_burst, Instant::now())),
            clients: moka::sync::Cache::builder()
                .max_capacity(MAX_CLIENTS)
                .time_to_idle(CLIENT_IDLE)
                .build(),
            throttled: AtomicU64::new(0),
            logged_at: Mutex::new(None),
        }
    }

    /// Replaces the limit; every bucket starts full again.
    pub(crate) fn set_limit(&self, limit: UnauthenticatedLimit) {
        *self.limit.write() = limit;
        *self.global.lock() = Bucket::full(limit.global_burst, Instant::now());
        self.clients.invalidate_all();
    }

    /// Admits one unauthenticated call from `client` (unknown when the
    /// server does not say: then only the global bucket applies), or says
    /// how many seconds to wait (at least 1, for `Retry-After`).
    pub(crate) fn admit(&self, client: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let limit = *self.limit.read();
        let admitted = client
            .map_or(Ok(()), |ip| self.take_client(ip, limit, now))
            .and_then(|()| {
                self.global
                    .lock()
                    .take(limit.global_burst, limit.global_per_sec, now)
            });
        admitted.map_err(|wait| {
            let total = self.throttled.fetch_add(1, Ordering::Relaxed) + 1;
            let mut logged_at = self.logged_at.lock();
            if logged_at.is_none_or(|at| now.saturating_duration_since(at) >= LOG_EVERY) {
                *logged_at = Some(now);
                tracing::warn!(
                    total,
                    client = ?client,
                    "requests without a valid key are throttled (429, not audited)"
                );
            }
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    fn take_client(
        &self,
        ip: IpAddr,
        limit: UnauthenticatedLimit,
        now: Instant,
    ) -> Result<(), Duration> {
        let bucket = self.clients.get_with(client_key(ip), || {
            Arc::new(Mutex::new(Bucket::full(limit.per_client_burst, now)))
        });
        let mut bucket = bucket.lock();
        bucket.take(limit.per_client_burst, limit.per_client_per_sec, now)
    }
}

/// The bucket a client address shares: itself for IPv4, its /64 for IPv6.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            segments[4..].fill(0);
            IpAddr::V6(Ipv6Addr::from(segments))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: UnauthenticatedLimit = UnauthenticatedLimit {
        per_client_burst: 3,
        per_client_per_sec: 1,
        global_burst: 5,
        global_per_sec: 1,
    };

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn each_client_has_its_burst_and_all_share_the_global_one() {
        let throttle = Throttle::new(LIMIT);
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(throttle.admit(ip("10.0.0.1"), now), Ok(()));
        }
        assert_eq!(throttle.admit(ip("10.0.0.1"), now), Err(1));
        // Another client still has its own burst, until the global one is spent.
        assert_eq!(throttle.admit(ip("10.0.0.2"), now), Ok(()));
        assert_eq!(throttle.admit(None, now), Ok(()));
        assert_eq!(throttle.admit(ip("10.0.0.3"), now), Err(1));
        assert_eq!(throttle.throttled.load(Ordering::Relaxed), 2);
        // Refilled at the configured rate.
        let later = now + Duration::from_secs(1);
        assert_eq!(throttle.admit(ip("10.0.0.1"), later), Ok(()));
        assert_eq!(throttle.admit(ip("10.0.0.1"), later), Err(1));
    }

    #[test]
    fn an_ipv6_slash_64_is_one_client() {
        let throttle = Throttle::new(UnauthenticatedLimit {
            global_burst: 100,
            ..LIMIT
        });
        let now = Instant::now();
        for host in 1..=3 {
            let addr = format!("2001:db8:1:2::{host}");
            assert_eq!(throttle.admit(ip(&addr), now), Ok(()));
        }
        assert!(throttle.admit(ip("2001:db8:1:2:ffff::9"), now).is_err());
        assert_eq!(throttle.admit(ip("2001:db8:1:3::1"), now), Ok(()));
    }

    #[test]
    fn a_bucket_that_never_refills_says_retry_later_not_never() {
        let throttle = Throttle::new(UnauthenticatedLimit {
            per_client_burst: 0,
            per_client_per_sec: 0,
            ..LIMIT
        });
        let wait = throttle.admit(ip("10.0.0.1"), Instant::now());
        assert_eq!(wait, Err(MAX_RETRY_AFTER.as_secs()));
    }
}
