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
//! - The throttle is `authority::throttle`'s, shared with the dashboard's
//!   sign-in (one budget per address whichever way it tries).

use std::net::IpAddr;
use std::sync::Arc;

use authority::throttle::{retry_after_secs, FailureThrottle};
use authority::{Authority, AuthorityError, KeyContext, Scope, Unauthenticated};
use axum::http::{header, HeaderMap, HeaderValue};
use model::wire::bearer::{self, BearerError};

use crate::error::ApiError;

/// Authentication for the REST API, with the failure throttle it shares
/// with the dashboard's sign-in.
pub struct AuthGate {
    throttle: Arc<FailureThrottle>,
}

impl AuthGate {
    pub fn new(throttle: Arc<FailureThrottle>) -> Self {
        Self { throttle }
    }

    /// Whether `client` is blocked for its failed attempts (how long).
    pub fn blocked(&self, client: IpAddr) -> Option<std::time::Duration> {
        self.throttle.blocked(client)
    }

    /// Counts a failed attempt of `client` that is not a key (a report's
    /// bad signature); `Some` when it is now blocked.
    pub fn failed(&self, client: IpAddr) -> Option<std::time::Duration> {
        self.throttle.failed(client)
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
            Err(missing) => {
                return Err(self.throttle.blocked(client).map_or(missing, rate_limited))
            }
        };
        match authority
            .authorize_from(raw_key, required, Some(client))
            .await
        {
            Ok(context) => Ok(context),
            Err(AuthorityError::Unauthenticated(why)) => {
                crate::metrics::denied(why.code());
                if let Some(wait) = self.throttle.failed(client) {
                    return Err(rate_limited(wait));
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

fn rate_limited(wait: std::time::Duration) -> ApiError {
    ApiError::rate_limited(retry_after_secs(wait))
}

/// Collapses the outcomes a probing caller must not tell apart
/// (`Unauthenticated::public_code`).
fn public_unauthenticated(why: Unauthenticated) -> ApiError {
    ApiError::unauthenticated(why.public_code(), why.public_message())
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
