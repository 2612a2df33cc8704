//! WebAuthn through `webauthn-rs`: the relying party's configuration and
//! the four ceremony steps, with the browser's JSON in and out. Ceremony
//! states travel through the store as tickets (see the module above), so
//! this file holds no state of its own.
//!
//! User verification is required on registration and sign-in (the
//! library's passkey profile); attestation is not requested.

use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::PasskeyRecord;

/// Why a passkey step failed. The message is safe to show; it never
/// contains the browser's data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    #[error("passkeys need a public URL with a domain name (e.g. http://localhost:3000 or https://keys.example.com); {0}")]
    Config(String),
    #[error("the browser's passkey answer is malformed: {0}")]
    Malformed(String),
    #[error("the passkey could not be verified: {0}")]
    Rejected(String),
}

/// The relying party: this dashboard's origin and its domain (the RP ID).
pub struct PasskeyVerifier {
    webauthn: Webauthn,
    origin: String,
    rp_id: String,
}

impl std::fmt::Debug for PasskeyVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyVerifier")
            .field("origin", &self.origin)
            .finish()
    }
}

/// A ceremony's start: the options for the browser and the state to keep.
pub struct Challenge {
    /// `publicKey` options as JSON, for `PublicKeyCredential.parse…FromJSON`.
    pub options: serde_json::Value,
    /// The server-side state, kept in a ticket until the answer comes.
    pub state: String,
}

/// A verified sign-in: which credential, and its record with the new
/// signature counter when it moved.
pub struct SignedIn {
    pub credential_id: String,
    pub updated_credential: Option<String>,
}

impl PasskeyVerifier {
    /// `public_url` is what people type in the browser; WebAuthn binds
    /// passkeys to its host, so it must be a domain name, never an IP.
    pub fn new(public_url: &str) -> Result<Self, PasskeyError> {
        let url = Url::parse(public_url).map_err(|e| PasskeyError::Config(e.to_string()))?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_owned(),
            Some(_) => {
                return Err(PasskeyError::Config(format!(
                    "`{public_url}` names an IP address"
                )))
            }
            None => return Err(PasskeyError::Config(format!("`{public_url}` has no host"))),
        };
        let webauthn = WebauthnBuilder::new(&host, &url)
            .and_then(|b| b.rp_name("acekeys").build())
            .map_err(|e| PasskeyError::Config(e.to_string()))?;
        Ok(Self {
            webauthn,
            origin: url.origin().ascii_serialization(),
            rp_id: host,
        })
    }

    /// The relying party id: the domain passkeys are bound to.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// The origin passkeys are bound to (`scheme://host[:port]`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn start_registration(
        &self,
        user_handle: [u8; 16],
        email: &str,
        existing: &[PasskeyRecord],
    ) -> Result<Challenge, PasskeyError> {
        let exclude = existing
            .iter()
            .filter_map(|p| parse_credential(&p.credential).ok())
            .map(|p| p.cred_id().clone())
            .collect::<Vec<_>>();
        let (options, state) = self
            .webauthn
            .start_passkey_registration(Uuid::from_bytes(user_handle), email, email, Some(exclude))
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        challenge(&options, &state)
    }

    /// Verifies the browser's answer; returns the credential id and the
    /// credential to store.
    pub fn finish_registration(
        &self,
        answer: &str,
        state: &str,
    ) -> Result<(String, String), PasskeyError> {
        let answer: RegisterPublicKeyCredential =
            serde_json::from_str(answer).map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let state: PasskeyRegistration =
            serde_json::from_str(state).map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let passkey = self
            .webauthn
            .finish_passkey_registration(&answer, &state)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        let id = credential_id_text(&passkey)?;
        let stored =
            serde_json::to_string(&passkey).map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        Ok((id, stored))
    }

    pub fn start_sign_in(&self, passkeys: &[PasskeyRecord]) -> Result<Challenge, PasskeyError> {
        let creds = passkeys
            .iter()
            .map(|p| parse_credential(&p.credential))
            .collect::<Result<Vec<_>, _>>()?;
        let (options, state) = self
            .webauthn
            .start_passkey_authentication(&creds)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        challenge(&options, &state)
    }

    /// Verifies a sign-in answer against the member's passkeys.
    pub fn finish_sign_in(
        &self,
        answer: &str,
        state: &str,
        passkeys: &[PasskeyRecord],
    ) -> Result<SignedIn, PasskeyError> {
        let answer: PublicKeyCredential =
            serde_json::from_str(answer).map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let state: PasskeyAuthentication =
            serde_json::from_str(state).map_err(|e| PasskeyError::Malformed(e.to_string()))?;
        let result = self
            .webauthn
            .finish_passkey_authentication(&answer, &state)
            .map_err(|e| PasskeyError::Rejected(e.to_string()))?;
        if !result.user_verified() {
            return Err(PasskeyError::Rejected(
                "the authenticator did not verify the user".into(),
            ));
        }
        for record in passkeys {
            let mut passkey = parse_credential(&record.credential)?;
            if passkey.cred_id() != result.cred_id() {
                continue;
            }
            let updated = match passkey.update_credential(&result) {
                Some(true) => Some(
                    serde_json::to_string(&passkey)
                        .map_err(|e| PasskeyError::Rejected(e.to_string()))?,
                ),
                _ => None,
            };
            return Ok(SignedIn {
                credential_id: record.id.clone(),
                updated_credential: updated,
            });
        }
        Err(PasskeyError::Rejected(
            "that passkey is not registered to this person".into(),
        ))
    }
}

