//! What the authorization server answers when it says no: RFC 6749's error
//! codes, a description for the client's developer, and for the
//! authorization endpoint, whether the answer may go back to the client at
//! all (§4.1.2.1: never to a redirect URI that is not the client's).

use crate::error::AuthorityError;

/// RFC 6749 §4.1.2.1 / §5.2, RFC 7009, RFC 7591 §3.2.2, RFC 8707 §2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    InvalidTarget,
    AccessDenied,
    InvalidRedirectUri,
    InvalidClientMetadata,
    UnsupportedTokenType,
}

impl OAuthCode {
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthCode::InvalidRequest => "invalid_request",
            OAuthCode::InvalidClient => "invalid_client",
            OAuthCode::InvalidGrant => "invalid_grant",
            OAuthCode::UnauthorizedClient => "unauthorized_client",
            OAuthCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthCode::UnsupportedResponseType => "unsupported_response_type",
            OAuthCode::InvalidScope => "invalid_scope",
            OAuthCode::InvalidTarget => "invalid_target",
            OAuthCode::AccessDenied => "access_denied",
            OAuthCode::InvalidRedirectUri => "invalid_redirect_uri",
            OAuthCode::InvalidClientMetadata => "invalid_client_metadata",
            OAuthCode::UnsupportedTokenType => "unsupported_token_type",
        }
    }
}

/// An error of the token, registration or revocation endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthError {
    #[error("{description}")]
    Refused {
        code: OAuthCode,
        description: String,
    },
    /// The store could not answer; nothing was decided (503, retry).
    #[error("the authorization server is temporarily unavailable")]
    Unavailable { cause: String },
    #[error("internal error")]
    Internal { cause: String },
}

impl OAuthError {
    pub fn refused(code: OAuthCode, description: impl Into<String>) -> Self {
        OAuthError::Refused {
            code,
            description: description.into(),
        }
    }

    /// `error` as the body carries it.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::Refused { code, .. } => code.as_str(),
            OAuthError::Unavailable { .. } => "temporarily_unavailable",
            OAuthError::Internal { .. } => "server_error",
        }
    }

    /// The cause to log on the server (never sent).
    pub fn internal_cause(&self) -> Option<&str> {
        match self {
            OAuthError::Unavailable { cause } | OAuthError::Internal { cause } => Some(cause),
            OAuthError::Refused { .. } => None,
        }
    }
}

impl From<AuthorityError> for AuthorizeError {
    fn from(e: AuthorityError) -> Self {
        match e {
            AuthorityError::Unavailable { cause } => AuthorizeError::Unavailable { cause },
            AuthorityError::Internal { cause } => AuthorizeError::Internal { cause },
            other => AuthorizeError::Page(other.to_string()),
        }
    }
}

impl From<AuthorityError> for OAuthError {
    fn from(e: AuthorityError) -> Self {
        match e {
            AuthorityError::Unavailable { cause } => OAuthError::Unavailable { cause },
            AuthorityError::Internal { cause } => OAuthError::Internal { cause },
            other => OAuthError::refused(OAuthCode::InvalidRequest, other.to_string()),
        }
    }
}

/// Where the authorization endpoint's answer goes, with its parameters:
/// a code, or an error, always with `state` when the client sent one.
/// The issuer (`iss`, RFC 9207) is added by [`url`](Self::url).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    pub redirect_uri: String,
    pub params: Vec<(&'static str, String)>,
}

impl AuthorizationResponse {
    /// The URL to send the browser to: the redirect URI with the answer
    /// and `iss` appended to its query.
    pub fn url(&self, issuer: &str) -> String {
        match url::Url::parse(&self.redirect_uri) {
            Ok(mut url) => {
                {
                    let mut q = url.query_pairs_mut();
                    for (k, v) in &self.params {
                        q.append_pair(k, v);
                    }
                    q.append_pair("iss", issuer);
                }
                url.into()
            }
            // Only checked redirect URIs get here, and they parse.
            Err(_) => self.redirect_uri.clone(),
        }
    }

    pub(crate) fn error(
        redirect_uri: &str,
        state: Option<&str>,
        code: OAuthCode,
        description: &str,
    ) -> Self {
        let mut params = vec![
            ("error", code.as_str().to_owned()),
            ("error_description", description.to_owned()),
        ];
        if let Some(s) = state {
            params.push(("state", s.to_owned()));
        }
        Self {
            redirect_uri: redirect_uri.to_owned(),
            params,
        }
    }
}

/// Why the authorization endpoint refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizeError {
    /// Shown to the person, never sent to the client: the client or its
    /// redirect URI cannot be trusted, or the person must change their answer.
    #[error("{0}")]
    Page(String),
    /// Sent back to the client at its own redirect URI.
    #[error("the request was refused")]
    Redirect(AuthorizationResponse),
    #[error("the authorization server is temporarily unavailable")]
    Unavailable { cause: String },
    #[error("internal error")]
    Internal { cause: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_keeps_the_redirect_uris_query_and_adds_iss() {
        let r = AuthorizationResponse {
            redirect_uri: "https://app.example/cb?app=1".into(),
            params: vec![("code", "abc".into()), ("state", "s p&x".into())],
        };
        assert_eq!(
            r.url("https://keys.example"),
            "https://app.example/cb?app=1&code=abc&state=s+p%26x&iss=https%3A%2F%2Fkeys.example"
        );
    }
}
