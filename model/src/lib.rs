//! acekeys' shared vocabulary, used by the authority, the server, the
//! dashboard (in the browser too: this crate compiles to WebAssembly) and the
//! tool-server guard.
//!
//! - [`ids`]: public ids (`key_…`, `evt_…`, org ids), validated on parse and
//!   on deserialization.
//! - [`keys`]: [`Env`], [`KeyStatus`], the display [`KeyHint`] and the
//!   redacted [`RawKey`].
//! - [`people`]: members' roles, how a person signed in, and the person
//!   named in an audit event.
//! - [`scopes`]: the scope grammar, canonical forms, implication, catalog.
//! - [`text`]: characters that would mislead a reader (bidi, zero-width,
//!   control), refused in names and revealed in reported text.
//! - [`time`]: [`Timestamp`], integer milliseconds, RFC 3339 on the wire.
//! - [`audit`]: audit events, decisions and chain links.
//! - [`wire`]: every request and response body of the REST API, declared
//!   once; with the `openapi` feature they also describe themselves to
//!   `utoipa`, so the OpenAPI document is generated from these very types.
//!
//! Nothing here does I/O. With the `random` feature, ids and secrets can be
//! generated from the OS CSPRNG (servers only).

pub mod audit;
pub mod base62;
pub mod hex;
pub mod ids;
pub mod keys;
pub mod people;
mod schema;
pub mod scopes;
pub mod text;
pub mod time;
pub mod wire;

pub use audit::{Decision, EventKind};
pub use ids::{ClientId, EventId, GrantId, KeyId, MemberId, OrgId, WebhookId};
pub use keys::{Env, KeyHint, KeyStatus, RawKey};
pub use scopes::{Scope, ScopeCatalog, ScopeError, ScopeSet};
pub use time::Timestamp;
