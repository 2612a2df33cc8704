//! Dashboard sessions: an opaque random token in a cookie, held server-side.
//!
//! Rules:
//! - The token is 256 bits from the OS CSPRNG, base64url-free hex on the
//!   wire. Only its SHA-256 is kept, so a dump of the session table cannot
//!   be replayed as cookies.
//! - A session stores the signing-in key's id and org, never the raw key.
//!   Whether that key still works is asked of the authority on every
//!   request ([`Authority::session_principal`](crate::Authority::session_principal)):
//!   the session dies the moment its key is revoked or expires.
//! - Idle timeout (default 30 min since the last request) and absolute
//!   timeout (default 12 h since sign-in); an expired session is deleted
//!   when it is next looked at.
//! - Storage is in-process ([`SessionTable`]): sessions do not survive a
//!   restart and are not shared between nodes. That is a deliberate trade:
//!   signing in again is cheap, and keeping the Store trait (and every
//!   backend's conformance suite) free of session rows kept this feature
//!   small. A multi-node deployment needs sticky sessions or a store-backed
//!   table behind the same API.

mod table;
mod token;

pub use table::{SessionEnd, SessionRecord, SessionTable, SessionTimeouts};
pub use token::{SessionToken, TokenHash};
