//! The REST error envelope: `{"error": {"code": "...", "message": "..."}}`
//! with the right status.
//!
//! Every handler returns [`ApiError`] on failure. The public message is
//! what the caller may see; an internal cause (a store failure, say) is
//! logged here and never sent.

use authority::AuthorityError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use model::wire::bearer::{self, Challenge};
use model::wire::ErrorEnvelope;

/// A failed request, ready to be rendered as the error envelope.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Seconds, for 429.
    retry_after: Option<u64>,
    /// For 403 `insufficient_scope`: the scope that would have allowed it.
    missing_scope: Option<String>,
    /// For 401: the request carried no credential at all (RFC 6750 §3.1:
    /// the challenge then names no error).
    no_credential: bool,
}

/// The HTTP status of each authority error: chosen here, not in the authority.
pub fn status_of(error: &AuthorityError) -> StatusCode {
    match error {
        AuthorityError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AuthorityError::Forbidden { .. } => StatusCode::FORBIDDEN,
        AuthorityError::NotFound => StatusCode::NOT_FOUND,
        AuthorityError::Conflict(_) => StatusCode::CONFLICT,
        AuthorityError::InvalidField { .. } | AuthorityError::InvalidScope(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        AuthorityError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AuthorityError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            missing_scope: None,
            no_credential: false,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed_request", message)
    }

    pub fn invalid_field(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such resource in your org",
        )
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is larger than the {limit} bytes this endpoint accepts"),
        )
    }

    /// 401 for a request without any credential.
    pub fn no_credential(code: &'static str, message: impl Into<String>) -> Self {
        let mut error = Self::unauthenticated(code, message);
        error.no_credential = true;
        error
    }

    pub fn unauthenticated(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many failed authentications from your address; try again in {retry_after_secs} s"
            ),
        );
        error.retry_after = Some(retry_after_secs);
        error
    }

    /// 429 for a limit other than failed authentications, saying which.
    pub fn rate_limited_because(retry_after_secs: u64, message: String) -> Self {
        let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", message);
        error.retry_after = Some(retry_after_secs);
        error
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &'static str {
        self.code
    }
}

impl From<AuthorityError> for ApiError {
    fn from(error: AuthorityError) -> Self {
        if let Some(cause) = error.internal_cause() {
            // The cause may name files or backend details: logs only.
            tracing::error!(code = error.code(), cause, "authority error");
        }
        let message = match &error {
            AuthorityError::NotFound => "no such resource in your org".to_owned(),
            other => other.to_string(),
        };
        let mut api_error = Self::new(status_of(&error), error.code(), message);
        if let AuthorityError::Forbidden {
            missing: Some(scope),
            ..
        } = &error
        {
            api_error.missing_scope = Some(scope.to_string());
        }
        api_error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let envelope = ErrorEnvelope::new(self.code, self.message);
        let mut response = (self.status, axum::Json(envelope)).into_response();
        let headers = response.headers_mut();
        // RFC 6750 §3.1: no error code when the request carried no credential.
        let challenge = match self.status {
            StatusCode::UNAUTHORIZED if self.no_credential => Some(Challenge::NoCredential),
            StatusCode::UNAUTHORIZED => Some(Challenge::InvalidToken {
                description: self.code,
            }),
            StatusCode::FORBIDDEN => Some(Challenge::InsufficientScope {
                scope: self.missing_scope.as_deref(),
            }),
            _ => None,
        };
        if let Some(challenge) = challenge {
            if let Ok(value) = HeaderValue::from_str(&bearer::challenge(challenge)) {
                headers.insert(header::WWW_AUTHENTICATE, value);
            }
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
