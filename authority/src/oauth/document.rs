//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document,
//! the MCP specification's preferred registration): a client whose id is
//! an https URL describes itself in the JSON served at that URL. This
//! module checks the URL, reads the document, and keeps what it read for a
//! while ([`ClientDocuments`]); the fetch itself is `outbound`'s.
//!
//! Such a client is public (no secret can live in a public document) and
//! is never stored: the consent page fetches it, the code and refresh
//! token carry its id, and the token endpoint needs nothing more.

use std::time::Duration;

use serde::Deserialize;

use super::client::{check_client_name, check_redirect_uris};
use super::{ApplicationType, AuthMethod, ClientId, OAuthClient};
use crate::outbound::{FetchError, FetchLimits, Fetcher, OutboundPolicy};
use crate::time::Timestamp;

/// The largest document read (the draft suggests 5 KB).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// The longest a fetch may take, connection to last byte.
pub const DOCUMENT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a document read is used before it is fetched again, and how
/// many are kept.
pub const DOCUMENT_CACHE: Duration = Duration::from_secs(300);
pub const DOCUMENT_CACHE_ENTRIES: u64 = 1_000;

/// Why a document client cannot be used; shown on the consent page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("its client_id is not a usable document URL: {0}")]
    Url(&'static str),
    #[error("its metadata document could not be fetched: {0}")]
    Fetch(#[from] FetchError),
    #[error("its metadata document is refused: {0}")]
    Content(String),
}

/// The document's fields acekeys reads; others (`logo_uri`, …) are ignored.
#[derive(Deserialize)]
struct Document {
    client_id: String,
    client_name: Option<String>,
    redirect_uris: Option<Vec<String>>,
    token_endpoint_auth_method: Option<String>,
    application_type: Option<ApplicationType>,
    client_secret: Option<serde_json::Value>,
}

/// The URL a document client id names, if it may be fetched: https (http
/// only under [`OutboundPolicy::allow_insecure`]), a path beyond `/`, no
/// credentials or fragment, and written in its canonical form (so one
/// client has one id).
pub fn document_url(id: &ClientId, policy: OutboundPolicy) -> Result<url::Url, DocumentError> {
    let url = url::Url::parse(id.as_str()).map_err(|_| DocumentError::Url("not a URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_insecure => {}
        _ => return Err(DocumentError::Url("it must use https")),
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(DocumentError::Url(
            "it must not carry credentials or a fragment",
        ));
    }
    if url.path() == "/" {
        return Err(DocumentError::Url("it needs a path, such as /client.json"));
    }
    if url.as_str() != id.as_str() {
        return Err(DocumentError::Url(
            "it must be written in canonical form (lower-case host, no dot segments, no default port)",
        ));
    }
    Ok(url)
}

/// The client a fetched document describes, if it is one acekeys accepts.
pub fn read_document(
    id: &ClientId,
    body: &[u8],
    now: Timestamp,
) -> Result<OAuthClient, DocumentError> {
    let bad = |why: String| DocumentError::Content(why);
    let doc: Document = serde_json::from_slice(body)
        .map_err(|e| bad(format!("not a JSON object with the expected fields ({e})")))?;
    if doc.client_id != id.as_str() {
        return Err(bad(
            "its client_id differs from the URL it was fetched from".into(),
        ));
    }
    if doc.client_secret.is_some() {
        return Err(bad("it must not contain a client_secret".into()));
    }
    match doc.token_endpoint_auth_method.as_deref() {
        None | Some("none") => {}
        Some(other) => {
            return Err(bad(format!(
                "token_endpoint_auth_method `{}` is not supported; documents describe public clients (`none`)",
                model::text::quote_input(other, 40)
            )))
        }
    }
    let application_type = doc.application_type.unwrap_or(ApplicationType::Web);
    let redirect_uris = doc.redirect_uris.unwrap_or_default();
    check_redirect_uris(&redirect_uris, application_type).map_err(|e| bad(e.to_string()))?;
    let name = check_client_name(doc.client_name.as_deref()).map_err(|e| bad(e.to_string()))?;
    Ok(OAuthClient {
        id: id.clone(),
        name,
        redirect_uris,
        application_type,
        auth_method: AuthMethod::None,
        secret_hash: None,
        created_at: now,
    })
}

/// Fetches document clients and keeps each for [`DOCUMENT_CACHE`]. Only
/// successes are kept: a fixed document works on the next try.
pub struct ClientDocuments {
    fetcher: Fetcher,
    policy: OutboundPolicy,
    cache: moka::sync::Cache<ClientId, OAuthClient>,
}

impl ClientDocuments {
    pub fn new(policy: OutboundPolicy) -> Result<Self, FetchError> {
        let limits = FetchLimits {
            max_bytes: MAX_DOCUMENT_BYTES,
            timeout: DOCUMENT_TIMEOUT,
        };
        Ok(Self {
            fetcher: Fetcher::new(policy, limits)?,
            policy,
            cache: moka::sync::Cache::builder()
                .max_capacity(DOCUMENT_CACHE_ENTRIES)
                .time_to_live(DOCUMENT_CACHE)
                .build(),
        })
    }

    /// The client `id` names, from the cache or its document.
    pub async fn client(
        &self,
        id: &ClientId,
        now: Timestamp,
    ) -> Result<OAuthClient, DocumentError> {
        if let Some(client) = self.cache.get(id) {
            return Ok(client);
        }
        let url = document_url(id, self.policy)?;
        let body = self.fetcher.get(&url).await?;
        let client = read_document(id, &body, now)?;
        self.cache.insert(id.clone(), client.clone());
        Ok(client)
    }
}

impl std::fmt::Debug for ClientDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientDocuments")
            .field("policy", &self.policy)
            .field("cached", &self.cache.entry_count())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://app.example/oauth/client.json";

    fn id(text: &str) -> ClientId {
        ClientId::parse(text).unwrap()
    }

    fn read(json: serde_json::Value) -> Result<OAuthClient, DocumentError> {
        read_document(
            &id(URL),
            json.to_string().as_bytes(),
            Timestamp::from_millis(0),
        )
    }

    #[test]
    fn document_urls_are_https_canonical_and_have_a_path() {
        let strict = OutboundPolicy::default();
        assert!(document_url(&id(URL), strict).is_ok());
        for bad in [
            "http://app.example/client.json",
            "https://app.example/",
            "https://user:pw@app.example/client.json",
            "https://app.example/client.json#x",
            "https://APP.example/client.json",
            "https://app.example/a/../client.json",
            "https://app.example:443/client.json",
        ] {
            assert!(document_url(&id(bad), strict).is_err(), "{bad}");
        }
        let dev = OutboundPolicy {
            allow_insecure: true,
        };
        assert!(document_url(&id("http://127.0.0.1:8080/client.json"), dev).is_ok());
    }

    #[test]
    fn a_document_names_its_own_url_and_a_public_client() {
        let ok = serde_json::json!({
            "client_id": URL, "client_name": "Desk", "redirect_uris": ["http://127.0.0.1/cb"],
        });
        let client = read(ok).unwrap();
        assert_eq!(client.name, "Desk");
        assert_eq!(client.auth_method, AuthMethod::None);
        assert_eq!(client.verified_domain(), Some("app.example"));

        let other = serde_json::json!({"client_id": "https://evil.example/c.json", "redirect_uris": ["http://127.0.0.1/cb"]});
        assert!(matches!(read(other), Err(DocumentError::Content(m)) if m.contains("differs")));
        let secret = serde_json::json!({"client_id": URL, "redirect_uris": ["http://127.0.0.1/cb"], "client_secret": "x"});
        assert!(read(secret).is_err());
        let jwt = serde_json::json!({"client_id": URL, "redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "private_key_jwt"});
        assert!(read(jwt).is_err());
        let no_redirects = serde_json::json!({"client_id": URL});
        assert!(read(no_redirects).is_err());
        let script =
            serde_json::json!({"client_id": URL, "redirect_uris": ["javascript:alert(1)"]});
        assert!(read(script).is_err());
        assert!(read_document(&id(URL), b"[1,2", Timestamp::from_millis(0)).is_err());
    }
}
