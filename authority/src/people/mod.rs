//! People of an org: members with roles, the passkeys they sign in with,
//! and the single-use tickets (invitations, WebAuthn challenges) that get
//! them there.
//!
//! Rules:
//! - A member's role is a set of scopes ([`model::people::Role::scopes`]);
//!   a signed-in person acts through a [`KeyContext`](crate::KeyContext)
//!   built from it, so every policy rule that binds keys binds people the
//!   same way (no escalation, tenant isolation, the audit trail).
//! - A member's record is read fresh on every dashboard request: removing a
//!   member or changing their role takes effect at once on every server
//!   sharing the store, and their sessions are deleted too.
//! - Invitations and WebAuthn ceremony states are [`TicketRecord`]s: held
//!   in the store (any server may finish what another started), keyed by
//!   the SHA-256 of a 256-bit token, taken (read and deleted) exactly once,
//!   and dead after their expiry.
//! - Passkeys are verified by `webauthn-rs` ([`passkeys`]), with user
//!   verification required; only public keys are stored.

mod members;
pub mod passkeys;
mod tickets;

pub use members::{MemberRecord, PasskeyRecord, MAX_PASSKEYS, MAX_PASSKEY_NAME};
pub use tickets::{TicketPurpose, TicketRecord};
