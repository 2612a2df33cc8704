//! Leaked-key reports in the format of GitHub's secret scanning partner
//! program: a JSON array of `{token, type, url, source}` POSTed with an
//! ECDSA P-256 (SHA-256) signature of the exact body, base64 DER in
//! `Github-Public-Key-Signature`, made with the key named by
//! `Github-Public-Key-Identifier`. The verification keys are configured
//! (GitHub publishes them at `https://api.github.com/meta/public_keys/secret_scanning`;
//! the authority never fetches them itself), so a test or another scanner
//! can use its own.

use std::collections::HashMap;

use base64::Engine;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{DerSignature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::Deserialize;

/// The most tokens one report may carry.
pub const MAX_REPORTED_TOKENS: usize = 1000;

/// Why a report is refused before any token is looked at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeakReportError {
    #[error("leak reports are not configured on this server (no verification keys)")]
    NotConfigured,
    #[error("the report is not signed: send Github-Public-Key-Identifier and Github-Public-Key-Signature")]
    Unsigned,
    #[error("the report's signature does not verify with a configured key")]
    BadSignature,
    #[error("the report is not a JSON array of {{token, type, url, source}}: {0}")]
    Malformed(String),
    #[error("the report holds more than {MAX_REPORTED_TOKENS} tokens")]
    TooMany,
}

/// Why a key file is unusable (at start).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("leak report keys: {0}")]
pub struct PartnerKeysError(String);

/// The verification keys, by identifier.
#[derive(Debug, Clone, Default)]
pub struct PartnerKeys(HashMap<String, VerifyingKey>);

#[derive(Deserialize)]
struct KeyList {
    public_keys: Vec<KeyEntry>,
}

#[derive(Deserialize)]
struct KeyEntry {
    key_identifier: String,
    key: String,
}

impl PartnerKeys {
    /// Parses GitHub's key list (`{"public_keys": [{"key_identifier",
    /// "key": "-----BEGIN PUBLIC KEY-----…", …}]}`).
    pub fn from_json(text: &str) -> Result<Self, PartnerKeysError> {
        let list: KeyList = serde_json::from_str(text)
            .map_err(|e| PartnerKeysError(format!("not GitHub's public key list: {e}")))?;
        let mut keys = HashMap::new();
        for entry in list.public_keys {
            let key = VerifyingKey::from_public_key_pem(entry.key.trim()).map_err(|e| {
                PartnerKeysError(format!(
                    "key {:?} is not an ECDSA P-256 public key in PEM: {e}",
                    entry.key_identifier
                ))
            })?;
            keys.insert(entry.key_identifier, key);
        }
        if keys.is_empty() {
            return Err(PartnerKeysError("the list holds no key".into()));
        }
        Ok(Self(keys))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks the signature of `body` and parses it.
    pub fn open(
        &self,
        key_id: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Vec<LeakReport>, LeakReportError> {
        // An unsigned report is refused as such whatever the setup: the
        // headers are the endpoint's credential.
        let (Some(key_id), Some(signature)) = (key_id, signature) else {
            return Err(LeakReportError::Unsigned);
        };
        if self.0.is_empty() {
            return Err(LeakReportError::NotConfigured);
        }
        let key = self
            .0
            .get(key_id.trim())
            .ok_or(LeakReportError::BadSignature)?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| LeakReportError::BadSignature)?;
        let signature =
            DerSignature::try_from(der.as_slice()).map_err(|_| LeakReportError::BadSignature)?;
        key.verify(body, &signature)
            .map_err(|_| LeakReportError::BadSignature)?;
        let reports: Vec<LeakReport> =
            serde_json::from_slice(body).map_err(|e| LeakReportError::Malformed(e.to_string()))?;
        if reports.len() > MAX_REPORTED_TOKENS {
            return Err(LeakReportError::TooMany);
        }
        Ok(reports)
    }
}

/// One reported token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LeakReport {
    pub token: String,
    #[serde(rename = "type", default)]
    pub token_type: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub source: String,
}
