//! Server-side helpers for server functions: the dashboard's shared state
//! (from Leptos context) and the request's session (from the request
//! extensions the server's middleware filled).

use std::sync::Arc;

use authority::sessions::SessionToken;
use authority::{Authority, KeyContext};
use http::request::Parts;
use http::{header::SET_COOKIE, HeaderValue};
use leptos::prelude::*;

use crate::error::DashError;

/// Provided as Leptos context by the server for every page and server function.
#[derive(Clone)]
pub struct DashboardState {
    pub authority: Authority,
    /// Mark the cookie `Secure` (the dashboard is served over TLS).
    pub secure_cookies: bool,
    /// Failed sign-ins per client address (shared with the REST API).
    pub throttle: Arc<authority::throttle::FailureThrottle>,
}

/// A request extension: the request's live session.
#[derive(Clone)]
pub struct SignedIn {
    pub principal: Arc<KeyContext>,
    pub token: SessionToken,
}

/// A request extension: the peer address, for audit events.
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

pub fn dashboard() -> Result<DashboardState, DashError> {
    use_context::<DashboardState>().ok_or(DashError::Internal)
}

pub fn signed_in() -> Option<SignedIn> {
    use_context::<Parts>()?
        .extensions
        .get::<SignedIn>()
        .cloned()
}

/// A request extension: the request carried a session cookie but the
/// store could not be read to check it. The session is neither accepted
/// nor ended; callers are told to retry.
#[derive(Clone, Copy, Debug)]
pub struct SessionUnavailable;

/// The signed-in principal; [`DashError::Unavailable`] when the session
/// could not be checked, else [`DashError::SignedOut`].
pub fn principal() -> Result<Arc<KeyContext>, DashError> {
    if let Some(s) = signed_in() {
        return Ok(s.principal);
    }
    let unavailable = use_context::<Parts>()
        .is_some_and(|parts| parts.extensions.get::<SessionUnavailable>().is_some());
    Err(if unavailable {
        DashError::Unavailable
    } else {
        DashError::SignedOut
    })
}

pub fn client_ip() -> Option<String> {
    use_context::<Parts>()?
        .extensions
        .get::<ClientIp>()
        .map(|ip| ip.0.clone())
}

pub fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        response.append_header(SET_COOKIE, value);
    }
}
