//! PKCE (RFC 7636) with the one method OAuth 2.1 leaves standing: `S256`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A code challenge as the client sent it: 43 base64url characters (the
/// SHA-256 of a verifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

/// What is wrong with a PKCE parameter; the texts go back to the client
/// as `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge is required (PKCE is mandatory)")]
    MissingChallenge,
    #[error("code_challenge_method must be S256 (plain is not supported)")]
    UnsupportedMethod,
    #[error("code_challenge must be 43 base64url characters (the SHA-256 of the verifier)")]
    MalformedChallenge,
    #[error("code_verifier is required")]
    MissingVerifier,
    #[error("code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")]
    MalformedVerifier,
    #[error("code_verifier does not match the code_challenge")]
    Mismatch,
}

impl CodeChallenge {
    /// Checks the authorization request's two PKCE parameters. A missing
    /// method means `plain` (RFC 7636 §4.3), which is refused.
    pub fn parse(challenge: Option<&str>, method: Option<&str>) -> Result<Self, PkceError> {
        let challenge = challenge
            .filter(|c| !c.is_empty())
            .ok_or(PkceError::MissingChallenge)?;
        if method != Some("S256") {
            return Err(PkceError::UnsupportedMethod);
        }
        let well_formed = challenge.len() == 43
            && challenge
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(PkceError::MalformedChallenge);
        }
        Ok(Self(challenge.to_owned()))
    }

    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `verifier` is the one this challenge was made from.
    pub fn verify(&self, verifier: Option<&str>) -> Result<(), PkceError> {
        let verifier = verifier
            .filter(|v| !v.is_empty())
            .ok_or(PkceError::MissingVerifier)?;
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !well_formed {
            return Err(PkceError::MalformedVerifier);
        }
        let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if computed.as_bytes().ct_eq(self.0.as_bytes()).into() {
            Ok(())
        } else {
            Err(PkceError::Mismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B's example.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_example_verifies() {
        let c = CodeChallenge::parse(Some(CHALLENGE), Some("S256")).unwrap();
        assert_eq!(c.verify(Some(VERIFIER)), Ok(()));
    }

    #[test]
    fn everything_else_is_refused_with_its_reason() {
        use PkceError::*;
        let parse = CodeChallenge::parse;
        assert_eq!(parse(None, Some("S256")), Err(MissingChallenge));
        assert_eq!(parse(Some(""), Some("S256")), Err(MissingChallenge));
        assert_eq!(
            parse(Some(CHALLENGE), Some("plain")),
            Err(UnsupportedMethod)
        );
        assert_eq!(parse(Some(CHALLENGE), None), Err(UnsupportedMethod));
        assert_eq!(parse(Some("short"), Some("S256")), Err(MalformedChallenge));
        let c = parse(Some(CHALLENGE), Some("S256")).unwrap();
        assert_eq!(c.verify(None), Err(MissingVerifier));
        assert_eq!(c.verify(Some("tooshort")), Err(MalformedVerifier));
        assert_eq!(c.verify(Some(&"a".repeat(129))), Err(MalformedVerifier));
        assert_eq!(c.verify(Some(&"a".repeat(43))), Err(Mismatch));
        // The challenge itself is not a verifier for itself.
        assert_eq!(c.verify(Some(CHALLENGE)), Err(Mismatch));
    }
}
