//! OAuth 2.1 bodies: the authorization server's metadata (RFC 8414), the
//! authorization request and the consent page's view of it, the token
//! endpoint's answers (RFC 6749 §5), dynamic client registration
//! (RFC 7591), and grants as the Connected apps page lists them.

use serde::{Deserialize, Serialize};

use crate::ids::{GrantId, KeyId, OrgId};
use crate::scopes::ScopeSet;
use crate::time::Timestamp;

/// RFC 8414 §2, the fields acekeys publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub registration_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    pub response_types_supported: Vec<String>,
    pub response_modes_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub code_challenge_methods_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
    pub client_id_metadata_document_supported: bool,
    pub authorization_response_iss_parameter_supported: bool,
}

/// `GET /oauth/authorize`'s query (RFC 6749 §4.1.1, RFC 7636, RFC 8707),
/// as the consent page passes it on. Every field is optional here so that
/// a missing one is answered with the right error, not a parse failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationParams {
    #[serde(default)]
    pub response_type: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub code_challenge_method: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
}

impl AuthorizationParams {
    /// The parameters of an authorization request's query, read through
    /// `get` (a query map's lookup); unknown ones are ignored, as RFC 6749
    /// §3.1 asks. The consent page and its form post both read them here.
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            response_type: get("response_type"),
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            scope: get("scope"),
            state: get("state"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            resource: get("resource"),
        }
    }
}

/// One scope the client asks for, as the consent page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentScope {
    pub scope: String,
    pub description: Option<String>,
    /// Whether the signed-in person may grant it (they hold it).
    pub grantable: bool,
}

/// What the consent page shows: who asks, for which tool server, for what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentView {
    pub client_id: String,
    pub client_name: String,
    /// The domain a metadata-document client is bound to; `None` for a
    /// client that registered itself (its name is unverified).
    pub verified_domain: Option<String>,
    /// Where the answer goes: the redirect URI's host.
    pub redirect_host: String,
    pub resource: String,
    pub scopes: Vec<ConsentScope>,
    pub person: String,
    pub org: OrgId,
    /// The grant lifetimes offered, in days, and the preselected one.
    pub expiry_days: Vec<u32>,
    pub default_days: u32,
}

/// The person's answer on the consent page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentDecision {
    pub params: AuthorizationParams,
    pub approve: bool,
    /// The scopes granted: the requested ones, possibly fewer.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Binds the grant's tokens to an agent name (`agent:<name>`).
    #[serde(default)]
    pub agent: Option<String>,
    #[serde(default)]
    pub expires_days: Option<u32>,
}

/// `POST /oauth/token`'s success (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scope: String,
}

/// An OAuth error body (RFC 6749 §5.2, RFC 7591 §3.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: String,
}

/// `POST /oauth/register` (RFC 7591 §2). Unknown fields are ignored, as
/// the RFC asks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRegistrationRequest {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub response_types: Option<Vec<String>>,
    #[serde(default)]
    pub application_type: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// RFC 7591 §3.2.1: the registered metadata, the id and (for a
/// confidential client, once) its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRegistrationAnswer {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub client_id_issued_at: i64,
    /// 0: the secret does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub application_type: String,
}

/// A grant as the Connected apps page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantView {
    pub id: GrantId,
    pub client_id: String,
    pub client_name: String,
    pub resource: String,
    pub scopes: ScopeSet,
    pub agent: Option<String>,
    pub granted_by: KeyId,
    pub granted_by_email: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub revoked_by: Option<String>,
    /// When one of its access tokens was last used at a tool server.
    pub last_used_at: Option<Timestamp>,
    pub active: bool,
}

/// `GET /oauth/grants`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantList {
    pub grants: Vec<GrantView>,
}

/// `POST /oauth/token`'s form (RFC 6749 §4.1.3 and §6). Client
/// credentials may come in the form or in `Authorization: Basic`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    pub grant_type: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    #[serde(default)]
    pub code_verifier: Option<String>,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// `POST /oauth/revoke`'s form (RFC 7009 §2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct TokenRevocationRequest {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub token_type_hint: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub client_secret: Option<String>,
}
