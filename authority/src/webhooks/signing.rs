//! Standard Webhooks signatures: `v1,` + base64(HMAC-SHA256(secret,
//! "{webhook-id}.{webhook-timestamp}.{body}")), with the secret handed to
//! receivers as `whsec_` + base64.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{SecretSalt, WebhookRecord};
use crate::keys::Pepper;
use crate::time::Timestamp;

const LABEL: &str = "acekeys-webhook-secret-v1";

/// An endpoint's signing secret (redacted `Debug`, zeroized on drop).
pub struct WebhookSecret(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl WebhookSecret {
    /// The secret of `salt` in this deployment (see the module docs of
    /// [`crate::webhooks`]: it is derived, never stored).
    pub fn derive(pepper: &Pepper, salt: &SecretSalt) -> Self {
        Self(pepper.derive(LABEL, salt.as_bytes()))
    }

    /// `whsec_…`: what the receiver configures, shown to people once.
    pub fn to_whsec(&self) -> String {
        format!("whsec_{}", STANDARD.encode(self.0.as_ref()))
    }

    /// `v1,<base64>` for one message at one instant.
    pub fn sign(&self, message_id: &str, timestamp_secs: i64, body: &str) -> String {
        sign_with(self.0.as_ref(), message_id, timestamp_secs, body)
    }
}

fn sign_with(key: &[u8], message_id: &str, timestamp_secs: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(format!("{message_id}.{timestamp_secs}.").as_bytes());
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header for `hook` at `now`: the current
/// secret's signature, and the previous secret's while it is still honoured
/// (space-separated, as the specification allows), so a receiver can
/// switch secrets without dropping a message.
pub fn signature_header(
    pepper: &Pepper,
    hook: &WebhookRecord,
    message_id: &str,
    now: Timestamp,
    body: &str,
) -> String {
    let secs = now.as_secs();
    let mut header = WebhookSecret::derive(pepper, &hook.salt).sign(message_id, secs, body);
    if let Some(previous) = hook.previous.filter(|p| p.until > now) {
        header.push(' ');
        header
            .push_str(&WebhookSecret::derive(pepper, &previous.salt).sign(message_id, secs, body));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in the Standard Webhooks specification's reference
    /// libraries: secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`, id
    /// `msg_p5jXN8AQM9LWM0D4loKWxJek`, timestamp 1614265330, body
    /// `{"test": 2432232314}`.
    #[test]
    fn signs_the_specifications_example() {
        let key = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign_with(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn the_secret_depends_on_pepper_and_salt_and_is_redacted() {
        let pepper = Pepper::random();
        let salt = SecretSalt::random();
        let a = WebhookSecret::derive(&pepper, &salt);
        assert_eq!(
            a.to_whsec(),
            WebhookSecret::derive(&pepper, &salt).to_whsec()
        );
        assert_ne!(
            a.to_whsec(),
            WebhookSecret::derive(&pepper, &SecretSalt::random()).to_whsec()
        );
        assert_ne!(
            a.to_whsec(),
            WebhookSecret::derive(&Pepper::random(), &salt).to_whsec()
        );
        assert!(a.to_whsec().starts_with("whsec_"));
        assert_eq!(format!("{a:?}"), "WebhookSecret(<redacted>)");
        let sig = a.sign("evt_1", 1_614_265_330, "{}");
        assert!(sig.starts_with("v1,") && sig.len() == 3 + 44, "{sig}");
    }
}
