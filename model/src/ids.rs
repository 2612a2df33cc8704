//! Public identifiers: org ids, key ids (`key_…`), member ids (`mem_…`),
//! audit event ids (`evt_…`), OAuth grant ids (`grant_…`), webhook endpoint
//! ids (`whk_…`).
//!
//! Rules:
//! - Ids are public and safe to log; none is derived from key material.
//! - Org ids follow the scope segment grammar and must start with a letter or
//!   digit, so ids beginning with `_` stay reserved for the authority itself
//!   (e.g. [`OrgId::unattributed`] for calls whose key names no org).
//! - Deserializing an id validates it exactly like `parse`: an id that
//!   arrives in a request body is as checked as one in a path. Stores, which
//!   wrote the ids themselves, rebuild them with `from_stored`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::base62;

macro_rules! string_id {
    ($(#[$m:meta])* $name:ident, $expected:literal) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Rebuilds an id a store wrote; no validation (the store only
            /// ever holds ids this crate made).
            pub fn from_stored(s: String) -> Self {
                Self(s)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::from_wire(&s).ok_or_else(|| serde::de::Error::custom($expected))
            }
        }
    };
}

string_id!(
    /// An organisation (tenant) id, e.g. `acme`.
    OrgId,
    "expected an org id: 1-63 characters of [a-z0-9_-], starting with a letter or digit"
);
string_id!(
    /// A key's public id, `key_` + 20 base62 characters.
    KeyId,
    "expected a key id: `key_` followed by base62 characters"
);
string_id!(
    /// A member's (a person's) id, `mem_` + 20 base62 characters.
    MemberId,
    "expected a member id: `mem_` followed by base62 characters"
);
string_id!(
    /// An audit event id, `evt_` + 20 base62 characters.
    EventId,
    "expected an event id: `evt_` followed by base62 characters"
);

string_id!(
    /// An OAuth grant's id (what a person consented to, and every token
    /// issued under it), `grant_` + base62 characters.
    GrantId,
    "expected a grant id: `grant_` followed by base62 characters"
);

string_id!(
    /// An OAuth client's id: `cli_` + base62 for a client registered here,
    /// or the https URL of the client's metadata document.
    ClientId,
    "expected a client id: `cli_` followed by base62 characters, or a URL"
);

string_id!(
    /// A webhook endpoint's id, `whk_` + 20 base62 characters.
    WebhookId,
    "expected a webhook id: `whk_` followed by base62 characters"
);

crate::schema::string_schema!(
    OrgId,
    "An org id: 1-63 characters of [a-z0-9_-], starting with a letter or digit",
    pattern = "^(_unattributed|[a-z0-9][a-z0-9_-]{0,62})$"
);
crate::schema::string_schema!(
    KeyId,
    "A key's public id",
    pattern = "^key_[0-9A-Za-z]{1,64}$"
);
crate::schema::string_schema!(
    MemberId,
    "A member's (a person's) public id",
    pattern = "^mem_[0-9A-Za-z]{1,64}$"
);
crate::schema::string_schema!(
    GrantId,
    "An OAuth grant's id",
    pattern = "^grant_[0-9A-Za-z]{1,64}$"
);
crate::schema::string_schema!(
    WebhookId,
    "A webhook endpoint's id",
    pattern = "^whk_[0-9A-Za-z]{1,64}$"
);
crate::schema::string_schema!(
    EventId,
    "An audit event's id",
    pattern = "^evt_[0-9A-Za-z]{1,64}$"
);

/// Why an org id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("org id must be 1-63 characters of [a-z0-9_-], starting with a letter or digit")]
pub struct InvalidOrgId;

const UNATTRIBUTED: &str = "_unattributed";

impl OrgId {
    pub fn parse(s: &str) -> Result<Self, InvalidOrgId> {
        let b = s.as_bytes();
        let ok = !b.is_empty()
            && b.len() <= 63
            && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidOrgId)
        }
    }

    /// The reserved org that holds tool-call events whose key could not be
    /// attributed to any org (malformed or unknown keys).
    pub fn unattributed() -> Self {
        Self(UNATTRIBUTED.to_owned())
    }

    /// Any org id a caller may name, plus the reserved one the authority
    /// itself shows in answers (audit events of unattributed calls).
    fn from_wire(s: &str) -> Option<Self> {
        if s == UNATTRIBUTED {
            return Some(Self::unattributed());
        }
        Self::parse(s).ok()
    }
}

/// `prefix` + 1-64 base62 characters.
fn prefixed(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix).is_some_and(|rest| {
        !rest.is_empty() && rest.len() <= 64 && rest.bytes().all(base62::is_base62)
    })
}

impl KeyId {
    #[cfg(feature = "random")]
    pub fn generate() -> Self {
        Self(format!("key_{}", base62::random_string(20)))
    }

    /// Accepts any `key_` id of plausible shape; whether it exists is the
    /// store's business.
    pub fn parse(s: &str) -> Option<Self> {
        prefixed(s, "key_").then(|| Self(s.to_owned()))
    }

