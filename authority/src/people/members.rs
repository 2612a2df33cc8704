//! A member as stored: who they are, their role, their passkeys.

use serde::{Deserialize, Serialize};

use crate::ids::{KeyId, MemberId, OrgId};
use crate::time::Timestamp;
use model::people::Role;

/// How many passkeys one person may register.
pub const MAX_PASSKEYS: usize = 10;
/// Longest passkey name.
pub const MAX_PASSKEY_NAME: usize = 60;

/// A person of an org. Stored whole (a JSON document beside its indexed
/// org, id and email); `revision` guards read-modify-writes so two servers
/// changing one member at once cannot lose either change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub id: MemberId,
    pub org: OrgId,
    /// Lower-cased ([`model::people::normalize_email`]); unique in the org.
    pub email: String,
    pub role: Role,
    /// The id a person acts under (audit actor, `created_by` of the keys
    /// they mint): of the key-id form so every rule and filter written for
    /// keys applies, but no key record carries it and no secret exists
    /// for it; a person authenticates with their passkeys only.
    pub credential_id: KeyId,
    /// The WebAuthn user handle: random, never the email, so an
    /// authenticator's record reveals nothing about the person.
    pub user_handle: [u8; 16],
    pub created_at: Timestamp,
    /// Who added them: a member id or a key id (the first owner enrols
    /// through the break-glass key).
    pub created_by: String,
    pub passkeys: Vec<PasskeyRecord>,
    /// Bumped by every update; the store refuses an update whose previous
    /// revision is not the stored one.
    pub revision: u64,
}

/// One registered passkey: public material only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRecord {
    /// The credential id, base64url (what the browser sends back).
    pub id: String,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    /// `webauthn_rs::prelude::Passkey` as JSON: the public key, algorithm
    /// and signature counter.
    pub credential: String,
}

impl MemberRecord {
    pub fn passkey(&self, id: &str) -> Option<&PasskeyRecord> {
        self.passkeys.iter().find(|p| p.id == id)
    }
}
