//! Session tokens: random, shown to the browser once (in `Set-Cookie`), kept
//! hashed. Invitation links and WebAuthn ceremonies use the same kind of
//! token (see `crate::people`).

use sha2::{Digest, Sha256};

/// The cookie value. Redacted `Debug`; never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// SHA-256 of a token: what the store keeps and looks up.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Rebuilds a hash a store wrote.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        model::hex::encode(&self.0)
    }
}

const TOKEN_BYTES: usize = 32;

impl SessionToken {
    /// 256 bits from the OS CSPRNG.
    ///
    /// # Panics
    /// When the OS has no CSPRNG (nothing safe can be done then).
    pub fn generate() -> Self {
        let mut bytes = [0_u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).expect("the OS CSPRNG is unavailable");
        Self(model::hex::encode(&bytes))
    }

    /// A token as read from a cookie; `None` unless it has the exact shape
    /// [`generate`](Self::generate) produces, so junk never reaches the table.
    pub fn parse(text: &str) -> Option<Self> {
        (text.len() == TOKEN_BYTES * 2 && text.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self(text.to_ascii_lowercase()))
    }

    /// The cookie value (for `Set-Cookie` only).
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_parse_back() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose_secret().len(), 64);
        assert_eq!(SessionToken::parse(a.expose_secret()), Some(a.clone()));
        assert_eq!(
            a.hash(),
            SessionToken::parse(a.expose_secret()).unwrap().hash()
        );
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn junk_is_not_a_token() {
        assert!(SessionToken::parse("").is_none());
        assert!(SessionToken::parse("abc").is_none());
        assert!(SessionToken::parse(&"z".repeat(64)).is_none());
        assert!(!format!("{:?}", SessionToken::generate()).contains(|c: char| c.is_ascii_digit()));
    }
}
