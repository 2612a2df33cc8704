//! The acekeys key authority as a plain Rust library.
//!
//! Everything that decides whether a key is valid, what it may do, and what
//! happened lives here, so the dashboard, the REST API and every tool server
//! share one implementation of the rules. No web framework appears in this
//! crate's core.
//!
//! Module plan (filled in by the authority-core work):
//! - `keys`: key material — generation, the `ace_<env>_<secret><checksum>`
//!   format, peppered HMAC lookup hashes, display hints, public ids.
//! - `scopes`: the scope grammar, canonical forms, implication and the catalog.
//! - `policy`: mint, revoke, rotate, bulk revoke, list and get, with tenant
//!   isolation and no-escalation rules.
//! - `store`: the storage trait every backend implements, and the embedded
//!   SQLite backend.
//! - `validator`: cached key validation with revocation fan-out.
//! - `audit`: the audit event model, group-committed recording, hash chains
//!   and queries for the explorer.
