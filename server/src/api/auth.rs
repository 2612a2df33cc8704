//! Authenticating REST callers: the Bearer key, the scope each endpoint
//! requires, and a limit on failed attempts per client address.
//!
//! Rules:
//! - The decision is the authority's (`Authority::authorize`); this module
//!   only reads the header, maps the outcome, and counts failures.
//! - Unknown, expired, revoked and other-org keys get one identical answer,
//!   so a caller without a valid key learns nothing about which it holds.
//! - Only failures are throttled: after too many failed authentications
//!   from one client address, that address's *failed* attempts get 429 with
//!   `Retry-After` until the window passes. A key that authenticates is
//!   never refused because others behind the same address (a NAT, a proxy)
//!   failed. The client address is [`crate::client_addr`]'s.
//! - The limiter's memory is pruned every minute, and the block list holds
//!   at most 100,000 addresses, so a flood of spoofed sources cannot grow
//!   it without bound.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authority::{Authority, AuthorityError, KeyContext, Scope, Unauthenticated};
use axum::http::{header, HeaderMap, HeaderValue};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use model::wire::bearer::{self, BearerError};

use crate::error::ApiError;

/// How many failed authentications an address may make per minute.
const FAILURES_PER_MINUTE: u32 = 20;

/// The public answer for any key that does not authenticate.
const INVALID_KEY_MESSAGE: &str =
    "the API key is not valid: it is unknown, expired or revoked. Check the key or ask your org admin for a new one";

/// Failed-authentication accounting per client address.
pub struct AuthGate {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    blocked_until: moka::sync::Cache<IpAddr, Instant>,
}

impl AuthGate {
    pub fn new() -> Self {
        Self::with_failures_per_minute(FAILURES_PER_MINUTE)
    }

    pub fn with_failures_per_minute(per_minute: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        Self {
            failures: RateLimiter::keyed(Quota::per_minute(per_minute)),
            blocked_until: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(120))
                .build(),
        }
    }

    /// A gate shared by the API's handlers, pruned every minute for as long
    /// as it is in use.
    pub fn shared() -> Arc<Self> {
        let gate = Arc::new(Self::new());
        let weak = Arc::downgrade(&gate);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            every.tick().await;
            loop {
                every.tick().await;
                let Some(gate) = weak.upgrade() else { break };
                gate.failures.retain_recent();
                gate.failures.shrink_to_fit();
            }
        });
        gate
    }

    /// Authenticates the request's Bearer key for `required`.
    pub async fn authorize(
        &self,
        authority: &Authority,
        headers: &HeaderMap,
        client: IpAddr,
        required: &Scope,
    ) -> Result<Arc<KeyContext>, ApiError> {
        let raw_key = match bearer_key(headers) {
            Ok(raw_key) => raw_key,
            Err(missing) => return Err(self.blocked(client).unwrap_or(missing)),
        };
        match authority.authorize(raw_key, required).await {
            Ok(context) => Ok(context),
            Err(AuthorityError::Unauthenticated(why)) => {
                crate::metrics::denied(why.code());
                if let Some(blocked) = self.blocked(client) {
                    return Err(blocked);
                }
                if let Err(not_until) = self.failures.check_key(&client) {
                    let wait = not_until.wait_time_from(governor::clock::Clock::now(
                        &governor::clock::DefaultClock::default(),
                    ));
                    let now = Instant::now();
                    let until = now + wait.max(Duration::from_secs(1));
                    self.blocked_until.insert(client, until);
                    tracing::warn!(%client, "failed-authentication limit reached");
                    return Err(ApiError::rate_limited(seconds_until(until, now)));
                }
                Err(public_unauthenticated(why))
            }
            Err(other) => {
                crate::metrics::denied(other.code());
                Err(other.into())
            }
        }
    }
}

impl AuthGate {
    /// The 429 for an address inside its block window.
    fn blocked(&self, client: IpAddr) -> Option<ApiError> {
        let until = self.blocked_until.get(&client)?;
        let now = Instant::now();
        (until > now).then(|| ApiError::rate_limited(seconds_until(until, now)))
    }
}

impl Default for AuthGate {
    fn default() -> Self {
        Self::new()
    }
}

fn seconds_until(until: Instant, now: Instant) -> u64 {
    until
        .saturating_duration_since(now)
        .as_secs_f64()
        .ceil()
        .max(1.0) as u64
}

/// Collapses the outcomes a probing caller must not tell apart.
fn public_unauthenticated(why: Unauthenticated) -> ApiError {
    match why {
        why if why.reveals_stored_state() => {
            ApiError::unauthenticated("invalid_key", INVALID_KEY_MESSAGE)
        }
        // Malformed keys and wrong-env keys reveal nothing about stored keys,
        // and saying exactly what is wrong saves the caller a support ticket.
        Unauthenticated::WrongEnv { .. } => ApiError::unauthenticated("wrong_env", why.to_string()),
        Unauthenticated::Malformed(_) => {
            ApiError::unauthenticated("malformed_key", why.to_string())
        }
        other => ApiError::unauthenticated(other.code(), other.to_string()),
    }
}

/// The raw key from `Authorization: Bearer …`.
pub fn bearer_key(headers: &HeaderMap) -> Result<&str, ApiError> {
    bearer::credential(
        headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes),
    )
    .map_err(|why| match why {
        BearerError::Missing => ApiError::no_credential(why.code(), why.message()),
        BearerError::Malformed(_) => ApiError::unauthenticated(why.code(), why.message()),
    })
}
