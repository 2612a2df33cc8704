//! The acekeys key authority as a plain Rust library.
//!
//! Everything that decides whether a key is valid, what it may do, and what
//! happened lives here, so the dashboard, the REST API and every tool server
//! share one implementation of the rules. No web framework and no HTTP
//! status appears in this crate; the shared vocabulary (ids, scopes,
//! statuses, timestamps, wire bodies) is the `model` crate's, re-exported
//! here under the same names.
//!
//! - [`keys`]: key material — generation, the `ace_<env>_<secret><checksum>`
//!   format, peppered HMAC lookup hashes, display hints, key records.
//! - [`ids`], [`scopes`]: the model's ids and scope grammar.
//! - [`policy`]: mint, revoke, rotate, bulk revoke, list and get rules.
//! - [`store`]: the storage trait, the SQLite and Firestore backends; with
//!   the `testkit` feature, the conformance suite and a fault injector.
//! - [`validator`]: cached validation outcomes.
//! - [`revocation`]: the revocation events every cache and stream follows.
//! - [`audit`]: hash chains, queries, exports, retention.
//! - [`recorder`]: group-committed, durable recording of tool-call events.
//! - [`sessions`]: dashboard session tokens (hashed) and their timeouts.
//! - [`oauth`]: the OAuth 2.1 authorization server's clients, PKCE,
//!   grants and resource binding.
//! - [`webhooks`]: signed Standard Webhooks, their outbox and dispatcher.
//! - [`Authority`]: the facade the server calls, one method per handler;
//!   [`Authority::open`] builds one from [`OpenOptions`] (store, pepper and
//!   its check) for the server, the CLI and tool servers alike.
//!
//! Secrets: a raw key is only ever held in [`keys::RawKey`] (redacted
//! `Debug`, zeroized on drop) and only serialized in [`MintedKey`], the
//! one-time mint/rotate/bootstrap response.

pub mod audit;
pub mod dead_keys;
mod error;
mod facade;
pub mod guardrails;
pub mod keys;
pub mod oauth;
pub mod open;
pub mod outbound;
pub mod people;
pub mod policy;
pub mod recorder;
pub mod revocation;
pub mod sessions;
mod stats;
pub mod store;
pub mod throttle;
pub mod time;
pub mod validator;
pub mod webhooks;

pub use model::{ids, scopes, wire};

pub use error::{AuthorityError, Unauthenticated};
pub use facade::{
    Authority, AuthorityConfig, BootstrapRequest, ClientCredentials, Invitation, LeakError,
    LeakPolicy, LeakResponse, MintLimits, PasskeyChallenge, PersonSignedIn, WebhookDispatchConfig,
    INVITATION_SECS, MAX_ORG_SCOPES,
};
pub use ids::{EventId, GrantId, KeyId, MemberId, OrgId, WebhookId};
pub use keys::{Env, Pepper, RawKey};
pub use open::{OpenError, OpenOptions, StoreLocation};
pub use policy::{
    BulkRevokeRequest, BulkRevokeResult, BulkRevokeTarget, ExpiryChoice, KeyContext, KeyListFilter,
    KeyView, MintRequest, MintedKey, RotateRequest, RotatedKey,
};
pub use scopes::{Scope, ScopeCatalog, ScopeSet};
pub use stats::StatsSnapshot;
pub use store::{SqliteStore, Store, StoreError};
pub use validator::{Outcome, RevocationEvent};
pub use wire::{IntrospectAnswer, RegisteredScopes, ScopeRegistration, ToolCall};
