//! Dashboard sessions: an opaque random token in a cookie, held in the store.
//!
//! Rules:
//! - The token is 256 bits from the OS CSPRNG, hex on the wire. Only its
//!   SHA-256 is stored, so a dump of the store's sessions cannot be
//!   replayed as cookies.
//! - A session stores who signed in ([`SessionActor`]: a member, or the
//!   break-glass key's id) and the org, never a secret. Whether that member
//!   or key still may act is asked of the authority on every request
//!   ([`Authority::session_principal`](crate::Authority::session_principal)):
//!   the session dies the moment its key is revoked or expires, or its
//!   member is removed.
//! - Idle timeout (default 30 min since the last request) and absolute
//!   timeout (default 12 h since sign-in); an expired session is deleted
//!   when it is next looked at, and swept at most every 10 minutes.
//! - Sessions live in the store (the [`Store`](crate::store::Store)'s
//!   session methods, in the conformance suite): every server sharing the
//!   store accepts them, and a restart signs nobody out. The last-seen mark
//!   is written at most once a minute per session, so a dashboard request
//!   costs one store read, not a write (the idle timeout is therefore
//!   exact to within a minute).

mod table;
mod token;

pub use table::{SessionActor, SessionEnd, SessionRecord, SessionTimeouts, TOUCH_EVERY_SECS};
pub use token::{SessionToken, TokenHash};
