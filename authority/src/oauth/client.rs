//! OAuth clients: who may ask for a grant, and where the answer may go.
//!
//! A client is either registered here (RFC 7591 dynamic registration, id
//! `cli_…`, kept in the store) or describes itself in a Client ID Metadata
//! Document (its id is that document's https URL; fetched by the server,
//! never stored). Either way the authority holds the same [`OAuthClient`],
//! and the same rules decide which redirect URIs it may name.

use serde::{Deserialize, Serialize};

use crate::ids::ClientId;
use crate::keys::resource::{host_of, is_loopback};
use crate::keys::KeyHash;
use crate::time::Timestamp;

/// The most redirect URIs one client may register, and their length.
pub const MAX_REDIRECT_URIS: usize = 10;
pub const MAX_URI_LEN: usize = 512;
pub const MAX_CLIENT_NAME: usize = 100;

/// RFC 7591 `application_type`: which redirect URIs make sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApplicationType {
    /// A web server: https redirect URIs (http on loopback for development).
    Web,
    /// A desktop or mobile app (RFC 8252): loopback http on any port, a
    /// private-use scheme in reverse-domain form, or https.
    Native,
}

/// How a client proves itself at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// A public client: PKCE is its only proof.
    None,
    ClientSecretBasic,
    ClientSecretPost,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            AuthMethod::None,
            AuthMethod::ClientSecretBasic,
            AuthMethod::ClientSecretPost,
        ]
        .into_iter()
        .find(|m| m.as_str() == text)
    }
}

/// A client the authority knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthClient {
    pub id: ClientId,
    /// Self-asserted: shown as "unverified" for registered clients.
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub application_type: ApplicationType,
    pub auth_method: AuthMethod,
    /// The keyed hash of a confidential client's secret.
    #[serde(with = "hash_hex")]
    pub secret_hash: Option<KeyHash>,
    pub created_at: Timestamp,
}

impl OAuthClient {
    /// Whether `uri` is one of the client's redirect URIs: exact match,
    /// except that a loopback http URI matches on any port (RFC 8252 §7.3,
    /// OAuth 2.1 §8.4.2: a native app picks a free port at run time).
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|registered| {
            registered == uri
                || matches!(
                    (loopback_without_port(registered), loopback_without_port(uri)),
                    (Some(a), Some(b)) if a == b
                )
        })
    }

    /// Clients registered here named themselves; a metadata document's
    /// client is at least bound to the domain serving the document.
    pub fn verified_domain(&self) -> Option<&str> {
        self.id.is_document_url().then(|| host_of(self.id.as_str()))
    }
}

/// A stored client's secret hash as hex (the record is kept as JSON).
mod hash_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::keys::KeyHash;

    pub(super) fn serialize<S: Serializer>(h: &Option<KeyHash>, s: S) -> Result<S::Ok, S::Error> {
        match h {
            Some(h) => s.serialize_some(&h.to_hex()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<KeyHash>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| {
                KeyHash::from_hex(&text).ok_or_else(|| serde::de::Error::custom("secret hash"))
            })
            .transpose()
    }
}

/// A loopback http URL with its port removed, for port-agnostic matching.
fn loopback_without_port(uri: &str) -> Option<String> {
    let mut url = url::Url::parse(uri).ok()?;
    if url.scheme() != "http" || !url.host().is_some_and(|h| is_loopback(&h)) {
        return None;
    }
    url.set_port(None).ok()?;
    Some(url.into())
}

/// Why a client's metadata is refused (RFC 7591 §3.2.2 error codes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientMetadataError {
    #[error("{0}")]
    RedirectUri(String),
    #[error("{0}")]
    Metadata(String),
}

impl ClientMetadataError {
    pub fn code(&self) -> &'static str {
        match self {
            ClientMetadataError::RedirectUri(_) => "invalid_redirect_uri",
            ClientMetadataError::Metadata(_) => "invalid_client_metadata",
        }
    }
}