    fn from_wire(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl MemberId {
    #[cfg(feature = "random")]
    pub fn generate() -> Self {
        Self(format!("mem_{}", base62::random_string(20)))
    }

    pub fn parse(s: &str) -> Option<Self> {
        prefixed(s, "mem_").then(|| Self(s.to_owned()))
    }

    fn from_wire(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl EventId {
    /// `evt_` + 8 base62 characters of the current time in milliseconds +
    /// 12 random ones: ids sort roughly by creation time, so the unique
    /// index on them is appended to rather than written all over.
    #[cfg(feature = "random")]
    pub fn generate() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut t = String::with_capacity(8);
        let mut v = ms;
        let mut digits = [0u8; 8];
        for slot in digits.iter_mut().rev() {
            *slot = base62::ALPHABET[(v % 62) as usize];
            v /= 62;
        }
        t.extend(digits.iter().map(|&b| char::from(b)));
        Self(format!("evt_{t}{}", base62::random_string(12)))
    }

    pub fn parse(s: &str) -> Option<Self> {
        prefixed(s, "evt_").then(|| Self(s.to_owned()))
    }

    fn from_wire(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl WebhookId {
    #[cfg(feature = "random")]
    pub fn generate() -> Self {
        Self(format!("whk_{}", base62::random_string(20)))
    }

    pub fn parse(s: &str) -> Option<Self> {
        prefixed(s, "whk_").then(|| Self(s.to_owned()))
    }

    fn from_wire(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl GrantId {
    /// The id of the grant an authorization code starts, derived from the
    /// code's one-way digest (hex of its first 12 bytes): a code presented
    /// again after its exchange names the grant it started, so the replay
    /// can revoke it, and the id reveals nothing of the code.
    pub fn of_code_digest(digest: &[u8; 32]) -> Self {
        Self(format!("grant_{}", crate::hex::encode(&digest[..12])))
    }

    pub fn parse(s: &str) -> Option<Self> {
        prefixed(s, "grant_").then(|| Self(s.to_owned()))
    }

    fn from_wire(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

impl ClientId {
    #[cfg(feature = "random")]
    pub fn generate() -> Self {
        Self(format!("cli_{}", base62::random_string(20)))
    }

    /// A client id as a request names it: `cli_` + base62, or a URL of at
    /// most 512 bytes (whose document decides the rest). `None` otherwise.
    pub fn parse(s: &str) -> Option<Self> {
        let document = s.len() <= 512 && (s.starts_with("https://") || s.starts_with("http://"));
        (prefixed(s, "cli_") || document).then(|| Self(s.to_owned()))
    }

    /// Whether the id is a metadata document's URL.
    pub fn is_document_url(&self) -> bool {
        !self.0.starts_with("cli_")
    }

    fn from_wire(s: &str) -> Option<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids() {
        assert!(ClientId::parse("cli_abc").is_some());
        assert!(ClientId::parse("https://app.example/client.json").is_some());
        assert!(ClientId::parse("cli_").is_none());
        assert!(ClientId::parse("cli_a!").is_none());
        assert!(ClientId::parse("someone").is_none());
        assert!(ClientId::parse(&format!("https://{}", "a".repeat(600))).is_none());
        assert!(!ClientId::parse("cli_abc").unwrap().is_document_url());
    }

    #[test]
    fn grant_ids_from_a_digest_parse() {
        let id = GrantId::of_code_digest(&[0xab; 32]);
        assert_eq!(id.as_str(), "grant_abababababababababababab");
        assert_eq!(GrantId::parse(id.as_str()), Some(id));
        assert_eq!(GrantId::parse("grant_"), None);
        assert_eq!(GrantId::parse("key_abc"), None);
    }

    #[test]
    fn org_ids() {
        assert!(OrgId::parse("acme").is_ok());
        assert!(OrgId::parse("a-b_c9").is_ok());
        assert!(OrgId::parse("").is_err());
        assert!(OrgId::parse("_x").is_err());
        assert!(OrgId::parse("Acme").is_err());
        assert!(OrgId::parse("a:b").is_err());
        assert!(OrgId::parse(&"a".repeat(64)).is_err());
    }

    #[test]
    fn key_ids() {
        assert_eq!(KeyId::parse("key_abc").unwrap().as_str(), "key_abc");
        assert_eq!(KeyId::parse("key_"), None);
        assert_eq!(KeyId::parse("evt_abc"), None);
        assert_eq!(KeyId::parse("key_a/b"), None);
        assert_eq!(KeyId::parse(&format!("key_{}", "a".repeat(65))), None);
    }

    #[cfg(feature = "random")]
    #[test]
    fn generated_ids_parse() {
        let id = KeyId::generate();
        assert_eq!(KeyId::parse(id.as_str()), Some(id));
        let id = EventId::generate();
        assert_eq!(EventId::parse(id.as_str()), Some(id));
        let id = WebhookId::generate();
        assert_eq!(WebhookId::parse(id.as_str()), Some(id));
        assert_eq!(WebhookId::parse("whk_../x"), None);
    }

    #[test]
    fn deserializing_validates() {
        let ok: KeyId = serde_json::from_str("\"key_abc\"").unwrap();
        assert_eq!(ok.as_str(), "key_abc");
        let err = serde_json::from_str::<KeyId>("\"key_../x\"").unwrap_err();
        assert!(err.to_string().contains("expected a key id"), "{err}");
        assert!(serde_json::from_str::<EventId>("\"evt_\"").is_err());
        assert!(serde_json::from_str::<OrgId>("\"Acme\"").is_err());
        assert_eq!(
            serde_json::from_str::<OrgId>("\"_unattributed\"").unwrap(),
            OrgId::unattributed()
        );
        assert!(serde_json::from_str::<OrgId>("\"_other\"").is_err());
    }
}
