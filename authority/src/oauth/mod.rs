//! acekeys as an OAuth 2.1 authorization server for MCP clients (desktop
//! assistants, IDEs): clients, consent, authorization codes with PKCE,
//! grants with rotating refresh tokens, and access tokens that are
//! authority credentials like keys.
//!
//! Rules:
//! - PKCE `S256` is mandatory; `plain` and a missing challenge are refused.
//! - Every token is bound to one resource (a tool server's URL, RFC 8707)
//!   and refused by every other guard and by the authority's own API.
//! - A person grants at most what they could mint themselves: the consent
//!   is planned by the same rule as a mint (`policy::rules::plan_mint`).
//! - Access tokens live [`ACCESS_TOKEN_SECS`] (never beyond the grant);
//!   codes [`CODE_SECS`] and are single-use.

mod client;
mod document;
mod error;
mod grant;
mod pkce;

pub use crate::ids::ClientId;
pub use crate::keys::record::TokenOrigin;
pub(crate) use crate::keys::resource::{
    from_storage as resources_from_storage, host_of, to_storage as resources_to_storage,
};
pub use crate::keys::resource::{ResourceError, ResourceId, MAX_RESOURCE_LEN};
pub use client::{
    check_client_name, check_redirect_uris, ApplicationType, AuthMethod, ClientMetadataError,
    OAuthClient, MAX_CLIENT_NAME, MAX_REDIRECT_URIS, MAX_URI_LEN,
};
pub use document::{
    document_url, read_document, ClientDocuments, DocumentError, DOCUMENT_CACHE, DOCUMENT_TIMEOUT,
    MAX_DOCUMENT_BYTES,
};
pub use error::{AuthorizationResponse, AuthorizeError, OAuthCode, OAuthError};
pub use grant::{GrantRecord, RefreshRecord};
pub use pkce::{CodeChallenge, PkceError};

/// An access token's lifetime.
pub const ACCESS_TOKEN_SECS: i64 = 3600;
/// An authorization code's lifetime.
pub const CODE_SECS: i64 = 300;
