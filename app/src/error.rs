//! The one error type every dashboard server function returns.
//!
//! Messages are written for the person at the keyboard: each says what
//! happened and what to do next. The authority's public messages (never its
//! internal causes) are passed through.
//!
//! On the server each error also sets its own HTTP status as it becomes the
//! response (see [`DashError::status`]): Leptos would answer every `Err`
//! with 500, and a refused sign-in or an ended session is not a server fault.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::{Bytes, Encodes};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum DashError {
    /// No session, or it ended (idle, too old, key revoked or expired).
    #[error("You are signed out. Sign in again with an admin key.")]
    SignedOut,
    /// The sign-in key was refused; the message says why.
    #[error("{0}")]
    SignInRefused(String),
    /// The signed-in key may not do this.
    #[error("Not allowed: {0}")]
    Forbidden(String),
    #[error("Not found: it may have been deleted, or it belongs to another org.")]
    NotFound,
    /// A field is wrong; the message names it.
    #[error("{0}")]
    Invalid(String),
    #[error("Could not do that: {0}")]
    Conflict(String),
    #[error("The key authority is temporarily unavailable. Try again in a moment.")]
    Unavailable,
    /// Too many failed sign-ins from this address; seconds to wait.
    #[error("Too many failed sign-ins from your address. Try again in {0} s.")]
    TooManyAttempts(u64),
    #[error(
        "Something went wrong on the server. Try again; if it persists, check the server log."
    )]
    Internal,
    /// The request did not reach the function or its answer did not come back.
    #[error("The server could not be reached ({0}). Check your connection and try again.")]
    Transport(String),
}

impl FromServerFnError for DashError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        DashError::Transport(value.to_string())
    }

    /// Called on the server, inside the server function's context, as the
    /// error becomes the response body: the one place its status is set.
    fn ser(&self) -> Bytes {
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(self.status());
        }
        <Self as FromServerFnError>::Encoder::encode(self)
            .unwrap_or_else(|_| Bytes::from_static(br#""Internal""#))
    }
}

#[cfg(feature = "ssr")]
impl DashError {
    /// The HTTP status this error means.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            DashError::SignedOut | DashError::SignInRefused(_) => StatusCode::UNAUTHORIZED,
            DashError::Forbidden(_) => StatusCode::FORBIDDEN,
            DashError::NotFound => StatusCode::NOT_FOUND,
            DashError::Conflict(_) => StatusCode::CONFLICT,
            DashError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            DashError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            DashError::TooManyAttempts(_) => StatusCode::TOO_MANY_REQUESTS,
            DashError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            DashError::Transport(_) => StatusCode::BAD_REQUEST,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<authority::AuthorityError> for DashError {
    fn from(e: authority::AuthorityError) -> Self {
        use authority::AuthorityError as E;
        match e {
            E::Unauthenticated(_) => DashError::SignedOut,
            E::Forbidden { message, .. } => DashError::Forbidden(message),
            E::NotFound => DashError::NotFound,
            E::Conflict(message) => DashError::Conflict(message),
            e @ (E::InvalidField { .. } | E::InvalidScope(_)) => DashError::Invalid(e.to_string()),
            E::Unavailable { .. } => DashError::Unavailable,
            E::Internal { .. } => DashError::Internal,
        }
    }
}
