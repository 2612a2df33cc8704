//! The acekeys key authority as a plain Rust library.
//!
//! Everything that decides whether a key is valid, what it may do, and what
//! happened lives here, so the dashboard, the REST API and every tool server
//! share one implementation of the rules. No web framework appears in this
//! crate.
//!
//! - [`keys`]: key material — generation, the `ace_<env>_<secret><checksum>`
//!   format, peppered HMAC lookup hashes, display hints.
//! - [`ids`]: public ids (`key_…`, `evt_…`, org ids).
//! - [`scopes`]: the scope grammar, canonical forms, implication, catalog.
//! - [`policy`]: mint, revoke, rotate, bulk revoke, list and get rules.
//! - [`store`]: the storage trait, the SQLite backend, the conformance suite.
//! - [`validator`]: cached validation outcomes and the revocation stream.
//! - [`audit`]: events, hash chains, group commit, queries, retention.
//! - [`sessions`]: dashboard session tokens (hashed) and their timeouts.
//! - [`Authority`]: the facade the server calls, one method per handler.
//! - `guard` (feature `guard`): the tool-server guard, a tower layer that
//!   authenticates, scope-checks and audits every tool call.
//!
//! Secrets: a raw key is only ever held in [`keys::RawKey`] (redacted
//! `Debug`, zeroized on drop) and only serialized in [`MintedKey`], the
//! one-time mint/rotate/bootstrap response.

pub mod audit;
mod error;
mod facade;
#[cfg(feature = "guard")]
pub mod guard;
pub mod ids;
pub mod keys;
pub mod policy;
pub mod scopes;
pub mod sessions;
mod stats;
pub mod store;
pub mod time;
pub mod validator;

pub use error::AuthorityError;
pub use facade::{
    Authority, AuthorityConfig, BootstrapRequest, Introspection, MintLimits, RegisteredScopes,
    ScopeRegistration, ToolCall,
};
pub use ids::{EventId, KeyId, OrgId};
pub use keys::{Env, Pepper, RawKey};
pub use policy::{
    BulkRevokeRequest, BulkRevokeResult, ExpiryChoice, KeyContext, KeyListFilter, KeyView,
    MintRequest, MintedKey, RotateRequest, RotatedKey,
};
pub use scopes::{Scope, ScopeCatalog, ScopeSet};
pub use stats::StatsSnapshot;
pub use store::{SqliteStore, Store, StoreError};
pub use validator::{Outcome, RevocationEvent};

/// The principal of a facade call: a validated key's context.
pub type Principal = KeyContext;