fn challenge(
    options: &impl serde::Serialize,
    state: &impl serde::Serialize,
) -> Result<Challenge, PasskeyError> {
    let mut options =
        serde_json::to_value(options).map_err(|e| PasskeyError::Rejected(e.to_string()))?;
    let public_key = options
        .get_mut("publicKey")
        .map(serde_json::Value::take)
        .ok_or_else(|| PasskeyError::Rejected("options without publicKey".into()))?;
    Ok(Challenge {
        options: public_key,
        state: serde_json::to_string(state).map_err(|e| PasskeyError::Rejected(e.to_string()))?,
    })
}

fn parse_credential(stored: &str) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(stored)
        .map_err(|e| PasskeyError::Rejected(format!("a stored passkey is unreadable: {e}")))
}

/// The credential id as the browser shows it (base64url, no padding).
fn credential_id_text(passkey: &Passkey) -> Result<String, PasskeyError> {
    use base64::Engine;
    let bytes: &[u8] = passkey.cred_id().as_ref();
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_needs_a_domain_name() {
        assert!(PasskeyVerifier::new("http://localhost:3000").is_ok());
        assert!(PasskeyVerifier::new("https://keys.example.com").is_ok());
        for bad in ["http://127.0.0.1:3000", "not a url", "http://[::1]:3000"] {
            let err = PasskeyVerifier::new(bad).unwrap_err();
            assert!(matches!(err, PasskeyError::Config(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn registration_options_require_user_verification() {
        let rp = PasskeyVerifier::new("http://localhost:3000").unwrap();
        let c = rp
            .start_registration([7; 16], "alice@acme.com", &[])
            .unwrap();
        assert_eq!(
            c.options["authenticatorSelection"]["userVerification"],
            "required"
        );
        assert_eq!(c.options["rp"]["id"], "localhost");
        assert_eq!(c.options["user"]["name"], "alice@acme.com");
    }

    #[test]
    fn a_forged_answer_is_refused_not_a_panic() {
        let rp = PasskeyVerifier::new("http://localhost:3000").unwrap();
        let c = rp
            .start_registration([7; 16], "alice@acme.com", &[])
            .unwrap();
        assert!(matches!(
            rp.finish_registration("{}", &c.state),
            Err(PasskeyError::Malformed(_))
        ));
        let forged = serde_json::json!({
            "id": "AAAA", "rawId": "AAAA", "type": "public-key",
            "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" }
        });
        assert!(matches!(
            rp.finish_registration(&forged.to_string(), &c.state),
            Err(PasskeyError::Rejected(_))
        ));
    }
}