/// Checks a client's redirect URIs for its application type: at least one,
/// at most [`MAX_REDIRECT_URIS`], absolute, no fragment, and a scheme the
/// type may use. Never `javascript:`, `data:` or another scheme a browser
/// would run rather than navigate to.
pub fn check_redirect_uris(
    uris: &[String],
    app: ApplicationType,
) -> Result<(), ClientMetadataError> {
    let bad = |uri: &str, why: &str| {
        ClientMetadataError::RedirectUri(format!(
            "redirect URI `{}`: {why}",
            model::text::quote_input(uri, 80)
        ))
    };
    if uris.is_empty() {
        return Err(ClientMetadataError::RedirectUri(
            "at least one redirect URI is required".into(),
        ));
    }
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(ClientMetadataError::RedirectUri(format!(
            "at most {MAX_REDIRECT_URIS} redirect URIs"
        )));
    }
    for uri in uris {
        if uri.len() > MAX_URI_LEN {
            return Err(bad(uri, "longer than 512 bytes"));
        }
        let url = url::Url::parse(uri).map_err(|_| bad(uri, "expected an absolute URI"))?;
        if url.fragment().is_some() {
            return Err(bad(uri, "must not have a fragment"));
        }
        let loopback = url.host().is_some_and(|h| is_loopback(&h));
        let allowed = match url.scheme() {
            "https" => url.host().is_some(),
            "http" => loopback,
            // RFC 8252 §7.1: a private-use scheme in reverse-domain form.
            scheme => app == ApplicationType::Native && scheme.contains('.'),
        };
        if !allowed {
            return Err(bad(
                uri,
                match app {
                    ApplicationType::Web => "a web client needs https (http only on loopback)",
                    ApplicationType::Native => {
                        "a native client needs https, http on loopback, or a reverse-domain scheme such as com.example.app:/callback"
                    }
                },
            ));
        }
    }
    Ok(())
}

/// A client's display name: trimmed, 1-100 characters, no control or
/// deceptive characters (it is shown on the consent page).
pub fn check_client_name(name: Option<&str>) -> Result<String, ClientMetadataError> {
    let name = name.map(str::trim).unwrap_or_default();
    if name.is_empty() {
        return Ok("Unnamed client".to_owned());
    }
    if name.chars().count() > MAX_CLIENT_NAME {
        return Err(ClientMetadataError::Metadata(format!(
            "client_name: at most {MAX_CLIENT_NAME} characters"
        )));
    }
    Ok(model::text::reveal(name).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uris: &[&str]) -> OAuthClient {
        OAuthClient {
            id: ClientId::generate(),
            name: "x".into(),
            redirect_uris: uris.iter().map(|u| (*u).to_owned()).collect(),
            application_type: ApplicationType::Native,
            auth_method: AuthMethod::None,
            secret_hash: None,
            created_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn redirects_match_exactly_except_loopback_ports() {
        let c = client(&["http://127.0.0.1/callback", "https://app.example/cb"]);
        assert!(c.allows_redirect("http://127.0.0.1:53123/callback"));
        assert!(c.allows_redirect("http://127.0.0.1/callback"));
        assert!(c.allows_redirect("https://app.example/cb"));
        assert!(!c.allows_redirect("https://app.example/cb/"));
        assert!(!c.allows_redirect("https://app.example:8443/cb"));
        assert!(!c.allows_redirect("http://127.0.0.1:53123/other"));
        assert!(!c.allows_redirect("http://localhost:53123/callback"));
        assert!(!c.allows_redirect("https://evil.example/cb"));
    }

    #[test]
    fn redirect_uri_rules_per_application_type() {
        use ApplicationType::*;
        let ok = |uris: &[&str], app| {
            check_redirect_uris(
                &uris.iter().map(|u| (*u).to_owned()).collect::<Vec<_>>(),
                app,
            )
        };
        assert!(ok(&["https://app.example/cb"], Web).is_ok());
        assert!(ok(&["http://localhost:8080/cb"], Web).is_ok());
        assert!(ok(&["com.example.app:/cb"], Native).is_ok());
        for (uris, app, why) in [
            (&[][..], Web, "at least one"),
            (&["http://app.example/cb"][..], Web, "https"),
            (&["com.example.app:/cb"][..], Web, "https"),
            (&["javascript:alert(1)"][..], Native, "reverse-domain"),
            (&["data:text/html,x"][..], Native, "reverse-domain"),
            (&["https://app.example/cb#x"][..], Web, "fragment"),
            (&["/cb"][..], Web, "absolute"),
        ] {
            let e = ok(uris, app).unwrap_err();
            assert_eq!(e.code(), "invalid_redirect_uri");
            assert!(e.to_string().contains(why), "{uris:?}: {e}");
        }
        let many: Vec<String> = (0..11).map(|i| format!("https://a.example/{i}")).collect();
        assert!(check_redirect_uris(&many, Web).is_err());
    }

    #[test]
    fn names_are_bounded_and_revealed() {
        assert_eq!(check_client_name(None).unwrap(), "Unnamed client");
        assert_eq!(check_client_name(Some("  Claude ")).unwrap(), "Claude");
        assert!(check_client_name(Some(&"x".repeat(101))).is_err());
        assert_ne!(
            check_client_name(Some("Good\u{202E}evil")).unwrap(),
            "Good\u{202E}evil"
        );
    }
}
