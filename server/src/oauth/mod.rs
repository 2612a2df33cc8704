//! The OAuth 2.1 authorization server's HTTP endpoints, outside the
//! dashboard (clients post to them cross-origin, with no cookie) and
//! outside `/api/v1` (they answer in OAuth's own error format):
//!
//! - `GET /.well-known/oauth-authorization-server` (RFC 8414)
//! - `POST /oauth/register` (RFC 7591), rate-limited per address
//! - `POST /oauth/token` (authorization code + PKCE, refresh rotation)
//! - `POST /oauth/revoke` (RFC 7009)
//!
//! `/oauth/authorize` is a dashboard page (the consent page): the person
//! must be signed in. Handlers are thin: parse, call one authority
//! method, map the error.

mod endpoints;

use std::sync::Arc;

use authority::oauth::OAuthError;
use authority::throttle::{retry_after_secs, FailureThrottle};
use authority::Authority;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use model::wire::OAuthErrorBody;

/// Registrations one address may make per minute.
pub const REGISTRATIONS_PER_MINUTE: u32 = 10;

#[derive(Clone)]
pub struct OAuthState {
    pub authority: Authority,
    /// This server's issuer identifier (its public URL).
    pub issuer: Arc<str>,
    pub registrations: Arc<FailureThrottle>,
}

/// The endpoints above, for the issuer `issuer` (no trailing slash).
pub fn router(authority: Authority, issuer: &str) -> Router {
    let registrations = FailureThrottle::shared_with(REGISTRATIONS_PER_MINUTE);
    let state = OAuthState {
        authority,
        issuer: issuer.trim_end_matches('/').into(),
        registrations,
    };
    Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(endpoints::metadata),
        )
        .route("/oauth/register", post(endpoints::register))
        .route("/oauth/token", post(endpoints::token))
        .route("/oauth/revoke", post(endpoints::revoke))
        .with_state(state)
}

/// An OAuth error response: 400 (401 for a client that failed to
/// authenticate, 503 when the store could not answer), never cached.
pub(crate) struct OAuthReply(pub OAuthError);

impl IntoResponse for OAuthReply {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            OAuthError::Refused { code, .. } if code.as_str() == "invalid_client" => {
                StatusCode::UNAUTHORIZED
            }
            OAuthError::Refused { .. } => StatusCode::BAD_REQUEST,
            OAuthError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            OAuthError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let Some(cause) = self.0.internal_cause() {
            tracing::error!(%cause, code = self.0.code(), "oauth endpoint failed");
        }
        let body = OAuthErrorBody {
            error: self.0.code().to_owned(),
            error_description: self.0.to_string(),
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"acekeys\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

/// 429 for an address over its registration budget.
pub(crate) fn too_many(wait: std::time::Duration) -> Response {
    let body = OAuthErrorBody {
        error: "too_many_requests".into(),
        error_description: "too many client registrations from this address; try again later"
            .into(),
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&retry_after_secs(wait).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}
