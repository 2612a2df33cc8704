//! Single-use tickets: an invitation link, or a WebAuthn ceremony between
//! its start and its finish.

use serde::{Deserialize, Serialize};

use crate::ids::OrgId;
use crate::sessions::TokenHash;
use crate::time::Timestamp;

/// What a ticket is for; a ticket taken for the wrong purpose is refused
/// (and spent), so an invitation cannot be replayed as a sign-in challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketPurpose {
    /// An owner invited a person; the payload names the email and role.
    Invitation,
    /// A passkey registration waits for the browser's answer.
    PasskeyRegistration,
    /// A passkey sign-in waits for the browser's answer.
    PasskeySignIn,
    /// An OAuth authorization code waits for its exchange; the payload is
    /// the grant it will start.
    OAuthCode,
}

impl TicketPurpose {
    const ALL: [TicketPurpose; 4] = [
        TicketPurpose::Invitation,
        TicketPurpose::PasskeyRegistration,
        TicketPurpose::PasskeySignIn,
        TicketPurpose::OAuthCode,
    ];

    /// Reads back what [`as_str`](Self::as_str) wrote.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TicketPurpose::Invitation => "invitation",
            TicketPurpose::PasskeyRegistration => "passkey_registration",
            TicketPurpose::PasskeySignIn => "passkey_sign_in",
            TicketPurpose::OAuthCode => "oauth_code",
        }
    }
}

/// A ticket as stored, under the SHA-256 of its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketRecord {
    pub hash: TokenHash,
    pub org: OrgId,
    pub purpose: TicketPurpose,
    pub expires_at: Timestamp,
    /// Purpose-specific JSON (never a secret of the person's).
    pub payload: String,
}
